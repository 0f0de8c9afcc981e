// Processes: a program's memory (proc/memory.ts), the thread that runs it, an id, a parent, and
// the exit code the parent waits for. docs/processes.md describes their life:
//
//   created ── processStart ──> running ── exit, a fault, a kill ──> zombie ── reaped ──> gone
//   (memory built: exec.ts,      (its thread      (its memory is gone      (waitpid by its parent,
//    or fork's copy)              in ring 3)       at once; the record      processWaitKernel by the
//                                                  and thread stay)         kernel, or the reaper)
//
// The record, one kzalloc per process:
//
//   +0                      Process      the fields below
//   + PROCESS_BYTES         UserMemory   its memory's control block
//   + ... MUTEX_BYTES       Mutex        its memory lock (faults, memory calls, fork, maps)
//   + ... NAME_BYTES        name         NUL-terminated (the module's name)
//   + ... USER_FRAME_BYTES  UserFrame    where its thread first enters ring 3 (exec's entry point,
//                                        or fork's copy of the parent's system-call frame)
//   + ... MEMORY_BLOCK_BYTES             its address space's control block and its region map
//
// A process has one thread today (the record keeps the thread; a second would need a thread
// list and a group exit). A kill marks the process and points its thread's ring-3 frame (always
// at the top of its kernel stack while it is in the kernel) at user_killed_c, so the thread dies
// the next time it would return to ring 3; a sleep or a waitpid ends early for it.
//
// The table of processes and the zombies' hand-over change with interrupts off (one CPU).
import { UserFrame, USER_FRAME_BYTES } from "../arch/frame";
import { USER_CODE_SELECTOR, USER_DATA_SELECTOR } from "../arch/gdt";
import { resumeUserFrame, saveFlagsAndCli, restoreFlags, userKilledAddress } from "../arch/x86";
import { KERNEL_CODE_SELECTOR, KERNEL_DATA_SELECTOR } from "../arch/gdt";
import { kzalloc, kfree } from "../mm/alloc/kmalloc";
import { Thread, ThreadState, ThreadQueue } from "../sched/thread";
import {
  currentThread, threadCreate, threadSetSpace, threadUseSpace, threadExitWith, threadJoinCode, threadWakeSleeper,
} from "../sched/scheduler";
import { Mutex, MUTEX_BYTES, mutexInit, mutexLock, mutexUnlock, waitQueueWait, waitQueueWakeOne, Semaphore, SEMAPHORE_BYTES, semaphoreInit, semaphoreDown, semaphoreUp } from "../sched/sync";
import { UserMemory, MEMORY_BLOCK_BYTES, memoryInit, memoryCreate, memoryRelease, memoryDirectory } from "./memory";
import { pmmFreeFrames } from "../mm/phys/pmm";
import { guardHeldFrames } from "../mm/alloc/guard";
import { LogLevel, logBegin } from "../console/log";
import { puts, putDec, putBytes, newline } from "../console/console";
import { panic } from "../diag/panic";

/** The exit code of a process killed for a fault (a shell's 128 + SIGSEGV). */
export const KILLED_BY_FAULT: i32 = 139;
/** The exit code of a process killed by `kill` or the out-of-memory killer (128 + SIGKILL). */
export const KILLED: i32 = 137;
/** The most processes at once: fork fails with EAGAIN beyond. */
export const MAX_PROCESSES: u32 = 128;
/** Bytes of a name, its NUL included. */
export const NAME_BYTES: u32 = 32;

export const enum ProcessState { Created = 0, Running = 1, Zombie = 2 }

@unmanaged export class Process {
  pid: u32;
  state: u32;          // ProcessState
  parent: usize;       // the parent's record, 0: the kernel's (processWaitKernel or the reaper)
  thread: usize;       // its thread (a Thread)
  exitCode: i32;
  killed: i32;         // 0, or the exit code a kill gave it
  detached: u32;       // 1: no one will wait for it: the reaper frees it
  started: u32;        // 1: its thread has been to ring 3 (its frame is on its kernel stack)
  next: usize;         // the next process in the table
  childWaitHead: usize; childWaitTail: usize;   // its thread, waiting in waitpid (a ThreadQueue)
  exitWaitHead: usize; exitWaitTail: usize;     // the kernel thread waiting for it (processWaitKernel)
  args: usize;         // exec.ts's arguments block for its first entry, or 0
}
const PROCESS_BYTES: u32 = offsetof<Process>();
const MEMORY_AT: u32 = PROCESS_BYTES;
const LOCK_AT: u32 = MEMORY_AT + offsetof<UserMemory>();
const NAME_AT: u32 = LOCK_AT + ((MUTEX_BYTES + 3) & ~3);
const FRAME_AT: u32 = NAME_AT + NAME_BYTES;
const BLOCK_AT: u32 = FRAME_AT + USER_FRAME_BYTES;
const RECORD_BYTES: u32 = BLOCK_AT + MEMORY_BLOCK_BYTES;

