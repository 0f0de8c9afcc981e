// A kernel thread's record, and the intrusive queues threads wait in (the run queue, a wait
// queue, the sleepers). One record per thread, from kmalloc; its stack is a range of its own
// (scheduler.ts). See docs/threads.md.
//
//   +0  savedSp     ESP while the thread is not running (boot/switch.asm stores it here)
//   +4  id          1, 2, ... in creation order; the boot thread is 0
//   +8  state       ThreadState
//   +12 name        a string literal
//   +16 entry       the ThreadEntry it runs, +20 arg its argument
//   +24 stackLow    the lowest address of its stack (the page below is the unmapped guard page)
//   +28 stackHigh   one past its highest address (the stack grows down from here)
//   +32 next        the next thread in whichever queue it waits in (run, wait, sleep), or 0
//   +36 joiner      the thread waiting in threadJoin for this one, or 0
//   +40 wakeTick    the PIT tick at which a sleeping thread becomes ready (u64)
//   +48 allNext     every live thread, for listings and the debugger
@unmanaged export class Thread {
  savedSp: u32;
  id: u32;
  state: u32;
  name: usize;
  entry: usize;
  arg: usize;
  stackLow: usize;
  stackHigh: usize;
  next: usize;
  joiner: usize;
  wakeTick: u64;
  allNext: usize;
  arena: usize;       // its transient arena (a BumpArena: for a new thread, right after this record)
  held: usize;        // the locks it holds, for the lock checker (sched/lockdep.ts: HELD_BYTES, after the arena)
  ticks: u32;         // timer ticks it was running at (its CPU time)
  exitCode: i32;      // what it passed to threadExitWith (0 for a plain exit)
  space: usize;       // the address space it runs in (an AddressSpace: mm/virt/space.ts), 0: the kernel's
  directory: u32;     // and that space's page directory (the CR3 a switch to it loads)
  process: usize;     // the process it belongs to (proc/process.ts), 0: a kernel thread
  ringThree: u32;     // 1 once it has entered ring 3: from then on its ring-3 frame tops its kernel stack whenever it is in the kernel
  killed: u32;        // 1: it must end the next time it would return to ring 3 (a kill, its process's exit, an execve)
  sibling: usize;     // the next thread of its process (proc/process.ts), or of the reaper's list once it has left
  klockDepth: u32;    // its kernel-lock sections while it is off the CPU (arch/klock.ts)
  cpu: u32;           // the index of the CPU it runs or last ran on (arch/percpu.ts)
  affinity: u32;      // the CPUs it may run on, bit i for index i; 0: any (sched/runqueue.ts)
}
if (offsetof<Thread>("savedSp") != 0) ERROR("boot/switch.asm stores a thread's ESP at +0");

export const enum ThreadState {
  Running = 1,    // on the CPU
  Ready = 2,      // on the run queue
  Blocked = 3,    // in a wait queue (a mutex, a semaphore, a join)
  Sleeping = 4,   // on the sleep list until wakeTick
  Dead = 5,       // exited; its stack and record go when it is joined
}

/** What a thread runs: `entry(arg)`; returning ends the thread as threadExit does. */
export type ThreadEntry = (arg: usize) => void;

@inline export function threadAt(address: usize): Thread { return changetype<Thread>(address); }

/** The state's name, for listings and panics. */
export function threadStateName(state: u32): string {
  switch (state) {
    case ThreadState.Running: return "running";
    case ThreadState.Ready: return "ready";
    case ThreadState.Blocked: return "blocked";
    case ThreadState.Sleeping: return "sleeping";
    case ThreadState.Dead: return "dead";
    default: return "?";
  }
}

/**
 * A FIFO of threads linked through Thread.next (the run queue, a wait queue). Interrupts off
 * around every use: the queues are shared with the timer interrupt.
 */
@unmanaged export class ThreadQueue {
  head: usize;
  tail: usize;
}

/** Appends `thread` at the tail. */
@inline export function queuePush(queue: ThreadQueue, thread: Thread): void {
  thread.next = 0;
  if (queue.tail != 0) threadAt(queue.tail).next = changetype<usize>(thread);
  else queue.head = changetype<usize>(thread);
  queue.tail = changetype<usize>(thread);
}

/** Takes the head, or returns 0 when empty. */
@inline export function queuePop(queue: ThreadQueue): usize {
  const head = queue.head;
  if (head != 0) {
    queue.head = threadAt(head).next;
    if (queue.head == 0) queue.tail = 0;
    threadAt(head).next = 0;
  }
  return head;
}
