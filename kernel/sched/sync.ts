// Locks and waiting for kernel threads on one CPU: spinlocks (with an interrupt-saving
// variant), wait queues, a sleeping mutex that tracks its owner, and a counting semaphore. See
// docs/threads.md for which context may call what.
//
// On one CPU a spinlock never spins: holding it means preemption off (and, for the irqsave
// variant, interrupts off), so no one else can run to want it. Taking one that is already held
// can only be a recursion or an interrupt handler taking a lock its thread holds: a deadlock on
// any machine with more CPUs, and reported here as a panic that names the lock.
import { compareExchange, codeAddress } from "../arch/x86";
import { klockIrqSave, klockIrqRestore, klockIrqSaveTo, klockIrqRestoreFrom } from "../arch/klock";
import { lockdepOn, lockdepAcquire, lockdepRelease, lockdepRecursionFlags, LockKind } from "./lockdep";
import { panic, panicBegin, panicEnd } from "../diag/panic";
import { LogLevel, logBegin } from "../console/log";
import { puts } from "../console/console";
import { ThreadQueue, threadAt, queuePush, queuePop } from "./thread";
import { currentThread, threadBlock, threadWake } from "./scheduler";
import { preemptDisable, preemptEnable } from "../arch/context";
import { mightSleepWith } from "../diag/context";

// --- spinlocks ------------------------------------------------------------------------------

/**
 * A spinlock: `locked` is 0 when free and HELD when held, plus CHECKED for every lock made while
 * the lock checker is on (so that such a lock always takes the slow paths, which keep lockdep's
 * records: the fast paths then test nothing else) and TRACKED while lockdep records it as held;
 * `flags` the EFLAGS the irqsave variant saved; `name` (a literal) for reports, and its
 * lockdep class (which keeps where each hold was taken).
 */
@unmanaged export class Spinlock {
  locked: u32;
  flags: u32;
  name: usize;
}
export const SPINLOCK_BYTES: u32 = offsetof<Spinlock>();
const HELD: u32 = 1;
const TRACKED: u32 = 2;
const CHECKED: u32 = 4;
@inline function flagsCell(lock: Spinlock): usize { return changetype<usize>(lock) + offsetof<Spinlock>("flags"); }

/** Sets up the lock at `at` (SPINLOCK_BYTES), unlocked. Any context (before anyone takes it). */
export function spinlockInit(at: usize, name: string): Spinlock {
  const lock = changetype<Spinlock>(at);
  lock.locked = lockdepOn != 0 ? CHECKED : 0; lock.flags = 0; lock.name = changetype<usize>(name);
  return lock;
}

/** Whether `lock` is held. Any context. */
export function spinlockHeld(lock: Spinlock): bool { return (lock.locked & (HELD | TRACKED)) != 0; }

function spinlockReport(lock: Spinlock, what: string): void {
  panicBegin(what);
  puts("lock '"); puts(changetype<string>(lock.name)); puts("'\n");
  panicEnd(null);
}

/** Takes `lock` with preemption off. Any context that does not hold it; does not sleep. */
@inline export function spinLock(lock: Spinlock): void {
  preemptDisable();
  if (lock.locked != 0) { if (!spinTakeChecked(lock, codeAddress())) preemptEnable(); }   // (a skipped recursion)
  else lock.locked = HELD;
}

/** Releases `lock` taken by spinLock. The context that took it. */
@inline export function spinUnlock(lock: Spinlock): void {
  if (lock.locked != HELD) { if (spinReleaseChecked(lock, codeAddress())) preemptEnable(); return; }
  lock.locked = 0;
  preemptEnable();
}

/**
 * Takes `lock` with interrupts off (the flags saved in the lock, restored by
 * spinUnlockIrqRestore). Any context; does not sleep. Holding it is atomic context (interrupts
 * off: arch/context.ts). Inlined: the flag save, a test and a store.
 */
@inline export function spinLockIrqSave(lock: Spinlock): void {
  klockIrqSaveTo(flagsCell(lock));
  if (lock.locked != 0) spinTakeIrqChecked(lock, codeAddress());
  else lock.locked = HELD;
}

