// Self-tests of kernel threads, the scheduler and the locks (kernel/sched/).
import { memallocBegin, memallocEnd } from "../mm/pressure";
import { registerTest, registerPanicTest, check, checkEqual, lockdepExpect } from "./harness";
import { puts, putDec, newline } from "../console/console";
import { pitTicks, pitHz } from "../arch/pit";
import { cpuRelax, softInterruptBench } from "../arch/x86";
import { klockIrqSave, klockIrqRestore } from "../arch/klock";
import { tssKernelStack } from "../arch/gdt";
import { inThreadContext } from "../arch/context";
import { setInterruptHandler, emptyHandler, VECTOR_BENCH } from "../arch/idt";
import { InterruptFrame } from "../arch/frame";
import { contextRefusals } from "../diag/context";
import { reserveRange, RANGE_WRITABLE } from "../mm/virt/vmm";
import { pmmFreeFrames, allocFrames, freeFrames } from "../mm/phys/pmm";
import { PHYS_LIMIT } from "../mm/core/frames";
import { kmallocHeldFrames } from "../mm/alloc/kmalloc";
import { Thread } from "../sched/thread";
import { threadCreate, threadCreateStopped, threadRelease, threadSetAffinity, threadJoin, threadYield, currentThread, STACK_BYTES } from "../sched/scheduler";
import { threadSleep, schedSetTickHook } from "../sched/clock";
import { schedSwitches } from "../sched/listing";
import {
  Mutex, MUTEX_BYTES, mutexInit, mutexLock, mutexUnlock, mutexTryLock, Semaphore, SEMAPHORE_BYTES, semaphoreInit,
  semaphoreDown, semaphoreUp, Spinlock, SPINLOCK_BYTES, spinlockInit, spinLockIrqSave, spinUnlockIrqRestore, spinLock, spinUnlock, spinlockHeld,
} from "../sched/sync";

/** Creates a thread or fails the test; returns null on failure. */
function start(name: string, entry: (arg: usize) => void, arg: usize): Thread | null {
  const t = threadCreate(name, entry, arg);
  check(t != null, "a thread could be created");
  return t;
}

// A log the threads write to: up to 64 u32 entries.
const log = memory.data(64 * 4, 4);
let logged: u32 = 0;
function note(value: u32): void { if (logged < 64) store<u32>(log + (logged++) * 4, value); }

registerTest("sched.create_join", () => {
  const freeBefore = pmmFreeFrames() + kmallocHeldFrames();
  logged = 0;
  const t = start("writer", (arg: usize): void => {
    note(<u32>arg); note(currentThread().id);
    note(tssKernelStack() == currentThread().stackHigh ? 1 : 0);   // the TSS's ring-0 stack is this thread's
  }, 42);
  if (t == null) return;
  const id = t.id;
  check(id > 1, "a new thread has an id past the boot (0) and idle threads");
  checkEqual(<u64>t.stackHigh - t.stackLow, STACK_BYTES, "its stack");
  check(threadJoin(t), "joined");
  checkEqual(logged, 3, "the thread ran once");
  checkEqual(load<u32>(log, 8), 1, "while it ran, the TSS's esp0 was its stack top");
  checkEqual(tssKernelStack(), currentThread().stackHigh, "and back here, main's");
  checkEqual(load<u32>(log), 42, "with its argument");
  checkEqual(load<u32>(log, 4), id, "as itself (currentThread)");
  checkEqual(pmmFreeFrames() + kmallocHeldFrames(), freeBefore, "join gave back its stack and record");
});

/** Creates a thread that runs only on the bootstrap processor (where the tests run), or fails the test. */
function startHere(name: string, entry: (arg: usize) => void, arg: usize): Thread | null {
  const t = threadCreateStopped(name, entry, arg);
  check(t != null, "a thread could be created");
  if (t == null) return null;
  check(threadSetAffinity(t, 1), "it could be pinned to the bootstrap processor");
  threadRelease(t);
  return t;
}

