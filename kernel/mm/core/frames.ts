// The physical frame allocator: one bit per 4 KiB frame, plus two summary trees over the
// bitmap's words so that no allocation scans the bitmap. Hardware-independent: it never touches
// the frames it manages, only its bitmap block, so the host tests run it unchanged.
// frames-init.ts builds it from a memory map; kernel/mm/phys/pmm.ts owns the kernel's instance.
//
// The bitmap block (placed by frames-init.ts in free low memory, `bitmapBytes` long). The two
// bitmaps are interleaved word by word, so that a free reads both from one address:
//
//   +8w           used word w       bit i = frame 32w+i is in use (allocated or reserved)
//   +8w+4         reserved word w   bit i = frame 32w+i is reserved: never handed out, never
//                                   freed (set at init, then constant)
//   +8W           sentinel: a used word and a reserved word with every bit set, at index W
//                 (wordCount), where the high zone's hint rests when high memory is full: so
//                 the allocation fast path needs no bounds check before reading its hint word
//   +8W+8         hasFree tree l1, l2       word w has a clear bit in `used`
//   ...           allFree tree l1, l2       word w is entirely clear in `used`
//
//   used word w:  bit 31 ............................ bit 0
//                 frame 32w+31                     frame 32w
//
// Frames at or above frameCount in the last word are set in both bitmaps.
// Low memory is [0, lowLimitFrame): the frames the kernel reaches through its linear map.
import { ReportLevel, reportBegin, reportText, reportAddress, reportDec, reportEnd } from "./report";
import {
  SummaryTree, summarySet, summaryClear, summaryFindFrom, summaryFirst, summaryTest, SUMMARY_NONE,
} from "./summary";
import { Invariant } from "./invariant";

export const FRAME_SHIFT: u32 = 12;
export const FRAME_SIZE: u32 = 1 << FRAME_SHIFT;
/** Every 32-bit physical address is below this. */
export const PHYS_LIMIT: u64 = <u64>1 << 32;
/** ISA DMA reaches only the first 16 MiB: the `maxPhysAddr` for such buffers. */
export const ISA_DMA_LIMIT: u64 = 16 << 20;
const FULL: u32 = 0xFFFFFFFF;
/** Frames one bitmap word covers. */
const FRAMES_PER_WORD: u32 = 32;

/** Which frames `allocFrameFrom` may return. */
export const enum FrameZone {
  /** Low memory only: reachable through the kernel's linear map (page tables, heap, slabs). */
  Low = 0,
  /** High memory first, low memory when high is used up (pages mapped elsewhere anyway). */
  HighFirst = 1,
}

/** What a free (or a bad request) found. Ok is 0; every other value was logged. */
export const enum FrameError {
  Ok = 0,
  Unaligned = 1,    // address not a multiple of 4096
  OutOfRange = 2,   // beyond the managed frames
  Reserved = 3,     // never allocatable (not RAM, kernel, modules, bitmap...)
  DoubleFree = 4,   // the frame is already free
  BadRequest = 5,   // count 0, count too large, alignment not a power of two
}

/** The state of one frame, for iterating the map. */
export const enum FrameState { Free = 0, Allocated = 1, Reserved = 2 }

@unmanaged export class FrameAllocator {
  bitmap: usize;        // the bitmap block: used and reserved words, interleaved
  hasFree: SummaryTree;
  allFree: SummaryTree;
  frameCount: u32;
  wordCount: u32;
  lowLimitFrame: u32;   // a multiple of 32, or frameCount
  lowLimitWord: u32;
  freeLow: u32;
  freeHigh: u32;
  hintLow: u32;         // next-free hints: no word in [0, hintLow) has a free frame,
  hintHigh: u32;        // and none in [lowLimitWord, hintHigh)
  pending: u32;         // the word whose tree bits may be stale (see takeFrame), or SUMMARY_NONE
  usableFrames: u32;    // RAM the map calls available (whole frames, minus overlaps)
  reservedFrames: u32;  // frameCount - free at init: holes, non-RAM, kernel, bitmap...
  bitmapPhys: u32;
  bitmapBytes: u32;
  ignoredBytes: u64;    // available RAM above 4 GiB, which 32-bit paging cannot reach
}

