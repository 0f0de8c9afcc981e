// The virtual-range allocator: hands out runs of pages from an area of virtual address space
// (the kernel's VRANGE area) and takes them back, merging free neighbours. It only does the
// arithmetic: it never maps anything, and its bookkeeping lives in a block the caller supplies
// (the VMM takes it from the PMM), so it never depends on a heap. Hardware-independent: the
// host tests drive it over a buffer.
//
// Contexts: every function may run in any context, on any CPU, under its caller's lock (for the
// kernel's ranges the VMM's section, or the fault handler's kernel-lock section with interrupts
// off: vrangeFind writes too); none takes a lock or sleeps.
//
// The area is cut into blocks that tile it with no gaps; each block is free or live (handed
// out). Everything is indexed by page number within the area (0 .. pages-1):
//
//   records   pages x 16 bytes: the record of the block that starts at page p is records[p]
//             (only blocks' first pages have meaningful records)
//   starts    a bitmap, bit p set <=> a block starts at page p: the l1 of a summary tree
//             (summary.ts) whose two upper levels find the block containing any page in O(1),
//             the last start at or below it
//
// A record, at its block's first page:
//
//   +0   span      pages in the block | BLOCK_FREE (bit 31) when free
//   +4   a         free: next block in its free list (page or NONE)   live: owner's word (flags)
//   +8   b         free: previous block in its free list              live: owner's word (pages committed)
//   +12  c         free: (unused)                                     live: owner's word (name)
//
// and one word at a free block's last page (the same record when the span is 1):
//
//   +12  tag       the block's first page: the boundary tag, through which a release finds a
//                  free left neighbour without searching the starts tree
//
// Free blocks sit on segregated lists (TLSF-style two-level classes): class (fl, sl) holds spans
// from 2^(fl+2) + sl * 2^(fl-1) up to the next class, with spans 1..7 in row 0. A reservation
// rounds its span up to the next class boundary so any block on the first non-empty list at
// or above it fits; two bitmaps find that list with two count-trailing-zeros. So reserve and
// release are O(1): no list is walked, no block scanned. Release finds its neighbours through
// the boundary tag (left: a tag is trusted only when it names a free block's start that ends
// just there, since a live block's last page holds anything) and the span (right) and merges
// them.
//
// Limits: at most VRANGE_MAX_PAGES pages (what one summary tree indexes: 32 * 32 * 32 bits).
import { Invariant } from "./invariant";
import { segClass, segRoundUp, segMarkList, segUnmarkList, segFindList } from "./seg-fit";
import {
  SummaryTree, SUMMARY_MAX_WORDS, SUMMARY_NONE, summaryInit, summarySet, summaryClear, summaryTest,
  summaryFindAtOrBefore, summaryUpperHolds, summaryL1Bytes, summaryL2Bytes,
} from "./summary";

/** The most pages an area may have. */
export const VRANGE_MAX_PAGES: u32 = SUMMARY_MAX_WORDS;
/** "No page": an empty list, a failed reservation, a failed lookup. */
export const NONE: u32 = 0xFFFFFFFF;
/** The flag in `span` that marks a free block. */
export const BLOCK_FREE: u32 = 0x80000000;

const RECORD_BYTES: u32 = 16;
const RECORD_SPAN: u32 = 0;
const RECORD_A: u32 = 4;
const RECORD_B: u32 = 8;
const RECORD_C: u32 = 12;
const RECORD_TAG: u32 = 12;   // (at a free block's last page)

const SL_BITS: u32 = 3;
const SL_COUNT: u32 = 1 << SL_BITS;               // 8 classes per power of two
const FL_COUNT: u32 = 14;                         // spans up to 2^16 - 1 > VRANGE_MAX_PAGES + rounding
const LIST_COUNT: u32 = FL_COUNT * SL_COUNT;

export const enum VRangeError {
  Ok = 0,
  OutsideArea = 1,    // the page is not in the area
  InsideFree = 2,     // the page lies in free space: released twice, or never reserved
  NotRangeStart = 3,  // the page is inside a live range, not its first page
}

