// System calls: `int 0x80` from ring 3 (a trap gate of privilege 3: arch/idt.ts), handled in the
// calling thread's context on its ring-0 stack, with interrupts on: a call may sleep. Every user
// pointer goes through copy-in/copy-out (proc/copy.ts). docs/processes.md is the reference.
//
// The ABI (i386, as Linux's int 0x80):
//   eax   the call's number          in: Syscall; out: the result, or -errno
//   ebx, ecx, edx                    the first three arguments
//
//   0  exit(code)                 ends the process, every thread of it; never returns
//   1  write(buffer, bytes)       to the console; bytes, or -EFAULT, -EINVAL (more than 4096)
//   2  getpid()                   the process's id
//   3  yield()                    0; the next ready thread runs
//   4  sleep(ms)                  0, or -EINTR when killed meanwhile
//   5  mmap(address, length, prot)  anonymous private memory, lazily committed: its address, or
//                                 -EINVAL (length 0, unaligned, bad prot, kernel half), -EEXIST
//                                 (address given and taken), -ENOMEM (no room, the commit limit)
//   6  munmap(address, length)    0, or -EINVAL; any part of a region (it splits); -ENOMEM when
//                                 a split finds no region entry left
//   7  mprotect(address, length, prot)  0, or -EINVAL, -ENOMEM (a page in no region, the limit)
//   8  brk(address)               the break after the call (unchanged when refused; 0 asks)
//   9  fork()                     the child's pid in the parent, 0 in the child; -EAGAIN (the
//                                 process table is full), -ENOMEM
//  10  waitpid(pid, status, options)  the child's pid (its exit code at `status` if not 0),
//                                 0 with WNOHANG (1) and none ended, -ECHILD, -EFAULT, -EINTR
//  11  execve(name, argv)         no return on success; -EFAULT, -ENOENT, -ENOEXEC, -E2BIG, -ENOMEM
//  12  memstats(out)              0, or -EFAULT: the MemStats below
//  13  thread_create(entry, stackTop)  a new thread of the process at `entry`, its stack at
//                                 `stackTop`, every register 0: its thread id; -EINVAL, -EAGAIN
//                                 (MAX_THREADS), -ENOMEM
//  14  thread_exit(code)          ends the calling thread (the process, if it is the last); never returns
//   other                         -ENOSYS
//
// A process killed while in a call (a kill, the out-of-memory killer) ends when the call returns.
import { processKillFrame, userFrameNew, userFrameCopy } from "./user-frame";
import { InterruptFrame, UserFrame } from "../arch/frame";
import { setSyscallHandler } from "../arch/idt";
import { putBytes } from "../console/console";
import { threadYield, threadUseSpace, currentThread } from "../sched/scheduler";
import { threadSleep } from "../sched/clock";
import { mutexLock, mutexUnlock } from "../sched/sync";
import { kmalloc, kfree } from "../mm/alloc/kmalloc";
import { pmmFreeFrames } from "../mm/phys/pmm";
import {
  Process, currentProcess, processExit, processLock, processMemory, processCreate, processDiscard, processStart,
  processWaitChild, processTakeChild, processUnclaimChild, processFind, processSetName, processName, processNameLength, processCount,
  processMemoryBlock, processAddThread, processThreadExit, processEndOtherThreads, MAX_PROCESSES, MAX_THREADS,
} from "./process";
import {
  UserMemory, MEMORY_BLOCK_BYTES, memoryCreate, memoryRelease,
  memoryFork, memoryRegions, commitLimitPages, commitTotalPages, commitStrict, USER_END,
} from "./memory";
import { memoryMap, memoryUnmap, memoryProtect, memoryBrk } from "./memory-calls";
import { copyFromUser, copyToUser, copyStringFromUser, STRING_FAULT } from "./copy";
import { argsCreate, argsAdd, findProgram, execBuild, execPushArgs, ARGS_MAX } from "./exec";
import { SPACE_BYTES } from "../mm/virt/space";

export const enum Syscall {
  Exit = 0, Write = 1, GetPid = 2, Yield = 3, Sleep = 4, Mmap = 5, Munmap = 6, Mprotect = 7, Brk = 8,
  Fork = 9, Waitpid = 10, Execve = 11, Memstats = 12, ThreadCreate = 13, ThreadExit = 14,
}
export const EINTR: i32 = 4, ENOENT: i32 = 2, E2BIG: i32 = 7, EAGAIN: i32 = 11, ENOMEM: i32 = 12, EFAULT: i32 = 14,
  EINVAL: i32 = 22, ENOSYS: i32 = 38;
const WRITE_MAX: u32 = 4096;
const NAME_MAX: u32 = 31;
const WNOHANG: u32 = 1;

// memstats' answer: ten u32 (user/lib/askern.h struct memstats)
@unmanaged class MemStats {
  residentPages: u32; committedPages: u32; regions: u32; faults: u32; cowCopies: u32; zeroMaps: u32;
  freeFrames: u32; commitLimit: u32; committedTotal: u32; strict: u32;
}

