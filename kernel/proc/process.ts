// Processes: a program's memory (proc/memory.ts), the threads that run it, an id, a parent, and
// the exit code the parent waits for. docs/processes.md describes their life:
//
//   created ── processStart ──> running ── exit, a fault, a kill ──> zombie ── reaped ──> gone
//   (memory built: exec.ts,      (its threads     (its memory is gone      (waitpid by its parent,
//    or fork's copy)              in ring 3)       at once; the record      processWaitKernel by the
//                                                  and last thread stay)    kernel, or the reaper)
//
// The record, one kzalloc per process:
//
//   +0                      Process      the fields below
//   + PROCESS_BYTES         UserMemory   its memory's control block
//   + ... MUTEX_BYTES       Mutex        its memory lock (faults, memory calls, fork, maps)
//   + ... NAME_BYTES        name         NUL-terminated (the module's name)
//   + ... MEMORY_BLOCK_BYTES             its address space's control block and its region map
//
// A process has one or more threads (at most MAX_THREADS), linked through Thread.sibling. Each
// starts through a ring-3 frame of its own (exec's entry point, fork's copy of the parent's
// system-call frame, thread_create's entry and stack), which resume_user_frame puts at the top of
// its kernel stack: whenever a thread of a process is in the kernel, its ring-3 frame is there.
// Killing a thread marks it and points that frame at user_killed_c, so the thread ends the next
// time it would return to ring 3, having finished what it was doing and holding no lock; a sleep
// or a waitpid ends early for it. A kill, a fault or `exit` in any thread ends the whole process
// (a group exit): the first sets the exit code and kills the others, each leaves, and the last
// to leave gives the memory back and makes the process a zombie. Threads that leave earlier (and
// `thread_exit`) go to the reaper, which frees their stacks and records.
//
// The table of processes, the thread lists and the zombies' hand-over change with interrupts off
// (one CPU).
import { UserFrame, USER_FRAME_BYTES, InterruptFrame } from "../arch/frame";
import { setInterruptHandler } from "../arch/idt";
import { lapicSendFixed } from "../arch/apic";
import { CPU_APIC_ID, cpuAt } from "../arch/percpu";
import { resumeUserFrame } from "../arch/x86";
import { klockIrqSave, klockIrqRestore } from "../arch/klock";
import { processKillFrame } from "./user-frame";
import { kzalloc, kmalloc, kfree } from "../mm/alloc/kmalloc";
import { Thread, ThreadState, ThreadQueue } from "../sched/thread";
import { currentThread, threadCreate, threadCreateStopped, threadRelease, threadSetSpace, threadUseSpace, threadExitWith, threadJoinCode } from "../sched/scheduler";
import { threadWakeSleeper, threadSleep } from "../sched/clock";
import { Mutex, MUTEX_BYTES, mutexInit, mutexLock, mutexUnlock, waitQueueWait, waitQueueWakeOne, Semaphore, SEMAPHORE_BYTES, semaphoreInit, semaphoreDown, semaphoreUp } from "../sched/sync";
import { UserMemory, MEMORY_BLOCK_BYTES, memoryInit, memoryCreate, memoryRelease } from "./memory";
import { pmmFreeFrames } from "../mm/phys/pmm";
import { guardHeldFrames } from "../mm/alloc/guard";
import { puts, putDec, putBytes } from "../console/console";
import { panic } from "../diag/panic";

/** The exit code of a process killed for a fault (a shell's 128 + SIGSEGV). */
export const KILLED_BY_FAULT: i32 = 139;
/** The exit code of a process killed by `kill` or the out-of-memory killer (128 + SIGKILL). */
export const KILLED: i32 = 137;
/** The most processes at once: fork fails with EAGAIN beyond. */
export const MAX_PROCESSES: u32 = 128;
/** The most threads a process has at once: thread_create fails with EAGAIN beyond. */
export const MAX_THREADS: u32 = 16;
/** Bytes of a name, its NUL included. */
export const NAME_BYTES: u32 = 32;

export const enum ProcessState { Created = 0, Running = 1, Zombie = 2 }