// The area header. Its arrays follow it in the same bookkeeping block:
//   +0 base (virtual address of page 0)   +4 records
//   +8 startsTop  +12 starts  +16 starts1  +20 pages   the starts summary tree (a SummaryTree
//      in place: top, l1, l2, words), read through startsTree()
//   +24 flBitmap   +28 slBitmaps (FL_COUNT u32)   +32 lists (LIST_COUNT u32, then
//   a sentinel list that is always NONE: what segFindList names when no list fits)
//   +36 freePages   +40 freeBlocks   +44 liveBlocks
@unmanaged export class VRangeArea {
  base: u32;
  records: usize;
  startsTop: u32;     // level 2: one bit per non-zero level-1 word (may hold stale bits)
  starts: usize;      // level 1 (l1): one bit per page
  starts1: usize;     // level 2 (l2): one bit per non-zero l1 word
  pages: u32;         // the area's size, and the tree's number of indexed "words"
  flBitmap: u32;      // bit fl <=> slBitmaps[fl] != 0
  slBitmaps: usize;   // bit sl of word fl <=> list (fl, sl) is non-empty
  lists: usize;       // first free block of each list, or NONE
  freePages: u32;
  freeBlocks: u32;
  liveBlocks: u32;
  lastFound: u32;     // the live block vrangeFind found last (NONE: none); a release forgets it
}

const HEADER_BYTES: u32 = (offsetof<VRangeArea>() + 15) & ~15;
// (the four fields from startsTop must lie as a SummaryTree's do: top, l1, l2, words)
if (offsetof<VRangeArea>("starts") - offsetof<VRangeArea>("startsTop") != offsetof<SummaryTree>("l1") ||
    offsetof<VRangeArea>("starts1") - offsetof<VRangeArea>("startsTop") != offsetof<SummaryTree>("l2") ||
    offsetof<VRangeArea>("pages") - offsetof<VRangeArea>("startsTop") != offsetof<SummaryTree>("words") ||
    offsetof<SummaryTree>("top") != 0) {
  ERROR("VRangeArea's startsTop, starts, starts1 and pages must lie as SummaryTree's top, l1, l2 and words");
}
/** The starts bitmap and its summary, as the summary tree they are (no load: an address). */
@inline function startsTree(area: VRangeArea): SummaryTree {
  return changetype<SummaryTree>(changetype<usize>(area) + offsetof<VRangeArea>("startsTop"));
}


/** Bytes of bookkeeping an area of `pages` pages needs (header, records, bitmaps, lists). */
export function vrangeBookkeepingBytes(pages: u32): u32 {
  return HEADER_BYTES + pages * RECORD_BYTES + summaryL1Bytes(pages) + summaryL2Bytes(pages) + ((FL_COUNT + LIST_COUNT + 1) << 2);
}

// --- records --------------------------------------------------------------------------------

@inline function recordAt(area: VRangeArea, page: u32): usize { return area.records + page * RECORD_BYTES; }
@inline function spanWord(area: VRangeArea, page: u32): u32 { return load<u32>(recordAt(area, page), RECORD_SPAN); }
@inline function setSpanWord(area: VRangeArea, page: u32, value: u32): void { store<u32>(recordAt(area, page), value, RECORD_SPAN); }
@inline function nextFree(area: VRangeArea, page: u32): u32 { return load<u32>(recordAt(area, page), RECORD_A); }
@inline function prevFree(area: VRangeArea, page: u32): u32 { return load<u32>(recordAt(area, page), RECORD_B); }

// --- the starts bitmap (summary.ts) ---------------------------------------------------------

@inline function setStart(area: VRangeArea, page: u32): void { summarySet(startsTree(area), page); }
@inline function clearStart(area: VRangeArea, page: u32): void { summaryClear(startsTree(area), page); }
@inline function isStart(area: VRangeArea, page: u32): bool { return summaryTest(startsTree(area), page); }

/** The last block start at or below `page` (so the first page of the block containing it), or NONE. */
@inline function startAtOrBelow(area: VRangeArea, page: u32): u32 {
  return summaryFindAtOrBefore(startsTree(area), page);
}
if (SUMMARY_NONE != NONE) ERROR("startAtOrBelow returns the tree's SUMMARY_NONE as NONE");