/** A process's memory, memory lock, name (NUL-terminated bytes) and first ring-3 frame. */
@inline export function processMemory(p: Process): UserMemory { return changetype<UserMemory>(changetype<usize>(p) + MEMORY_AT); }
@inline export function processLock(p: Process): Mutex { return changetype<Mutex>(changetype<usize>(p) + LOCK_AT); }
@inline export function processName(p: Process): usize { return changetype<usize>(p) + NAME_AT; }
@inline export function processStartFrame(p: Process): UserFrame { return changetype<UserFrame>(changetype<usize>(p) + FRAME_AT); }
/** The memory block of a process (exec.ts swaps a new image's into it). */
@inline export function processMemoryBlock(p: Process): usize { return changetype<usize>(p) + BLOCK_AT; }
@inline function childWait(p: Process): ThreadQueue { return changetype<ThreadQueue>(changetype<usize>(p) + offsetof<Process>("childWaitHead")); }
@inline function exitWait(p: Process): ThreadQueue { return changetype<ThreadQueue>(changetype<usize>(p) + offsetof<Process>("exitWaitHead")); }

let first: usize = 0;       // the table: every process, newest first
let count: u32 = 0;
let nextPid: u32 = 1;
const reaperWake = memory.data(SEMAPHORE_BYTES, 4);

/** The running thread's process, or null for a kernel thread. Any context. */
export function currentProcess(): Process | null {
  const p = currentThread().process;
  return p != 0 ? changetype<Process>(p) : null;
}

/** Processes now (zombies included). Any context. */
export function processCount(): u32 { return count; }
/** The first process of the table (0: none) and the one after `p`, for listings. Thread context (a listing may see a process go). */
export function processFirst(): usize { return first; }
export function processNext(p: Process): usize { return p.next; }

/** The process with id `pid`, or null. Thread context. */
export function processFind(pid: u32): Process | null {
  for (let at = first; at != 0; at = changetype<Process>(at).next) if (changetype<Process>(at).pid == pid) return changetype<Process>(at);
  return null;
}

/** Sets `p`'s name from `length` bytes at `name` (cut to fit). */
export function processSetName(p: Process, name: usize, length: u32): void {
  const n = min<u32>(length, NAME_BYTES - 1);
  memory.copy(processName(p), name, n);
  store<u8>(processName(p) + n, 0);
}

/** Bytes of `p`'s name. */
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
  if (!memoryCreate(processMemory(p), processMemoryBlock(p))) { kfree(record); return null; }
  mutexInit(changetype<usize>(processLock(p)), "process memory");
  processSetName(p, name, length);
  p.parent = parent != null ? changetype<usize>(parent) : 0;
  const flags = saveFlagsAndCli();
  p.pid = nextPid++;
  p.next = first;
  first = record;
  count++;
  restoreFlags(flags);
  return p;
}

/** Takes `p` out of the table and frees its record (its thread, if any, is gone). */
function processFree(p: Process): void {
  const flags = saveFlagsAndCli();
  if (first == changetype<usize>(p)) first = p.next;
  else for (let at = first; at != 0; at = changetype<Process>(at).next) {
    if (changetype<Process>(at).next == changetype<usize>(p)) { changetype<Process>(at).next = p.next; break; }
  }
  count--;
  restoreFlags(flags);
  if (p.args != 0) kfree(p.args);
  kfree(changetype<usize>(p));
}

/** Undoes processCreate for a process that never started: its memory and its record go. Thread context. */
export function processDiscard(p: Process): void {
  memoryRelease(processMemory(p));
  processFree(p);
}

/**
 * A ring-3 frame in `p`'s start frame that enters at `eip` with the stack at `esp`, every
 * general register 0, interrupts on. Exec's entry; fork copies the parent's frame instead.
 */