@unmanaged export class Process {
  pid: u32;
  state: u32;          // ProcessState
  parent: usize;       // the parent's record, 0: the kernel's (processWaitKernel or the reaper)
  threads: usize;      // its live threads, linked through Thread.sibling
  threadCount: u32;
  lastThread: usize;   // the thread that left last (it made the zombie): joined when it is reaped
  exitCode: i32;
  killed: i32;         // 0, or the exit code a kill or a fault gave it
  exiting: u32;        // 1: one of its threads has ended it; the others are leaving
  detached: u32;       // 1: no one will wait for it: the reaper frees it
  next: usize;         // the next process in the table
  childWaitHead: usize; childWaitTail: usize;   // its thread, waiting in waitpid (a ThreadQueue)
  exitWaitHead: usize; exitWaitTail: usize;     // the kernel thread waiting for it (processWaitKernel)
  args: usize;         // exec.ts's arguments block for its first entry, or 0
  claimed: u32;        // 1: a zombie one of its parent's threads has from waitpid, to free or give back
}
const PROCESS_BYTES: u32 = offsetof<Process>();
const MEMORY_AT: u32 = PROCESS_BYTES;
const LOCK_AT: u32 = MEMORY_AT + offsetof<UserMemory>();
const NAME_AT: u32 = LOCK_AT + ((MUTEX_BYTES + 3) & ~3);
const BLOCK_AT: u32 = NAME_AT + NAME_BYTES;
const RECORD_BYTES: u32 = BLOCK_AT + MEMORY_BLOCK_BYTES;

/** A process's memory, memory lock and name (NUL-terminated bytes). Any context (arithmetic on the record). */
@inline export function processMemory(p: Process): UserMemory { return changetype<UserMemory>(changetype<usize>(p) + MEMORY_AT); }
@inline export function processLock(p: Process): Mutex { return changetype<Mutex>(changetype<usize>(p) + LOCK_AT); }
@inline export function processName(p: Process): usize { return changetype<usize>(p) + NAME_AT; }
/** The memory block of a process (exec.ts swaps a new image's into it). Any context. */
@inline export function processMemoryBlock(p: Process): usize { return changetype<usize>(p) + BLOCK_AT; }
@inline function childWait(p: Process): ThreadQueue { return changetype<ThreadQueue>(changetype<usize>(p) + offsetof<Process>("childWaitHead")); }
@inline function exitWait(p: Process): ThreadQueue { return changetype<ThreadQueue>(changetype<usize>(p) + offsetof<Process>("exitWaitHead")); }

let first: usize = 0;       // the table: every process, newest first
let deadThreads: usize = 0; // threads that left their process before its end, for the reaper to free
let deadPending: u32 = 0;   // and how many of them the reaper has not freed yet
let count: u32 = 0;
let nextPid: u32 = 1;
const reaperWake = memory.data(SEMAPHORE_BYTES, 4);

/** The running thread's process, or null for a kernel thread. Any context. */
export function currentProcess(): Process | null {
  const p = currentThread().process;
  return p != 0 ? changetype<Process>(p) : null;
}

/** Processes now (zombies included; a record counts until it is freed). Any context. */
export function processCount(): u32 { return count; }
/** Threads that left their processes early and that the reaper has not freed yet. Any context. */
export function processDeadThreads(): u32 { return deadPending; }
/** The first process of the table (0: none) and the one after `p`, for listings. Thread context (a listing may see a process go). */
export function processFirst(): usize { return first; }
export function processNext(p: Process): usize { return p.next; }

/** The record of process `pid` (0: none). The kernel lock held. */
function lookup(pid: u32): usize {
  for (let at = first; at != 0; at = changetype<Process>(at).next) if (changetype<Process>(at).pid == pid) return at;
  return 0;
}

/**
 * The process with id `pid`, or null: the table is walked under the kernel lock, since another
 * thread may free a process meanwhile. The record stays valid only while nothing can free it
 * (a child the caller's waitpid claimed), so other callers read it at once. Thread context.
 */
export function processFind(pid: u32): Process | null {
  const flags = klockIrqSave();
  const found = lookup(pid);
  klockIrqRestore(flags);
  return found != 0 ? changetype<Process>(found) : null;
}

/** Whether process `pid` has ended: gone, or a zombie. Thread context. */
export function processEnded(pid: u32): bool {
  const flags = klockIrqSave();
  const found = lookup(pid);
  const ended = found == 0 || changetype<Process>(found).state == ProcessState.Zombie;
  klockIrqRestore(flags);
  return ended;
}

