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
import {
  Process, ProcessState, KILLED, processMemory, processFirst, processNext, processFind,
  processKill, processCount, putProcess,
} from "./process";
import { Access, memoryResolve } from "./memory";
import { threadSleep } from "../sched/scheduler";
import { LogLevel, logBegin } from "../console/log";
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

function report(victim: Process, faulting: Process, address: u32): void {
  if (!logBegin(LogLevel.Error, "oom")) return;
  const m = processMemory(victim);
  puts("out of memory: killed "); putProcess(victim);
  puts(": resident "); putDec(<u64>m.resident * 4); puts(" KiB, committed "); putDec(<u64>m.committed * 4);
  puts(" KiB; the largest resident set of "); putDec(processCount()); puts(" processes (");
  putProcess(faulting); puts(" faulted at "); putHex(address); puts(")"); newline();
}

/** Waits (sleeping) until process `pid` has ended or `WAIT_ROUNDS` have passed. */
function waitForEnd(pid: u32): void {
  for (let i: u32 = 0; i < WAIT_ROUNDS; i++) {
    const p = processFind(pid);
    if (p == null || p.state == ProcessState.Zombie) return;
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
    const victim = pickVictim();
    if (victim == null) {
      if (!dying || waited++ == WAIT_ROUNDS) return Access.NoMemory;
      threadSleep(WAIT_MS);   // (a victim is still on its way out)
      continue;
    }
    attempt++;
    kills++;
    report(victim, p, address);
    processKill(victim, KILLED);
    if (victim === p) return Access.NoMemory;
    waitForEnd(victim.pid);
  }
  return Access.NoMemory;
}
