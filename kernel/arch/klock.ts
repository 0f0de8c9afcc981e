// The kernel lock: what makes the kernel's single-CPU critical sections hold with more than one
// CPU (docs/smp.md, "The kernel lock"). Before SMP, a section with interrupts off (a lock's
// irqsave, an allocator's critical section) or with preemption off excluded everything else,
// because nothing else could run. With several CPUs the same sections also take this one lock,
// so at most one CPU is inside any of them at a time, and every argument made for one CPU stays
// true. It is a big kernel lock, as Linux had from 2.0 to 2.6: a first step, which finer locks
// and per-CPU caches replace on the paths that must scale.
//
//   tickets       +0 next: the ticket the next CPU to ask takes; +4 owner: the ticket served
//                 now. A ticket lock (Linux's before its queued spinlocks): CPUs get the lock in
//                 the order they asked, so a CPU that gives it back and asks again at once (a
//                 thread that yields in a loop) cannot keep another out for ever. Under QEMU's
//                 round-robin TCG, a test-and-set lock starved the other CPU completely.
//   klockDepth    per CPU (its record, arch/percpu.ts): sections open on it; the lock is held
//                 while it is above 0. A thread that sleeps inside sections keeps its depth in
//                 its record (the scheduler swaps it), so the lock is held exactly while the
//                 running thread has sections open.
//
// The depth is always counted (two instructions a section); the lock itself is taken only once
// a second CPU runs kernel code (klockStart): until then a section costs what it did.
//
// While a CPU waits for the lock it serves the requests other CPUs send it (TLB shootdowns:
// klockSetWaitWork), since it waits with interrupts off and the holder may be waiting for it.
import { saveFlagsAndCli, restoreFlags, atomicExchange, atomicFetchAdd, cpuLoad, cpuAdd, cpuStore, cpuRelax } from "./x86";
import { CPU_KLOCK_DEPTH } from "./percpu";

const tickets = memory.data(8, 4);
const NEXT: u32 = 0, OWNER: u32 = 4;
let started = false;
let waitWork: usize = 0;   // a () => void run while waiting (0: none)
const contendedCell = memory.data(4, 4);

/** The lock's sections start taking it: a second CPU is about to run kernel code. Boot, once, with no section open on this CPU. */
export function klockStart(): void { started = true; }
/** Whether the lock is taken (more than one CPU runs kernel code). Any context. */
export function klockStarted(): bool { return started; }
/** `work` (a () => void, any context) runs in the wait loop of a CPU that waits for the lock. Boot, once. */
export function klockSetWaitWork(work: usize): void { waitWork = work; }
/** Acquisitions that had to wait. Any context. */
export function klockContended(): u32 { return load<u32>(contendedCell); }
/** Whether the running CPU holds the lock (has a section open). Any context. */
@inline export function klockHeld(): bool { return cpuLoad(CPU_KLOCK_DEPTH) != 0; }

function take(): void {
  const mine = atomicFetchAdd(tickets + NEXT, 1);
  if (load<u32>(tickets + OWNER) == mine) return;
  atomicFetchAdd(contendedCell, 1);
  while (load<u32>(tickets + OWNER) != mine) {
    cpuRelax();
    if (waitWork != 0) changetype<() => void>(waitWork)();
  }
}

/** Serves the next ticket (lock xadd: a full barrier, so the section's writes come first). */
@inline function give(): void { atomicFetchAdd(tickets + OWNER, 1); }

/**
 * Opens a section with interrupts as they are (preemptDisable: arch/context.ts). Before
 * klockStart only the count; after it the count and the lock with interrupts off in between (an
 * interrupt between the two would find the count open and the lock not yet taken). Any context.
 */
@inline export function klockEnterAny(): void {
  if (!started) cpuAdd(CPU_KLOCK_DEPTH, 1);
  else enterAnySlow();
}
function enterAnySlow(): void {
  const flags = saveFlagsAndCli();
  klockEnter();
  restoreFlags(flags);
}

/** Closes a section klockEnterAny opened. Any context. */
@inline export function klockLeaveAny(): void {
  if (!started) cpuAdd(CPU_KLOCK_DEPTH, <u32>-1);
  else leaveAnySlow();
}
function leaveAnySlow(): void {
  const flags = saveFlagsAndCli();
  klockLeave();
  restoreFlags(flags);
}

/** Opens a section (the lock taken at the outermost). Interrupts off. */
@inline export function klockEnter(): void {
  cpuAdd(CPU_KLOCK_DEPTH, 1);
  if (started && cpuLoad(CPU_KLOCK_DEPTH) == 1) take();
}

/** Closes a section (the lock given back at the outermost). Interrupts off. */
@inline export function klockLeave(): void {
  cpuAdd(CPU_KLOCK_DEPTH, <u32>-1);
  if (started && cpuLoad(CPU_KLOCK_DEPTH) == 0) give();
}

/** Interrupts off and a section open: returns the flags for klockIrqRestore. Any context. */
@inline export function klockIrqSave(): u32 {
  const flags = saveFlagsAndCli();
  klockEnter();
  return flags;
}

/** Closes the section klockIrqSave opened and restores its flags. */
@inline export function klockIrqRestore(flags: u32): void {
  klockLeave();
  restoreFlags(flags);
}

/** klockIrqSave, the flags kept in the word at `cell` (a lock's own word: see irqSaveTo). Any context. */
@inline export function klockIrqSaveTo(cell: usize): void {
  const flags = saveFlagsAndCli();
  klockEnter();
  store<u32>(cell, flags);
}

/** Closes the section klockIrqSaveTo opened and restores the flags kept at `cell`. */
@inline export function klockIrqRestoreFrom(cell: usize): void {
  const flags = load<u32>(cell);
  klockLeave();
  restoreFlags(flags);
}

/** The running thread's section depth (the scheduler keeps it in the thread while it is off the CPU). Interrupts off. */
@inline export function klockDepth(): u32 { return cpuLoad(CPU_KLOCK_DEPTH); }

/**
 * After a context switch, in the thread that now runs: its own depth, `depth`, becomes the CPU's.
 * The lock, held across the switch, is given back if that depth is 0. Interrupts off.
 */
@inline export function klockResume(depth: u32): void {
  cpuStore(CPU_KLOCK_DEPTH, depth);
  if (started && depth == 0) give();
}
