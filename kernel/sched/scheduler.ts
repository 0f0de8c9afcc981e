// Kernel threads and a preemptive round-robin scheduler on one CPU. See docs/threads.md.
//
//   threadCreate(name, entry, arg)   a thread with a stack of its own, ready to run
//   threadYield()                    to the back of the run queue
//   threadSleep(ms)                  off the CPU for at least ms (PIT ticks, rounded up)
//   threadExit()                     ends the running thread (returning from entry does too)
//   threadJoin(t)                    waits for t to end, then gives back its stack and record
//
// The boot flow becomes thread 0, "main", on the boot stack; an idle thread runs when nothing
// else can. The run queue is FIFO. The PIT's tick (schedTimerTick) wakes sleepers and ends a
// running thread's slice; at the end of that interrupt (schedPreempt, the IRQ exit hook) a
// thread whose slice is over goes to the back of the queue, unless preemption is off
// (preemptDisable). Everything that touches the queues runs with interrupts off: they are
// shared with the timer interrupt.
//
// A thread's stack: STACK_BYTES from the range allocator, every page committed when the thread
// is created (a stack must never need a lazy fault: the fault would run on it), with the
// unmapped page below it as its guard (the range allocator never maps the page below a range:
// it is free space or the previous range's own guard). An overflow double-faults onto the
// double-fault task, which names the thread (diag/panic.ts).
import { cli, sti, switchContext, threadStartAddress, waitForInterrupt, linkerAddress, LinkerSymbol, writeCr3 } from "../arch/x86";
import { klockIrqSave, klockIrqRestore, klockDepth, klockResume, klockEnter, klockLeave } from "../arch/klock";
import { pitTicks, pitHz } from "../arch/pit";
import { preemptDisabled, inInterrupt } from "../arch/context";
import { tssSetKernelStack } from "../arch/gdt";
import { mightSleep } from "../diag/context";
import { panic, panicSetThread } from "../diag/panic";
import { LogLevel, logBegin } from "../console/log";
import { puts, putDec, putHex, newline } from "../console/console";
import { kzalloc, kfree } from "../mm/alloc/kmalloc";
import { reserveRange, releaseRange, RANGE_WRITABLE, RANGE_PROMISED, kernelAddressSpace } from "../mm/virt/vmm";
import { AddressSpace } from "../mm/virt/paging";
import { pmmFreeFrames } from "../mm/phys/pmm";
import { ARENA_BYTES, threadArenaCreate, threadArenaDestroy, arenaSwitch, bootArenaAddress } from "../mm/alloc/arena";
import { BumpArena } from "../mm/core/bump";
import { HELD_BYTES } from "./lockdep";
import { Thread, ThreadState, ThreadEntry, ThreadQueue, threadAt, queuePush, queuePop, threadStateName } from "./thread";

/** Each thread's stack. */
export const STACK_BYTES: u32 = 16 << 10;
const PAGE: u32 = 4096;
/** A running thread's time slice, in PIT ticks. */
const SLICE_TICKS: u32 = 2;

const runQueue = changetype<ThreadQueue>(memory.data(offsetof<ThreadQueue>(), 4));
let current: Thread = changetype<Thread>(0);
let idle: Thread = changetype<Thread>(0);
let bootThread: Thread = changetype<Thread>(0);
let sleepers: usize = 0;         // sleeping threads, linked through next, soonest wake first
// every live thread, linked through allNext: its first record, in a word gdb can find (askern-threads)
const allThreadsCell = memory.data(4, 4);
let nextId: u32 = 1;
let sliceLeft: u32 = SLICE_TICKS;
let needResched = false;
let switches: u64 = 0;
let bootFrames: u32 = 0;
let loadedDirectory: u32 = 0;   // the page directory in CR3 (set by schedInit: the kernel's)

/** Frames schedInit took: the idle thread's stack and any page table it needed. */
export function schedBootFrames(): u32 { return bootFrames; }
/** Counts `frames` more as the boot's own threads' (the monitor's thread, made at the end of boot). Boot only. */
export function schedAddBootFrames(frames: u32): void { bootFrames += frames; }