// --- size classes and free lists ------------------------------------------------------------

/** The class (list index) a free block of `span` pages is filed under (seg-fit.ts, 8 classes per power of two). */
@inline function classOf(span: u32): u32 { return segClass(span, SL_BITS); }

/** `span` rounded up to the smallest span of its class's successor, unless it starts a class. */
@inline function roundToClass(span: u32): u32 { return segRoundUp(span, SL_BITS); }

// (Both read area.records once: a store through memory could change it as far as the compiler
// knows, so each recordAt would load it again.)

/** Files the free block at `page` of `span` pages on its class's list, its boundary tag written. */
@inline function listInsert(area: VRangeArea, page: u32, span: u32): void {
  const index = classOf(span);
  const headAt = area.lists + (index << 2);
  const head = load<u32>(headAt);
  const records = area.records, at = records + page * RECORD_BYTES;
  store<u32>(at, span | BLOCK_FREE, RECORD_SPAN);
  store<u32>(at, head, RECORD_A);
  store<u32>(at, NONE, RECORD_B);
  store<u32>(records + (page + span - 1) * RECORD_BYTES, page, RECORD_TAG);
  if (head != NONE) store<u32>(records + head * RECORD_BYTES, page, RECORD_B);
  store<u32>(headAt, page);
  segMarkList<VRangeArea>(area, index, SL_BITS);
  area.freeBlocks++;
  area.freePages += span;
}

/** Takes the free block at `page`, of `span` pages, off list `index` (its class: classOf(span)). */
@inline function listRemove(area: VRangeArea, page: u32, span: u32, index: u32): void {
  const records = area.records, at = records + page * RECORD_BYTES;
  const next = load<u32>(at, RECORD_A), prev = load<u32>(at, RECORD_B);
  if (next != NONE) store<u32>(records + next * RECORD_BYTES, prev, RECORD_B);
  if (prev != NONE) store<u32>(records + prev * RECORD_BYTES, next, RECORD_A);
  else {
    store<u32>(area.lists + (index << 2), next);
    if (next == NONE) segUnmarkList<VRangeArea>(area, index, SL_BITS);
  }
  area.freeBlocks--;
  area.freePages -= span;
}


// --- the public operations ------------------------------------------------------------------

/**
 * Sets up an area of `pages` pages (1..VRANGE_MAX_PAGES) whose page 0 is at virtual `base`,
 * with its bookkeeping in the `vrangeBookkeepingBytes(pages)` bytes at `block` (the header
 * first: the returned area is at `block`). The whole area starts as one free block.
 */
export function vrangeInit(block: usize, base: u32, pages: u32): VRangeArea {
  const area = changetype<VRangeArea>(block);
  memory.fill(block, 0, HEADER_BYTES);
  area.base = base;
  area.records = block + HEADER_BYTES;
  const starts = area.records + pages * RECORD_BYTES, starts1 = starts + summaryL1Bytes(pages);
  summaryInit(startsTree(area), starts, starts1, pages);   // (sets starts, starts1 and pages)
  area.slBitmaps = starts1 + summaryL2Bytes(pages);
  area.lists = area.slBitmaps + (FL_COUNT << 2);
  memory.fill(area.slBitmaps, 0, FL_COUNT << 2);
  memory.fill(area.lists, 0xFF, (LIST_COUNT + 1) << 2);   // every list NONE, and the sentinel after them
  setStart(area, 0);
  listInsert(area, 0, pages);
  area.lastFound = NONE;
  return area;
}

/**
 * Reserves a block of `span` pages and returns its first page, or NONE when no free block is
 * large enough (or `span` is 0 or larger than the area). The block's owner words are zeroed.
 * O(1). Good fit: the block comes from the smallest class that is sure to fit, so it may fail
 * while a block of exactly `span`..next-class-start pages is free only if that block is not
 * the first of its own class (which is tried as well).
 */
