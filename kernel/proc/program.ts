// Running a few bytes of machine code in ring 3, until processes and ELF loading come (the
// processes issue): the code goes on a user page at PROGRAM_CODE, its stack on the user page
// below PROGRAM_STACK_TOP, and a thread of its own drops to ring 3 there and runs it until it
// exits (system call 0) or is killed for a fault. The self-tests and the benchmarks use it.
// Thread context; one program at a time.
import { enterUserMode } from "../arch/x86";
import { allocFrame, freeFrame } from "../mm/phys/pmm";
import { kernelMap, kernelUnmap } from "../mm/virt/vmm";
import { PAGE_WRITABLE, PAGE_USER, PagingError } from "../mm/virt/paging";
import { threadCreate, threadJoin, threadYield, threadExitCode, threadIsDead } from "../sched/scheduler";

/** Where the program's code page is mapped (ring 3 may read, write and run it). */
export const PROGRAM_CODE: u32 = 0x00400000;
/** The top of the program's one-page stack. */
export const PROGRAM_STACK_TOP: u32 = 0x00800000;
/** The most code a program may have. */
export const PROGRAM_MAX_BYTES: u32 = 4096;
/** runProgram's answer when the program could not be started (no memory, too big). */
export const PROGRAM_NOT_RUN: i32 = -1000;

let codeFrame: u32 = 0, stackFrame: u32 = 0;
let codeMapped = false, stackMapped = false;

function mapPages(): bool {
  codeFrame = allocFrame(); stackFrame = allocFrame();
  codeMapped = codeFrame != 0 && kernelMap(PROGRAM_CODE, codeFrame, PAGE_WRITABLE | PAGE_USER) == PagingError.Ok;
  stackMapped = stackFrame != 0 && kernelMap(PROGRAM_STACK_TOP - 4096, stackFrame, PAGE_WRITABLE | PAGE_USER) == PagingError.Ok;
  return codeMapped && stackMapped;
}

function unmapPages(): void {
  if (codeMapped) kernelUnmap(PROGRAM_CODE);
  if (stackMapped) kernelUnmap(PROGRAM_STACK_TOP - 4096);
  if (codeFrame != 0) freeFrame(codeFrame);
  if (stackFrame != 0) freeFrame(stackFrame);
  codeFrame = 0; stackFrame = 0; codeMapped = false; stackMapped = false;
}

/**
 * Runs the `bytes` bytes of machine code at `code` in ring 3 in a thread of its own, waits for it
 * and returns its exit code (proc/fault.ts KILLED_BY_FAULT if a fault killed it), or
 * PROGRAM_NOT_RUN. Every frame and the thread are given back; the user page table the first
 * mapping makes stays (the kernel's address space keeps its tables). Thread context.
 */
export function runProgram(code: usize, bytes: u32): i32 {
  if (bytes > PROGRAM_MAX_BYTES || !mapPages()) { unmapPages(); return PROGRAM_NOT_RUN; }
  memory.copy(PROGRAM_CODE, code, bytes);
  const t = threadCreate("user", (arg: usize): void => { enterUserMode(PROGRAM_CODE, PROGRAM_STACK_TOP); }, 0);
  let result = PROGRAM_NOT_RUN;
  if (t != null) {
    while (!threadIsDead(t)) threadYield();
    result = threadExitCode(t);
    threadJoin(t);
  }
  unmapPages();
  return result;
}
