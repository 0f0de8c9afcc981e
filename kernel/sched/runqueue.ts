// Each CPU's scheduler state: its run queue, its slice and its idle thread (docs/threads.md,
// "More than one CPU"). Where a thread is queued decides where it runs:
//
//   enqueue      a woken or new thread goes to the allowed CPU with the least work (threads
//                queued plus the one running, unless that is the idle thread), the CPU it last
//                ran on winning ties (its cache may still hold its data); an idle CPU that gets
//                work is sent a reschedule IPI
//   yield, slice the running thread goes to the back of its own CPU's queue
//   steal        a CPU whose queue is empty takes the first thread it may run from the longest
//                queue of another (a migration)
//
// All of it runs in sections of the kernel lock (arch/klock.ts), interrupts off.
//
// A CPU's scheduler state (SCHED_CPU_BYTES; the bootstrap processor's static, the others' from
// kmalloc at their bring-up), found through its record's CPU_SCHED word:
//
//   +0  switches      context switches on it (u64)
//   +8  queueHead     its run queue (a ThreadQueue in place)
//   +12 queueTail
//   +16 queued        threads in the queue
//   +20 sliceLeft     timer ticks left to the running thread
//   +24 needResched   1: schedule at the end of the interrupt (schedPreempt)
//   +28 (reserved)
//   +32 idle          its idle thread
//   +36 cpu           its CPU record (arch/percpu.ts)
//   +40 migrations    threads it took from other CPUs' queues
//   +44 online        1 once the CPU schedules (enqueue and steal skip it before)
import { cpuLoad, thisCpu } from "../arch/x86";
import { CPU_SCHED, CPU_CURRENT, CPU_INDEX, CPU_APIC_ID, cpuRecords, cpuAt } from "../arch/percpu";
import { lapicSendFixed } from "../arch/apic";
import { Thread, ThreadQueue, threadAt, queuePush, queuePop } from "./thread";

@unmanaged export class SchedCpu {
  switches: u64;
  queueHead: usize;
  queueTail: usize;
  queued: u32;
  sliceLeft: u32;
  needResched: u32;
  reserved: u32;
  idle: usize;
  cpu: usize;
  migrations: u32;
  online: u32;
}
export const SCHED_CPU_BYTES: u32 = offsetof<SchedCpu>();

/** The reschedule IPI's vector (arch/idt.ts routes 0x30-0x3F to the local APIC's end of interrupt). */
export const VECTOR_RESCHEDULE: u32 = 0x31;

/** The running CPU's scheduler state. Interrupts off (or preemption off: the thread stays on this CPU). */
@inline export function schedCpu(): SchedCpu { return changetype<SchedCpu>(cpuLoad(CPU_SCHED)); }
/** CPU record `cpu`'s scheduler state (0 before it is prepared; check `online`). */
@inline export function schedCpuOf(cpu: usize): SchedCpu { return changetype<SchedCpu>(<usize>load<u32>(cpu, CPU_SCHED)); }
/** CPU record `cpu`'s scheduler state if it schedules, else 0. */
@inline export function onlineSched(cpu: usize): SchedCpu {
  const sc = schedCpuOf(cpu);
  return changetype<usize>(sc) != 0 && sc.online != 0 ? sc : changetype<SchedCpu>(0);
}
@inline function queueOf(sc: SchedCpu): ThreadQueue { return changetype<ThreadQueue>(changetype<usize>(sc) + offsetof<SchedCpu>("queueHead")); }

/** The thread running on CPU record `cpu`. */
@inline export function runningOn(cpu: usize): Thread { return changetype<Thread>(<usize>load<u32>(cpu, CPU_CURRENT)); }

/** Whether `t` may run on the CPU with index `index`. */
@inline export function allowedOn(t: Thread, index: u32): bool { return t.affinity == 0 || (t.affinity & (1 << index)) != 0; }

/** Work on CPU record `cpu`: queued threads, plus the running one unless it is idle. */
function load_(sc: SchedCpu): u32 {
  const running = runningOn(sc.cpu);
  return sc.queued + (changetype<usize>(running) != sc.idle ? 1 : 0);
}