/** Sets `p`'s name from `length` bytes at `name` (cut to fit). Thread context. */
export function processSetName(p: Process, name: usize, length: u32): void {
  const n = min<u32>(length, NAME_BYTES - 1);
  memory.copy(processName(p), name, n);
  store<u8>(processName(p) + n, 0);
}

/** Bytes of `p`'s name. Any context. */
export function processNameLength(p: Process): u32 {
  let n: u32 = 0;
  while (load<u8>(processName(p) + n) != 0) n++;
  return n;
}

/**
 * A new process named by the `length` bytes at `name`, child of `parent` (null: the kernel's),
 * with an empty memory and no thread yet; null when the table is full or memory is short.
 * Thread context.
 */
export function processCreate(name: usize, length: u32, parent: Process | null): Process | null {
  if (count >= MAX_PROCESSES) return null;
  const record = kzalloc(RECORD_BYTES);
  if (record == 0) return null;
  const p = changetype<Process>(record);
  mutexInit(changetype<usize>(processLock(p)), "process memory");
  if (!memoryCreate(processMemory(p), processMemoryBlock(p), changetype<usize>(processLock(p)))) { kfree(record); return null; }
  processSetName(p, name, length);
  p.parent = parent != null ? changetype<usize>(parent) : 0;
  const flags = klockIrqSave();
  p.pid = nextPid++;
  p.next = first;
  first = record;
  count++;
  klockIrqRestore(flags);
  return p;
}

/** Takes `p` out of the table and frees its record (its thread, if any, is gone). */
function processFree(p: Process): void {
  const flags = klockIrqSave();
  if (first == changetype<usize>(p)) first = p.next;
  else for (let at = first; at != 0; at = changetype<Process>(at).next) {
    if (changetype<Process>(at).next == changetype<usize>(p)) { changetype<Process>(at).next = p.next; break; }
  }
  klockIrqRestore(flags);
  if (p.args != 0) kfree(p.args);
  kfree(changetype<usize>(p));
  const again = klockIrqSave();
  count--;   // (once its memory is back: a count of 0 means every record is freed)
  klockIrqRestore(again);
}

/** Undoes processCreate for a process that never started: its memory and its record go. Thread context. */
export function processDiscard(p: Process): void {
  mutexLock(processLock(p));
  memoryRelease(processMemory(p));
  mutexUnlock(processLock(p));
  processFree(p);
}

/** Set by exec.ts: writes a new process's arguments onto its stack and sets its first frame's stack pointer (`p`'s first thread, its space loaded). */
export type FirstEntry = (p: Process, frame: UserFrame) => void;
let firstEntry: usize = 0;
/** Installs exec.ts's hook. Once, at boot. */
export function processSetFirstEntry(hook: FirstEntry): void { firstEntry = changetype<usize>(hook); }

/** Where a process's thread begins, in its space: `frame` is its first ring-3 frame (its own, kmalloc'd). */
function processThreadMain(frame: usize): void {
  const t = currentThread();
  const p = changetype<Process>(t.process);
  if (p.args != 0 && firstEntry != 0) changetype<FirstEntry>(firstEntry)(p, changetype<UserFrame>(frame));
  if (t.killed != 0) { kfree(frame); userKilled(); }   // (killed before it ever ran, or no stack page for its arguments)
  t.ringThree = 1;
  resumeUserFrame(frame, t.stackHigh);
}

/**
 * A new thread of `p` that enters ring 3 through `frame` (a kmalloc'd UserFrame it now owns):
 * the thread, or null (the caller keeps `frame`) when no thread could be made or `p` has
 * MAX_THREADS. Thread context.
 */
export function processAddThread(p: Process, frame: usize): Thread | null {
  if (p.threadCount >= MAX_THREADS || p.exiting != 0) return null;
  // stopped until it knows its process and space: a preemption here must not run it without them
  const t = threadCreateStopped("user", processThreadMain, frame);
  if (t == null) return null;
  t.process = changetype<usize>(p);
  threadSetSpace(t, processMemory(p).space);   // (its CR3 is this space from its first run)
  const flags = klockIrqSave();
  t.sibling = p.threads;
  p.threads = changetype<usize>(t);
  p.threadCount++;
  p.state = ProcessState.Running;
  klockIrqRestore(flags);
  threadRelease(t);
  return t;
}

