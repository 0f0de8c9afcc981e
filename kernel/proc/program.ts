// Running a few bytes of machine code in ring 3, until processes and ELF loading come (the
// processes issue): an address space of its own (mm/virt/space.ts) gets the code on a user page
// at PROGRAM_CODE and a one-page stack below PROGRAM_STACK_TOP, and a thread of its own runs
// in that space, drops to ring 3 and runs the code until it exits (system call 0) or is killed
// for a fault. The space goes with the program: every frame, table and the directory. The
// self-tests and the benchmarks use it. Thread context.
import { enterUserMode } from "../arch/x86";
import { allocLowFrame, freeFrame } from "../mm/phys/pmm";
import { AddressSpace, map, PAGE_WRITABLE, PAGE_USER, PagingError } from "../mm/virt/paging";
import { SPACE_BYTES, spaceCreate, spaceDestroy } from "../mm/virt/space";
import { linearVirt } from "../mm/layout";
import { kmalloc, kfree } from "../mm/alloc/kmalloc";
import { threadCreate, threadJoinCode, threadSetSpace } from "../sched/scheduler";

/** Where the program's code page is mapped (ring 3 may read, write and run it). */
export const PROGRAM_CODE: u32 = 0x00400000;
/** The top of the program's one-page stack. */
export const PROGRAM_STACK_TOP: u32 = 0x00800000;
/** The most code a program may have. */
export const PROGRAM_MAX_BYTES: u32 = 4096;
/** runProgram's answer when the program could not be started (no memory, too big). */
export const PROGRAM_NOT_RUN: i32 = -1000;
const exitCode = memory.data(4, 4);

/** Maps a fresh low frame at `virt` in `space` for ring 3; its address in the linear map, or 0. */
function mapUserPage(space: AddressSpace, virt: u32): usize {
  const frame = allocLowFrame();
  if (frame == 0) return 0;
  if (map(space, virt, frame, PAGE_WRITABLE | PAGE_USER) != PagingError.Ok) { freeFrame(frame); return 0; }
  return linearVirt(frame);
}

/**
 * Runs the `bytes` bytes of machine code at `code` in ring 3, in an address space and a thread
 * of their own, waits for it and returns its exit code (proc/fault.ts KILLED_BY_FAULT if a fault
 * killed it), or PROGRAM_NOT_RUN. Every frame, table and the thread are given back. Thread context.
 */
export function runProgram(code: usize, bytes: u32): i32 {
  if (bytes > PROGRAM_MAX_BYTES) return PROGRAM_NOT_RUN;
  const block = kmalloc(SPACE_BYTES);
  const space = block != 0 ? spaceCreate(block) : null;
  if (space == null) { if (block != 0) kfree(block); return PROGRAM_NOT_RUN; }
  let result = PROGRAM_NOT_RUN;
  const codePage = mapUserPage(space, PROGRAM_CODE);
  if (codePage != 0 && mapUserPage(space, PROGRAM_STACK_TOP - 4096) != 0) {
    memory.copy(codePage, code, bytes);
    const t = threadCreate("user", (arg: usize): void => { enterUserMode(PROGRAM_CODE, PROGRAM_STACK_TOP); }, 0);
    if (t != null) {
      threadSetSpace(t, changetype<usize>(space));   // (before it first runs: its CR3 is this space)
      if (threadJoinCode(t, exitCode)) result = load<i32>(exitCode);
    }
  }
  spaceDestroy(space);
  kfree(block);
  return result;
}
