// The scheduler's clock (sched/scheduler.ts runs the threads): sleeping threads in wake order,
// the PIT's tick that wakes them, each CPU's tick that ends its running thread's slice, and the
// preemption at the end of an interrupt. See docs/threads.md.
import { pitTicks, pitHz } from "../arch/pit";
import { klockIrqSave, klockIrqRestore, klockEnter, klockLeave } from "../arch/klock";
import { preemptDisabled } from "../arch/context";
import { mightSleep } from "../diag/context";
import { Thread, ThreadState, threadAt } from "./thread";
import { schedCpu, workWaiting } from "./runqueue";
import { currentThread, schedule, threadWake, requeueCurrent } from "./scheduler";

let sleepers: usize = 0;         // sleeping threads, linked through next, soonest wake first

/** Off the CPU for at least `ms` milliseconds (whole PIT ticks, at least one). Thread context. */
export function threadSleep(ms: u32): void {
  if (!mightSleep("threadSleep")) return;
  const hz = <u64>pitHz();
  const ticks = max<u64>(1, (<u64>ms * hz + 999) / 1000);
  const flags = klockIrqSave();
  const me = currentThread();
  me.wakeTick = pitTicks() + ticks;
  me.state = ThreadState.Sleeping;
  // into the sleep list in wake order (after those due at the same tick: FIFO among equals)
  let prev: usize = 0, at = sleepers;
  while (at != 0 && threadAt(at).wakeTick <= me.wakeTick) { prev = at; at = threadAt(at).next; }
  me.next = at;
  if (prev == 0) sleepers = changetype<usize>(me); else threadAt(prev).next = changetype<usize>(me);
  schedule();
  klockIrqRestore(flags);
}

/**
 * Ends `t`'s sleep early (threadSleep returns as if its time had come): for a kill. False if `t`
 * is not sleeping. Interrupts off; any context.
 */
export function threadWakeSleeper(t: Thread): bool {
  if (t.state != ThreadState.Sleeping) return false;
  if (sleepers == changetype<usize>(t)) sleepers = t.next;
  else for (let at = sleepers; at != 0; at = threadAt(at).next) {
    if (threadAt(at).next == changetype<usize>(t)) { threadAt(at).next = t.next; break; }
  }
  t.next = 0;
  threadWake(t);
  return true;
}

/**
 * On every PIT tick (the timer handler, interrupts off): wakes the sleepers that are due and
 * counts down the running thread's slice.
 */
export function schedTimerTick(): void {
  if (tickHook != 0) changetype<() => void>(tickHook)();
  if (changetype<usize>(currentThread()) == 0) return;
  const now = pitTicks();
  // the list is in wake order: the due ones are at its head (O(woken) per tick)
  while (sleepers != 0 && threadAt(sleepers).wakeTick <= now) {
    const t = threadAt(sleepers);
    sleepers = t.next;
    threadWake(t);
  }
  schedCpuTick();
}

/** A CPU's own tick (the PIT's on the bootstrap processor, the local APIC timer's on the others): the running thread's slice. Kernel-lock section, interrupts off. */
export function schedCpuTick(): void {
  const sc = schedCpu(), me = currentThread();
  if (changetype<usize>(sc) == 0 || changetype<usize>(me) == 0) return;
  me.ticks++;
  if (changetype<usize>(me) == sc.idle) { if (workWaiting(sc)) sc.needResched = 1; }
  else if (--sc.sliceLeft == 0) sc.needResched = 1;
}

let tickHook: usize = 0;

/**
 * For tests: `hook` (a () => void, 0 for none) runs in every timer interrupt, before the
 * scheduler's own work (interrupt context: it must not sleep). Thread context.
 */
export function schedSetTickHook(hook: usize): void { tickHook = hook; }

/** The IRQ exit hook (arch/idt.ts): a thread whose slice is over gives way. Interrupts off. */
export function schedPreempt(): void {
  const sc = schedCpu();
  if (changetype<usize>(sc) == 0 || sc.needResched == 0 || preemptDisabled()) return;
  klockEnter();
  requeueCurrent();
  schedule();
  klockLeave();
}
