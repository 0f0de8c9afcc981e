// A bump allocator with marks: the core of the transient arena (arena.ts). Hardware-independent:
// it only moves a pointer through [base, limit), memory its caller provides.
//
//   base                       top                                  limit
//   |<- handed out since init ->|<-------------- free -------------->|
//
// An allocation moves `top` up (aligned); a mark is a saved `top`; releasing a mark moves `top`
// back down to it, which frees everything allocated since at once. Marks nest like a stack.
import {
  ReportLevel, reportBegin, reportText, reportAddress, reportDec, reportLast,
} from "./report";

@unmanaged export class BumpArena {
  base: usize;
  limit: usize;
  top: usize;
  peak: usize;     // the highest top a release has found (kept off the allocation path)
  name: usize;     // a string (a literal), for messages
  errors: u32;     // refused allocations and releases
}

/** Makes an arena over [base, base + bytes) at `at` (offsetof<BumpArena>() bytes), named `name` (a literal). */
export function bumpInit(at: usize, base: usize, bytes: u32, name: string): BumpArena {
  const arena = changetype<BumpArena>(at);
  arena.base = base;
  arena.limit = base + bytes;
  arena.top = base;
  arena.peak = base;
  arena.name = changetype<usize>(name);
  arena.errors = 0;
  return arena;
}

/**
 * `size` bytes aligned to `align` (a power of two), or 0 when the arena has no room left (logged
 * out of line; nothing changes). The memory stays until a release of a mark taken before.
 */
@inline export function bumpAlloc(arena: BumpArena, size: u32, align: u32): usize {
  const start = (arena.top + align - 1) & ~(<usize>align - 1);
  const end = start + size;
  if (end > arena.limit || end < start) return bumpRefuse(arena, size, align);
  arena.top = end;
  return start;
}

/** The arena's state now: release it to free everything allocated after this. */
@inline export function bumpMark(arena: BumpArena): usize { return arena.top; }

/**
 * Frees everything allocated since `mark` was taken. A mark that is not one of this arena's live
 * marks (outside it, or above `top`: released already, or from an inner scope) is logged and
 * refused, and nothing changes.
 */
@inline export function bumpRelease(arena: BumpArena, mark: usize): void {
  if (mark - arena.base > arena.top - arena.base) { bumpRefuseRelease(arena, mark); return; }
  if (arena.top > arena.peak) arena.peak = arena.top;
  arena.top = mark;
}

function bumpRefuse(arena: BumpArena, size: u32, align: u32): usize {
  arena.errors++;
  if (reportBegin(ReportLevel.Error, "arena")) {
    reportText(changetype<string>(arena.name)); reportText(": alloc("); reportDec(size); reportText(", "); reportDec(align);
    reportText("): "); reportDec(<u32>(arena.limit - arena.top)); reportLast(" bytes left; returns 0");
  }
  return 0;
}

function bumpRefuseRelease(arena: BumpArena, mark: usize): void {
  arena.errors++;
  if (reportBegin(ReportLevel.Error, "arena")) {
    reportText(changetype<string>(arena.name)); reportText(": release("); reportAddress(<u32>mark); reportText("): not a live mark (top is ");
    reportAddress(<u32>arena.top); reportLast("); nothing released");
  }
}
