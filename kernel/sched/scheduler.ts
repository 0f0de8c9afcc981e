// Kernel threads and a preemptive round-robin scheduler on every CPU. See docs/threads.md.
//
//   threadCreate(name, entry, arg)   a thread with a stack of its own, ready to run
//   threadYield()                    to the back of the run queue
//   threadSleep(ms)                  off the CPU for at least ms (PIT ticks, rounded up)
//   threadExit()                     ends the running thread (returning from entry does too)
//   threadJoin(t)                    waits for t to end, then gives back its stack and record
//
// The boot flow becomes thread 0, "main", on the boot stack; each CPU has an idle thread that
// runs when nothing else can there (an application processor's is the code that started it, on
// its boot stack). Each CPU has a FIFO run queue (runqueue.ts: where a thread is queued, and
// how idle CPUs take work from busy ones). The PIT's tick (schedTimerTick, on the bootstrap
// processor) wakes sleepers; every CPU's own tick (the PIT's there, the local APIC timer's on
// the others: schedCpuTick) ends its running thread's slice; at the end of that interrupt
// (schedPreempt, the IRQ exit hook) a thread whose slice is over goes to the back of its queue,
// unless preemption is off (preemptDisable): sched/clock.ts. Everything that touches the queues runs in
// sections of the kernel lock (arch/klock.ts), interrupts off.
//
// A thread's stack: STACK_BYTES from the range allocator, every page committed when the thread
// is created (a stack must never need a lazy fault: the fault would run on it), with the
// unmapped page below it as its guard (the range allocator never maps the page below a range:
// it is free space or the previous range's own guard). An overflow double-faults onto the
// double-fault task, which names the thread (diag/panic.ts).
import { cli, sti, cpuLoad, cpuStore, thisCpu, switchContext, threadStartAddress, waitForInterrupt, linkerAddress, LinkerSymbol, writeCr3 } from "../arch/x86";
import { klockIrqSave, klockIrqRestore, klockDepth, klockResume, klockEnter, klockLeave } from "../arch/klock";
import { inInterrupt } from "../arch/context";
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
import { eachCpuInit } from "./each-cpu";
import { Thread, ThreadState, ThreadEntry, threadAt, threadStateName } from "./thread";
import { SchedCpu, SCHED_CPU_BYTES, schedCpu, schedCpuOf, enqueue, dequeue, dequeueThread, runQueuePush, allowedOn } from "./runqueue";
import { CPU_CURRENT, CPU_SCHED, CPU_INDEX, CPU_CR3, CPU_TLB_ONLINE, CPU_APIC_ID, cpuRecords, cpuAt, cpuState, cpuStateName } from "../arch/percpu";

/** Each thread's stack. */
export const STACK_BYTES: u32 = 16 << 10;
const PAGE: u32 = 4096;
/** A running thread's time slice, in PIT ticks. */
const SLICE_TICKS: u32 = 2;

let bootThread: Thread = changetype<Thread>(0);
const bootSched = changetype<SchedCpu>(memory.data(SCHED_CPU_BYTES, 8));
// every live thread, linked through allNext: its first record, in a word gdb can find (askern-threads)
const allThreadsCell = memory.data(4, 4);
let nextId: u32 = 1;
let bootFrames: u32 = 0;

/** Frames schedInit took: the idle thread's stack and any page table it needed. */
export function schedBootFrames(): u32 { return bootFrames; }
/** Counts `frames` more as the boot's own threads' (the monitor's thread, made at the end of boot). Boot only. */
export function schedAddBootFrames(frames: u32): void { bootFrames += frames; }

/** The running thread on this CPU (0 before schedInit). Any context. */
@inline export function currentThread(): Thread { return changetype<Thread>(cpuLoad(CPU_CURRENT)); }
@inline function setCurrent(t: Thread): void { cpuStore(CPU_CURRENT, <u32>changetype<usize>(t)); }
/** The running thread's held-lock stack (the lock checker's: sched/lockdep.ts), or 0 before there is one. */
export function currentHeldLocks(): usize { const t = currentThread(); return changetype<usize>(t) == 0 ? 0 : t.held; }
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
  const me = currentThread();
  threadSetSpace(me, space);
  loadDirectory(me.directory);
  klockIrqRestore(flags);
}

/** The address space the running thread runs in (the kernel's for a kernel thread). Any context. */
export function currentSpace(): AddressSpace {
  const me = currentThread();
  return changetype<usize>(me) != 0 && me.space != 0 ? changetype<AddressSpace>(me.space) : kernelAddressSpace();
}