/** Bytes of the state block: the FrameAllocator and its two tree headers. */
export const FRAME_ALLOCATOR_BYTES: u32 = <u32>offsetof<FrameAllocator>() + 2 * <u32>offsetof<SummaryTree>();

/** Lays out an empty allocator at `at` (FRAME_ALLOCATOR_BYTES, 8-aligned); frames-init fills it. */
export function frameAllocatorAt(at: usize): FrameAllocator {
  memory.fill(at, 0, FRAME_ALLOCATOR_BYTES);
  const pmm = changetype<FrameAllocator>(at);
  pmm.hasFree = changetype<SummaryTree>(at + offsetof<FrameAllocator>());
  pmm.allFree = changetype<SummaryTree>(at + offsetof<FrameAllocator>() + offsetof<SummaryTree>());
  return pmm;
}

/** Address of used word `w` (its reserved word follows at +4). */
@inline export function usedWordAddress(pmm: FrameAllocator, w: u32): usize { return pmm.bitmap + (w << 3); }
@inline function usedWord(pmm: FrameAllocator, w: u32): u32 { return load<u32>(pmm.bitmap + (w << 3)); }
@inline function reservedWord(pmm: FrameAllocator, w: u32): u32 { return load<u32>(pmm.bitmap + (w << 3), 4); }
/** Bits at positions >= b (b in 0..32). */
@inline function bitsFrom(b: u32): u32 { return b >= 32 ? 0 : FULL << b; }
/** Bits at positions < b (b in 0..32). */
@inline function bitsBelow(b: u32): u32 { return b >= 32 ? FULL : (<u32>1 << b) - 1; }
/** The frames [f, end) that lie in f's word, as bits of that word (f < end). */
@inline function runBitsInWord(f: u32, end: u32): u32 {
  const base = f & ~31;
  return bitsFrom(f & 31) & bitsBelow(min<u32>(end - base, 32));
}

/** Adds `delta` to the free count of the zone word `w` is in (`low`: w < lowLimitWord). */
@inline function countFree(pmm: FrameAllocator, low: bool, delta: i32): void {
  if (low) pmm.freeLow += delta; else pmm.freeHigh += delta;
}

/** Word `w` (in low memory if `low`) gained a free frame: pull its zone's hint back to it. */
@inline function lowerHint(pmm: FrameAllocator, w: u32, low: bool): void {
  if (low) { if (w < pmm.hintLow) pmm.hintLow = w; }
  else if (w < pmm.hintHigh) pmm.hintHigh = w;
}

/**
 * One free frame's physical address, or 0 when the zone has none left (never panics; frame 0
 * is always reserved, so 0 is never a frame). Lowest address first within the zone searched.
 * O(1): the zone's hint word usually has the frame (inlined fast path); otherwise three
 * levels of summary, never a scan. Not re-entrant: callers serialise.
 */
@inline export function allocFrameFrom(pmm: FrameAllocator, zone: FrameZone): u32 {
  const w = zone == FrameZone.HighFirst ? pmm.hintHigh : pmm.hintLow;
  // hintHigh <= wordCount, and word wordCount is the full sentinel: no bounds check needed.
  if (zone == FrameZone.HighFirst || w < pmm.lowLimitWord) {
    const at = usedWordAddress(pmm, w);
    const old = load<u32>(at);
    if (old != FULL) {
      // The hint word is in the zone asked for, so the counter is known without a compare.
      if (zone == FrameZone.HighFirst) pmm.freeHigh--; else pmm.freeLow--;
      return takeFrame(pmm, w, at, old);
    }
  }
  return allocFrameSearch(pmm, zone);
}

/**
 * Takes the lowest free frame of word `w` (whose value `old` is not FULL); the caller counts it.
 *
 * The trees are not updated here: `w` becomes the pending word, whose tree bits may still say
 * "has a free frame" / "is all free" after it lost them (never the reverse). They are put right
 * when another word becomes pending or before any search of the trees (flushPending). So an
 * allocation that fills a word and a free that reopens it, the commonest pair, touch no tree.
 */
@inline function takeFrame(pmm: FrameAllocator, w: u32, at: usize, old: u32): u32 {
  const bit = ctz(~old);
  store<u32>(at, old | (1 << bit));
  if (w != pmm.pending) {
    if (pmm.pending != SUMMARY_NONE) refreshTrees(pmm, pmm.pending);
    pmm.pending = w;
  }
  return ((w << 5) | bit) << FRAME_SHIFT;
}