@inline export function vrangeReserve(area: VRangeArea, span: u32): u32 {
  if (span == 0 || span > area.pages) return NONE;
  // The first list at or above the rounded class (LIST_COUNT, "none", is a sentinel list that
  // always holds NONE).
  let index = segFindList<VRangeArea>(area, classOf(roundToClass(span)), SL_BITS, FL_COUNT);
  let page = load<u32>(area.lists + (index << 2));
  if (page == NONE) {
    index = classOf(span);   // the head of its own class may fit
    page = load<u32>(area.lists + (index << 2));
    if (page == NONE || (spanWord(area, page) & ~BLOCK_FREE) < span) return NONE;
  }
  const have = spanWord(area, page) & ~BLOCK_FREE;
  listRemove(area, page, have, index);
  if (have > span) {
    setStart(area, page + span);
    listInsert(area, page + span, have - span);
  }
  const at = recordAt(area, page);
  store<u32>(at, span, RECORD_SPAN);
  store<u32>(at, 0, RECORD_A);
  store<u32>(at, 0, RECORD_B);
  store<u32>(at, 0, RECORD_C);
  area.liveBlocks++;
  return page;
}

/**
 * The first page of the live block containing `page`, or NONE if `page` is outside the area
 * or in free space. O(1): used by the page-fault handler. It writes (the block it found last), so
 * it is under the caller's lock as the others are (the fault handler's kernel-lock section).
 */
export function vrangeFind(area: VRangeArea, page: u32): u32 {
  // The block found last first: the next search is most often for the next page of the same
  // block (the page-fault handler's, over a range), and the starts tree's search costs about 60
  // instructions once the page is 32 or more into its block. It is always a live block: only a
  // release ends one, and it forgets it (vrangeReleaseChecked).
  const last = area.lastFound;
  if (last != NONE && page - last < spanWord(area, last)) return last;
  if (page >= area.pages) return NONE;
  const start = startAtOrBelow(area, page);
  if (start == NONE || (spanWord(area, start) & BLOCK_FREE) != 0) return NONE;
  area.lastFound = start;
  return start;
}

/** Why `page` cannot be released (VRangeError.Ok if it is a live block's first page). */
export function vrangeCheckRelease(area: VRangeArea, page: u32): VRangeError {
  if (page >= area.pages) return VRangeError.OutsideArea;
  if (isStart(area, page) && (spanWord(area, page) & BLOCK_FREE) == 0) return VRangeError.Ok;
  // (a refusal: the tree search says which kind)
  const start = startAtOrBelow(area, page);
  if (start == NONE || (spanWord(area, start) & BLOCK_FREE) != 0) return VRangeError.InsideFree;
  return start == page ? VRangeError.Ok : VRangeError.NotRangeStart;
}

/**
 * Returns the live block starting at `page` to free space, merged with free neighbours on both
 * sides. Refuses (VRangeError, nothing changed) a page outside the area, in free space (a
 * second release) or inside a live block. O(1).
 */
export function vrangeRelease(area: VRangeArea, page: u32): VRangeError {
  const error = vrangeCheckRelease(area, page);
  if (error == VRangeError.Ok) vrangeReleaseChecked(area, page);
  return error;
}

/**
 * vrangeRelease of a page vrangeCheckRelease has just passed (the caller checked it, under the
 * same lock): the same release without the second search of the starts tree. O(1). Like every
 * operation here, under the caller's lock (the kernel's ranges: the VMM's section).
 */
export function vrangeReleaseChecked(area: VRangeArea, page: u32): void {
  area.lastFound = NONE;
  let start = page, span = spanWord(area, page);
  area.liveBlocks--;
  const right = page + span;
  if (right < area.pages) {
    const rightWord = spanWord(area, right);
    if ((rightWord & BLOCK_FREE) != 0) {
      const rightSpan = rightWord & ~BLOCK_FREE;
      listRemove(area, right, rightSpan, classOf(rightSpan));
      clearStart(area, right);
      span += rightSpan;
    }
  }
  if (page > 0) {
    // The word at the left neighbour's last page is its boundary tag only if the neighbour is
    // free: it must name a block start (a stale tag may not) whose free span ends just here.
    const left = load<u32>(recordAt(area, page - 1), RECORD_TAG);
    if (left < page && isStart(area, left) && spanWord(area, left) == ((page - left) | BLOCK_FREE)) {
      listRemove(area, left, page - left, classOf(page - left));
      clearStart(area, page);
      start = left;
      span += page - left;
    }
  }
  listInsert(area, start, span);
}

