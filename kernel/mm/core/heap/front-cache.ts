// The front cache, and giving memory back.
//
// The front cache: a freed block first goes, unmerged and still "used" as far as its
// neighbours know, onto a LIFO list of its class (while the cache holds at most liveBytes / 16 +
// CACHE_SLACK bytes), and an allocation of default alignment first looks at the lists of its own
// class and the next CACHE_REACH. A hit costs a few loads and stores instead of a
// split or a merge. An ALIGNED block with a free block before it (most often the gap its
// alignment left) is merged at once instead, so that the gap is not stranded. CACHED keeps a
// double free of a cached block detectable. The cache is flushed into the free lists (merging)
// by heapTrim and before the heap reports out of memory.
import {
  ALIGN, CACHED, SIZE_MASK, SPAN_BLOCK_BYTES, blockSize, header, nextFree, payloadOf, setHeader,
} from "./block";
import { Heap, LIST_COUNT, countAllocated } from "./control";
import { classOf, listRemove } from "./classes";
import { mergeAndFile, removeSpan } from "./span";

/** The cache holds at most liveBytes >> CACHE_SHARE_SHIFT plus CACHE_SLACK bytes. */
export const CACHE_SHARE_SHIFT: u32 = 4;
export const CACHE_SLACK: u32 = 16 << 10;
/** How many classes above its own an allocation looks in the cache (cacheFind). */
const CACHE_REACH: u32 = 3;

/**
 * Aligned requests look in the cache only up to this alignment: a payload is aligned to 2^k
 * by chance once in 2^k / 16, so above it the look mostly misses (on the aligned trace a limit
 * of 128 beat no limit).
 */
export const CACHE_ALIGN_LIMIT: u32 = 128;

// A cached block's payload: +0 the next cached block of its class.
export const CACHE_NEXT: u32 = 4;   // offset from the block (its header)

/**
 * The address of the cache list whose newest block holds `need` bytes at a payload aligned to
 * `align`: need's own class, or one of the next CACHE_REACH classes (whose blocks all fit, at
 * most 3 class steps too big: 3/16 of the size above 256 B, 48 B below; heapSize reports it).
 * 0 if none. Only the head of each list is looked at.
 */
@inline export function cacheFind(heap: Heap, need: u32, align: u32): usize {
  const first = heap.cache + (classOf(need) << 2);
  let block = load<usize>(first);
  if (block != 0 && blockSize(block) >= need && cachedAligned(block, align)) return first;
  // The next CACHE_REACH classes, written out (a loop here was measurably slower):
  // their blocks all fit.
  block = load<usize>(first + 4);
  if (block != 0 && cachedAligned(block, align)) return first + 4;
  block = load<usize>(first + 8);
  if (block != 0 && cachedAligned(block, align)) return first + 8;
  block = load<usize>(first + 12);
  if (block != 0 && cachedAligned(block, align)) return first + 12;
  return 0;
}

/** Whether cached `block`'s payload is a multiple of `align` (always, for the default). */
@inline function cachedAligned(block: usize, align: u32): bool {
  return align == ALIGN || (payloadOf(block) & (align - 1)) == 0;
}

/** Takes the newest block off the cache list at `at` and hands it out: its payload. */
@inline export function takeCached(heap: Heap, at: usize): usize {
  const block = load<usize>(at);
  uncache(heap, at, block);
  countAllocated(heap, blockSize(block) - 4);
  return payloadOf(block);
}

/**
 * Takes cached `block`, the head of the cache list at `at`, off that list: it is a used block
 * again as far as the cache is concerned (the caller counts it live or merges it).
 */
@inline function uncache(heap: Heap, at: usize, block: usize): void {
  store<usize>(at, load<usize>(block, CACHE_NEXT));
  const word = header(block);
  setHeader(block, word & ~CACHED);
  heap.cachedBytes -= word & SIZE_MASK;
}

/**
 * Empties the front cache into the free lists, merging each block with its neighbours (spans
 * that become entirely free beyond the reserve go back). Returns how many blocks it moved.
 * O(cached blocks).
 */
export function heapFlushCache(heap: Heap): u32 {
  let moved: u32 = 0;
  for (let index: u32 = 0; index < LIST_COUNT; index++) {
    const at = heap.cache + (index << 2);
    for (let block = load<usize>(at); block != 0; block = load<usize>(at)) {
      uncache(heap, at, block);
      mergeAndFile(heap, block);
      moved++;
    }
  }
  return moved;
}

/**
 * Empties the front cache and gives every entirely free span (the kept reserve) back to the
 * provider. Returns how many spans went back. O(cached blocks + free blocks of the largest
 * class). With no live blocks, the heap then holds nothing.
 */
export function heapTrim(heap: Heap): u32 {
  heapFlushCache(heap);
  const index = classOf(SPAN_BLOCK_BYTES);
  let block = load<usize>(heap.lists + (index << 2));
  let released: u32 = 0;
  while (block != 0) {
    const next = nextFree(block);
    if (blockSize(block) == SPAN_BLOCK_BYTES) {
      listRemove(heap, block);
      removeSpan(heap, block);
      released++;
    }
    block = next;
  }
  return released;
}