/**
 * Makes the boot flow thread 0 ("main", on the boot stack) and starts the idle thread. Call once,
 * after kmalloc and the VMM, before any other thread function. Boot only.
 */
export function schedInit(): void {
  const freeBefore = pmmFreeFrames();
  schedCpuSetup(bootSched, thisCpu());
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
  main.affinity = 1;   // (the boot flow stays on the bootstrap processor: the PIT's waits, smpStart)
  bootThread = main;
  setCurrent(main);
  panicSetThread("main", main.stackLow, main.stackHigh);
  tssSetKernelStack(main.stackHigh);
  // the idle thread runs only when nothing else can: never on the run queue
  const made = threadSetup(memory.data(offsetof<Thread>(), 8), "idle", idleLoop, 0, false, bootArenaAddress(), memory.data(HELD_BYTES, 4));
  if (made == null) panic("sched: no memory for the idle thread's stack");
  made!.affinity = 1;   // (an idle thread is never queued: this only says where it belongs)
  bootSched.idle = changetype<usize>(made);
  eachCpuInit();
  bootFrames = freeBefore - pmmFreeFrames();
}

/** Loads `directory` into CR3 unless it is there (the CPU's record keeps which: a user shootdown asks the CPUs that hold a space). Interrupts off. */
@inline function loadDirectory(directory: u32): void {
  if (directory != cpuLoad(CPU_CR3)) { cpuStore(CPU_CR3, directory); writeCr3(directory); }
}

function schedCpuSetup(sc: SchedCpu, cpu: usize): void {
  sc.online = 1;
  store<u32>(cpu, kernelAddressSpace().directoryPhys, CPU_CR3);
  sc.sliceLeft = SLICE_TICKS;
  sc.cpu = cpu;
  store<u32>(cpu, <u32>changetype<usize>(sc), CPU_SCHED);
}

/**
 * An application processor's scheduler state, made on the bootstrap processor before it starts
 * (smp/start.ts): its state and the record of its idle thread, which is the AP's own boot flow
 * (schedCpuStart) on `stackLow`..`stackHigh`. False when memory is short. Thread context.
 */
export function schedCpuPrepare(cpu: usize, stackLow: usize, stackHigh: usize): bool {
  const state = kzalloc(SCHED_CPU_BYTES);
  const record = kzalloc(offsetof<Thread>() + HELD_BYTES);
  if (state == 0 || record == 0) { if (state != 0) kfree(state); if (record != 0) kfree(record); return false; }
  const sc = changetype<SchedCpu>(state);
  const index = load<u32>(cpu, CPU_INDEX);
  const t = changetype<Thread>(record);
  t.id = 0;   // (idle threads are not numbered: "idle" and their CPU name them)
  t.name = changetype<usize>("idle");
  t.state = ThreadState.Running;
  t.stackLow = stackLow; t.stackHigh = stackHigh;
  t.arena = bootArenaAddress();   // (never used: an idle thread allocates nothing)
  t.held = record + offsetof<Thread>();
  t.directory = kernelAddressSpace().directoryPhys;
  t.cpu = index;
  t.affinity = 1 << index;
  sc.idle = record;
  sc.sliceLeft = SLICE_TICKS;
  sc.cpu = cpu;
  const flags = klockIrqSave();
  t.allNext = load<usize>(allThreadsCell);
  store<usize>(allThreadsCell, record);
  klockIrqRestore(flags);
  store<u32>(cpu, <u32>changetype<usize>(sc), CPU_SCHED);   // (not online yet: nothing is queued there)
  return true;
}

/**
 * On an application processor, interrupts off, its GDT and local APIC up: it becomes its idle
 * thread and takes part in scheduling from now on. Never returns.
 */