/** The running thread (the boot thread before schedInit has made any other). Any context. */
@inline export function currentThread(): Thread { return current; }
/** The running thread's held-lock stack (the lock checker's: sched/lockdep.ts), or 0 before there is one. */
export function currentHeldLocks(): usize { return changetype<usize>(current) == 0 ? 0 : current.held; }
/**
 * Makes `t` run in `space` (an AddressSpace; 0 for the kernel's) from its next switch on: its
 * CR3 is loaded whenever it runs. For a thread that has not run yet. Thread context.
 */
export function threadSetSpace(t: Thread, space: usize): void {
  t.space = space;
  t.directory = space != 0 ? changetype<AddressSpace>(space).directoryPhys : kernelAddressSpace().directoryPhys;
}

/**
 * The running thread runs in `space` (an AddressSpace; 0 for the kernel's) from now on: its CR3
 * is loaded at once. For execve (the new image's space) and a process's exit (the kernel's, so
 * that its own space can be torn down). Thread context.
 */
export function threadUseSpace(space: usize): void {
  const flags = klockIrqSave();
  threadSetSpace(current, space);
  if (current.directory != loadedDirectory) { loadedDirectory = current.directory; writeCr3(loadedDirectory); }
  klockIrqRestore(flags);
}

/** The address space the running thread runs in (the kernel's for a kernel thread). Any context. */
export function currentSpace(): AddressSpace {
  return changetype<usize>(current) != 0 && current.space != 0 ? changetype<AddressSpace>(current.space) : kernelAddressSpace();
}

/** Context switches so far. */
export function schedSwitches(): u64 { return switches; }

/**
 * Makes the boot flow thread 0 ("main", on the boot stack) and starts the idle thread. Call once,
 * after kmalloc and the VMM, before any other thread function. Boot only.
 */
export function schedInit(): void {
  const freeBefore = pmmFreeFrames();
  loadedDirectory = kernelAddressSpace().directoryPhys;
  // (the boot and idle threads live for ever: their records are static, not kmalloc'd)
  const main = changetype<Thread>(memory.data(offsetof<Thread>(), 8));
  main.id = 0;
  main.name = changetype<usize>("main");
  main.state = ThreadState.Running;
  main.stackLow = linkerAddress(LinkerSymbol.BootStackBottom);
  main.stackHigh = linkerAddress(LinkerSymbol.BootStackTop);
  main.allNext = 0;
  main.arena = bootArenaAddress();   // (the boot flow keeps the transient arena)
  main.held = memory.data(HELD_BYTES, 4);
  main.directory = kernelAddressSpace().directoryPhys;
  store<usize>(allThreadsCell, changetype<usize>(main));
  bootThread = main;
  current = main;
  panicSetThread("main", main.stackLow, main.stackHigh);
  tssSetKernelStack(main.stackHigh);
  // the idle thread runs only when nothing else can: never on the run queue
  const made = threadSetup(memory.data(offsetof<Thread>(), 8), "idle", idleLoop, 0, false, bootArenaAddress(), memory.data(HELD_BYTES, 4));
  if (made == null) panic("sched: no memory for the idle thread's stack");
  idle = made!;
  bootFrames = freeBefore - pmmFreeFrames();
}

function idleLoop(arg: usize): void {
  while (true) waitForInterrupt();   // sti; hlt: the next tick's schedPreempt switches away when work arrives
}

/**
 * A new thread that will run `entry(arg)`, ready to run (it starts at the back of the run
 * queue), or null when no memory is left for its record or its stack (reported). `name` must be
 * a literal. Thread context (it commits the stack's pages); may sleep in the VMM later.
 */
export function threadCreate(name: string, entry: ThreadEntry, arg: usize): Thread | null {
  return threadMake(name, entry, arg, true);
}

/**
 * threadCreate, but the thread does not run until threadRelease: for a caller that must set it up
 * first (its process and address space: proc/process.ts). Thread context.
 */
export function threadCreateStopped(name: string, entry: ThreadEntry, arg: usize): Thread | null {
  return threadMake(name, entry, arg, false);
}

