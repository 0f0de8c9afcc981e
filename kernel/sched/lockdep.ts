// The lock checker: `lockdep` on the command line. Off by default, and then all it costs is
// the test of lockdepOn that the spinlocks' and mutexes' fast paths already make (sync.ts). On,
// it gives every spinlock and mutex a class by its name (lib/lock-graph.ts), keeps the locks
// each context holds (a thread's in its record, the interrupt handlers' here) with where each
// was taken, and reports, naming the locks and the places:
//
//   recursive acquisition      a context takes a lock it holds already (skipped: the lock stays
//                              held once)
//   order inversion            B taken while A is held, where B was taken while A... was held
//                              before (a cycle in the graph: a deadlock waiting for two CPUs)
//   sleeping holding a lock    a call that may sleep or yield (diag/context.ts mightSleep) with
//                              a spinlock held or interrupts off
//   atomic call                any other thread-only call in atomic context (an interrupt
//                              handler, preemption off)
//   release not held           unlocking a lock the running context does not hold (skipped)
//
// Each report is one line at error level plus the locks held, and is counted by kind
// (lockdepReports) for the tests that make each mistake on purpose (selftest/lockdep.ts).
//
// Across CPUs (docs/smp.md): a thread's held locks travel with it; each CPU's interrupt handlers
// have a stack of their own; the graph, which every CPU reads and adds to, changes in a section
// of the kernel lock, so an order one CPU saw is checked against what another CPU does.
// The allocators' own locks (interrupts off around a few dozen instructions: mm/alloc, mm/phys)
// take no other lock but the PMM's and are not tracked. See docs/threads.md.
import {
  LockGraph, LOCK_GRAPH_BYTES, NO_CLASS, lockGraphInit, lockGraphClass, lockGraphName, lockGraphAddEdge, lockGraphReaches,
  lockGraphSite, lockGraphNextHop,
} from "../lib/lock-graph";
import { inInterrupt, interruptsOffIn } from "../arch/context";
import { cpuLoad, atomicFetchAdd } from "../arch/x86";
import { CPU_INDEX, MAX_CPUS } from "../arch/percpu";
import { klockIrqSave, klockIrqRestore } from "../arch/klock";
import { setRefusalHook } from "../diag/context";
import { putSymbolized } from "../diag/backtrace";
import { LogLevel, logBegin } from "../console/log";
import { puts, putDec, newline } from "../console/console";

/** 1 when the checker is on (the `lockdep` boot option). Read on every lock's fast path. */
export let lockdepOn: u32 = 0;

export const enum LockKind { Spin = 0, Mutex = 1 }
export const enum LockdepReport { Recursion = 0, Inversion = 1, SleepHoldingLock = 2, AtomicCall = 3, ReleaseNotHeld = 4 }
const REPORT_KINDS: u32 = 5;
const reportCounts = memory.data(REPORT_KINDS * 4, 4);

// The locks a context holds, innermost last:
//   +0 count   then HELD_MAX x { +0 lock, +4 class, +8 site, +12 saved EFLAGS (irqsave spinlocks) }
export const HELD_MAX: u32 = 8;
const HELD_ENTRY: u32 = 16;
/** Bytes of a context's held-lock stack (each thread record has one: sched/thread.ts). */
export const HELD_BYTES: u32 = 4 + HELD_MAX * HELD_ENTRY;
const interruptHeld = memory.data(MAX_CPUS * HELD_BYTES, 4);   // (a stack per CPU, by its index)
const bootHeld = memory.data(HELD_BYTES, 4);   // (before the scheduler names a thread)
let heldOfThread: usize = 0;                   // () => usize: the running thread's stack (scheduler.ts)
const overflowCount = memory.data(4, 4);   // (locks not tracked: a held stack was full)

const graphBlock = memory.data(LOCK_GRAPH_BYTES, 8);
const graph = changetype<LockGraph>(graphBlock);

/**
 * Turns the checker on. `heldOfRunningThread` returns the running thread's held-lock stack (or
 * 0 before there is one). Boot only, before the first lock is taken.
 */
export function lockdepEnable(heldOfRunningThread: () => usize): void {
  lockGraphInit(graphBlock);
  heldOfThread = changetype<usize>(heldOfRunningThread);
  setRefusalHook(onRefusal);
  lockdepOn = 1;
}

/** Reports of `kind` so far (for tests). Any context. */
export function lockdepReports(kind: LockdepReport): u32 { return load<u32>(reportCounts + (<u32>kind << 2)); }
/** Reports of every kind so far. Any context. */
export function lockdepReportsTotal(): u32 {
  let n: u32 = 0;
  for (let k: u32 = 0; k < REPORT_KINDS; k++) n += load<u32>(reportCounts + (k << 2));
  return n;
}
/** Lock classes seen so far. Any context. */
export function lockdepClasses(): u32 { return lockdepOn != 0 ? graph.classCount : 0; }

function heldBlock(): usize {
  if (inInterrupt()) return interruptHeld + cpuLoad(CPU_INDEX) * HELD_BYTES;
  const held = heldOfThread != 0 ? changetype<() => usize>(heldOfThread)() : 0;
  return held != 0 ? held : bootHeld;
}
@inline function heldCount(held: usize): u32 { return load<u32>(held); }
@inline function entryAt(held: usize, i: u32): usize { return held + 4 + i * HELD_ENTRY; }

function count(kind: LockdepReport): void { atomicFetchAdd(reportCounts + (<u32>kind << 2), 1); }

function putLock(name: usize, kind: LockKind): void {
  puts(kind == LockKind.Spin ? "spinlock '" : "mutex '"); puts(changetype<string>(name)); puts("'");
}

