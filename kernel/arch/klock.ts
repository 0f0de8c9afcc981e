// The kernel lock: what makes the kernel's single-CPU critical sections hold with more than one
// CPU (docs/smp.md, "The kernel lock"). Before SMP, a section with interrupts off (a lock's
// irqsave, an allocator's critical section) or with preemption off excluded everything else,
// because nothing else could run. With several CPUs the same sections also take this one lock,
// so at most one CPU is inside any of them at a time, and every argument made for one CPU stays
// true. It is a big kernel lock, as Linux had from 2.0 to 2.6: a first step, which finer locks
// and per-CPU caches replace on the paths that must scale.
//
//   lock          +0 held: 0 or 1, taken with xchg; +4 in line: 0, or the index + 1 of the
//                 CPU that waits first. A CPU that finds the lock held puts itself in line if
//                 nobody is; then only that CPU takes it at the next release, and a CPU that
//                 finds someone in line waits too (a queue of one place; with nobody in line
//                 any CPU takes it, as with plain test-and-set). Plain test-and-set
//                 lets a CPU that gives the lock back and asks again at once (a thread that
//                 yields in a loop) keep the others out: under QEMU's round-robin TCG a waiting
//                 CPU gets one look per turn, and the holder's turn lasts until a timer is due.
//                 A ticket lock (what this was before) queues every waiter, and hands the lock
//                 to the next CPU in line even while that CPU's host thread is descheduled: with
//                 more virtual CPUs than host cores (-smp 4 under MTTCG on 2 cores) everyone
//                 waited for it, and the stress test took 3.5 minutes instead of a second
//                 (Linux's virt_spin_lock falls back to test-and-set in a guest for this reason).
//                 With one place in line, only the CPU in it can stall the others.
//   klockDepth    per CPU (its record, arch/percpu.ts): sections open on it; the lock is held
//                 while it is above 0. A thread that sleeps inside sections keeps its depth in
//                 its record (the scheduler swaps it), so the lock is held exactly while the
//                 running thread has sections open.
//
// With smp=on (klockStart, at the start of boot) every section counts and takes the lock; the
// other processors start later. Without it (one CPU, or the others parked) a section tests one
// flag and otherwise costs what it did.
//
// While a CPU waits for the lock it serves the requests other CPUs send it (TLB shootdowns:
// klockSetWaitWork), since it waits with interrupts off and the holder may be waiting for it.
import { saveFlagsAndCli, restoreFlags, irqSaveTo, irqRestoreFrom, atomicFetchAdd, atomicExchange, compareExchange, cpuLoad, cpuAdd, cpuStore, cpuRelax } from "./x86";
import { CPU_KLOCK_DEPTH, CPU_INDEX } from "./percpu";

const lock = memory.data(8, 4);
const HELD: u32 = 0, HANDOFF: u32 = 4;
let started = false;
let waitWork: usize = 0;   // a () => void run while waiting (0: none)
const contendedCell = memory.data(4, 4);

/**
 * From now on sections count and take the lock: with smp=on, at the start of boot, before any
 * thread exists and with no section open (so every thread's count is right). Boot, once.
 */
export function klockStart(): void { started = true; }
/** Whether sections take the lock (smp=on). Any context. */
export function klockStarted(): bool { return started; }
/** `work` (a () => void, any context) runs in the wait loop of a CPU that waits for the lock. Boot, once. */
export function klockSetWaitWork(work: usize): void { waitWork = work; }
/** Acquisitions that had to wait. Any context. */
export function klockContended(): u32 { return load<u32>(contendedCell); }

