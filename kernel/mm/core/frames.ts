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
//
// The floor: low memory keeps `floor` frames free for those allowed deeper (the PMM's watermarks,
// docs/pmm.md). The fast path never checks it: a search approves a new hint word only if low
// memory keeps `floor` free frames with all of that word's free frames taken, so taking them
// one by one later needs no check (a free that pulls the hint back adds the frame it reopens).
// Runs are checked the same way, counting the hint word's frames as gone. A refused search or
// an empty zone calls `short` (the PMM's slow path: reclaim, or a lower floor for atomic
// callers), which may search again; 0 means none (the host tests).
//
// This file: the layout, the allocator's state and one frame at a time (allocFrameFrom,
// freeFrameTo). frame-runs.ts: contiguous runs; frames-check.ts: counts, states and the checker.
import {
  ReportLevel, reportBegin, reportText, reportAddress, reportDec, reportLast,
} from "./report";
import { SummaryTree, summarySet, summaryClear, summaryFindFrom, SUMMARY_NONE } from "./summary";
import { bitsFrom, bitsBelow } from "../../lib/bits";

export const FRAME_SHIFT: u32 = 12;
export const FRAME_SIZE: u32 = 1 << FRAME_SHIFT;
/** Every 32-bit physical address is below this. */
export const PHYS_LIMIT: u64 = <u64>1 << 32;
/** ISA DMA reaches only the first 16 MiB: the `maxPhysAddr` for such buffers. */
export const ISA_DMA_LIMIT: u64 = 16 << 20;
export const FULL: u32 = 0xFFFFFFFF;
/** Frames one bitmap word covers. */
export const FRAMES_PER_WORD: u32 = 32;
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
  floor: u32;           // free low frames no search may take (see "The floor"); 0 at first
  short: usize;         // a FrameShort called when a single-frame search finds nothing it may take, or 0
}

/** What allocFrameFrom returns when its search finds no frame it may take: a frame, or 0. Under the caller's lock. */
export type FrameShort = (pmm: FrameAllocator, zone: FrameZone) => u32;

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
@inline export function usedWord(pmm: FrameAllocator, w: u32): u32 { return load<u32>(pmm.bitmap + (w << 3)); }
@inline export function reservedWord(pmm: FrameAllocator, w: u32): u32 { return load<u32>(pmm.bitmap + (w << 3), 4); }
/** The frames [f, end) that lie in f's word, as bits of that word (f < end). */
@inline export function runBitsInWord(f: u32, end: u32): u32 {
  const base = f & ~31;
  return bitsFrom(f & 31) & bitsBelow(min<u32>(end - base, 32));
}

/** Adds `delta` to the free count of the zone word `w` is in (`low`: w < lowLimitWord). */
@inline export function countFree(pmm: FrameAllocator, low: bool, delta: i32): void {
  if (low) pmm.freeLow += delta; else pmm.freeHigh += delta;
}

/** Free frames in word `w`. */
@inline function freeInWord(pmm: FrameAllocator, w: u32): u32 { return popcnt(~usedWord(pmm, w)); }

/**
 * Whether low memory may give the run [start, start + count) and still keep pmm.floor free,
 * counting the low hint word's other free frames as gone (see "The floor"). The check of the
 * slow paths that take more than one frame: inlined as far as the common answer (far above the
 * floor, the hint word's 32 frames at most included). Under the caller's lock.
 */
@inline export function floorAllowsRun(pmm: FrameAllocator, start: u32, count: u32): bool {
  return start >= pmm.lowLimitFrame || pmm.freeLow >= pmm.floor + count + FRAMES_PER_WORD || floorAllowsRunNear(pmm, start, count);   // (no overflow: counts are below 2^20)
}

