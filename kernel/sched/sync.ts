// Locks and waiting for kernel threads on one CPU: spinlocks (with an interrupt-saving
// variant), wait queues, a sleeping mutex that tracks its owner, and a counting semaphore. See
// docs/threads.md for which context may call what.
//
// On one CPU a spinlock never spins: holding it means preemption off (and, for the irqsave
// variant, interrupts off), so no one else can run to want it. Taking one that is already held
// can only be a recursion or an interrupt handler taking a lock its thread holds: a deadlock on
// any machine with more CPUs, and reported here as a panic that names the lock.
import { saveFlagsAndCli, restoreFlags } from "../arch/x86";
import { panic, panicBegin, panicEnd } from "../diag/panic";
import { LogLevel, logBegin } from "../console/log";
import { puts } from "../console/console";
import { ThreadQueue, threadAt, queuePush, queuePop } from "./thread";
import { currentThread, threadBlock, threadWake } from "./scheduler";
import { preemptDisable, preemptEnable } from "../arch/context";
import { mightSleepWith } from "../diag/context";

// --- spinlocks ------------------------------------------------------------------------------

/** A spinlock: `name` (a literal) for reports; `owner` the holding thread; `flags` the saved EFLAGS. */
@unmanaged export class Spinlock {
  locked: u32;
  flags: u32;
  owner: usize;
  name: usize;
}
export const SPINLOCK_BYTES: u32 = offsetof<Spinlock>();

/** Sets up the lock at `at` (SPINLOCK_BYTES), unlocked. */
export function spinlockInit(at: usize, name: string): Spinlock {
  const lock = changetype<Spinlock>(at);
  lock.locked = 0; lock.flags = 0; lock.owner = 0; lock.name = changetype<usize>(name);
  return lock;
}

function spinlockReport(lock: Spinlock, what: string): void {
  panicBegin(what);
  puts("lock '"); puts(changetype<string>(lock.name)); puts("'\n");
  panicEnd(null);
}

/** Takes `lock` with preemption off. Any context that does not hold it; does not sleep. */
export function spinLock(lock: Spinlock): void {
  preemptDisable();
  if (lock.locked != 0) spinlockReport(lock, "spinlock: taken while already held (a recursion, or an interrupt handler taking its thread's lock)");
  lock.locked = 1;
  lock.owner = changetype<usize>(currentThread());
}

/** Releases `lock` taken by spinLock. */
export function spinUnlock(lock: Spinlock): void {
  if (lock.locked == 0) spinlockReport(lock, "spinlock: released while not held");
  lock.locked = 0;
  lock.owner = 0;
  preemptEnable();
}

/**
 * Takes `lock` with interrupts off (saved, restored by spinUnlockIrqRestore). Any context; does
 * not sleep. Inlined: the flag save is two instructions (boot/arch-inline.h).
 */
@inline export function spinLockIrqSave(lock: Spinlock): void {
  const flags = saveFlagsAndCli();
  preemptDisable();   // (holding it is atomic context: arch/context.ts)
  if (lock.locked != 0) spinTakenTwice(lock);
  lock.locked = 1;
  lock.flags = flags;
  lock.owner = changetype<usize>(currentThread());
}

/** Releases `lock` taken by spinLockIrqSave and restores the interrupt flag it saved. Inlined. */
@inline export function spinUnlockIrqRestore(lock: Spinlock): void {
  if (lock.locked == 0) spinReleasedFree(lock);
  const flags = lock.flags;
  lock.locked = 0;
  lock.owner = 0;
  preemptEnable();
  restoreFlags(flags);
}

function spinTakenTwice(lock: Spinlock): void {
  spinlockReport(lock, "spinlock: taken while already held (a recursion, or an interrupt handler taking its thread's lock)");
}
function spinReleasedFree(lock: Spinlock): void { spinlockReport(lock, "spinlock: released while not held"); }

// --- wait queues ----------------------------------------------------------------------------

/** The running thread waits in `queue` until woken. Interrupts off (the caller's check and the wait are one step); thread context. */
export function waitQueueWait(queue: ThreadQueue): void {
  queuePush(queue, currentThread());
  threadBlock();
}

/** Wakes the first waiter, if any; true if one was woken. Interrupts off; any context. */
export function waitQueueWakeOne(queue: ThreadQueue): bool {
  const t = queuePop(queue);
  if (t == 0) return false;
  threadWake(threadAt(t));
  return true;
}


// --- mutex ----------------------------------------------------------------------------------