/** The span in pages of the block starting at `page` (free or live). */
@inline export function vrangeSpan(area: VRangeArea, page: u32): u32 { return spanWord(area, page) & ~BLOCK_FREE; }
/** Whether the block starting at `page` is free. */
export function vrangeIsFree(area: VRangeArea, page: u32): bool { return (spanWord(area, page) & BLOCK_FREE) != 0; }
/** The owner's words of the live block starting at `page` (0, 1, 2: flags, committed, name for the VMM). */
@inline export function vrangeOwnerWord(area: VRangeArea, page: u32, index: u32): u32 {
  return load<u32>(area.records + page * RECORD_BYTES + RECORD_A + (index << 2));
}
@inline export function vrangeSetOwnerWord(area: VRangeArea, page: u32, index: u32, value: u32): void {
  store<u32>(area.records + page * RECORD_BYTES + RECORD_A + (index << 2), value);
}
/** The virtual address of page `page`. */
@inline export function vrangeAddress(area: VRangeArea, page: u32): u32 { return area.base + (page << 12); }

/**
 * Verifies every invariant; returns Invariant.Holds, or the first one broken (invariant.ts):
 *   1 the blocks, walked by span from page 0, tile the area exactly (no zero span, no overrun)
 *   2 a start bit is set exactly at each block's first page, and the summary levels agree
 *   3 no two free blocks are adjacent (merging is complete), and each free block's boundary
 *     tag names its first page
 *   4 every free block is on the list of its class, the lists are doubly linked and hold
 *     nothing else, and the class bitmaps say exactly which lists are non-empty
 *   5 freePages, freeBlocks and liveBlocks match the walk
 * O(pages): for tests and debugging.
 */
export function vrangeCheck(area: VRangeArea): Invariant {
  let page: u32 = 0, freePages: u32 = 0, freeBlocks: u32 = 0, liveBlocks: u32 = 0, previousFree = false;
  while (page < area.pages) {
    const span = spanWord(area, page) & ~BLOCK_FREE;
    if (span == 0 || span > area.pages - page) return Invariant.RangesTiling;
    for (let p = page; p < page + span; p++) if (isStart(area, p) != (p == page)) return Invariant.RangesStarts;
    const free = (spanWord(area, page) & BLOCK_FREE) != 0;
    if (free) {
      if (previousFree) return Invariant.RangesUnmerged;
      if (load<u32>(recordAt(area, page + span - 1), RECORD_TAG) != page) return Invariant.RangesTag;
      freePages += span; freeBlocks++;
    } else liveBlocks++;
    previousFree = free;
    page += span;
  }
  if (page != area.pages) return Invariant.RangesTiling;
  if (!summaryUpperHolds(startsTree(area))) return Invariant.RangesStarts;
  let listed: u32 = 0, fl: u32 = 0;
  for (let index: u32 = 0; index < LIST_COUNT; index++) {
    let block = load<u32>(area.lists + (index << 2)), prev = NONE;
    const nonEmpty = block != NONE;
    const slBit = (load<u32>(area.slBitmaps + ((index >> SL_BITS) << 2)) >> (index & (SL_COUNT - 1))) & 1;
    if (<u32>nonEmpty != slBit) return Invariant.RangesFreeLists;
    if (nonEmpty) fl |= 1 << (index >> SL_BITS);
    while (block != NONE) {
      if (block >= area.pages || !isStart(area, block)) return Invariant.RangesFreeLists;
      const word = spanWord(area, block);
      if ((word & BLOCK_FREE) == 0 || classOf(word & ~BLOCK_FREE) != index || prevFree(area, block) != prev) return Invariant.RangesFreeLists;
      if (++listed > freeBlocks) return Invariant.RangesFreeLists;
      prev = block;
      block = nextFree(area, block);
    }
  }
  if (listed != freeBlocks || fl != area.flBitmap) return Invariant.RangesFreeLists;
  if (freePages != area.freePages || freeBlocks != area.freeBlocks || liveBlocks != area.liveBlocks) return Invariant.RangesCounts;
  return Invariant.Holds;
}