/** Makes word w's tree bits exact (after it was the pending word). */
function refreshTrees(pmm: FrameAllocator, w: u32): void {
  const word = usedWord(pmm, w);
  if (word == FULL) summaryClear(pmm.hasFree, w);
  if (word != 0) summaryClear(pmm.allFree, w);
}

/** Before searching the trees: makes them exact. */
@inline function flushPending(pmm: FrameAllocator): void {
  if (pmm.pending != SUMMARY_NONE) {
    refreshTrees(pmm, pmm.pending);
    pmm.pending = SUMMARY_NONE;
  }
}

/** allocFrameFrom when the hint word is full: find the zone's lowest free word and move the hint. */
function allocFrameSearch(pmm: FrameAllocator, zone: FrameZone): u32 {
  // No high memory left (or none at all, below 896 MiB of RAM): the low zone's hint word, as
  // allocLowFrame's fast path would take it, before any search of the trees (which costs as much
  // again as the whole fast path).
  if (zone == FrameZone.HighFirst && pmm.freeHigh == 0 && pmm.hintLow < pmm.lowLimitWord) {
    const hintAt = usedWordAddress(pmm, pmm.hintLow);
    const hintWord = load<u32>(hintAt);
    if (hintWord != FULL) { pmm.freeLow--; return takeFrame(pmm, pmm.hintLow, hintAt, hintWord); }
  }
  flushPending(pmm);
  const tree = pmm.hasFree;
  let w: u32 = SUMMARY_NONE;
  if (zone == FrameZone.HighFirst) {
    w = summaryFindFrom(tree, pmm.hintHigh);
    pmm.hintHigh = w == SUMMARY_NONE ? pmm.wordCount : w;
  }
  if (w == SUMMARY_NONE) {
    w = summaryFindFrom(tree, pmm.hintLow);
    if (w >= pmm.lowLimitWord) {   // SUMMARY_NONE included: low memory is used up
      pmm.hintLow = pmm.lowLimitWord;
      return 0;
    }
    pmm.hintLow = w;
  }
  const at = usedWordAddress(pmm, w);
  countFree(pmm, w < pmm.lowLimitWord, -1);
  return takeFrame(pmm, w, at, load<u32>(at));
}

/**
 * Returns frame `phys` to the allocator. Returns FrameError.Ok, or an error (logged with the
 * address and reason, state untouched) when `phys` is unaligned, outside managed memory,
 * reserved, or already free. O(1); the success path is inlined.
 */
@inline export function freeFrameTo(pmm: FrameAllocator, phys: u32): FrameError {
  const frame = phys >> FRAME_SHIFT;
  if ((phys & (FRAME_SIZE - 1)) == 0 && frame < pmm.frameCount) {
    const w = frame >> 5, bit: u32 = 1 << (frame & 31);
    const at = usedWordAddress(pmm, w);
    const old = load<u32>(at);
    if ((old & bit) != 0 && (load<u32>(at, 4) & bit) == 0) {
      // Fields read before the store, which the C compiler must assume may alias them.
      const low = w < pmm.lowLimitWord, pending = pmm.pending;
      const now = old & ~bit;
      store<u32>(at, now);
      // The word's first free frame: announce it, unless it is the pending word, whose
      // has-free bit is still set and which lies at or above its zone's hint.
      if (old == FULL && w != pending) { summarySet(pmm.hasFree, w); lowerHint(pmm, w, low); }
      if (now == 0) summarySet(pmm.allFree, w);
      countFree(pmm, low, 1);
      return FrameError.Ok;
    }
  }
  return freeFrameRefused(pmm, phys);
}

/** Why freeFrameTo refused `phys`, logged. */
function freeFrameRefused(pmm: FrameAllocator, phys: u32): FrameError {
  const frame = phys >> FRAME_SHIFT;
  let error = FrameError.DoubleFree;
  if ((phys & (FRAME_SIZE - 1)) != 0) error = FrameError.Unaligned;
  else if (frame >= pmm.frameCount) error = FrameError.OutOfRange;
  else if ((reservedWord(pmm, frame >> 5) & (1 << (frame & 31))) != 0) error = FrameError.Reserved;
  reportError(pmm, "freeFrame", phys, 1, error);
  return error;
}