export function processSetEntry(p: Process, eip: u32, esp: u32): void {
  const f = processStartFrame(p);
  memory.fill(changetype<usize>(f), 0, USER_FRAME_BYTES);
  f.gs = USER_DATA_SELECTOR; f.fs = USER_DATA_SELECTOR; f.es = USER_DATA_SELECTOR; f.ds = USER_DATA_SELECTOR;
  f.eip = eip; f.cs = USER_CODE_SELECTOR; f.eflags = 0x202;
  f.userEsp = esp; f.userSs = USER_DATA_SELECTOR;
}

/** Set by exec.ts: writes a new process's arguments onto its stack before its first entry (`p`'s thread, its space loaded). */
export type FirstEntry = (p: Process) => void;
let firstEntry: usize = 0;
/** Installs exec.ts's hook. Once, at boot. */
export function processSetFirstEntry(hook: FirstEntry): void { firstEntry = changetype<usize>(hook); }

function processThreadMain(arg: usize): void {
  const p = changetype<Process>(arg);
  if (p.args != 0 && firstEntry != 0) changetype<FirstEntry>(firstEntry)(p);
  if (p.killed != 0) processExit(p.killed);   // (killed before it ever ran, or no stack page for its arguments)
  p.started = 1;
  const t = currentThread();
  resumeUserFrame(changetype<usize>(processStartFrame(p)), t.stackHigh);
}

/**
 * Starts `p` (its memory and start frame ready): a thread of its own runs it in its space. False
 * when no thread could be made (the caller discards `p`). Thread context.
 */
export function processStart(p: Process): bool {
  const t = threadCreate("user", processThreadMain, changetype<usize>(p));
  if (t == null) return false;
  t.process = changetype<usize>(p);
  threadSetSpace(t, processMemory(p).space);   // (before it first runs: its CR3 is this space)
  p.thread = changetype<usize>(t);
  p.state = ProcessState.Running;
  return true;
}

/**
 * Ends the running process with `code`: its memory goes at once (every frame, table and its
 * commit), its children pass to the kernel (the reaper frees them), and whoever waits for it
 * wakes. The record and the thread stay until it is reaped. Thread context, its own thread;
 * never returns.
 */
export function processExit(code: i32): void {
  const p = currentProcess();
  if (p == null) panic("processExit: a kernel thread has no process to end");
  const me = p!;
  threadUseSpace(0);   // (the kernel's directory: its own can go)
  mutexLock(processLock(me));
  memoryRelease(processMemory(me));
  mutexUnlock(processLock(me));
  const flags = saveFlagsAndCli();
  me.exitCode = code;
  me.state = ProcessState.Zombie;
  let orphans: u32 = 0;
  for (let at = first; at != 0; at = changetype<Process>(at).next) {
    const child = changetype<Process>(at);
    if (child.parent != changetype<usize>(me)) continue;
    child.parent = 0;
    child.detached = 1;
    if (child.state == ProcessState.Zombie) orphans++;
  }
  if (me.parent != 0) waitQueueWakeOne(childWait(changetype<Process>(me.parent)));
  else if (me.detached != 0) orphans++;
  else waitQueueWakeOne(exitWait(me));
  restoreFlags(flags);
  for (let i: u32 = 0; i < orphans; i++) semaphoreUp(changetype<Semaphore>(reaperWake));
  threadExitWith(code);
}

/** Waits until zombie `p`'s thread is gone, then frees its record; its exit code. Thread context; sleeps. */
function reap(p: Process): i32 {
  const code = p.exitCode;
  if (p.thread != 0) threadJoinCode(changetype<Thread>(p.thread), 0);
  processFree(p);
  return code;
}

/**
 * Waits for `p` (a process the kernel started, parent null and not detached) to end and frees
 * it; its exit code. Thread context; sleeps.
 */
export function processWaitKernel(p: Process): i32 {
  const flags = saveFlagsAndCli();
  while (p.state != ProcessState.Zombie) waitQueueWait(exitWait(p));
  restoreFlags(flags);
  return reap(p);
}

/** Leaves `p` (started by the kernel) to the reaper: no one will wait for it. Thread context. */
export function processDetach(p: Process): void {
  const flags = saveFlagsAndCli();
  p.detached = 1;
  const zombie = p.state == ProcessState.Zombie;
  restoreFlags(flags);
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
    if (child.parent != changetype<usize>(p) || (pid != -1 && <i32>child.pid != pid)) continue;
    matched = true;
    if (child.state == ProcessState.Zombie) return at;
  }
  return 0;
}