/** The CPU (record) `t` should be queued on. */
function pickCpu(t: Thread): usize {
  let best: usize = 0, bestLoad: u32 = 0xFFFFFFFF;
  const last = t.cpu < cpuRecords() ? cpuAt(t.cpu) : cpuAt(0);
  if (changetype<usize>(onlineSched(last)) != 0 && allowedOn(t, t.cpu)) { best = last; bestLoad = load_(schedCpuOf(last)); }
  for (let i: u32 = 0; i < cpuRecords() && bestLoad != 0; i++) {
    const cpu = cpuAt(i);
    const sc = onlineSched(cpu);
    if (changetype<usize>(sc) == 0 || cpu == last || !allowedOn(t, i)) continue;
    const work = load_(sc);
    if (work < bestLoad) { best = cpu; bestLoad = work; }
  }
  return best != 0 ? best : thisCpu();   // (no CPU allowed schedules: where the caller runs)
}

/** Puts `t` on the back of `sc`'s queue. */
@inline export function runQueuePush(sc: SchedCpu, t: Thread): void {
  queuePush(queueOf(sc), t);
  sc.queued++;
}

/** Queues `t` (ready) where it should run, and wakes that CPU if it idles. Kernel-lock section. */
export function enqueue(t: Thread): void {
  const cpu = pickCpu(t);
  const sc = schedCpuOf(cpu);
  runQueuePush(sc, t);
  if (cpu != thisCpu() && changetype<usize>(runningOn(cpu)) == sc.idle) lapicSendFixed(load<u32>(cpu, CPU_APIC_ID), VECTOR_RESCHEDULE);
}

/** The next thread for the running CPU: its queue's head, else one taken from another CPU's; 0 for none. Kernel-lock section. */
export function dequeue(sc: SchedCpu): usize {
  const head = queuePop(queueOf(sc));
  if (head != 0) { sc.queued--; return head; }
  return steal(sc);
}

/** A thread from the longest other queue that may run here (0: none). */
function steal(sc: SchedCpu): usize {
  const here = cpuLoad(CPU_INDEX);
  let victim: SchedCpu = changetype<SchedCpu>(0);
  for (let i: u32 = 0; i < cpuRecords(); i++) {
    const other = onlineSched(cpuAt(i));
    if (changetype<usize>(other) == 0 || other === sc || other.queued == 0) continue;
    if (changetype<usize>(victim) == 0 || other.queued > victim.queued) victim = other;
  }
  if (changetype<usize>(victim) == 0) return 0;
  const queue = queueOf(victim);
  let prev: usize = 0;
  for (let at = queue.head; at != 0; prev = at, at = threadAt(at).next) {
    if (!allowedOn(threadAt(at), here)) continue;
    const next = threadAt(at).next;
    if (prev == 0) queue.head = next; else threadAt(prev).next = next;
    if (queue.tail == at) queue.tail = prev;
    threadAt(at).next = 0;
    victim.queued--;
    sc.migrations++;
    return at;
  }
  return 0;
}

/** Whether some CPU's queue holds a thread the running CPU could take. Kernel-lock section. */
export function workWaiting(sc: SchedCpu): bool {
  if (sc.queued != 0) return true;
  for (let i: u32 = 0; i < cpuRecords(); i++) {
    const other = onlineSched(cpuAt(i));
    if (changetype<usize>(other) != 0 && other.queued != 0) return true;
  }
  return false;
}

/** Takes `t` (ready, queued) off whichever CPU's queue holds it; false if none does. Kernel-lock section. */
export function dequeueThread(t: Thread): bool {
  for (let i: u32 = 0; i < cpuRecords(); i++) {
    const sc = schedCpuOf(cpuAt(i));
    if (changetype<usize>(sc) == 0) continue;
    const queue = queueOf(sc);
    let prev: usize = 0;
    for (let at = queue.head; at != 0; prev = at, at = threadAt(at).next) {
      if (at != changetype<usize>(t)) continue;
      const next = t.next;
      if (prev == 0) queue.head = next; else threadAt(prev).next = next;
      if (queue.tail == at) queue.tail = prev;
      t.next = 0;
      sc.queued--;
      return true;
    }
  }
  return false;
}
