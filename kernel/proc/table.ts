// The processes' records and their table (docs/processes.md): what a process is made of, where
// its parts lie in its one allocation, and the table every process is in from processCreate to
// processFree. What a process does with them (threads, exit, waitpid, kill, the reaper) is
// process.ts's.
//
// The record, one kzalloc per process:
//
//   +0                      Process      the fields below
//   + PROCESS_BYTES         UserMemory   its memory's control block
//   + ... MUTEX_BYTES       Mutex        its memory lock (faults, memory calls, fork, maps)
//   + ... NAME_BYTES        name         NUL-terminated (the module's name)
//   + ... MEMORY_BLOCK_BYTES             its address space's control block and its region map
//
// The table changes under the kernel lock (klockIrqSave).
import { klockIrqSave, klockIrqRestore } from "../arch/klock";
import { kzalloc, kfree } from "../mm/alloc/kmalloc";
import { ThreadQueue } from "../sched/thread";
import { currentThread } from "../sched/scheduler";
import { Mutex, MUTEX_BYTES, mutexInit, mutexLock, mutexUnlock } from "../sched/sync";
import { UserMemory, MEMORY_BLOCK_BYTES, memoryCreate, memoryRelease } from "./memory";

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
/** Where its parent's threads wait in waitpid, and where the kernel waits for it (processWaitKernel). Interrupts off. */
@inline export function childWait(p: Process): ThreadQueue { return changetype<ThreadQueue>(changetype<usize>(p) + offsetof<Process>("childWaitHead")); }
@inline export function exitWait(p: Process): ThreadQueue { return changetype<ThreadQueue>(changetype<usize>(p) + offsetof<Process>("exitWaitHead")); }

let first: usize = 0;       // the table: every process, newest first
let count: u32 = 0;
let nextPid: u32 = 1;

/** The running thread's process, or null for a kernel thread. Any context. */
export function currentProcess(): Process | null {
  const p = currentThread().process;
  return p != 0 ? changetype<Process>(p) : null;
}

/** Processes now (zombies included; a record counts until it is freed). Any context. */
export function processCount(): u32 { return count; }
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

/** Takes `p` out of the table and frees its record (its thread, if any, is gone). Thread context. */
export function processFree(p: Process): void {
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