/** A sleeping mutex: `owner` is the holding thread (0: free); waiters sleep in `waiters`. */
@unmanaged export class Mutex {
  owner: usize;
  name: usize;
  waitHead: usize;   // (a ThreadQueue in place)
  waitTail: usize;
}
export const MUTEX_BYTES: u32 = offsetof<Mutex>();
@inline function waitersOf(m: Mutex): ThreadQueue { return changetype<ThreadQueue>(changetype<usize>(m) + offsetof<Mutex>("waitHead")); }

/** Sets up the (free) mutex at `at` (MUTEX_BYTES). */
export function mutexInit(at: usize, name: string): Mutex {
  const m = changetype<Mutex>(at);
  m.owner = 0; m.name = changetype<usize>(name); m.waitHead = 0; m.waitTail = 0;
  return m;
}

/**
 * Takes `m`, sleeping while another thread holds it. Thread context only (it may sleep); not
 * recursive. Inlined: a free mutex costs a flag save, a test, a store and a restore.
 */
@inline export function mutexLock(m: Mutex): void {
  const flags = saveFlagsAndCli();
  if (m.owner == 0) { m.owner = changetype<usize>(currentThread()); restoreFlags(flags); return; }
  mutexLockSlow(m, flags);
}

function mutexLockSlow(m: Mutex, flags: u32): void {
  const me = changetype<usize>(currentThread());
  if (!mightSleepWith("mutexLock", flags)) { restoreFlags(flags); panic("mutexLock: would sleep in atomic context (see the line above)"); }
  while (m.owner != 0) {
    if (m.owner == me) { restoreFlags(flags); panic("mutex: locked again by the thread that holds it"); }
    waitQueueWait(waitersOf(m));
  }
  m.owner = me;
  restoreFlags(flags);
}

/** Takes `m` if it is free; true if taken. Thread context; never sleeps. */
export function mutexTryLock(m: Mutex): bool {
  const flags = saveFlagsAndCli();
  const free = m.owner == 0;
  if (free) m.owner = changetype<usize>(currentThread());
  restoreFlags(flags);
  return free;
}

/**
 * Releases `m` and wakes its first waiter. Unlocking a mutex the running thread does not hold
 * is reported with the mutex's name and changes nothing. Thread context.
 */
@inline export function mutexUnlock(m: Mutex): bool {
  const flags = saveFlagsAndCli();
  if (m.owner == changetype<usize>(currentThread()) && m.waitHead == 0) { m.owner = 0; restoreFlags(flags); return true; }
  return mutexUnlockSlow(m, flags);
}

function mutexUnlockSlow(m: Mutex, flags: u32): bool {
  if (m.owner != changetype<usize>(currentThread())) {
    restoreFlags(flags);
    if (logBegin(LogLevel.Error, "mutex")) { puts("mutexUnlock('"); puts(changetype<string>(m.name)); puts("'): not held by the running thread; nothing changed\n"); }
    return false;
  }
  m.owner = 0;
  waitQueueWakeOne(waitersOf(m));
  restoreFlags(flags);
  return true;
}

// --- semaphore ------------------------------------------------------------------------------

/** A counting semaphore: `count` available; waiters sleep in the queue in place. */
@unmanaged export class Semaphore {
  count: u32;
  waitHead: usize;
  waitTail: usize;
}
export const SEMAPHORE_BYTES: u32 = offsetof<Semaphore>();
@inline function semWaiters(s: Semaphore): ThreadQueue { return changetype<ThreadQueue>(changetype<usize>(s) + offsetof<Semaphore>("waitHead")); }

/** Sets up the semaphore at `at` (SEMAPHORE_BYTES) with `count` available. */
export function semaphoreInit(at: usize, count: u32): Semaphore {
  const s = changetype<Semaphore>(at);
  s.count = count; s.waitHead = 0; s.waitTail = 0;
  return s;
}

/** Takes one, sleeping while none is available. Thread context only. */
export function semaphoreDown(s: Semaphore): void {
  const flags = saveFlagsAndCli();
  if (s.count == 0 && !mightSleepWith("semaphoreDown", flags)) { restoreFlags(flags); panic("semaphoreDown: would sleep in atomic context (see the line above)"); }
  while (s.count == 0) waitQueueWait(semWaiters(s));
  s.count--;
  restoreFlags(flags);
}

/** Gives one back and wakes a waiter. Any context (an interrupt handler may post); never sleeps. */
export function semaphoreUp(s: Semaphore): void {
  const flags = saveFlagsAndCli();
  s.count++;
  waitQueueWakeOne(semWaiters(s));
  restoreFlags(flags);
}