let bytesWritten: u64 = 0;
/** Bytes user programs wrote to the console so far (tests). Any context. */
export function syscallBytesWritten(): u64 { return bytesWritten; }

function onSyscall(frame: InterruptFrame): void {
  const p = currentProcess();
  if (p == null) { frame.eax = <u32>-ENOSYS; return; }
  const me = p;
  const a = frame.ebx, b = frame.ecx, c = frame.edx;
  let result: i32 = -ENOSYS;
  switch (frame.eax) {
    case Syscall.Exit: processExit(<i32>a); break;
    case Syscall.Write: result = sysWrite(a, b); break;
    case Syscall.GetPid: result = <i32>me.pid; break;
    case Syscall.Yield: threadYield(); result = 0; break;
    case Syscall.Sleep: threadSleep(a); result = currentThread().killed != 0 ? -EINTR : 0; break;
    case Syscall.Mmap: result = withMemory(me, Syscall.Mmap, a, b, c); break;
    case Syscall.Munmap: result = withMemory(me, Syscall.Munmap, a, b, c); break;
    case Syscall.Mprotect: result = withMemory(me, Syscall.Mprotect, a, b, c); break;
    case Syscall.Brk: result = withMemory(me, Syscall.Brk, a, b, c); break;
    case Syscall.Fork: result = sysFork(me, frame); break;
    case Syscall.Waitpid: result = sysWaitpid(me, <i32>a, b, c); break;
    case Syscall.Execve: result = sysExecve(me, frame, a, b); break;
    case Syscall.Memstats: result = sysMemstats(me, a); break;
    case Syscall.ThreadCreate: result = sysThreadCreate(me, a, b); break;
    case Syscall.ThreadExit: processThreadExit(<i32>a); break;
  }
  frame.eax = <u32>result;
  if (currentThread().killed != 0) processKillFrame(changetype<UserFrame>(changetype<usize>(frame)));   // (ends as it would return)
}

function sysWrite(buffer: u32, bytes: u32): i32 {
  if (bytes > WRITE_MAX) return -EINVAL;
  const copy = kmalloc(bytes != 0 ? bytes : 1);
  if (copy == 0) return -ENOMEM;
  let result = -EFAULT;
  if (copyFromUser(copy, buffer, bytes)) {
    putBytes(copy, bytes);
    bytesWritten += bytes;
    result = <i32>bytes;
  }
  kfree(copy);
  return result;
}

/** The memory calls, under the process's memory lock. */
@inline function withMemory(p: Process, call: Syscall, a: u32, b: u32, c: u32): i32 {
  const m = processMemory(p);
  mutexLock(processLock(p));
  let result: i32;
  if (call == Syscall.Mmap) result = memoryMap(m, a, b, c);
  else if (call == Syscall.Munmap) result = memoryUnmap(m, a, b);
  else if (call == Syscall.Mprotect) result = memoryProtect(m, a, b, c);
  else result = <i32>memoryBrk(m, a);
  mutexUnlock(processLock(p));
  return result;
}

function sysFork(p: Process, frame: InterruptFrame): i32 {
  if (processCount() >= MAX_PROCESSES) return -EAGAIN;
  const child = processCreate(processName(p), processNameLength(p), p);
  if (child == null) return processCount() >= MAX_PROCESSES ? -EAGAIN : -ENOMEM;
  mutexLock(processLock(p));
  const ok = memoryFork(processMemory(p), processMemory(child));
  mutexUnlock(processLock(p));
  if (!ok) { processDiscard(child); return -ENOMEM; }
  // the child returns from this same call, with 0
  const start = userFrameCopy(changetype<usize>(frame));
  if (start == 0) { processDiscard(child); return -ENOMEM; }
  changetype<UserFrame>(start).eax = 0;
  if (!processStart(child, start)) { kfree(start); processDiscard(child); return -ENOMEM; }
  return <i32>child.pid;
}

/** thread_create(entry, stackTop): a new thread of `p` at `entry` with its stack at `stackTop`; its id. */
function sysThreadCreate(p: Process, entry: u32, stackTop: u32): i32 {
  if (entry >= USER_END || stackTop > USER_END || (stackTop & 3) != 0) return -EINVAL;
  const frame = userFrameNew(entry, stackTop);
  if (frame == 0) return -ENOMEM;
  const t = processAddThread(p, frame);
  if (t == null) { kfree(frame); return p.threadCount >= MAX_THREADS ? -EAGAIN : -ENOMEM; }
  return <i32>t.id;
}
function sysWaitpid(p: Process, pid: i32, status: u32, options: u32): i32 {
  if ((options & ~WNOHANG) != 0 || pid == 0 || pid < -1) return -EINVAL;
  const found = processWaitChild(p, pid, (options & WNOHANG) != 0);
  if (found <= 0) return found;
  const child = processFind(<u32>found)!;   // (claimed: no other thread frees it)
  // the code first: a bad pointer leaves the child for another try
  if (status != 0 && !copyToUser(status, changetype<usize>(child) + offsetof<Process>("exitCode"), 4)) {
    processUnclaimChild(p, child);
    return -EFAULT;
  }
  processTakeChild(child);
  return found;
}