/** Releases `lock` taken by spinLockIrqSave and restores the interrupt flag it saved. The context that took it. Inlined. */
@inline export function spinUnlockIrqRestore(lock: Spinlock): void {
  if (lock.locked != HELD) { if (spinReleaseChecked(lock, codeAddress())) klockIrqRestoreFrom(flagsCell(lock)); return; }
  lock.locked = 0;
  klockIrqRestoreFrom(flagsCell(lock));
}

// The slow paths: the lock is held already (a recursion, or an interrupt handler taking its
// thread's lock: a deadlock on any machine with more CPUs), not held at a release, or it was
// made with the lock checker on. With lockdep a recursion or a release of a lock not held is
// reported and skipped; without it, it panics naming the lock.

function spinTakeIrqChecked(lock: Spinlock, site: u32): void {
  // a skipped recursion: irqSaveTo overwrote the outer hold's flags, which lockdep kept
  if (!spinTakeChecked(lock, site)) lock.flags = lockdepRecursionFlags();
}

/** Takes `lock` on the slow path; false if lockdep skipped a recursion. */
function spinTakeChecked(lock: Spinlock, site: u32): bool {
  if ((lock.locked & CHECKED) != 0 && lockdepOn != 0) {
    if (!lockdepAcquire(changetype<usize>(lock), lock.name, LockKind.Spin, site, lock.flags)) return false;
    if ((lock.locked & (HELD | TRACKED)) != 0) spinTakenTwice(lock);   // held by an interrupted context: a deadlock
    lock.locked = CHECKED | TRACKED;
    return true;
  }
  spinTakenTwice(lock);
  return true;
}

/** A release on the slow path: true if the lock was released (lockdep's records updated). */
function spinReleaseChecked(lock: Spinlock, site: u32): bool {
  if ((lock.locked & CHECKED) != 0 && lockdepOn != 0) {
    if (!lockdepRelease(changetype<usize>(lock), lock.name, LockKind.Spin, site)) return false;
    if ((lock.locked & TRACKED) == 0) return spinReleasedFree(lock);
    lock.locked = CHECKED;
    return true;
  }
  return spinReleasedFree(lock);
}

function spinTakenTwice(lock: Spinlock): void {
  spinlockReport(lock, "spinlock: taken while already held (a recursion, or an interrupt handler taking its thread's lock)");
}
function spinReleasedFree(lock: Spinlock): bool { spinlockReport(lock, "spinlock: released while not held"); return false; }

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

/**
 * A sleeping mutex: `owner` is the holding thread's record (0: free) with two flag bits (records
 * are 8-aligned): WAITERS (someone sleeps in the queue: the fast unlock must not be taken) and
 * TRACKED (lockdep's records hold it); waiters sleep in the queue in place.
 */
@unmanaged export class Mutex {
  owner: u32;
  name: usize;
  waitHead: usize;   // (a ThreadQueue in place)
  waitTail: usize;
}
export const MUTEX_BYTES: u32 = offsetof<Mutex>();
const WAITERS: u32 = 1;
const MUTEX_TRACKED: u32 = 2;
const OWNER_MASK: u32 = ~<u32>3;
@inline function waitersOf(m: Mutex): ThreadQueue { return changetype<ThreadQueue>(changetype<usize>(m) + offsetof<Mutex>("waitHead")); }
@inline function me(): u32 { return <u32>changetype<usize>(currentThread()); }

/** Sets up the (free) mutex at `at` (MUTEX_BYTES). Any context (before anyone takes it). */
export function mutexInit(at: usize, name: string): Mutex {
  const m = changetype<Mutex>(at);
  m.owner = 0; m.name = changetype<usize>(name); m.waitHead = 0; m.waitTail = 0;
  return m;
}

/** The thread holding `m` (0: free). Any context. */
@inline export function mutexOwner(m: Mutex): usize { return <usize>(m.owner & OWNER_MASK); }

/**
 * Takes `m`, sleeping while another thread holds it. Thread context only (it may sleep); not
 * recursive. Inlined: a free mutex costs one `lock cmpxchg` (and the lockdep test).
 */
@inline export function mutexLock(m: Mutex): void {
  if (lockdepOn != 0 || compareExchange(changetype<usize>(m), 0, me()) != 0) mutexLockSlow(m, codeAddress());
}