/** Lets a thread from threadCreateStopped run (to the back of the run queue). Any context. */
export function threadRelease(t: Thread): void {
  const flags = klockIrqSave();
  queuePush(runQueue, t);
  klockIrqRestore(flags);
}

/**
 * A kernel stack of STACK_BYTES, every page committed, with the unmapped guard page below it; its
 * lowest address, or 0 when memory is short. Release it with releaseRange. Thread context.
 */
export function stackReserve(name: string): usize {
  // promised: its frames are taken now (or the reservation fails), so committing it below can
  // never run out of memory in the fault handler
  const stack = reserveRange(STACK_BYTES, RANGE_WRITABLE | RANGE_PROMISED, name);
  if (stack == 0) return 0;
  for (let page = stack + STACK_BYTES - PAGE; page >= stack; page -= PAGE) store<u32>(page, 0);   // commit now
  return stack;
}

function threadMake(name: string, entry: ThreadEntry, arg: usize, ready: bool): Thread | null {
  if (!mightSleep("threadCreate")) return null;
  // the record, then the thread's arena's control block and its held-lock stack (lockdep)
  const record = kzalloc(offsetof<Thread>() + ARENA_BYTES + HELD_BYTES);
  if (record == 0) return reportNoMemory(name);
  const arena = record + offsetof<Thread>();
  if (!threadArenaCreate(arena)) { kfree(record); return reportNoMemory(name); }
  const t = threadSetup(record, name, entry, arg, ready, arena, arena + ARENA_BYTES);
  if (t == null) { threadArenaDestroy(changetype<BumpArena>(arena)); kfree(record); }
  return t;
}

/**
 * threadCreate on the zeroed record at `record`, ready to run (on the run queue) when `ready`;
 * null (reported) when no stack could be had.
 */
function threadSetup(record: usize, name: string, entry: ThreadEntry, arg: usize, ready: bool, arena: usize, held: usize): Thread | null {
  const stack = stackReserve("thread stack");
  if (stack == 0) return reportNoMemory(name);
  const t = changetype<Thread>(record);
  t.stackLow = stack;
  t.stackHigh = stack + STACK_BYTES;
  // The first switch to it pops four zeroed registers and returns into thread_start.
  const sp = t.stackHigh - 20;
  store<u32>(sp, 0); store<u32>(sp, 0, 4); store<u32>(sp, 0, 8); store<u32>(sp, 0, 12);
  store<u32>(sp, threadStartAddress(), 16);
  t.savedSp = <u32>sp;
  t.id = nextId++;
  t.name = changetype<usize>(name);
  t.entry = changetype<usize>(entry);
  t.arg = arg;
  t.arena = arena;
  t.held = held;
  t.directory = kernelAddressSpace().directoryPhys;   // (a kernel thread runs in the kernel's space)
  const flags = klockIrqSave();
  t.allNext = load<usize>(allThreadsCell);
  store<usize>(allThreadsCell, record);
  t.state = ThreadState.Ready;
  if (ready) queuePush(runQueue, t);
  klockIrqRestore(flags);
  return t;
}

function reportNoMemory(name: string): Thread | null {
  if (logBegin(LogLevel.Error, "sched")) { puts("threadCreate('"); puts(name); puts("'): no memory for its record, stack or arena\n"); }
  return null;
}

/** Where a new thread begins (boot/runtime.c's thread_start_c): its entry, then its exit. */
export function threadStart(): void {
  cli();
  klockResume(0);   // (the switch that started it left the CPU's sections open: thread_start's sti came first)
  sti();
  changetype<ThreadEntry>(current.entry)(current.arg);
  threadExit();
}

/**
 * Gives the CPU to the next ready thread (the idle thread if none). The running thread must
 * already be queued (yield), blocked or sleeping. Interrupts off; returns when this thread
 * runs again.
 */