// execve's scratch (kmalloc'd per call: a preempted call must not share it): the name, a
// pointer cell, one argument's text
const SCRATCH_NAME: u32 = 0, SCRATCH_CELL: u32 = 32, SCRATCH_TEXT: u32 = 36, SCRATCH_BYTES: u32 = 36 + 2048;

function sysExecve(p: Process, frame: InterruptFrame, nameAt: u32, argvAt: u32): i32 {
  const scratch = kmalloc(SCRATCH_BYTES);
  if (scratch == 0) return -ENOMEM;
  const result = execve(p, frame, nameAt, argvAt, scratch);
  kfree(scratch);
  return result;
}

function execve(p: Process, frame: InterruptFrame, nameAt: u32, argvAt: u32, scratch: usize): i32 {
  const name = scratch + SCRATCH_NAME;
  const length = copyStringFromUser(name, nameAt, NAME_MAX);
  if (length == STRING_FAULT) return -EFAULT;
  if (length < 0) return -ENOENT;   // (longer than any module's name)
  const args = argsCreate();
  if (args == 0) return -ENOMEM;
  const error = copyArguments(args, argvAt, scratch);
  if (error != 0) { kfree(args); return error; }
  const index = findProgram(name, <u32>length);
  if (index < 0) { kfree(args); return -ENOENT; }
  // the new image is built beside the old one, which stays until nothing can fail
  const block = kmalloc(offsetof<UserMemory>() + MEMORY_BLOCK_BYTES);
  if (block == 0) { kfree(args); return -ENOMEM; }
  const fresh = changetype<UserMemory>(block);
  if (!memoryCreate(fresh, block + offsetof<UserMemory>(), 0)) { kfree(block); kfree(args); return -ENOMEM; }
  const entry = execBuild(fresh, <u32>index);
  if (entry < 0) { memoryRelease(fresh); kfree(block); kfree(args); return <i32>entry; }
  // the point of no return: the other threads end, the old image goes, the new one moves into
  // the process's record
  if (!processEndOtherThreads()) { memoryRelease(fresh); kfree(block); kfree(args); return -EINTR; }
  const m = processMemory(p);
  mutexLock(processLock(p));
  threadUseSpace(fresh.space);
  memoryRelease(m);
  memory.copy(changetype<usize>(m), block, offsetof<UserMemory>());
  memory.copy(processMemoryBlock(p), block + offsetof<UserMemory>(), MEMORY_BLOCK_BYTES);
  m.lock = changetype<usize>(processLock(p));
  m.space = processMemoryBlock(p);
  m.regions = processMemoryBlock(p) + SPACE_BYTES;
  threadUseSpace(m.space);   // (the same directory: only the thread's pointer to its control block moves)
  kfree(block);
  processSetName(p, name, <u32>length);
  const sp = execPushArgs(p, args);
  mutexUnlock(processLock(p));
  kfree(args);
  if (sp == 0) { p.killed = 137; currentThread().killed = 1; return -ENOMEM; }   // (no frame for the stack: it ends on return)
  // return into the new program: its entry, its stack, every register 0
  const f = changetype<UserFrame>(changetype<usize>(frame));
  f.edi = 0; f.esi = 0; f.ebp = 0; f.ebx = 0; f.edx = 0; f.ecx = 0;
  f.eip = <u32>entry;
  f.userEsp = sp;
  return 0;
}

/** Copies the argument vector at `argvAt` (0: none) into `args`: 0, -EFAULT or -E2BIG. */
function copyArguments(args: usize, argvAt: u32, scratch: usize): i32 {
  if (argvAt == 0) return 0;
  const cell = scratch + SCRATCH_CELL, text = scratch + SCRATCH_TEXT;
  for (let i: u32 = 0; ; i++) {
    if (i > ARGS_MAX) return -E2BIG;
    if (!copyFromUser(cell, argvAt + i * 4, 4)) return -EFAULT;
    const at = load<u32>(cell);
    if (at == 0) return 0;
    const length = copyStringFromUser(text, at, 2047);
    if (length == STRING_FAULT) return -EFAULT;
    if (length < 0 || !argsAdd(args, text, <u32>length)) return -E2BIG;
  }
  return 0;
}

function sysMemstats(p: Process, out: u32): i32 {
  const block = kmalloc(offsetof<MemStats>());
  if (block == 0) return -ENOMEM;
  const s = changetype<MemStats>(block);
  const m = processMemory(p);
  s.residentPages = m.resident;
  s.committedPages = m.committed;
  s.regions = memoryRegions(m).count;
  s.faults = m.faults;
  s.cowCopies = m.cowCopies;
  s.zeroMaps = m.zeroMaps;
  s.freeFrames = pmmFreeFrames();
  s.commitLimit = commitLimitPages();
  s.committedTotal = commitTotalPages();
  s.strict = commitStrict() ? 1 : 0;
  const ok = copyToUser(out, block, offsetof<MemStats>());
  kfree(block);
  return ok ? 0 : -EFAULT;
}

/** Installs the system-call handler. Once, at boot. */
export function syscallInit(): void { setSyscallHandler(onSyscall); }