function mutexLockSlow(m: Mutex, site: u32): void {
  const flags = klockIrqSave();
  const self = me();
  if (lockdepOn != 0) {
    // (the fast path's exchange was not tried: the checker sees every acquisition)
    if (!lockdepAcquire(changetype<usize>(m), m.name, LockKind.Mutex, site, 0)) { klockIrqRestore(flags); return; }
  }
  // Other CPUs' fast paths (a lock cmpxchg each) may change the owner word at any moment: every
  // change here is a compare-exchange too, retried when the word moved.
  for (;;) {
    const owner = m.owner;
    if (owner == 0) {
      const mine = self | (lockdepOn != 0 ? MUTEX_TRACKED : 0) | (m.waitHead != 0 ? WAITERS : 0);
      if (compareExchange(changetype<usize>(m), 0, mine) == 0) break;
      continue;
    }
    if ((owner & OWNER_MASK) == self) { klockIrqRestore(flags); panic("mutex: locked again by the thread that holds it"); }
    if (!mightSleepWith("mutexLock", flags)) { klockIrqRestore(flags); panic("mutexLock: would sleep in atomic context (see the line above)"); }
    if ((owner & WAITERS) == 0 && compareExchange(changetype<usize>(m), owner, owner | WAITERS) != owner) continue;
    waitQueueWait(waitersOf(m));
  }
  klockIrqRestore(flags);
}

/** Takes `m` if it is free; true if taken. Thread context; never sleeps. */
export function mutexTryLock(m: Mutex): bool {
  if (lockdepOn == 0) return compareExchange(changetype<usize>(m), 0, me()) == 0;
  const flags = klockIrqSave();
  const free = m.owner == 0 && lockdepAcquire(changetype<usize>(m), m.name, LockKind.Mutex, codeAddress(), 0);
  if (free && compareExchange(changetype<usize>(m), 0, me() | MUTEX_TRACKED) != 0) {
    lockdepRelease(changetype<usize>(m), m.name, LockKind.Mutex, codeAddress());   // (another CPU's fast path took it first)
    klockIrqRestore(flags);
    return false;
  }
  klockIrqRestore(flags);
  return free;
}

/**
 * Releases `m` and wakes its first waiter. Unlocking a mutex the running thread does not hold
 * is reported with the mutex's name and changes nothing (false). Thread context. Inlined: one
 * `lock cmpxchg` when no one waits.
 */
@inline export function mutexUnlock(m: Mutex): bool {
  const self = me();
  return compareExchange(changetype<usize>(m), self, 0) == self || mutexUnlockSlow(m, codeAddress());
}

function mutexUnlockSlow(m: Mutex, site: u32): bool {
  const flags = klockIrqSave();
  const owner = m.owner;
  if ((owner & OWNER_MASK) != me()) {
    klockIrqRestore(flags);
    if (lockdepOn != 0) lockdepRelease(changetype<usize>(m), m.name, LockKind.Mutex, site);   // (reports it)
    else if (logBegin(LogLevel.Error, "mutex")) { puts("mutexUnlock('"); puts(changetype<string>(m.name)); puts("'): not held by the running thread; nothing changed\n"); }
    return false;
  }
  if ((owner & MUTEX_TRACKED) != 0) lockdepRelease(changetype<usize>(m), m.name, LockKind.Mutex, site);
  m.owner = 0;
  if ((owner & WAITERS) != 0) waitQueueWakeOne(waitersOf(m));
  klockIrqRestore(flags);
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

/** Sets up the semaphore at `at` (SEMAPHORE_BYTES) with `count` available. Any context (before anyone waits on it). */
export function semaphoreInit(at: usize, count: u32): Semaphore {
  const s = changetype<Semaphore>(at);
  s.count = count; s.waitHead = 0; s.waitTail = 0;
  return s;
}

/** Takes one, sleeping while none is available. Thread context only. */
export function semaphoreDown(s: Semaphore): void {
  const flags = klockIrqSave();
  if (s.count == 0 && !mightSleepWith("semaphoreDown", flags)) { klockIrqRestore(flags); panic("semaphoreDown: would sleep in atomic context (see the line above)"); }
  while (s.count == 0) waitQueueWait(semWaiters(s));
  s.count--;
  klockIrqRestore(flags);
}

/** Gives one back and wakes a waiter. Any context (an interrupt handler may post); never sleeps. */
export function semaphoreUp(s: Semaphore): void {
  const flags = klockIrqSave();
  s.count++;
  waitQueueWakeOne(semWaiters(s));
  klockIrqRestore(flags);
}
