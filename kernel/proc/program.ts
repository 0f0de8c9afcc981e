// Running a few bytes of machine code in ring 3 as a process of its own, for self-tests and
// benchmarks that need exact instructions rather than a compiled program: the code becomes a
// region at PROGRAM_CODE (read, write, run) whose page is loaded from the caller's bytes on first
// touch, with the usual stack below STACK_TOP; it runs until it exits (system call 0) or is
// killed, and everything it held goes back. Thread context.
import { RegionKind, RegionError, REGION_READ, REGION_WRITE, REGION_EXEC } from "../mm/core/regions";
import { memoryAddRegion, STACK_TOP, STACK_BOTTOM, STACK_GUARD } from "./memory";
import { processCreate, processDiscard, processStart, processWaitKernel, processMemory } from "./process";
import { userFrameNew } from "./user-frame";
import { kfree } from "../mm/alloc/kmalloc";

/** Where the program's code page is mapped (ring 3 may read, write and run it). */
export const PROGRAM_CODE: u32 = 0x00400000;
/** The most code a program may have. */
export const PROGRAM_MAX_BYTES: u32 = 4096;
const PROGRAM_NAME = memory.data<u8>([0x70, 0x72, 0x6F, 0x67, 0x72, 0x61, 0x6D]);   // "program"

/** runProgram's answer when the program could not be started (no memory, too big). */
export const PROGRAM_NOT_RUN: i32 = -1000;

/**
 * Runs the `bytes` bytes of machine code at `code` (kernel memory that outlives the program) in
 * ring 3, as a process named "program", waits for it and returns its exit code (proc/process.ts
 * KILLED_BY_FAULT if a fault killed it), or PROGRAM_NOT_RUN. Thread context; sleeps.
 */
export function runProgram(code: usize, bytes: u32): i32 {
  if (bytes > PROGRAM_MAX_BYTES) return PROGRAM_NOT_RUN;
  const p = processCreate(PROGRAM_NAME, 7, null);
  if (p == null) return PROGRAM_NOT_RUN;
  const m = processMemory(p);
  const ok = memoryAddRegion(m, PROGRAM_CODE, PROGRAM_CODE + 4096, REGION_READ | REGION_WRITE | REGION_EXEC, RegionKind.Code, <u32>code, bytes) == <u32>RegionError.Ok
    && memoryAddRegion(m, STACK_GUARD, STACK_BOTTOM, 0, RegionKind.Guard, 0, 0) == <u32>RegionError.Ok
    && memoryAddRegion(m, STACK_BOTTOM, STACK_TOP, REGION_READ | REGION_WRITE, RegionKind.Stack, 0, 0) == <u32>RegionError.Ok;
  if (!ok) { processDiscard(p); return PROGRAM_NOT_RUN; }
  const frame = userFrameNew(PROGRAM_CODE, STACK_TOP);
  if (frame == 0) { processDiscard(p); return PROGRAM_NOT_RUN; }
  if (!processStart(p, frame)) { kfree(frame); processDiscard(p); return PROGRAM_NOT_RUN; }
  return processWaitKernel(p);
}
