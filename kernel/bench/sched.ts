// Scheduler and lock benchmarks (instructions under -icount shift=0), each timed by the stopwatch:
//   sched.switch            one thread to another through threadYield: two threads yield to
//                           each other; a yield in one and the other's yield back is two switches
//   sched.wakeup            wake a thread that waits on a semaphore and run it: from just before
//                           semaphoreUp to the woken thread's first instruction (the post, the
//                           waker's yield, the switch, the wait's return)
//   mutex.uncontended_pair  mutexLock + mutexUnlock of a free mutex
//   spin.irqsave_pair       spinLockIrqSave + spinUnlockIrqRestore
import { registerBench, benchReport, benchFail } from "./bench";
import { stopwatchStart, stopwatchStop, stamp, lapEnd, Stopwatch } from "./stopwatch";
import { threadCreate, threadJoin, threadYield } from "../sched/scheduler";
import {
  MUTEX_BYTES, mutexInit, mutexLock, mutexUnlock, SPINLOCK_BYTES, spinlockInit, spinLockIrqSave, spinUnlockIrqRestore,
  Semaphore, SEMAPHORE_BYTES, semaphoreInit, semaphoreDown, semaphoreUp,
} from "../sched/sync";

const ROUNDS: u32 = 10000;
const WAKEUPS: u32 = 2000;
let wakeSemaphore: usize = 0, wakeWatchAt: usize = 0;
let wakeStart: u64 = 0;
const PAIRS: u32 = 10000;
let partnerRounds: u32 = 0;

registerBench("sched", () => {
  // The partner yields back as many times as we yield to it (plus one to let it finish).
  partnerRounds = ROUNDS + 1;
  const partner = threadCreate("bench-partner", (arg: usize): void => {
    for (let i: u32 = 0; i < partnerRounds; i++) threadYield();
  }, 0);
  if (partner == null) { benchFail(); return; }
  threadYield();   // let it start: the measured yields all switch to a running thread
  const watch = stopwatchStart();
  // (the stopwatch turned interrupts off; a yield keeps them off across the switch, so no tick
  // lands inside a lap and no preemption reorders the two threads)
  for (let i: u32 = 0; i < ROUNDS; i++) {
    const t0 = stamp();
    threadYield();
    lapEnd(watch, t0);
  }
  stopwatchStop();
  threadJoin(partner);
  benchReport("sched.switch", watch.total, <u64>ROUNDS * 2, "instr");

  // Wakeup: a thread waits on a semaphore; each round posts it and yields, and the woken thread
  // stamps the moment it runs again: from just before the post to that stamp.
  const sem = semaphoreInit(memory.data(SEMAPHORE_BYTES, 4), 0);
  wakeSemaphore = changetype<usize>(sem);
  const wakeWatch = stopwatchStart(1);
  wakeWatchAt = changetype<usize>(wakeWatch);
  const waiter = threadCreate("bench-waiter", (arg: usize): void => {
    for (let i: u32 = 0; i < WAKEUPS; i++) {
      semaphoreDown(changetype<Semaphore>(wakeSemaphore));
      lapEnd(changetype<Stopwatch>(wakeWatchAt), wakeStart);
    }
  }, 0);
  if (waiter == null) { stopwatchStop(); benchFail(); return; }
  threadYield();   // the waiter runs until it waits
  for (let i: u32 = 0; i < WAKEUPS; i++) {
    wakeStart = stamp();
    semaphoreUp(sem);
    threadYield();   // to the waiter, which stamps and waits again, then back here
  }
  stopwatchStop();
  threadJoin(waiter);
  benchReport("sched.wakeup", wakeWatch.total, WAKEUPS, "instr");

  const m = mutexInit(memory.data(MUTEX_BYTES, 4), "bench");
  let w: Stopwatch = stopwatchStart();
  for (let i: u32 = 0; i < PAIRS; i++) {
    const t0 = stamp();
    mutexLock(m);
    mutexUnlock(m);
    lapEnd(w, t0);
  }
  stopwatchStop();
  benchReport("mutex.uncontended_pair", w.total, PAIRS, "instr/pair");

  const lock = spinlockInit(memory.data(SPINLOCK_BYTES, 4), "bench");
  w = stopwatchStart();
  for (let i: u32 = 0; i < PAIRS; i++) {
    const t0 = stamp();
    spinLockIrqSave(lock);
    spinUnlockIrqRestore(lock);
    lapEnd(w, t0);
  }
  stopwatchStop();
  benchReport("spin.irqsave_pair", w.total, PAIRS, "instr/pair");
});
