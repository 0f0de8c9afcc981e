// Runs of contiguous frames in the frame allocator (frames.ts): allocFramesFrom finds a run of a
// given length and alignment below a physical limit, claimFramesFrom takes a given run,
// freeFramesTo gives one back. Bits are set and cleared a word at a time, and the summary trees
// follow each word that changes.
import {
  ReportLevel, reportBegin, reportText, reportAddress, reportDec, reportLast,
} from "./report";
import { summarySet, summaryClear, summaryFindFrom, summaryFirst, SUMMARY_NONE } from "./summary";
import { alignUp, bitsFrom, bitsBelow } from "../../lib/bits";
import {
  FRAMES_PER_WORD, FRAME_SHIFT, FRAME_SIZE, FULL, FrameAllocator, FrameError, countFree,
  flushPending, lowerHint, reportError, reservedWord, runBitsInWord, usedWord, usedWordAddress,
  floorAllowsRun as runAllowed,
} from "./frames";

/** The last used frame in [first, end), or FULL if they are all free. */
function lastUsedIn(pmm: FrameAllocator, first: u32, end: u32): u32 {
  let f = end;   // exclusive
  while (f > first) {
    const w = (f - 1) >> 5;
    let bits = usedWord(pmm, w) & bitsBelow(f - (w << 5));
    if ((first >> 5) == w) bits &= bitsFrom(first & 31);
    if (bits != 0) return (w << 5) | (31 - clz(bits));
    f = w << 5;
  }
  return FULL;
}

/** The first free frame at or after `frame`, or FULL. Uses the has-free tree to skip full words. */
function firstFreeFrom(pmm: FrameAllocator, frame: u32): u32 {
  if (frame >= pmm.frameCount) return FULL;
  const w = frame >> 5;
  const here = ~usedWord(pmm, w) & bitsFrom(frame & 31);
  if (here != 0) return (w << 5) | ctz(here);
  const next = summaryFindFrom(pmm.hasFree, w + 1);
  if (next == SUMMARY_NONE) return FULL;
  return (next << 5) | ctz(~usedWord(pmm, next));
}

/**
 * `count` physically contiguous free frames, the first aligned to `alignFrames` frames (0 or 1:
 * no alignment; otherwise a power of two), all of them below `maxPhysAddr` (exclusive; pass
 * ISA_DMA_LIMIT for ISA DMA, PHYS_LIMIT for anywhere). Returns the first frame's physical
 * address, or 0 when no such run exists (out of memory: not logged). A count of 0, a count
 * beyond all managed memory or a bad alignment returns 0 and is logged.
 *
 * Search: first the runs that start at a word of 32 wholly free frames (through the all-free
 * tree, so however fragmented the partly used words are, this costs a few summary lookups),
 * lowest first; only if there is none, first fit over every free frame from the bottom,
 * skipping full words through the has-free tree. A run that would take low memory below the
 * floor (frames.ts) is passed over for one above low memory. Frees with freeFramesTo (or frame
 * by frame).
 */
export function allocFramesFrom(pmm: FrameAllocator, count: u32, alignFrames: u32, maxPhysAddr: u64): u32 {
  if (count == FRAMES_PER_WORD && (alignFrames == FRAMES_PER_WORD || alignFrames <= 1)) {
    // One whole word (a heap span): the lowest all-free word, which is what the search below
    // finds first, at a fraction of its cost. Only the pending word's tree bit can be stale.
    let w = summaryFirst(pmm.allFree);
    if (w == pmm.pending) { flushPending(pmm); w = summaryFirst(pmm.allFree); }
    if (w != SUMMARY_NONE && <u64>(w + 1) << (5 + FRAME_SHIFT) <= maxPhysAddr && runAllowed(pmm, w << 5, FRAMES_PER_WORD)) {
      setWordBits(pmm, w, FULL, FRAMES_PER_WORD, true);
      return w << (5 + FRAME_SHIFT);
    }
  }
  const align: u32 = alignFrames == 0 ? 1 : alignFrames;
  if (count == 0 || count > pmm.frameCount || (align & (align - 1)) != 0 || align > pmm.frameCount) {
    if (reportBegin(ReportLevel.Error, "pmm")) {
      reportText("allocFrames("); reportDec(count); reportText(", "); reportDec(alignFrames); reportText(", "); reportAddress(maxPhysAddr);
      reportText("): impossible request ("); reportDec(pmm.frameCount); reportLast(" frames managed, alignment must be a power of two)");
    }
    return 0;
  }
  const limitFrame = <u32>min<u64>(maxPhysAddr >> FRAME_SHIFT, <u64>pmm.frameCount);
  flushPending(pmm);
  if (count > limitFrame) return 0;
  const last = limitFrame - count;   // the highest start that fits below the limit
  // Whole free words first.
  let w = summaryFindFrom(pmm.allFree, 0);
  while (w != SUMMARY_NONE) {
    const start = alignUp(w << 5, align);
    if (start > last) break;
    const used = lastUsedIn(pmm, start, start + count);
    if (used == FULL) {
      if (runAllowed(pmm, start, count)) { setRun(pmm, start, count, true); return start << FRAME_SHIFT; }
      w = summaryFindFrom(pmm.allFree, pmm.lowLimitWord);   // (only high memory is left to try)
      continue;
    }
    w = summaryFindFrom(pmm.allFree, (used >> 5) + 1);
  }
  // Then every free frame, lowest first.
  let free = firstFreeFrom(pmm, 0);
  while (free != FULL) {
    const start = alignUp(free, align);
    if (start > last || start < free) return 0;
    const used = lastUsedIn(pmm, start, start + count);
    if (used == FULL) {
      if (runAllowed(pmm, start, count)) { setRun(pmm, start, count, true); return start << FRAME_SHIFT; }
      if (start >= pmm.lowLimitFrame) return 0;
      free = firstFreeFrom(pmm, pmm.lowLimitFrame);
      continue;
    }
    free = firstFreeFrom(pmm, used + 1);
  }
  return 0;
}

