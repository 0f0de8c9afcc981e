// Self-tests of the lock checker (kernel/sched/lockdep.ts): each commits one kind of mistake on
// purpose and asserts the exact number of reports of each kind, in the manner of Linux's
// slub_kunit. They need the checker: run them with `test=all lockdep` (or `test=lockdep.*
// lockdep`); without it they are skipped. The graph logic has host tests against a model
// (test/lib/lock-graph.test.ts).
import { registerTest, check, checkEqual, skipTest, lockdepExpect } from "./harness";
import { softInterruptBench } from "../arch/x86";
import { klockIrqSave, klockIrqRestore } from "../arch/klock";
import { inThreadContext, preemptDisable, preemptEnable } from "../arch/context";
import { setInterruptHandler, emptyHandler, VECTOR_BENCH } from "../arch/idt";
import { InterruptFrame } from "../arch/frame";
import { reserveRange, RANGE_WRITABLE } from "../mm/virt/vmm";
import { lockdepOn, lockdepReports, LockdepReport } from "../sched/lockdep";
import {
  Spinlock, SPINLOCK_BYTES, spinlockInit, spinlockHeld, spinLock, spinUnlock, spinLockIrqSave, spinUnlockIrqRestore,
  Mutex, MUTEX_BYTES, mutexInit, mutexLock, mutexUnlock, mutexOwner,
} from "../sched/sync";
import { threadCreate, threadCreateStopped, threadRelease, threadSetAffinity, threadJoin, threadYield } from "../sched/scheduler";
import { cpusScheduling, cpuIndex } from "../arch/percpu";
import { threadSleep } from "../sched/clock";

const KINDS: u32 = 5;
const before = memory.data(KINDS * 4, 4);

/** False (and the test skipped) without the checker; otherwise notes every kind's count. */
function start(): bool {
  if (lockdepOn == 0) { skipTest("needs the lock checker: boot with lockdep"); return false; }
  for (let k: u32 = 0; k < KINDS; k++) store<u32>(before + (k << 2), lockdepReports(<LockdepReport>k));
  return true;
}

/** Checks that exactly `expected` reports of `kind` came since start(). */
function expectReports(kind: LockdepReport, expected: u32, what: string): void {
  checkEqual(lockdepReports(kind) - load<u32>(before + (<u32>kind << 2)), expected, what);
}

// Every lock a test makes gets its own block (memory.data in a function is one block per call site).
const LOCKS: u32 = 32;
if (SPINLOCK_BYTES > 16 || MUTEX_BYTES > 16) ERROR("a test lock's block is 16 bytes");
const lockBlocks = memory.data(LOCKS * 16, 4);
let locksMade: u32 = 0;
function lockBlock(): usize {
  if (locksMade == LOCKS) locksMade = 0;   // (tests release what they take: blocks are reused)
  return lockBlocks + (locksMade++) * 16;
}
function spin(name: string): Spinlock { return spinlockInit(lockBlock(), name); }
function mutex(name: string): Mutex { return mutexInit(lockBlock(), name); }

registerTest("lockdep.recursion", () => {
  if (!start()) return;
  lockdepExpect(4);
  const a = spin("recursion.spin");
  spinLock(a);
  spinLock(a);                       // reported and skipped: the lock stays held once
  spinUnlock(a);
  check(!spinlockHeld(a), "one release frees it");
  spinUnlock(a);                     // reported: not held any more
  const b = spin("recursion.irqsave");
  spinLockIrqSave(b);
  spinLockIrqSave(b);                // reported; the outer hold's saved flags are kept
  spinUnlockIrqRestore(b);
  check(inThreadContext(), "interrupts are on again after the one release");
  const m = mutex("recursion.mutex");
  mutexLock(m);
  mutexLock(m);                      // reported and skipped (without the checker: a panic)
  check(mutexUnlock(m), "released");
  checkEqual(mutexOwner(m), 0, "and free");
  expectReports(LockdepReport.Recursion, 3, "three recursive acquisitions reported");
  expectReports(LockdepReport.ReleaseNotHeld, 1, "and the release of a lock no longer held");
  expectReports(LockdepReport.Inversion, 0, "no inversion");
});

registerTest("lockdep.inversion", () => {
  if (!start()) return;
  lockdepExpect(2);
  const a = spin("inversion.a"), b = mutex("inversion.b");
  // a then b, in one place
  spinLock(a); spinUnlock(a);
  mutexLock(b); spinLock(a); spinUnlock(a); mutexUnlock(b);   // b then a: the order is b -> a
  spinLock(a); mutexTryLockAndRelease(b); spinUnlock(a);     // a then b: inverted
  spinLock(a); mutexTryLockAndRelease(b); spinUnlock(a);     // the same again: known, not reported twice
  // a cycle through three classes: c -> d, d -> e, then e -> c
  const c = spin("inversion.c"), d = spin("inversion.d"), e = spin("inversion.e");
  spinLock(c); spinLock(d); spinUnlock(d); spinUnlock(c);
  spinLock(d); spinLock(e); spinUnlock(e); spinUnlock(d);
  spinLock(e); spinLock(c); spinUnlock(c); spinUnlock(e);
  // two locks of one class nest without a report (no order among siblings)
  const f1 = spin("inversion.sibling"), f2 = spin("inversion.sibling");
  spinLock(f1); spinLock(f2); spinUnlock(f2); spinUnlock(f1);
  spinLock(f2); spinLock(f1); spinUnlock(f1); spinUnlock(f2);
  expectReports(LockdepReport.Inversion, 2, "two inversions: a/b, and the cycle c -> d -> e -> c");
  expectReports(LockdepReport.Recursion, 0, "no recursion");
});

