// The heap's statistics and its checker: both walk every span and block, for tests, the
// benchmarks' end-of-workload checks and debugging; the fast paths keep no counters for them.
import { PROVIDER_PAGE_SIZE } from "../pages";
import { ReportLevel, reportBegin, reportText, reportDec, reportRatio, reportEnd } from "../report";
import { Invariant } from "../invariant";
import {
  ALIGN, CACHED, END_BLOCK, FIRST_BLOCK, FREE, LARGE_MAGIC, LEFT_FREE, SPAN_BITMAP,
  SPAN_BLOCK_BYTES, SPAN_BYTES, SPAN_MAGIC, SPAN_MASK, SPAN_PAGES, blockSize, header, isCached,
  isFree, isStart, nextFree, payloadOf, prevFree, startWordAt, validBit, validWordAt, runHeader,
} from "./block";
import {
  CHUNK_LARGE, CHUNK_SPAN, FL_COUNT, Heap, LIST_COUNT, SL_BITS, SL_COUNT, chunkKind,
} from "./control";
import { classStart, computeClass, flOf } from "./classes";
import { CACHE_NEXT } from "./front-cache";
import { usableSize } from "./heap";

/**
 * Prints the heap's statistics to the console, one `# `-prefixed line per item (TAP comments):
 * live and peak bytes, held and peak held, footprint / peak live, the cache, spans, and the live
 * blocks of every first-level class that has any (counted by walking the spans).
 */
export function heapPrintStats(heap: Heap, name: string): void {
  reportBegin(ReportLevel.Plain, name);
  reportText("# "); reportText(name); reportText(": "); reportDec(heap.liveBlocks); reportText(" live blocks, live "); reportDec(heap.liveBytes);
  reportText(" B (peak "); reportDec(heap.peakLiveBytes); reportText(" B), held "); reportDec(heap.heldBytes); reportText(" B (peak ");
  reportDec(heap.peakHeldBytes); reportText(" B), footprint/peak live ");
  reportRatio(heap.peakHeldBytes, heap.peakLiveBytes);
  reportText("\n# "); reportText(name); reportText(": "); reportDec(heap.spanCount); reportText(" spans ("); reportDec(heap.freeSpans);
  reportText(" free), "); reportDec(heap.largeCount); reportText(" large blocks, "); reportDec(heap.cachedBytes);
  reportText(" B in the front cache, "); reportDec(heap.errors); reportText(" errors\n");
  for (let fl: u32 = 0; fl <= FL_COUNT; fl++) {
    const count = heapClassCount(heap, fl);
    if (count == 0) continue;
    reportText("# "); reportText(name); reportText(":   class ");
    if (fl == FL_COUNT) reportText("large (own pages)");
    else { reportDec(classStart(fl)); reportText("-"); reportDec(classStart(fl + 1) - 1); reportText(" B"); }
    reportText(": "); reportDec(count); reportText(" live\n");
  }
  reportEnd();
}

/**
 * Live blocks in first-level class `fl` (0..FL_COUNT-1, by block size; FL_COUNT: large
 * blocks). Walks the spans: O(blocks), for statistics and tests, so that the fast paths keep
 * no per-class counters.
 */
export function heapClassCount(heap: Heap, fl: u32): u32 {
  if (fl == FL_COUNT) return heap.largeCount;
  let count: u32 = 0;
  for (let span = heap.spans; span != 0; span = runHeader(span).next) {
    for (let block = span + FIRST_BLOCK; block != span + END_BLOCK; block += blockSize(block)) {
      if ((header(block) & (FREE | CACHED)) == 0 && flOf(blockSize(block)) == fl) count++;
    }
  }
  return count;
}

/**
 * Walks every span and block and verifies the tags, the start bitmaps, the free lists and
 * their bitmaps, the front cache, the chunk map and the statistics against each other. Returns
 * Invariant.Holds, or the first broken invariant (invariant.ts):
 *   HeapRunHeader    a span or large block header (magic, owner, links, chunk map)
 *   HeapBlockSize    a block's size (zero, unaligned, past the span's end marker)
 *   HeapBlockStarts  a block-start bit missing or extra (in the valid bitmap groups), or group 0 valid
 *   HeapLeftFree     a LEFT_FREE bit or a free block's footer
 *   HeapUnmerged     two adjacent free blocks (merging incomplete)
 *   HeapFreeLists    a listed block not free, in the wrong class, badly linked, or a free block
 *                    not listed; the class bitmaps
 *   HeapStatistics   live blocks and bytes, held bytes, free spans
 *   HeapFrontCache   a listed block not cached or in the wrong class, a cached block not listed,
 *                    cachedBytes
 * O(blocks + spans): for tests and debugging.
 */