// Round robin is a property of one CPU's queue: both threads are pinned to the tests' CPU. A
// slice that ends between a note and its yield reorders one run (a loaded host under MTTCG can
// stall the CPU that long), so a run may be tried three times; a queue that is not FIFO gets
// every run wrong.
const ROUND_ROBIN_TRIES: u32 = 3;
registerTest("sched.yield_round_robin", () => {
  let inOrder = false, tries: u32 = 0;
  while (!inOrder && tries < ROUND_ROBIN_TRIES) {
    tries++;
    logged = 0;
    const a = startHere("a", (arg: usize): void => { note(1); threadYield(); note(3); threadYield(); note(5); }, 0);
    const b = startHere("b", (arg: usize): void => { note(2); threadYield(); note(4); threadYield(); note(6); }, 0);
    if (a == null || b == null) return;
    threadJoin(a); threadJoin(b);
    checkEqual(logged, 6, "both threads ran to the end");
    inOrder = true;
    for (let i: u32 = 0; i < 6; i++) if (load<u32>(log + i * 4) != i + 1) inOrder = false;
  }
  if (tries > 1) { puts("# in order on try "); putDec(tries); newline(); }
  check(inOrder, "they took turns in FIFO order: 1 2 3 4 5 6");
});

registerTest("sched.sleep", () => {
  const before = pitTicks();
  threadSleep(50);
  const slept = pitTicks() - before;
  const hz = <u64>pitHz();
  check(slept * 1000 >= 50 * hz, "slept at least 50 ms");
  check(slept * 1000 <= 200 * hz, "and woke within 200 ms");
});

// Sleepers wake in the order of their wake times, whatever order they went to sleep in (on one
// CPU: the threads are pinned to the tests' own, where the order of their notes is the order
// they ran).
registerTest("sched.sleep_order", () => {
  logged = 0;
  const a = startHere("sleep-30", (arg: usize): void => { threadSleep(30); note(30); }, 0);
  const b = startHere("sleep-10", (arg: usize): void => { threadSleep(10); note(10); }, 0);
  const c = startHere("sleep-20", (arg: usize): void => { threadSleep(20); note(20); }, 0);
  if (a == null || b == null || c == null) return;
  threadJoin(a); threadJoin(b); threadJoin(c);
  checkEqual(logged, 3, "all three woke");
  check(load<u32>(log) == 10 && load<u32>(log, 4) == 20 && load<u32>(log, 8) == 30, "in the order of their wake times: 10 20 30 ms");
});

// With no frame left, threadCreate returns null (reported): its stack and arena are promised
// ranges, so committing them can never fault for want of memory.
const RUNS: u32 = 256;
const runs = memory.data(RUNS * 8, 4);
registerTest("sched.create_no_memory", () => {
  const freeBefore = pmmFreeFrames();
  let held: u32 = 0;
  const memalloc = memallocBegin();   // (every frame, the watermarks' reserve too, and no reclaim to refill it)
  for (let size: u32 = <u32>1 << (31 - clz(max<u32>(1, pmmFreeFrames()))); size > 0 && held < RUNS; ) {
    const phys = allocFrames(size, 1, PHYS_LIMIT);
    if (phys == 0) { size >>= 1; continue; }
    store<u32>(runs + held * 8, phys); store<u32>(runs + held * 8, size, 4);
    held++;
  }
  const drained = pmmFreeFrames() == 0;
  const t = drained ? threadCreate("no-memory", (arg: usize): void => {}, 0) : null;
  memallocEnd(memalloc);
  for (let i: u32 = 0; i < held; i++) freeFrames(load<u32>(runs + i * 8), load<u32>(runs + i * 8, 4));
  if (!check(drained, "the PMM drained")) return;
  check(t == null, "threadCreate with no frame left: null, not a panic");
  checkEqual(pmmFreeFrames(), freeBefore, "every frame back");
});

// Two threads that never yield both make progress: the timer preempts them.
let spinA: u32 = 0, spinB: u32 = 0;
let stopAt: u64 = 0;
registerTest("sched.preemption", () => {
  spinA = 0; spinB = 0;
  stopAt = pitTicks() + 10;   // 100 ms at 100 Hz: five slices
  // (cpuRelax makes the compiled loop read the tick count again; it never yields)
  const a = start("spin-a", (arg: usize): void => { while (pitTicks() < stopAt) { spinA++; cpuRelax(); } }, 0);
  const b = start("spin-b", (arg: usize): void => { while (pitTicks() < stopAt) { spinB++; cpuRelax(); } }, 0);
  if (a == null || b == null) return;
  const switchesBefore = schedSwitches();
  threadJoin(a); threadJoin(b);
  check(spinA > 0 && spinB > 0, "both spinning threads ran");
  check(schedSwitches() - switchesBefore >= 3, "the timer switched between them");
});