/**
 * waitpid for the running process `p`: the pid of a child that has ended (`pid`, or any with
 * -1), which stays until processTakeChild frees it; WAIT_NO_CHILD, WAIT_NOT_YET with `noHang`,
 * or WAIT_INTERRUPTED for a killed process. Thread context; sleeps.
 */
export function processWaitChild(p: Process, pid: i32, noHang: bool): i32 {
  const flags = saveFlagsAndCli();
  let result = WAIT_NO_CHILD;
  while (true) {
    const child = zombieChild(p, pid);
    if (child != 0) { result = <i32>changetype<Process>(child).pid; break; }
    if (!matched) { result = WAIT_NO_CHILD; break; }
    if (noHang) { result = WAIT_NOT_YET; break; }
    if (p.killed != 0) { result = WAIT_INTERRUPTED; break; }
    waitQueueWait(childWait(p));
  }
  restoreFlags(flags);
  return result;
}

/** Frees `child`, an ended child processWaitChild answered. Thread context; may sleep briefly (its thread's last switch). */
export function processTakeChild(child: Process): void {
  child.parent = 0;
  reap(child);
}

/**
 * Kills `p` with exit code `code` (KILLED): it ends the next time its thread would return to
 * ring 3, at once if it is sleeping or waiting for a child. False if it has ended already. For
 * the running process, the caller's own frame is redirected (processKillFrame). Thread context.
 */
export function processKill(p: Process, code: i32): bool {
  const flags = saveFlagsAndCli();
  if (p.state == ProcessState.Zombie || p.killed != 0) { restoreFlags(flags); return p.state != ProcessState.Zombie; }
  p.killed = code;
  const t = changetype<Thread>(p.thread);
  if (p.thread != 0 && t !== currentThread()) {
    if (p.started != 0) processKillFrame(changetype<UserFrame>(t.stackHigh - USER_FRAME_BYTES));
    if (!threadWakeSleeper(t) && t.state == ThreadState.Blocked) waitQueueWakeOne(childWait(p));
  }
  restoreFlags(flags);
  return true;
}

/** Makes the ring-3 frame `f` return into user_killed_c in ring 0 instead of the program. */
export function processKillFrame(f: UserFrame): void {
  f.eip = userKilledAddress();
  f.cs = KERNEL_CODE_SELECTOR;
  f.eflags = 0x202;
  f.ds = KERNEL_DATA_SELECTOR; f.es = KERNEL_DATA_SELECTOR;
  f.fs = KERNEL_DATA_SELECTOR; f.gs = KERNEL_DATA_SELECTOR;
}

/** From user_killed_c (boot/runtime.c): ends the process a fault or a kill ended. Never returns. */
export function userKilled(): void {
  const p = currentProcess();
  processExit(p != null && p.killed != 0 ? p.killed : KILLED_BY_FAULT);
}

/** The thread that frees the processes no one waits for (orphans, detached ones). */
function reaperMain(arg: usize): void {
  while (true) {
    semaphoreDown(changetype<Semaphore>(reaperWake));
    let found: usize = 0;
    const flags = saveFlagsAndCli();
    for (let at = first; at != 0; at = changetype<Process>(at).next) {
      const p = changetype<Process>(at);
      if (p.state == ProcessState.Zombie && p.parent == 0 && p.detached != 0) { found = at; p.detached = 2; break; }
    }
    restoreFlags(flags);
    if (found != 0) reap(changetype<Process>(found));
  }
}

let bootFrames: u32 = 0;
/** Frames processes took at boot: the zero page, the frames' reference counts, the reaper thread. */
export function processBootFrames(): u32 { return bootFrames; }

/**
 * Sets up processes: user memory (proc/memory.ts, `strict` commit accounting or overcommit) and
 * the reaper. Once, at boot (thread context).
 */
export function processInit(strict: bool): void {
  const before = pmmFreeFrames(), guardBefore = guardHeldFrames();
  memoryInit(strict);
  semaphoreInit(reaperWake, 0);
  if (threadCreate("reaper", reaperMain, 0) == null) panic("processes: no memory for the reaper thread");
  bootFrames = before - pmmFreeFrames() - (guardHeldFrames() - guardBefore);   // (with kmalloc=guard the reaper's record is the guard allocator's: counted there)
}

/** Reports a process's line for logs: `process 5 'name'`. */
export function putProcess(p: Process): void {
  puts("process "); putDec(p.pid); puts(" '"); putBytes(processName(p), processNameLength(p)); puts("'");
}

/** The running process's memory directory (for checks). */
export function processDirectory(p: Process): u32 { return memoryDirectory(processMemory(p)); }