/**
 * Takes the `count` frames from `phys` if every one of them is free (all or nothing): true if it
 * did. For growing a run in place (a heap's large block). A request that is unaligned, empty or
 * past the managed frames is simply refused (false): the caller then moves instead.
 */
export function claimFramesFrom(pmm: FrameAllocator, phys: u32, count: u32): bool {
  const first = phys >> FRAME_SHIFT;
  if (count == 0 || (phys & (FRAME_SIZE - 1)) != 0 || <u64>first + count > <u64>pmm.frameCount) return false;
  if (lastUsedIn(pmm, first, first + count) != FULL || !runAllowed(pmm, first, count)) return false;
  // As in allocFramesFrom: the pending word's tree bits must be exact before setRun may clear
  // them, or a later free in that word would not announce its frame (it trusts them stale-set).
  flushPending(pmm);
  setRun(pmm, first, count, true);
  return true;
}

/**
 * Marks [start, start+count) used (inUse) or free, keeping the trees, hints and counts right.
 * Freeing needs no flush of the pending word first (setting its bits again is harmless); marking
 * used does: clearing the pending word's has-free bit when it fills would leave it clear when a
 * later freeFrameTo, trusting a pending word's bits to be still set, frees a frame there.
 */
function setRun(pmm: FrameAllocator, start: u32, count: u32, inUse: bool): void {
  const end = start + count;
  let f = start;
  while (f < end) {
    const w = f >> 5;
    const stop = min<u32>(end, (w + 1) << 5);   // this word covers frames [f, stop)
    setWordBits(pmm, w, runBitsInWord(f, end), stop - f, inUse);
    f = (w + 1) << 5;
  }
}

/**
 * Marks the `n` frames of `mask` in word `w` used (inUse) or free, with the trees, the hint and
 * the zone's count. setRun's step, and the whole-word fast paths (mask FULL) on their own.
 */
@inline function setWordBits(pmm: FrameAllocator, w: u32, mask: u32, n: u32, inUse: bool): void {
  const at = usedWordAddress(pmm, w);
  const old = load<u32>(at);
  const now = inUse ? old | mask : old & ~mask;
  store<u32>(at, now);
  const low = w < pmm.lowLimitWord;
  if (inUse) {
    if (old == 0) summaryClear(pmm.allFree, w);
    if (now == FULL) summaryClear(pmm.hasFree, w);
    countFree(pmm, low, -<i32>n);
  } else {
    if (old == FULL) { summarySet(pmm.hasFree, w); lowerHint(pmm, w, low); }
    if (now == 0) summarySet(pmm.allFree, w);
    countFree(pmm, low, <i32>n);
  }
}

/**
 * Frees `count` frames from `phys`. Checks the whole run first: if any frame is unaligned,
 * outside managed memory, reserved or already free, logs the first such frame and changes
 * nothing. Returns FrameError.Ok or that error.
 */
export function freeFramesTo(pmm: FrameAllocator, phys: u32, count: u32): FrameError {
  // One whole word, entirely used and not reserved (a heap span): free it without the run loop.
  const first = phys >> FRAME_SHIFT;
  if (count == FRAMES_PER_WORD && (phys & (FRAMES_PER_WORD * FRAME_SIZE - 1)) == 0 && first < pmm.frameCount) {
    const w = first >> 5, at = usedWordAddress(pmm, w);
    if (load<u32>(at) == FULL && load<u32>(at, 4) == 0) {
      setWordBits(pmm, w, FULL, FRAMES_PER_WORD, false);
      return FrameError.Ok;
    }
  }
  let error = FrameError.Ok;
  let at: u64 = phys;
  if (count == 0) error = FrameError.BadRequest;
  else if ((phys & (FRAME_SIZE - 1)) != 0) error = FrameError.Unaligned;
  else if (<u64>first + count > <u64>pmm.frameCount) {
    error = FrameError.OutOfRange;
    at = max<u64>(phys, <u64>pmm.frameCount << FRAME_SHIFT);
  } else {
    // A word at a time: the run's frames in word w must all be used and none reserved.
    const end = first + count;
    for (let f = first; f < end; f = (f | 31) + 1) {
      const w = f >> 5;
      const mask = runBitsInWord(f, end);
      const reserved = reservedWord(pmm, w) & mask, notUsed = ~usedWord(pmm, w) & mask;
      if ((reserved | notUsed) == 0) continue;
      // the first bad frame decides the reason
      const bad = ctz(reserved | notUsed);
      error = (reserved & (<u32>1 << bad)) != 0 ? FrameError.Reserved : FrameError.DoubleFree;
      at = <u64>((w << 5) + bad) << FRAME_SHIFT;
      break;
    }
  }
  if (error != FrameError.Ok) {
    reportError(pmm, "freeFrames", at, count, error);
    return error;
  }
  setRun(pmm, first, count, false);
  return FrameError.Ok;
}