function putHeld(held: usize): void {
  const n = heldCount(held);
  if (n == 0) { puts("lockdep:   no lock held\n"); return; }
  for (let i: u32 = 0; i < n; i++) {
    const e = entryAt(held, i);
    puts("lockdep:   holding '"); puts(changetype<string>(lockGraphName(graph, load<u32>(e, 4)))); puts("' taken at ");
    putSymbolized(load<u32>(e, 8)); newline();
  }
}

const recursionFlags = memory.data(MAX_CPUS * 4, 4);   // (by CPU index)
/** The EFLAGS saved when the lock of this CPU's last recursion reported was first taken (the spinlock puts them back). Any context, right after lockdepAcquire refused. */
export function lockdepRecursionFlags(): u32 { return load<u32>(recursionFlags + (cpuLoad(CPU_INDEX) << 2)); }

/**
 * Checks and records the acquisition of `lock` (its name literal `name`) at `site` by the running
 * context; `flags` is what an irqsave spinlock saved. False for a recursion (reported): the
 * caller must not take the lock again. Only while lockdepOn.
 */
export function lockdepAcquire(lock: usize, name: usize, kind: LockKind, site: u32, flags: u32): bool {
  const held = heldBlock();
  const n = heldCount(held);
  for (let i: u32 = 0; i < n; i++) {
    const e = entryAt(held, i);
    if (load<usize>(e) != lock) continue;
    count(LockdepReport.Recursion);
    store<u32>(recursionFlags + (cpuLoad(CPU_INDEX) << 2), load<u32>(e, 12));
    if (logBegin(LogLevel.Error, "lockdep")) {
      puts("recursive acquisition of "); putLock(name, kind); puts(" at "); putSymbolized(site);
      puts(", held since "); putSymbolized(load<u32>(e, 8)); puts("; skipped"); newline();
      putHeld(held);
    }
    return false;
  }
  const section = klockIrqSave();   // (the graph is every CPU's)
  const cls = lockGraphClass(graph, name);
  if (cls != NO_CLASS) {
    for (let i: u32 = 0; i < n; i++) {
      const e = entryAt(held, i);
      const outer = load<u32>(e, 4);
      if (outer == cls || outer == NO_CLASS) continue;   // (same class: nesting of siblings is not ordered)
      if (!lockGraphAddEdge(graph, outer, cls, site)) continue;   // known order: checked when first seen
      if (lockGraphReaches(graph, cls, outer)) reportInversion(held, name, kind, site, e, cls, outer);
    }
  }
  klockIrqRestore(section);
  if (n == HELD_MAX) {
    if (atomicFetchAdd(overflowCount, 1) == 0 && logBegin(LogLevel.Warn, "lockdep")) { puts("more than "); putDec(HELD_MAX); puts(" locks held at once: not tracked\n"); }
    return true;
  }
  const e = entryAt(held, n);
  store<usize>(e, lock); store<u32>(e, cls, 4); store<u32>(e, site, 8); store<u32>(e, flags, 12);
  store<u32>(held, n + 1);
  return true;
}

function reportInversion(held: usize, name: usize, kind: LockKind, site: u32, outerEntry: usize, cls: u32, outer: u32): void {
  count(LockdepReport.Inversion);
  if (!logBegin(LogLevel.Error, "lockdep")) return;
  const outerName = changetype<string>(lockGraphName(graph, outer));
  puts("lock order inversion: "); putLock(name, kind); puts(" taken at "); putSymbolized(site);
  puts(" while holding '"); puts(outerName); puts("' (taken at "); putSymbolized(load<u32>(outerEntry, 8)); puts(")\n");
  // the earlier order, one edge at a time: cls -> ... -> outer
  for (let from = cls; from != outer; ) {
    const to = lockGraphNextHop(graph, from, outer);
    if (to == NO_CLASS) break;
    puts("lockdep:   before, '"); puts(changetype<string>(lockGraphName(graph, to))); puts("' was taken at ");
    putSymbolized(lockGraphSite(graph, from, to)); puts(" while holding '"); puts(changetype<string>(lockGraphName(graph, from))); puts("'\n");
    from = to;
  }
}

/**
 * Checks and records the release of `lock` at `site` by the running context. False for a lock
 * the context does not hold (reported): the caller must not release it. Only while lockdepOn.
 */
export function lockdepRelease(lock: usize, name: usize, kind: LockKind, site: u32): bool {
  const held = heldBlock();
  const n = heldCount(held);
  for (let i = <i32>n - 1; i >= 0; i--) {
    const e = entryAt(held, <u32>i);
    if (load<usize>(e) != lock) continue;
    memory.copy(e, e + HELD_ENTRY, (n - 1 - <u32>i) * HELD_ENTRY);   // (releases need not nest)
    store<u32>(held, n - 1);
    return true;
  }
  if (n == HELD_MAX && load<u32>(overflowCount) != 0) return true;   // (taken when the stack was full: not tracked)
  count(LockdepReport.ReleaseNotHeld);
  if (logBegin(LogLevel.Error, "lockdep")) {
    puts("release of "); putLock(name, kind); puts(" at "); putSymbolized(site); puts(", which the running context does not hold; skipped\n");
    putHeld(held);
  }
  return false;
}

/** diag/context.ts's refusal of a thread-only call (already reported there): classified, counted, the held locks listed. */
function onRefusal(what: string, eflags: u32): void {
  const held = heldBlock();
  const holding = heldCount(held) != 0 || interruptsOffIn(eflags);
  count(holding && !inInterrupt() ? LockdepReport.SleepHoldingLock : LockdepReport.AtomicCall);
  if (!logBegin(LogLevel.Error, "lockdep")) return;
  puts(holding && !inInterrupt() ? "may sleep, holding a lock or with interrupts off: " : "thread-only call in atomic context: ");
  puts(what); newline();
  putHeld(held);
}