export function schedule(): void {
  const prev = current;
  const head = queuePop(runQueue);
  const next = head != 0 ? threadAt(head) : idle;
  if (next === prev) { prev.state = ThreadState.Running; return; }
  if (prev.state == ThreadState.Running) prev.state = ThreadState.Ready;   // (the idle thread, preempted)
  next.state = ThreadState.Running;
  switches++;
  current = next;
  sliceLeft = SLICE_TICKS;
  needResched = false;
  panicSetThread(changetype<string>(next.name), next.stackLow, next.stackHigh);
  tssSetKernelStack(next.stackHigh);   // (the ring-0 stack for interrupts from ring 3)
  arenaSwitch(next.arena);
  if (next.directory != loadedDirectory) { loadedDirectory = next.directory; writeCr3(loadedDirectory); }
  prev.klockDepth = klockDepth();   // (the kernel lock stays held across the switch: both have sections open)
  switchContext(changetype<usize>(prev), next.savedSp);
  klockResume(prev.klockDepth);     // (prev is the thread running again here)
}

/** To the back of the run queue, and the next ready thread runs. Thread context. */
export function threadYield(): void {
  if (!mightSleep("threadYield")) return;
  const flags = klockIrqSave();
  if (current !== idle) { current.state = ThreadState.Ready; queuePush(runQueue, current); }
  schedule();
  klockIrqRestore(flags);
}