/** Takes and releases `m` while a spinlock is held (a mutex never sleeps when free). */
function mutexTryLockAndRelease(m: Mutex): void { mutexLock(m); mutexUnlock(m); }

registerTest("lockdep.sleep_holding_lock", () => {
  if (!start()) return;
  lockdepExpect(3);
  const a = spin("sleep.spin");
  spinLock(a);
  threadYield();                     // refused and reported: a spinlock is held
  threadSleep(1);
  spinUnlock(a);
  const flags = klockIrqSave();
  threadYield();                     // interrupts off
  klockIrqRestore(flags);
  threadYield();                     // allowed: nothing held
  expectReports(LockdepReport.SleepHoldingLock, 3, "a yield and a sleep holding a spinlock, a yield with interrupts off");
  expectReports(LockdepReport.AtomicCall, 0, "none counted as another kind");
});

let fromHandler: u32 = 1;
function handlerCallsThreadOnly(frame: InterruptFrame): void { fromHandler = reserveRange(4096, RANGE_WRITABLE, "lockdep.handler"); }
registerTest("lockdep.atomic_call", () => {
  if (!start()) return;
  lockdepExpect(2);
  setInterruptHandler(VECTOR_BENCH, handlerCallsThreadOnly);
  softInterruptBench();              // reserveRange in an interrupt handler
  setInterruptHandler(VECTOR_BENCH, emptyHandler);
  checkEqual(fromHandler, 0, "refused");
  preemptDisable();
  const t = threadCreate("lockdep.none", (arg: usize): void => {}, 0);   // preemption off, no lock held
  preemptEnable();
  check(t == null, "refused");
  expectReports(LockdepReport.AtomicCall, 2, "a thread-only call in a handler and one with preemption off");
  expectReports(LockdepReport.SleepHoldingLock, 0, "none counted as sleeping holding a lock");
});

// Across CPUs: the order a thread on CPU 1 takes, and the inverse one the test takes on CPU 0.
let crossA: Spinlock = changetype<Spinlock>(0), crossB: Spinlock = changetype<Spinlock>(0);
let crossCpu: u32 = 0;
registerTest("lockdep.inversion_across_cpus", () => {
  if (!start()) return;
  if (cpusScheduling() < 2) { skipTest("needs a second CPU that schedules (-smp 2 or more, smp=on)"); return; }
  lockdepExpect(1);
  crossA = spin("cross.a"); crossB = spin("cross.b");
  const t = threadCreateStopped("lockdep.cpu1", (arg: usize): void => {
    crossCpu = cpuIndex();
    spinLock(crossA); spinLock(crossB); spinUnlock(crossB); spinUnlock(crossA);   // a then b
  }, 0);
  if (!check(t != null, "a thread")) return;
  check(threadSetAffinity(t!, 1 << 1), "pinned to CPU 1");
  threadRelease(t!);
  check(threadJoin(t!), "joined");
  checkEqual(crossCpu, 1, "it ran on CPU 1");
  checkEqual(cpuIndex(), 0, "the test runs on CPU 0");
  expectReports(LockdepReport.Inversion, 0, "one order alone is no inversion");
  spinLock(crossB); spinLock(crossA); spinUnlock(crossA); spinUnlock(crossB);     // b then a, here
  expectReports(LockdepReport.Inversion, 1, "b then a on CPU 0, after a then b on CPU 1: reported");
});

let other: Mutex = changetype<Mutex>(0);
registerTest("lockdep.release_not_held", () => {
  if (!start()) return;
  lockdepExpect(3);
  const m = mutex("release.mutex");
  check(!mutexUnlock(m), "a free mutex: refused");
  const a = spin("release.irqsave");
  spinUnlockIrqRestore(a);           // without the checker: a panic
  check(inThreadContext(), "nothing restored: interrupts stay on");
  // a mutex another thread holds
  other = mutex("release.other");
  const t = threadCreateStopped("holder", (arg: usize): void => { mutexLock(other); threadYield(); mutexUnlock(other); }, 0);
  if (!check(t != null, "a thread")) return;
  threadSetAffinity(t!, 1 << cpuIndex());   // (here: it runs only when this thread yields)
  threadRelease(t!);
  threadYield();                     // it takes the mutex and yields back
  check(mutexOwner(other) == changetype<usize>(t), "held by the other thread");
  check(!mutexUnlock(other), "refused: held by another thread");
  check(threadJoin(t!), "joined");
  checkEqual(mutexOwner(other), 0, "released by its holder");
  expectReports(LockdepReport.ReleaseNotHeld, 3, "three releases of locks not held");
});