export function frameErrorText(error: FrameError): string {
  switch (error) {
    case FrameError.Ok: return "ok";
    case FrameError.Unaligned: return "address is not frame-aligned";
    case FrameError.OutOfRange: return "address is outside managed memory";
    case FrameError.Reserved: return "frame is reserved (never allocated)";
    case FrameError.DoubleFree: return "frame is already free (double free)";
    default: return "bad request";
  }
}

function reportError(pmm: FrameAllocator, what: string, phys: u64, count: u32, error: FrameError): void {
  if (!reportBegin(ReportLevel.Error, "pmm")) return;
  reportText(what); reportText("("); reportAddress(phys);
  if (count != 1) { reportText(", "); reportDec(count); }
  reportText("): "); reportText(frameErrorText(error));
  if (error == FrameError.OutOfRange) { reportText(" (frames end at "); reportAddress(<u64>pmm.frameCount << FRAME_SHIFT); reportText(")"); }
  reportText("; nothing changed"); reportEnd();
}

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

@inline function alignUp(value: u32, align: u32): u32 { return (value + align - 1) & ~(align - 1); }

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
 * skipping full words through the has-free tree. Frees with freeFramesTo (or frame by frame).
 */
export function allocFramesFrom(pmm: FrameAllocator, count: u32, alignFrames: u32, maxPhysAddr: u64): u32 {
  if (count == FRAMES_PER_WORD && (alignFrames == FRAMES_PER_WORD || alignFrames <= 1)) {
    // One whole word (a heap span): the lowest all-free word, which is what the search below
    // finds first, at a fraction of its cost. Only the pending word's tree bit can be stale.
    let w = summaryFirst(pmm.allFree);
    if (w == pmm.pending) { flushPending(pmm); w = summaryFirst(pmm.allFree); }
    if (w != SUMMARY_NONE && <u64>(w + 1) << (5 + FRAME_SHIFT) <= maxPhysAddr) {
      setWordBits(pmm, w, FULL, FRAMES_PER_WORD, true);
      return w << (5 + FRAME_SHIFT);
    }
  }
  const align: u32 = alignFrames == 0 ? 1 : alignFrames;
  if (count == 0 || count > pmm.frameCount || (align & (align - 1)) != 0 || align > pmm.frameCount) {
    if (reportBegin(ReportLevel.Error, "pmm")) {
      reportText("allocFrames("); reportDec(count); reportText(", "); reportDec(alignFrames); reportText(", "); reportAddress(maxPhysAddr);
      reportText("): impossible request ("); reportDec(pmm.frameCount); reportText(" frames managed, alignment must be a power of two)"); reportEnd();
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
    if (used == FULL) { setRun(pmm, start, count, true); return start << FRAME_SHIFT; }
    w = summaryFindFrom(pmm.allFree, (used >> 5) + 1);
  }
  // Then every free frame, lowest first.
  let free = firstFreeFrom(pmm, 0);
  while (free != FULL) {
    const start = alignUp(free, align);
    if (start > last || start < free) return 0;
    const used = lastUsedIn(pmm, start, start + count);
    if (used == FULL) { setRun(pmm, start, count, true); return start << FRAME_SHIFT; }
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
  if (lastUsedIn(pmm, first, first + count) != FULL) return false;
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

/** Free frames, all zones. */
export function framesFree(pmm: FrameAllocator): u32 { return pmm.freeLow + pmm.freeHigh; }
/** Free frames in low memory (reachable through the linear map). */
export function framesFreeLow(pmm: FrameAllocator): u32 { return pmm.freeLow; }
/** Frames managed: every frame below the highest available address (below 4 GiB). */
export function framesTotal(pmm: FrameAllocator): u32 { return pmm.frameCount; }
/** Frames that can never be allocated: holes, non-RAM, the kernel, modules, the bitmap. */
export function framesReserved(pmm: FrameAllocator): u32 { return pmm.reservedFrames; }
/** Frames of available RAM in the memory map (whole frames below 4 GiB). */
export function framesUsable(pmm: FrameAllocator): u32 { return pmm.usableFrames; }

/** The state of frame `frame` (Reserved for frames beyond the managed range). */
export function frameState(pmm: FrameAllocator, frame: u32): FrameState {
  if (frame >= pmm.frameCount) return FrameState.Reserved;
  const w = frame >> 5, bit: u32 = 1 << (frame & 31);
  if ((reservedWord(pmm, w) & bit) != 0) return FrameState.Reserved;
  return (usedWord(pmm, w) & bit) != 0 ? FrameState.Allocated : FrameState.Free;
}

/**
 * How many frames from `frame` on share its state (at least 1 inside the managed range, 0
 * beyond it). Iterate the whole map with
 *   for (let f = 0; f < framesTotal(pmm); f += frameRunLength(pmm, f)) ... frameState(pmm, f) ...
 */
export function frameRunLength(pmm: FrameAllocator, frame: u32): u32 {
  if (frame >= pmm.frameCount) return 0;
  const state = frameState(pmm, frame);
  let f = frame + 1;
  while (f < pmm.frameCount) {
    const w = f >> 5;
    // A whole word in the same state is skipped at once.
    if ((f & 31) == 0 && ((w + 1) << 5) <= pmm.frameCount) {
      const used = usedWord(pmm, w), reserved = reservedWord(pmm, w);
      const same = state == FrameState.Free ? used == 0
        : state == FrameState.Reserved ? reserved == FULL
        : used == FULL && reserved == 0;
      if (same) { f += 32; continue; }
    }
    if (frameState(pmm, f) != state) break;
    f++;
  }
  return f - frame;
}

/**
 * Verifies the allocator's invariants: reserved frames are in use, the trees match the bitmap
 * word for word, the free counts match the bitmap, and the hints and the sentinel word are
 * right. Returns Invariant.Holds, or the first broken invariant (Frames*, invariant.ts), for a test or a panic message. O(frames / 32).
 */
export function frameAllocatorCheck(pmm: FrameAllocator): Invariant {
  let freeLow: u32 = 0, freeHigh: u32 = 0;
  for (let w: u32 = 0; w < pmm.wordCount; w++) {
    const used = usedWord(pmm, w), reserved = reservedWord(pmm, w);
    if ((reserved & ~used) != 0) return Invariant.FramesReservedInUse;
    // Exact, except the pending word, whose bits may still claim what it has lost.
    const hasFree = summaryTest(pmm.hasFree, w), allFree = summaryTest(pmm.allFree, w);
    if (w == pmm.pending ? !hasFree && used != FULL : hasFree != (used != FULL)) return Invariant.FramesHasFreeTree;
    if (w == pmm.pending ? !allFree && used == 0 : allFree != (used == 0)) return Invariant.FramesAllFreeTree;
    if (w < pmm.lowLimitWord) freeLow += 32 - popcnt(used); else freeHigh += 32 - popcnt(used);
  }
  if (freeLow != pmm.freeLow || freeHigh != pmm.freeHigh) return Invariant.FramesFreeCounts;
  // The hints: nothing free below them in their zones.
  for (let w: u32 = 0; w < pmm.hintLow && w < pmm.lowLimitWord; w++) if (usedWord(pmm, w) != FULL) return Invariant.FramesHints;
  for (let w = pmm.lowLimitWord; w < pmm.hintHigh && w < pmm.wordCount; w++) if (usedWord(pmm, w) != FULL) return Invariant.FramesHints;
  // The sentinel after the last word, where the high hint may rest (and never beyond).
  if (pmm.hintHigh > pmm.wordCount || usedWord(pmm, pmm.wordCount) != FULL || reservedWord(pmm, pmm.wordCount) != FULL) return Invariant.FramesHints;
  // The upper levels: l2 exact, top may hold stale bits but never misses one.
  for (let t = 0; t < 2; t++) {
    const tree = t == 0 ? pmm.hasFree : pmm.allFree;
    const l1Words = (pmm.wordCount + 31) >> 5;
    for (let j: u32 = 0; j < l1Words; j++) {
      const l2Word = load<u32>(tree.l2 + ((j >> 5) << 2));
      if ((load<u32>(tree.l1 + (j << 2)) != 0) != ((l2Word & (1 << (j & 31))) != 0)) return Invariant.FramesTreeLevels;
      if (l2Word != 0 && (tree.top & (1 << (j >> 5))) == 0) return Invariant.FramesTreeLevels;
    }
  }
  return Invariant.Holds;
}