export function heapCheck(heap: Heap): Invariant {
  let freeBlocks: u32 = 0, liveBlocks: u32 = 0, freeSpans: u32 = 0, spans: u32 = 0, cachedBlocks: u32 = 0;
  let liveBytes: usize = 0, held: usize = 0, prev: usize = 0, cachedBytes: usize = 0;
  for (let span = heap.spans; span != 0; span = runHeader(span).next) {
    if (!runHeaderSound(heap, span, SPAN_MAGIC, CHUNK_SPAN, prev) || runHeader(span).pages != SPAN_PAGES) return Invariant.HeapRunHeader;
    prev = span; spans++; held += SPAN_BYTES;
    let block = span + FIRST_BLOCK, leftFree = false, starts: u32 = 0;
    while (block != span + END_BLOCK) {
      const size = blockSize(block);
      if (size == 0 || (size & (ALIGN - 1)) != 0 || block + size > span + END_BLOCK) return Invariant.HeapBlockSize;
      if (!isStart(payloadOf(block))) return Invariant.HeapBlockStarts;
      starts++;
      if (((header(block) & LEFT_FREE) != 0) != leftFree) return Invariant.HeapLeftFree;
      const free = isFree(block);
      if (free) {
        if (leftFree || isCached(block)) return Invariant.HeapUnmerged;
        if (load<u32>(block + size - 4) != size) return Invariant.HeapLeftFree;
        freeBlocks++;
        if (size == SPAN_BLOCK_BYTES) freeSpans++;
      } else if (isCached(block)) { cachedBlocks++; cachedBytes += size; }
      else { liveBlocks++; liveBytes += size - 4; }
      leftFree = free;
      block += size;
    }
    if (header(block) & ~LEFT_FREE) return Invariant.HeapBlockSize;
    if (((header(block) & LEFT_FREE) != 0) != leftFree) return Invariant.HeapLeftFree;
    // Group 0 holds half the valid bitmap, so it must never be valid itself.
    if ((load<u32>(validWordAt(span, 0)) & validBit(0)) != 0) return Invariant.HeapBlockStarts;
    let bits: u32 = 0;
    for (let bit: u32 = 0; bit < SPAN_BITMAP * 8; bit += 32) {
      if ((load<u32>(validWordAt(span, bit)) & validBit(bit)) != 0) bits += popcnt(load<u32>(startWordAt(span, bit)));
    }
    if (bits != starts) return Invariant.HeapBlockStarts;
  }
  prev = 0;
  let larges: u32 = 0;
  for (let run = heap.larges; run != 0; run = runHeader(run).next) {
    if (!runHeaderSound(heap, run, LARGE_MAGIC, CHUNK_LARGE, prev)) return Invariant.HeapRunHeader;
    prev = run; larges++; liveBlocks++;
    held += runHeader(run).pages * PROVIDER_PAGE_SIZE;
    liveBytes += usableSize(run + runHeader(run).payload, CHUNK_LARGE);
  }
  let listed: u32 = 0, flBits: u32 = 0, cacheListed: u32 = 0;
  for (let index: u32 = 0; index < LIST_COUNT; index++) {
    let block = load<usize>(heap.lists + (index << 2)), back: usize = 0;
    const slBit = (load<u32>(heap.slBitmaps + ((index >> SL_BITS) << 2)) >> (index & (SL_COUNT - 1))) & 1;
    if ((block != 0 ? 1 : 0) != slBit) return Invariant.HeapFreeLists;
    if (block != 0) flBits |= 1 << (index >> SL_BITS);
    while (block != 0) {
      if (chunkKind(heap, block) != CHUNK_SPAN || !isFree(block) || computeClass(blockSize(block)) != index || prevFree(block) != back) return Invariant.HeapFreeLists;
      if (++listed > freeBlocks) return Invariant.HeapFreeLists;
      back = block;
      block = nextFree(block);
    }
    block = load<usize>(heap.cache + (index << 2));
    while (block != 0) {
      if (chunkKind(heap, block) != CHUNK_SPAN || !isCached(block) || computeClass(blockSize(block)) != index) return Invariant.HeapFrontCache;
      if (++cacheListed > cachedBlocks) return Invariant.HeapFrontCache;
      block = load<usize>(block, CACHE_NEXT);
    }
  }
  if (listed != freeBlocks || flBits != heap.flBitmap) return Invariant.HeapFreeLists;
  if (cacheListed != cachedBlocks || cachedBytes != heap.cachedBytes) return Invariant.HeapFrontCache;
  if (spans != heap.spanCount || larges != heap.largeCount || liveBlocks != heap.liveBlocks) return Invariant.HeapStatistics;
  if (liveBytes != heap.liveBytes || held != heap.heldBytes || freeSpans != heap.freeSpans) return Invariant.HeapStatistics;
  return Invariant.Holds;
}

/** Whether run `run`'s header has `magic`, this heap, back link `prev`, and its chunk says `kind`. */
function runHeaderSound(heap: Heap, run: usize, magic: u32, kind: u32, prev: usize): bool {
  return runHeader(run).magic == magic && runHeader(run).heap == changetype<usize>(heap) &&
    runHeader(run).prev == prev && chunkKind(heap, run) == kind && (run & SPAN_MASK) == 0;
}