function take(): void {
  if (load<u32>(lock + HANDOFF) == 0 && atomicExchange(lock + HELD, 1) == 0) return;
  atomicFetchAdd(contendedCell, 1);
  const me = cpuLoad(CPU_INDEX) + 1;
  for (;;) {
    const handoff = load<u32>(lock + HANDOFF);
    if ((handoff == 0 || handoff == me) && load<u32>(lock + HELD) == 0 && atomicExchange(lock + HELD, 1) == 0) {
      if (handoff == me) store<u32>(lock + HANDOFF, 0);   // (only the CPU in line clears it, holding the lock)
      return;
    }
    if (handoff == 0) compareExchange(lock + HANDOFF, 0, me);   // nobody in line: the next release is for this CPU
    cpuRelax();
    if (waitWork != 0) changetype<() => void>(waitWork)();
  }
}

/** Gives the lock back (xchg: a full barrier, so the section's writes come first). */
@inline function give(): void { atomicExchange(lock + HELD, 0); }

/**
 * Opens a section with interrupts as they are (preemptDisable: arch/context.ts): the count and
 * the lock, with interrupts off in between (an interrupt between the two would find the count
 * open and the lock not yet taken). Nothing before klockStart. Any context.
 */
@inline export function klockEnterAny(): void { if (started) enterAnySlow(); }
function enterAnySlow(): void {
  const flags = saveFlagsAndCli();
  enterCounted();
  restoreFlags(flags);
}

/** Closes a section klockEnterAny opened. Any context. */
@inline export function klockLeaveAny(): void { if (started) leaveAnySlow(); }
function leaveAnySlow(): void {
  const flags = saveFlagsAndCli();
  leaveCounted();
  restoreFlags(flags);
}

function enterCounted(): void {
  cpuAdd(CPU_KLOCK_DEPTH, 1);
  if (cpuLoad(CPU_KLOCK_DEPTH) == 1) take();
}
function leaveCounted(): void {
  cpuAdd(CPU_KLOCK_DEPTH, <u32>-1);
  if (cpuLoad(CPU_KLOCK_DEPTH) == 0) give();
}

/** Opens a section (the lock taken at the outermost). Interrupts off. */
@inline export function klockEnter(): void { if (started) enterCounted(); }

/** Closes a section (the lock given back at the outermost). Interrupts off. */
@inline export function klockLeave(): void { if (started) leaveCounted(); }

/** Interrupts off and a section open: returns the flags for klockIrqRestore. Any context. */
@inline export function klockIrqSave(): u32 {
  const flags = saveFlagsAndCli();
  if (started) enterCounted();
  return flags;
}

/** Closes the section klockIrqSave opened and restores its flags. */
@inline export function klockIrqRestore(flags: u32): void {
  if (started) leaveCounted();
  restoreFlags(flags);
}

/**
 * klockIrqSave, the flags kept in the word at `cell` (a lock's own word: see irqSaveTo): written
 * once the lock is held, so a CPU waiting for it cannot overwrite the holder's. Any context.
 */
@inline export function klockIrqSaveTo(cell: usize): void {
  if (started) saveToCounted(cell);
  else irqSaveTo(cell);
}
function saveToCounted(cell: usize): void {
  const flags = saveFlagsAndCli();
  enterCounted();
  store<u32>(cell, flags);
}

/** Closes the section klockIrqSaveTo opened and restores the flags kept at `cell`. */
@inline export function klockIrqRestoreFrom(cell: usize): void {
  if (started) restoreFromCounted(cell);
  else irqRestoreFrom(cell);
}
function restoreFromCounted(cell: usize): void {
  const flags = load<u32>(cell);
  leaveCounted();
  restoreFlags(flags);
}

/** The running thread's section depth (the scheduler keeps it in the thread while it is off the CPU). Interrupts off. */
@inline export function klockDepth(): u32 { return cpuLoad(CPU_KLOCK_DEPTH); }

/**
 * After a context switch, in the thread that now runs: its own depth, `depth`, becomes the CPU's.
 * The lock, held across the switch, is given back if that depth is 0. Interrupts off.
 */
@inline export function klockResume(depth: u32): void {
  if (!started) return;
  cpuStore(CPU_KLOCK_DEPTH, depth);
  if (depth == 0) give();
}
