// Processes: a program's memory (proc/memory.ts), the threads that run it, an id, a parent, and
// the exit code the parent waits for. docs/processes.md describes their life:
//
//   created ── processStart ──> running ── exit, a fault, a kill ──> zombie ── reaped ──> gone
//   (memory built: exec.ts,      (its threads     (its memory is gone      (waitpid by its parent,
//    or fork's copy)              in ring 3)       at once; the record      processWaitKernel by the
//                                                  and last thread stay)    kernel, or the reaper)
//
// The record and the table of processes are table.ts's (re-exported here).
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
import { kmalloc, kfree } from "../mm/alloc/kmalloc";
import { Thread, ThreadState } from "../sched/thread";
import { currentThread, threadCreate, threadCreateStopped, threadRelease, threadSetSpace, threadUseSpace, threadExitWith, threadJoinCode } from "../sched/scheduler";
import { threadWakeSleeper, threadSleep } from "../sched/clock";
import { mutexLock, mutexUnlock, waitQueueWait, waitQueueWakeOne, Semaphore, SEMAPHORE_BYTES, semaphoreInit, semaphoreDown, semaphoreUp } from "../sched/sync";
import { memoryInit, memoryRelease } from "./memory";
import { pmmFreeFrames } from "../mm/phys/pmm";
import { guardHeldFrames } from "../mm/alloc/guard";
import { puts, putDec, putBytes } from "../console/console";
import { panic } from "../diag/panic";
import {
  Process, ProcessState, KILLED, KILLED_BY_FAULT, MAX_THREADS, processLock, processMemory, childWait, exitWait,
  currentProcess, processFirst, processFree, processName, processNameLength,
} from "./table";
export {
  Process, ProcessState, KILLED_BY_FAULT, KILLED, MAX_PROCESSES, MAX_THREADS, NAME_BYTES, processMemory, processLock,
  processName, processMemoryBlock, currentProcess, processCount, processFirst, processNext, processFind, processEnded,
  processSetName, processNameLength, processCreate, processDiscard,
} from "./table";

let deadThreads: usize = 0; // threads that left their process before its end, for the reaper to free
let deadPending: u32 = 0;   // and how many of them the reaper has not freed yet
const reaperWake = memory.data(SEMAPHORE_BYTES, 4);

/** Threads that left their processes early and that the reaper has not freed yet. Any context. */
export function processDeadThreads(): u32 { return deadPending; }

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
  for (let at = processFirst(); at != 0; at = changetype<Process>(at).next) {
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
  for (let at = processFirst(); at != 0; at = changetype<Process>(at).next) {
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
    else for (let at = processFirst(); at != 0; at = changetype<Process>(at).next) {
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

/** The IPI another CPU sends when it kills the thread running here: if it runs in ring 3, its frame is redirected now. */
const VECTOR_KILL: u32 = 0x33;

/** The kill IPI's handler: takes no lock (the running thread's own frame, on its own CPU). */
function onKillIpi(frame: InterruptFrame): void {
  const t = currentThread();
  if (t.killed != 0 && (frame.cs & 3) == 3) processKillFrame(changetype<UserFrame>(changetype<usize>(frame)));
}

/**
 * Sets up processes: user memory (proc/memory.ts, `strict` commit accounting or overcommit) and
 * the reaper. Once, at boot (thread context).
 */
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