const mutexAt = memory.data(MUTEX_BYTES, 4);
let shared: u32 = 0;
const MUTEX_THREADS: u32 = 4, MUTEX_ROUNDS: u32 = 200;
registerTest("sync.mutex", () => {
  const m = mutexInit(mutexAt, "test");
  shared = 0;
  const threads = memory.data(MUTEX_THREADS * 4, 4);
  for (let i: u32 = 0; i < MUTEX_THREADS; i++) {
    const t = start("locker", (arg: usize): void => {
      const m = changetype<Mutex>(arg);
      for (let r: u32 = 0; r < MUTEX_ROUNDS; r++) {
        mutexLock(m);
        const seen = shared;
        threadYield();               // the others must wait for the mutex, not overwrite
        shared = seen + 1;
        mutexUnlock(m);
      }
    }, changetype<usize>(m));
    store<usize>(threads + i * 4, t == null ? 0 : changetype<usize>(t));
  }
  for (let i: u32 = 0; i < MUTEX_THREADS; i++) {
    const t = load<usize>(threads + i * 4);
    if (t != 0) threadJoin(changetype<Thread>(t));
  }
  checkEqual(shared, MUTEX_THREADS * MUTEX_ROUNDS, "no update lost under the mutex");
  check(mutexTryLock(m), "a free mutex can be taken");
  lockdepExpect(1);   // (the lock checker reports the release, when it is on)
  check(!mutexUnlock(changetype<Mutex>(mutexInit(memory.data(MUTEX_BYTES, 4), "other"))), "unlocking a mutex one does not hold is refused");
  check(mutexUnlock(m), "and released");
});

const semAt = memory.data(SEMAPHORE_BYTES, 4);
let consumed: u32 = 0;
registerTest("sync.semaphore", () => {
  const s = semaphoreInit(semAt, 0);
  consumed = 0;
  const consumer = start("consumer", (arg: usize): void => {
    for (let i: u32 = 0; i < 100; i++) { semaphoreDown(changetype<Semaphore>(arg)); consumed++; }
  }, changetype<usize>(s));
  if (consumer == null) return;
  threadYield();
  checkEqual(consumed, 0, "the consumer waits for the first post");
  for (let i: u32 = 0; i < 100; i++) { semaphoreUp(s); if ((i & 7) == 0) threadYield(); }
  threadJoin(consumer);
  checkEqual(consumed, 100, "one take per post");
  checkEqual(s.count, 0, "nothing left over");
});

// A post from the timer interrupt runs the woken thread at that interrupt's exit, before the
// interrupted thread runs again, not when its slice ends. The interrupted thread counts its
// rounds of waiting (`spins`): the tick notes the count when it posts, the woken thread when it
// runs, and the two must be equal. (Comparing tick numbers failed on a loaded host, where the
// next tick could come before the woken thread read the clock.)
const ROUNDS: u32 = 4;
const irqSemAt = memory.data(SEMAPHORE_BYTES, 4);
const postedAt = memory.data(ROUNDS * 4, 4), ranAt = memory.data(ROUNDS * 4, 4);
let postRound: u32 = 0, posting = false, woken: u32 = 0, spins: u32 = 0;
function postFromTick(): void {
  if (!posting) return;
  posting = false;
  store<u32>(postedAt + postRound * 4, spins);
  semaphoreUp(changetype<Semaphore>(irqSemAt));
}
registerTest("sync.semaphore_from_interrupt", () => {
  const s = semaphoreInit(irqSemAt, 0);
  woken = 0;
  // (pinned to the tests' CPU, whose tick posts: "at the interrupt's exit" is that CPU's)
  const waiter = startHere("waiter", (arg: usize): void => {
    for (let i: u32 = 0; i < ROUNDS; i++) { semaphoreDown(changetype<Semaphore>(arg)); store<u32>(ranAt + i * 4, spins); woken++; }
  }, changetype<usize>(s));
  if (waiter == null) return;
  threadYield();   // it waits
  schedSetTickHook(changetype<usize>(postFromTick));
  for (postRound = 0; postRound < ROUNDS; postRound++) {
    posting = true;
    const deadline = pitTicks() + 50;
    while (woken <= postRound && pitTicks() < deadline) { spins++; cpuRelax(); }   // (never yields: only the tick's exit can switch)
  }
  schedSetTickHook(0);
  threadJoin(waiter);
  checkEqual(woken, ROUNDS, "every post woke the waiter");
  let sameTick: u32 = 0;
  for (let i: u32 = 0; i < ROUNDS; i++) if (load<u32>(ranAt + i * 4) == load<u32>(postedAt + i * 4)) sameTick++;
  checkEqual(sameTick, ROUNDS, "each time it ran at the exit of the interrupt that posted, before the interrupted thread");
});