/**
 * Starts `p` (its memory ready) with its first thread, which enters ring 3 through `frame` (a
 * kmalloc'd UserFrame it now owns). False when no thread could be made: the caller frees `frame`
 * and discards `p`. Thread context.
 */
export function processStart(p: Process, frame: usize): bool { return processAddThread(p, frame) != null; }

/** Marks every thread of `p` but `except` to end (interrupts off): its frame redirected if it has one, woken if it sleeps or waits. */
function killThreads(p: Process, except: usize): void {
  for (let at = p.threads; at != 0; at = changetype<Thread>(at).sibling) {
    const t = changetype<Thread>(at);
    if (at == except || t.killed != 0) continue;
    t.killed = 1;
    if (t === currentThread()) continue;   // (the caller redirects its own frame)
    if (t.state == ThreadState.Running) {
      // on another CPU, perhaps in ring 3, where its frame is not saved: that CPU redirects it
      // (onKillIpi), or its system call does as it returns
      lapicSendFixed(load<u32>(cpuAt(t.cpu), CPU_APIC_ID), VECTOR_KILL);
      continue;
    }
    if (t.ringThree != 0) processKillFrame(changetype<UserFrame>(t.stackHigh - USER_FRAME_BYTES));
    if (!threadWakeSleeper(t) && t.state == ThreadState.Blocked) while (waitQueueWakeOne(childWait(p))) {}
  }
}

/** Takes the running thread out of its process (interrupts off); true if it was the last. */
function unlinkCurrent(p: Process): bool {
  const me = changetype<usize>(currentThread());
  if (p.threads == me) p.threads = currentThread().sibling;
  else for (let at = p.threads; at != 0; at = changetype<Thread>(at).sibling) {
    if (changetype<Thread>(at).sibling == me) { changetype<Thread>(at).sibling = currentThread().sibling; break; }
  }
  currentThread().sibling = 0;
  p.threadCount--;
  return p.threadCount == 0;
}

/** The running thread, out of its process already, ends; the reaper frees it. Never returns. */
function leaveToReaper(code: i32): void {
  const t = currentThread();
  const flags = klockIrqSave();
  t.sibling = deadThreads;
  deadThreads = changetype<usize>(t);
  deadPending++;
  klockIrqRestore(flags);
  semaphoreUp(changetype<Semaphore>(reaperWake));
  threadExitWith(code);
}

/**
 * Ends the running thread's process with `code` (the first exit's code is the process's): every
 * other thread is killed, and the last thread to leave gives the memory back at once (every
 * frame, table and its commit), hands the children to the kernel (the reaper frees them), makes
 * the process a zombie and wakes whoever waits. Thread context, a thread of the process; never
 * returns.
 */
export function processExit(code: i32): void {
  const p = currentProcess();
  if (p == null) panic("processExit: a kernel thread has no process to end");
  const me = p!;
  threadUseSpace(0);   // (the kernel's directory: the last thread out frees this one)
  let flags = klockIrqSave();
  if (me.exiting == 0) {
    me.exiting = 1;
    me.exitCode = code;
    killThreads(me, changetype<usize>(currentThread()));
  }
  const last = unlinkCurrent(me);
  klockIrqRestore(flags);
  if (!last) leaveToReaper(me.exitCode);
  mutexLock(processLock(me));
  memoryRelease(processMemory(me));
  mutexUnlock(processLock(me));
  flags = klockIrqSave();
  me.lastThread = changetype<usize>(currentThread());
  me.state = ProcessState.Zombie;
  let orphans: u32 = 0;
  for (let at = first; at != 0; at = changetype<Process>(at).next) {
    const child = changetype<Process>(at);
    if (child.parent != changetype<usize>(me)) continue;
    child.parent = 0;
    child.detached = 1;
    if (child.state == ProcessState.Zombie) orphans++;
  }
  if (me.parent != 0) while (waitQueueWakeOne(childWait(changetype<Process>(me.parent)))) {}   // (each of its threads in waitpid looks)
  else if (me.detached != 0) orphans++;
  else waitQueueWakeOne(exitWait(me));
  klockIrqRestore(flags);
  for (let i: u32 = 0; i < orphans; i++) semaphoreUp(changetype<Semaphore>(reaperWake));
  threadExitWith(me.exitCode);
}