/** floorAllowsRun near the floor: the hint word's free frames counted exactly. */
function floorAllowsRunNear(pmm: FrameAllocator, start: u32, count: u32): bool {
  const end = min<u32>(start + count, pmm.lowLimitFrame), w = pmm.hintLow;
  let hint: u32 = 0;
  if (w < pmm.lowLimitWord) {
    let free = ~usedWord(pmm, w);
    const base = w << 5;
    if (start < base + 32 && end > base) free &= ~runBitsInWord(max<u32>(start, base), end);   // (the run's own frames count once)
    hint = popcnt(free);
  }
  return <u64>pmm.freeLow >= <u64>pmm.floor + (end - start) + hint;
}

/** Word `w` (in low memory if `low`) gained a free frame: pull its zone's hint back to it. */
@inline export function lowerHint(pmm: FrameAllocator, w: u32, low: bool): void {
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

/**
 * After allocFrameFrom handed out `phys`: up to `most` more free frames of the same bitmap word,
 * lowest first, taken in one go and counted, as the word's bits (0 if `phys` is a low-memory
 * frame, whose floor and watermarks want the frame-by-frame path, or not in the pending word).
 * The word is the pending one, so its tree bits are put right later, as takeFrame's are. The
 * per-CPU frame lists refill a batch this way (phys/frame-lists.ts). Any context, under the
 * caller's lock (the PMM's); never sleeps.
 */
export function takeMoreOfWord(pmm: FrameAllocator, phys: u32, most: u32): u32 {
  const w = phys >> (FRAME_SHIFT + 5);
  if (phys == 0 || w < pmm.lowLimitWord || w != pmm.pending) return 0;
  const at = usedWordAddress(pmm, w), old = load<u32>(at);
  let free = ~old, taken: u32 = 0, count: u32 = 0;
  while (free != 0 && count < most) {
    const lowest = free & (0 - free);
    taken |= lowest;
    free ^= lowest;
    count++;
  }
  store<u32>(at, old | taken);
  pmm.freeHigh -= count;
  return taken;
}

/** Makes word w's tree bits exact (after it was the pending word). */
function refreshTrees(pmm: FrameAllocator, w: u32): void {
  const word = usedWord(pmm, w);
  if (word == FULL) summaryClear(pmm.hasFree, w);
  if (word != 0) summaryClear(pmm.allFree, w);
}

/** Before searching the trees: makes them exact. */
@inline export function flushPending(pmm: FrameAllocator): void {
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
      return frameShort(pmm, zone);
    }
    // The hint word is full here, so the floor check counts only w's frames (hint unchanged if refused).
    if (<u64>pmm.freeLow < <u64>pmm.floor + freeInWord(pmm, w)) return frameShort(pmm, zone);
    pmm.hintLow = w;
  }
  const at = usedWordAddress(pmm, w);
  countFree(pmm, w < pmm.lowLimitWord, -1);
  return takeFrame(pmm, w, at, load<u32>(at));
}

/** The search found nothing it may take: the owner's slow path, if any. */
function frameShort(pmm: FrameAllocator, zone: FrameZone): u32 {
  return pmm.short == 0 ? 0 : changetype<FrameShort>(pmm.short)(pmm, zone);
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

/** Whether managed frame `frame` (below frameCount) is handed out: its used bit set and not reserved (what freeFrameTo checks). Reads only. */
@inline export function frameInUse(pmm: FrameAllocator, frame: u32): bool {
  const w = frame >> 5, bit: u32 = 1 << (frame & 31);
  return (usedWord(pmm, w) & bit) != 0 && (reservedWord(pmm, w) & bit) == 0;
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

export function reportError(pmm: FrameAllocator, what: string, phys: u64, count: u32, error: FrameError): void {
  if (!reportBegin(ReportLevel.Error, "pmm")) return;
  reportText(what); reportText("("); reportAddress(phys);
  if (count != 1) { reportText(", "); reportDec(count); }
  reportText("): "); reportText(frameErrorText(error));
  if (error == FrameError.OutOfRange) { reportText(" (frames end at "); reportAddress(<u64>pmm.frameCount << FRAME_SHIFT); reportText(")"); }
  reportLast("; nothing changed");
}
