// Serving a program's fault when memory runs out, and the out-of-memory killer. A fault (or a
// copy-in/out) that finds no free frame picks the process with the largest resident set, as
// Linux's killer does by default, and kills it with one line:
//
//   oom: out of memory: killed process 7 'memhog': resident 40960 KiB, committed 41216 KiB; the
//   largest resident set of 4 processes (process 9 'cowtest' faulted at 0x40123000)
//
// If that is the faulting process, its fault fails (it dies on its way back to ring 3);
// otherwise the faulting thread waits for the victim to end and give its frames back, then tries
// again. While a victim is dying no second one is chosen. The kernel itself never panics for a
// user's memory. Thread context, the process's own thread, with its memory lock held; sleeps.
//
// The kernel's own requests that cannot fail (a page of an overcommitted kernel range) reach the
// killer through mm/pressure.ts once reclaim has found nothing (kernelKill below):
//
//   oom: out of memory: killed process 7 'memhog': resident 40960 KiB, committed 41216 KiB; the
//   largest resident set of 2 processes (for a kernel page fault)
import {
  Process, ProcessState, KILLED, processMemory, processFirst, processNext, processEnded,
  processKill, processCount, putProcess,
} from "./process";
import { Access, memoryResolve } from "./memory";
import { threadSleep } from "../sched/clock";
import { preemptDisable, preemptEnable } from "../arch/context";
import { LogLevel, logBegin } from "../console/log";
import { setOomKiller } from "../mm/pressure";
import { puts, putDec, putHex, newline } from "../console/console";

const WAIT_MS: u32 = 10;
const WAIT_ROUNDS: u32 = 300;   // (3 s for a victim to end)
const ATTEMPTS: u32 = 4;      // (victims killed for one fault before it gives up)

let kills: u32 = 0;
/** Processes the killer has killed so far. Any context. */
export function oomKills(): u32 { return kills; }

/** The running process with the most resident pages (not killed yet), or null; `dying` is set when a killed one is still running. */
let dying = false;
function pickVictim(): Process | null {
  dying = false;
  let best: Process | null = null;
  for (let at = processFirst(); at != 0; at = processNext(changetype<Process>(at))) {
    const p = changetype<Process>(at);
    if (p.state != ProcessState.Running) continue;
    if (p.killed != 0) { dying = true; continue; }
    if (best == null || processMemory(p).resident > processMemory(best).resident) best = p;
  }
  return best;
}

/** The first part of the kill line, up to the parenthesis that says who asked. */
function reportVictim(victim: Process): bool {
  if (!logBegin(LogLevel.Error, "oom")) return false;
  const m = processMemory(victim);
  puts("out of memory: killed "); putProcess(victim);
  puts(": resident "); putDec(<u64>m.resident * 4); puts(" KiB, committed "); putDec(<u64>m.committed * 4);
  puts(" KiB; the largest resident set of "); putDec(processCount()); puts(" processes (");
  return true;
}

function report(victim: Process, faulting: Process, address: u32): void {
  if (!reportVictim(victim)) return;
  putProcess(faulting); puts(" faulted at "); putHex(address); puts(")"); newline();
}

/**
 * The killer for the kernel's own request `what` (mm/pressure.ts): kills the process with the
 * largest resident set and waits for its frames to come back; true if one ended (or one killed
 * before ended meanwhile), false when there is no process to kill. Thread context; sleeps.
 */
function kernelKill(what: string): bool {
  preemptDisable();   // (as in faultResolve)
  const victim = pickVictim();
  if (victim != null) {
    kills++;
    if (reportVictim(victim)) { puts("for "); puts(what); puts(")"); newline(); }
    processKill(victim, KILLED);
  }
  const pid = victim != null ? victim.pid : 0, waiting = dying;
  preemptEnable();
  if (victim == null) {
    if (!waiting) return false;
    threadSleep(WAIT_MS);   // (a victim is still on its way out: its frames are coming)
    return true;
  }
  waitForEnd(pid);
  return true;
}

/** Makes the killer serve the kernel's own requests too (mm/pressure.ts). Once, at boot. */
export function oomInit(): void { setOomKiller(kernelKill); }

/** Waits (sleeping) until process `pid` has ended or `WAIT_ROUNDS` have passed. */
function waitForEnd(pid: u32): void {
  for (let i: u32 = 0; i < WAIT_ROUNDS; i++) {
    if (processEnded(pid)) return;
    threadSleep(WAIT_MS);
  }
}

/**
 * memoryResolve for process `p` (the running one), running the killer when no frame is left:
 * Ok, or why the page cannot be had (NoMemory when `p` itself was chosen, or nothing could be
 * freed). Thread context; `p`'s memory lock held; sleeps.
 */
export function faultResolve(p: Process, address: u32, write: bool): Access {
  const m = processMemory(p);
  let waited: u32 = 0;
  for (let attempt: u32 = 0; ; ) {
    const result = memoryResolve(m, address, write);
    if (result != Access.NoMemory || attempt == ATTEMPTS || p.killed != 0) return result;
    preemptDisable();   // (the choice, the line and the kill are one step: no other killer in between, no record freed under the line)
    const victim = pickVictim();
    if (victim != null) { kills++; report(victim, p, address); processKill(victim, KILLED); }
    const pid = victim != null ? victim.pid : 0;
    preemptEnable();
    if (victim == null) {
      if (!dying || waited++ == WAIT_ROUNDS) return Access.NoMemory;
      threadSleep(WAIT_MS);   // (a victim is still on its way out)
      continue;
    }
    attempt++;
    if (victim === p) return Access.NoMemory;
    waitForEnd(pid);
  }
  return Access.NoMemory;
}