/**
 * Ends the running thread alone (thread_exit, or an execve in another thread told it to): the
 * process goes on, or ends with `code` if this was its last thread. Thread context; never returns.
 */
export function processThreadExit(code: i32): void {
  const p = currentProcess()!;
  const flags = klockIrqSave();
  if (p.threadCount == 1 || p.exiting != 0) { klockIrqRestore(flags); processExit(code); }
  threadUseSpace(0);
  unlinkCurrent(p);
  klockIrqRestore(flags);
  leaveToReaper(code);
}

/**
 * Ends every thread of the running process but the caller, and waits until they have left:
 * for execve. False if the process is ending meanwhile (the caller ends too). Thread context;
 * sleeps.
 */
export function processEndOtherThreads(): bool {
  const p = currentProcess()!;
  let flags = klockIrqSave();
  killThreads(p, changetype<usize>(currentThread()));
  klockIrqRestore(flags);
  while (p.threadCount > 1 && p.exiting == 0 && currentThread().killed == 0) threadSleep(1);
  return p.exiting == 0 && currentThread().killed == 0;
}

/** Waits until zombie `p`'s last thread is gone, then frees its record; its exit code. Thread context; sleeps. */
function reap(p: Process): i32 {
  const code = p.exitCode;
  if (p.lastThread != 0) threadJoinCode(changetype<Thread>(p.lastThread), 0);
  processFree(p);
  return code;
}

/**
 * Waits for `p` (a process the kernel started, parent null and not detached) to end and frees
 * it; its exit code. Thread context; sleeps.
 */
export function processWaitKernel(p: Process): i32 {
  const flags = klockIrqSave();
  while (p.state != ProcessState.Zombie) waitQueueWait(exitWait(p));
  klockIrqRestore(flags);
  return reap(p);
}

/** Leaves `p` (started by the kernel) to the reaper: no one will wait for it. Thread context. */
export function processDetach(p: Process): void {
  const flags = klockIrqSave();
  p.detached = 1;
  const zombie = p.state == ProcessState.Zombie;
  klockIrqRestore(flags);
  if (zombie) semaphoreUp(changetype<Semaphore>(reaperWake));
}

/** waitpid's answers besides a pid. */
export const WAIT_NO_CHILD: i32 = -10;   // -ECHILD
export const WAIT_INTERRUPTED: i32 = -4; // -EINTR
export const WAIT_NOT_YET: i32 = 0;      // WNOHANG and no child has ended

/** The zombie child of `p` that `pid` (-1: any) names, or 0; `any` set when such a child exists at all. Interrupts off. */
let matched = false;
function zombieChild(p: Process, pid: i32): usize {
  matched = false;
  for (let at = first; at != 0; at = changetype<Process>(at).next) {
    const child = changetype<Process>(at);
    if (child.parent != changetype<usize>(p) || (pid != -1 && <i32>child.pid != pid) || child.claimed != 0) continue;
    matched = true;
    if (child.state == ProcessState.Zombie) return at;
  }
  return 0;
}

/**
 * waitpid for the running process `p`: the pid of a child that has ended (`pid`, or any with
 * -1), claimed for the caller, so that no other thread of `p` takes it too: it stays until
 * processTakeChild frees it or processUnclaimChild gives it back. A child another thread has
 * claimed counts as none. WAIT_NO_CHILD, WAIT_NOT_YET with `noHang`, or WAIT_INTERRUPTED for a
 * killed process. Thread context; sleeps.
 */
export function processWaitChild(p: Process, pid: i32, noHang: bool): i32 {
  const flags = klockIrqSave();
  let result = WAIT_NO_CHILD;
  while (true) {
    const child = zombieChild(p, pid);
    if (child != 0) { changetype<Process>(child).claimed = 1; result = <i32>changetype<Process>(child).pid; break; }
    if (!matched) { result = WAIT_NO_CHILD; break; }
    if (noHang) { result = WAIT_NOT_YET; break; }
    if (currentThread().killed != 0) { result = WAIT_INTERRUPTED; break; }
    waitQueueWait(childWait(p));
  }
  klockIrqRestore(flags);
  return result;
}

