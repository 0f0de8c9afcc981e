// System calls: `int 0x80` from ring 3 (a trap gate of privilege 3: arch/idt.ts), handled in the
// calling thread's context on its ring-0 stack, with interrupts on. This is the first part of the
// processes issue: ring 3, the gate and its ABI, and user pointers checked; processes, address
// spaces and the rest of the calls come next (docs/processes.md).
//
// The ABI (i386, as Linux's int 0x80):
//   eax   the call's number          in: SYS_*; out: the result, or -errno
//   ebx, ecx, edx                    the first three arguments
//
//   0  exit(code)            ends the calling thread with `code`; never returns
//   1  write(buffer, bytes)  writes to the console; returns `bytes`, or -EFAULT for a buffer that
//                            is not user memory mapped for reading, -EINVAL for more than 4096 bytes
//   2  getpid()              the calling thread's id (processes come later)
//   other                    -ENOSYS
import { InterruptFrame } from "../arch/frame";
import { setSyscallHandler } from "../arch/idt";
import { putBytes } from "../console/console";
import { currentThread, threadExitWith } from "../sched/scheduler";
import { userRangeReadable } from "./user";

export const enum Syscall { Exit = 0, Write = 1, GetPid = 2 }
export const EFAULT: i32 = 14, EINVAL: i32 = 22, ENOSYS: i32 = 38;
const WRITE_MAX: u32 = 4096;

let bytesWritten: u64 = 0;
/** Bytes user programs wrote to the console so far (tests). Any context. */
export function syscallBytesWritten(): u64 { return bytesWritten; }

function onSyscall(frame: InterruptFrame): void {
  const number = frame.eax;
  let result: i32 = -ENOSYS;
  if (number == Syscall.Exit) threadExitWith(<i32>frame.ebx);
  else if (number == Syscall.Write) result = sysWrite(frame.ebx, frame.ecx);
  else if (number == Syscall.GetPid) result = <i32>currentThread().id;
  frame.eax = <u32>result;
}

function sysWrite(buffer: u32, bytes: u32): i32 {
  if (bytes > WRITE_MAX) return -EINVAL;
  if (!userRangeReadable(buffer, bytes)) return -EFAULT;
  putBytes(buffer, bytes);
  bytesWritten += bytes;
  return <i32>bytes;
}

/** Installs the system-call handler. Once, at boot. */
export function syscallInit(): void { setSyscallHandler(onSyscall); }