/** Off the CPU for at least `ms` milliseconds (whole PIT ticks, at least one). Thread context. */
export function threadSleep(ms: u32): void {
  if (!mightSleep("threadSleep")) return;
  const hz = <u64>pitHz();
  const ticks = max<u64>(1, (<u64>ms * hz + 999) / 1000);
  const flags = klockIrqSave();
  current.wakeTick = pitTicks() + ticks;
  current.state = ThreadState.Sleeping;
  // into the sleep list in wake order (after those due at the same tick: FIFO among equals)
  let prev: usize = 0, at = sleepers;
  while (at != 0 && threadAt(at).wakeTick <= current.wakeTick) { prev = at; at = threadAt(at).next; }
  current.next = at;
  if (prev == 0) sleepers = changetype<usize>(current); else threadAt(prev).next = changetype<usize>(current);
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

/** Makes blocked or sleeping `t` ready (to the back of the run queue). Interrupts off; any context. */
export function threadWake(t: Thread): void {
  t.state = ThreadState.Ready;
  queuePush(runQueue, t);
  if (inInterrupt()) needResched = true;   // (a post from a handler: the woken thread runs at the IRQ's exit)
}

/** Blocks the running thread (it must be in some wait queue first). Interrupts off, thread context. */
export function threadBlock(): void {
  current.state = ThreadState.Blocked;
  schedule();
}

/** threadExit, leaving `code` for whoever joins it (threadJoinCode). Thread context; never returns. */
export function threadExitWith(code: i32): void {
  current.exitCode = code;
  threadExit();
}

/**
 * Ends the running thread: its joiner wakes, and the scheduler never runs it again. Its stack
 * and record go when it is joined. Thread context; never returns.
 */
export function threadExit(): void {
  klockIrqSave();
  const me = current;
  if (me === bootThread || me === idle) panic("threadExit: the boot thread and the idle thread cannot exit");
  me.state = ThreadState.Dead;
  if (me.joiner != 0) threadWake(threadAt(me.joiner));
  schedule();
  panic("threadExit: a dead thread was scheduled again");
}

/**
 * Waits until `t` has exited, then gives back its stack and its record (t is gone afterwards).
 * Returns false, reported, for the running thread itself or a thread someone else joins.
 * Thread context; sleeps.
 */
export function threadJoin(t: Thread): bool { return threadJoinCode(t, 0); }

/**
 * threadJoin, and the code `t` exited with (threadExitWith) stored at `codeOut` (an i32; 0 for
 * none) before its record goes. Thread context; sleeps.
 */
export function threadJoinCode(t: Thread, codeOut: usize): bool {
  if (!mightSleep("threadJoin")) return false;
  const flags = klockIrqSave();
  if (t === current || (t.joiner != 0 && t.joiner != changetype<usize>(current))) {
    klockIrqRestore(flags);
    if (logBegin(LogLevel.Error, "sched")) { puts("threadJoin('"); puts(changetype<string>(t.name)); puts("'): the running thread itself, or joined by another; refused\n"); }
    return false;
  }
  while (t.state != ThreadState.Dead) {
    t.joiner = changetype<usize>(current);
    threadBlock();
  }
  // unlink from the list of all threads
  if (load<usize>(allThreadsCell) == changetype<usize>(t)) store<usize>(allThreadsCell, t.allNext);
  else for (let at = load<usize>(allThreadsCell); at != 0; at = threadAt(at).allNext) {
    if (threadAt(at).allNext == changetype<usize>(t)) { threadAt(at).allNext = t.allNext; break; }
  }
  klockIrqRestore(flags);
  if (codeOut != 0) store<i32>(codeOut, t.exitCode);
  releaseRange(<u32>t.stackLow);
  threadArenaDestroy(changetype<BumpArena>(t.arena));
  kfree(changetype<usize>(t));
  return true;
}

/** The word that holds the first thread record (for the debugger: boot/arch.c's debug roots). */
export function threadListAddress(): usize { return allThreadsCell; }

/**
 * Prints every live thread, newest first, as `# ` lines (gdb's askern-threads prints the same):
 *   # threads: 2 idle ready stack 0xf8401000-0xf8405000
 * Thread context.
 */
export function threadsPrint(): void {
  for (let at = load<usize>(allThreadsCell); at != 0; at = threadAt(at).allNext) {
    const t = threadAt(at);
    puts("# threads: "); putDec(t.id); puts(" "); puts(changetype<string>(t.name)); puts(" "); puts(threadStateName(t.state));
    puts(" stack "); putHex(t.stackLow); puts("-"); putHex(t.stackHigh); newline();
  }
}

/**
 * Every live thread, a line each: id, name, state, stack, and CPU time (timer ticks it was
 * running at, in milliseconds). Thread context (the list is read with interrupts off).
 */
export function threadsTable(): void {
  const hz = <u64>pitHz();
  const flags = klockIrqSave();
  for (let at = load<usize>(allThreadsCell); at != 0; at = threadAt(at).allNext) {
    const t = threadAt(at);
    puts("thread "); putDec(t.id); puts(" '"); puts(changetype<string>(t.name)); puts("' "); puts(threadStateName(t.state));
    puts(", stack "); putHex(t.stackLow); puts("-"); putHex(t.stackHigh); puts(", cpu "); putDec(<u64>t.ticks * 1000 / hz); puts(" ms\n");
  }
  klockIrqRestore(flags);
}

// --- preemption (preemptDisable/Enable: arch/context.ts) -------------------------------------

/**
 * On every PIT tick (the timer handler, interrupts off): wakes the sleepers that are due and
 * counts down the running thread's slice.
 */
export function schedTimerTick(): void {
  if (tickHook != 0) changetype<() => void>(tickHook)();
  if (changetype<usize>(current) == 0) return;
  current.ticks++;
  const now = pitTicks();
  // the list is in wake order: the due ones are at its head (O(woken) per tick)
  while (sleepers != 0 && threadAt(sleepers).wakeTick <= now) {
    const t = threadAt(sleepers);
    sleepers = t.next;
    threadWake(t);
  }
  if (current === idle) { if (runQueue.head != 0) needResched = true; }
  else if (--sliceLeft == 0) needResched = true;
}

let tickHook: usize = 0;

/**
 * For tests: `hook` (a () => void, 0 for none) runs in every timer interrupt, before the
 * scheduler's own work (interrupt context: it must not sleep). Thread context.
 */
export function schedSetTickHook(hook: usize): void { tickHook = hook; }

/** The IRQ exit hook (arch/idt.ts): a thread whose slice is over gives way. Interrupts off. */
export function schedPreempt(): void {
  if (!needResched || preemptDisabled() || changetype<usize>(current) == 0) return;
  klockEnter();
  if (current !== idle) { current.state = ThreadState.Ready; queuePush(runQueue, current); }
  schedule();
  klockLeave();
}