const spinAt = memory.data(SPINLOCK_BYTES, 4);
registerTest("sync.spinlock_irqsave", () => {
  const lock = spinlockInit(spinAt, "test");
  spinLockIrqSave(lock);
  check(spinlockHeld(lock), "held");
  spinUnlockIrqRestore(lock);
  check(!spinlockHeld(lock), "released");
  // the plain variant: preemption off (atomic context), interrupts as they were
  spinLock(lock);
  const atomic = !inThreadContext(), held = spinlockHeld(lock);
  spinUnlock(lock);
  check(atomic && held, "spinLock holds the lock with preemption off");
  check(inThreadContext() && !spinlockHeld(lock), "spinUnlock lets go of both");
});

// A thread that recurses until its stack overflows: the double-fault task names it.
type Recurse = (depth: u32) => u32;
let recurseRef: usize = 0;
function recurse(depth: u32): u32 {
  const pad = memory.data(4, 4);
  store<u32>(pad, depth);
  return changetype<Recurse>(recurseRef)(depth + 1) + 1;   // (an indirect call: never a loop)
}
registerPanicTest("panic.thread_stack_overflow", "double fault: kernel stack overflow|stack overflow in thread 'deep'", () => {
  recurseRef = changetype<usize>(recurse);
  const t = threadCreate("deep", (arg: usize): void => { changetype<Recurse>(recurseRef)(0); }, 0);
  if (t != null) threadJoin(t);
});

registerPanicTest("panic.spinlock_recursion", "spinlock: taken while already held|lock 'twice'", () => {
  const lock = spinlockInit(memory.data(SPINLOCK_BYTES, 4), "twice");
  spinLockIrqSave(lock);
  spinLockIrqSave(lock);
});

// Thread-only functions called in atomic context are refused with a report (diag/context.ts).
let fromHandlerRange: u32 = 1, fromHandlerCreated = true;
function threadOnlyCallsFromHandler(frame: InterruptFrame): void {
  fromHandlerRange = reserveRange(4096, RANGE_WRITABLE, "from an interrupt");
  fromHandlerCreated = threadCreate("from-irq", (arg: usize): void => {}, 0) != null;
  threadYield();   // refused: returns at once
}
registerTest("sched.context_checks", () => {
  const before = contextRefusals();
  lockdepExpect(7);   // each refusal is a lock-checker report too, when it is on
  check(inThreadContext(), "a test runs in thread context");
  const lock = spinlockInit(memory.data(SPINLOCK_BYTES, 4), "context");
  spinLockIrqSave(lock);
  const inLock = inThreadContext();
  const range = reserveRange(4096, RANGE_WRITABLE, "under a spinlock");
  const t = threadCreate("under-lock", (arg: usize): void => {}, 0);
  const ticks = pitTicks();
  threadSleep(100);   // refused: does not sleep
  const slept = pitTicks() != ticks;
  spinUnlockIrqRestore(lock);
  check(!inLock, "holding an irqsave spinlock is atomic context");
  checkEqual(range, 0, "reserveRange under a spinlock is refused");
  check(t == null, "threadCreate under a spinlock is refused");
  check(!slept, "threadSleep under a spinlock returns without sleeping");
  const flags = klockIrqSave();
  const irqsOff = inThreadContext();
  const rangeIrqsOff = reserveRange(4096, RANGE_WRITABLE, "interrupts off");
  klockIrqRestore(flags);
  check(!irqsOff, "interrupts off is atomic context");
  checkEqual(rangeIrqsOff, 0, "reserveRange with interrupts off is refused");
  setInterruptHandler(VECTOR_BENCH, threadOnlyCallsFromHandler);
  softInterruptBench();
  setInterruptHandler(VECTOR_BENCH, emptyHandler);
  checkEqual(fromHandlerRange, 0, "reserveRange in an interrupt handler is refused");
  check(!fromHandlerCreated, "threadCreate in an interrupt handler is refused");
  checkEqual(contextRefusals() - before, 7, "seven refusals, each reported");
  check(inThreadContext(), "and thread context again after the handler");
});