export function schedCpuStart(): void {
  const sc = schedCpu();
  const me = changetype<Thread>(sc.idle);
  setCurrent(me);
  panicSetThread("idle", me.stackLow, me.stackHigh);
  arenaSwitch(me.arena);
  klockEnter();
  writeCr3(cpuLoad(CPU_CR3));      // (whatever it cached while parked goes: from here on it takes shootdowns)
  cpuStore(CPU_TLB_ONLINE, 1);
  sc.online = 1;                   // (and enqueue may choose it)
  klockLeave();
  idleLoop(0);
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

/**
 * Lets `t` run only on the CPUs whose bits are set in `mask` (bit i: CPU index i; 0 or every
 * CPU: anywhere). A queued thread moves to an allowed CPU at once; a running one at its next
 * preemption or sleep. False, changing nothing, when `mask` names no CPU that runs. Any context.
 */
export function threadSetAffinity(t: Thread, mask: u32): bool {
  const flags = klockIrqSave();
  let any = mask == 0;
  for (let i: u32 = 0; i < cpuRecords() && !any; i++) if ((mask & (1 << i)) != 0 && changetype<usize>(schedCpuOf(cpuAt(i))) != 0) any = true;
  if (any) {
    t.affinity = mask;
    if (t.state == ThreadState.Ready && dequeueThread(t)) enqueue(t);
    else if (t.state == ThreadState.Running && !allowedOn(t, t.cpu)) schedCpuOf(cpuAt(t.cpu)).needResched = 1;
  }
  klockIrqRestore(flags);
  return any;
}

/** Lets a thread from threadCreateStopped run (to the back of the run queue). Any context. */
export function threadRelease(t: Thread): void {
  const flags = klockIrqSave();
  enqueue(t);
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
  if (ready) enqueue(t);
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
  const me = currentThread();
  changetype<ThreadEntry>(me.entry)(me.arg);
  threadExit();
}

/**
 * Gives the CPU to the next ready thread (the idle thread if none). The running thread must
 * already be queued (yield), blocked or sleeping. Interrupts off; returns when this thread
 * runs again.
 */
export function schedule(): void {
  const sc = schedCpu();
  const prev = currentThread();
  const head = dequeue(sc);
  const next = head != 0 ? threadAt(head) : changetype<Thread>(sc.idle);
  sc.sliceLeft = SLICE_TICKS;
  sc.needResched = 0;
  if (next === prev) { prev.state = ThreadState.Running; return; }
  if (prev.state == ThreadState.Running) prev.state = ThreadState.Ready;   // (the idle thread, preempted)
  next.state = ThreadState.Running;
  next.cpu = cpuLoad(CPU_INDEX);
  sc.switches++;
  setCurrent(next);
  panicSetThread(changetype<string>(next.name), next.stackLow, next.stackHigh);
  tssSetKernelStack(next.stackHigh);   // (the ring-0 stack for interrupts from ring 3)
  arenaSwitch(next.arena);
  loadDirectory(next.directory);
  prev.klockDepth = klockDepth();   // (the kernel lock stays held across the switch: both have sections open)
  switchContext(changetype<usize>(prev), next.savedSp);
  klockResume(prev.klockDepth);     // (prev is the thread running again here)
}

/** To the back of the run queue, and the next ready thread runs. Thread context. */
export function threadYield(): void {
  if (!mightSleep("threadYield")) return;
  const flags = klockIrqSave();
  requeueCurrent();
  schedule();
  klockIrqRestore(flags);
}

/** The running thread (unless it is its CPU's idle thread) to the back of its CPU's queue. Kernel-lock section. */
export function requeueCurrent(): void {
  const sc = schedCpu(), me = currentThread();
  if (changetype<usize>(me) == sc.idle) return;
  me.state = ThreadState.Ready;
  if (allowedOn(me, cpuLoad(CPU_INDEX))) runQueuePush(sc, me); else enqueue(me);
}

/** Makes blocked or sleeping `t` ready (to the back of the run queue). Interrupts off; any context. */
export function threadWake(t: Thread): void {
  t.state = ThreadState.Ready;
  enqueue(t);
  if (inInterrupt()) schedCpu().needResched = 1;   // (a post from a handler: the woken thread runs at the IRQ's exit)
}

/** Blocks the running thread (it must be in some wait queue first). Interrupts off, thread context. */
export function threadBlock(): void {
  currentThread().state = ThreadState.Blocked;
  schedule();
}

/** threadExit, leaving `code` for whoever joins it (threadJoinCode). Thread context; never returns. */
export function threadExitWith(code: i32): void {
  currentThread().exitCode = code;
  threadExit();
}

/**
 * Ends the running thread: its joiner wakes, and the scheduler never runs it again. Its stack
 * and record go when it is joined. Thread context; never returns.
 */
export function threadExit(): void {
  klockIrqSave();
  const me = currentThread();
  if (me === bootThread || changetype<usize>(me) == schedCpu().idle) panic("threadExit: the boot thread and the idle thread cannot exit");
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
  const me = currentThread();
  if (t === me || (t.joiner != 0 && t.joiner != changetype<usize>(me))) {
    klockIrqRestore(flags);
    if (logBegin(LogLevel.Error, "sched")) { puts("threadJoin('"); puts(changetype<string>(t.name)); puts("'): the running thread itself, or joined by another; refused\n"); }
    return false;
  }
  while (t.state != ThreadState.Dead) {
    t.joiner = changetype<usize>(me);
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