/** Gives back `child`, which processWaitChild claimed, for another waitpid (its threads waiting in one look again). Thread context. */
export function processUnclaimChild(parent: Process, child: Process): void {
  const flags = klockIrqSave();
  child.claimed = 0;
  while (waitQueueWakeOne(childWait(parent))) {}
  klockIrqRestore(flags);
}

/** Frees `child`, an ended child processWaitChild answered. Thread context; may sleep briefly (its thread's last switch). */
export function processTakeChild(child: Process): void {
  child.parent = 0;
  reap(child);
}

/**
 * Kills `p` with exit code `code` (KILLED): each of its threads ends the next time it would
 * return to ring 3, at once if it is sleeping or waiting for a child; the first to go ends the
 * process with `code`. False if it has ended already. The running thread's own frame is the
 * caller's to redirect (processKillFrame). Thread context.
 */
export function processKill(p: Process, code: i32): bool {
  const flags = klockIrqSave();
  const alive = p.state != ProcessState.Zombie;
  if (alive) {
    if (p.killed == 0) p.killed = code;
    killThreads(p, 0);
  }
  klockIrqRestore(flags);
  return alive;
}

/**
 * From user_killed_c (boot/runtime.c), and a killed thread's first run: the running thread was
 * told to end. Its process ends (with the kill's or the fault's code) unless only this thread was
 * told to go (an execve in another thread). Thread context, the killed thread; never returns.
 */
export function userKilled(): void {
  const p = currentProcess()!;
  if (p.killed == 0 && p.exiting == 0) processThreadExit(KILLED);
  processExit(p.killed != 0 ? p.killed : KILLED_BY_FAULT);
}

/** The thread that frees the threads that left their processes early, and the processes no one waits for (orphans, detached ones). */
function reaperMain(arg: usize): void {
  while (true) {
    semaphoreDown(changetype<Semaphore>(reaperWake));
    let found: usize = 0;
    const flags = klockIrqSave();
    const thread = deadThreads;
    if (thread != 0) deadThreads = changetype<Thread>(thread).sibling;
    else for (let at = first; at != 0; at = changetype<Process>(at).next) {
      const p = changetype<Process>(at);
      if (p.state == ProcessState.Zombie && p.parent == 0 && p.detached != 0) { found = at; p.detached = 2; break; }
    }
    klockIrqRestore(flags);
    if (thread != 0) {
      threadJoinCode(changetype<Thread>(thread), 0);
      const again = klockIrqSave();
      deadPending--;
      klockIrqRestore(again);
    } else if (found != 0) reap(changetype<Process>(found));
  }
}

let bootFrames: u32 = 0;
/** Frames processes took at boot: the zero page, the frames' reference counts, the reaper thread. */
export function processBootFrames(): u32 { return bootFrames; }

/**
 * Sets up processes: user memory (proc/memory.ts, `strict` commit accounting or overcommit) and
 * the reaper. Once, at boot (thread context).
 */
/** The IPI another CPU sends when it kills the thread running here: if it runs in ring 3, its frame is redirected now. */
const VECTOR_KILL: u32 = 0x33;

/** The kill IPI's handler: takes no lock (the running thread's own frame, on its own CPU). */
function onKillIpi(frame: InterruptFrame): void {
  const t = currentThread();
  if (t.killed != 0 && (frame.cs & 3) == 3) processKillFrame(changetype<UserFrame>(changetype<usize>(frame)));
}

export function processInit(strict: bool): void {
  const before = pmmFreeFrames(), guardBefore = guardHeldFrames();
  setInterruptHandler(VECTOR_KILL, onKillIpi);
  memoryInit(strict);
  semaphoreInit(reaperWake, 0);
  if (threadCreate("reaper", reaperMain, 0) == null) panic("processes: no memory for the reaper thread");
  bootFrames = before - pmmFreeFrames() - (guardHeldFrames() - guardBefore);   // (with kmalloc=guard the reaper's record is the guard allocator's: counted there)
}

/** Prints a process for a log line: `process 5 'name'`. Any context. */
export function putProcess(p: Process): void {
  puts("process "); putDec(p.pid); puts(" '"); putBytes(processName(p), processNameLength(p)); puts("'");
}
