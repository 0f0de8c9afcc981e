// A general-purpose heap: constant-time segregated fit (two-level bitmaps over size classes, in
// the manner of TLSF) with boundary tags, over spans of pages from a page provider (pages.ts),
// with a small front cache of recently freed blocks per class. A heap is an instance: its
// control block lives where the caller says, so the kernel's heap (kmalloc.ts) and a test's heap
// over a buffer are the same code. Hardware-independent.
//
// Spans: SPAN_BYTES, aligned to SPAN_BYTES, so the span of any pointer is `ptr & ~SPAN_MASK`.
//
//   +0     the run header (RUN_*, below; 24 bytes)
//   +24    valid bitmap (16 bytes, 128 bits): bit g <=> group g of the start bitmap holds meaning
//   +32    block-start bitmap: bit i <=> a block's payload starts at span + 16 i (1 KiB; its
//          first 8 bytes, group 0, would be starts below +1024, where no block is: the valid
//          bitmap's second half lives there)
//   +1068  first block (its header; payloads are 16-aligned)
//   ...    blocks, tiling the span
//   +SPAN_BYTES-4   end marker: a used block header of size 0
//
// The start bitmap is never cleared as a whole: a group of 8 bytes of it (the starts in 1 KiB
// of the span) means something only once the group's valid bit is set, and the first start
// recorded in a group zeroes it then (one 8-byte store). A new span clears the 16-byte valid
// bitmap, not the 1 KiB start bitmap.
//
// A block: one header word before its payload. Sizes are multiples of 16 and include the header.
//
//   header (at payload - 4):  31 ...................... 4     3       2         1        0
//                            |       size / 16 ...       |ALIGNED|CACHED|LEFT_FREE| FREE |
//
//   used block:    [header][payload .............................................]
//   free block:    [header][next free][prev free][ ... ][size (footer, last word)]
//   cached block:  [header|CACHED][next cached][ ... ]
//
//   LEFT_FREE says the block just before is free, so its footer (the word before this header)
//   gives its size: freeing merges with both neighbours in O(1). ALIGNED marks a used block
//   that an aligned request (above 16) carved out (see the front cache).
//
// Free blocks sit on lists by class: sizes below 256 in 16 classes of 16 bytes; above, 16
// classes per power of two. An allocation rounds its size up to the next class start, so any
// block on the first non-empty list at or above that class fits (two count-trailing-zeros).
// Requests above LARGE_THRESHOLD get their own run of pages (a "large" block) instead.
//
// The front cache: a freed block first goes, unmerged and still "used" as far as its
// neighbours know, onto a LIFO list of its class (while the cache holds at most liveBytes / 8 +
// CACHE_SLACK bytes), and an allocation of default alignment first looks at the lists of its own
// class and the next CACHE_REACH. A hit costs a few loads and stores instead of a
// split or a merge. An ALIGNED block with a free block before it (most often the gap its
// alignment left) is merged at once instead, so that the gap is not stranded. CACHED keeps a
// double free of a cached block detectable. The cache is flushed into the free lists (merging)
// by heapTrim and before the heap reports out of memory.
//
// The chunk map (in the control block): a byte per SPAN_BYTES of the address space saying
// whether it starts a span or a large block of this heap (a byte, not two bits: one load on
// every free instead of a load, two shifts and a mask). With the span's block-start bitmap it
// validates every pointer without reading memory the heap does not own: a foreign, interior,
// misaligned or already-freed pointer is reported, never trusted.
import { PageProvider, RunVisitor, providerGet, providerPut, providerGrow, PROVIDER_PAGE_SIZE } from "../pages";
import { ReportLevel, reportBegin, reportText, reportAddress, reportDec, reportRatio, reportEnd } from "../report";
import { AllocError, allocErrorText } from "../alloc-error";
import { Invariant } from "../invariant";

const SPAN_SHIFT: u32 = 17;
export const SPAN_BYTES: u32 = 1 << SPAN_SHIFT;   // 128 KiB
const SPAN_MASK: u32 = SPAN_BYTES - 1;
const SPAN_PAGES: u32 = SPAN_BYTES / PROVIDER_PAGE_SIZE;
const SPAN_MAGIC: u32 = 0x4E415053;    // "SPAN"
const LARGE_MAGIC: u32 = 0x4752414C;   // "LARG"
const SPAN_HEADER: u32 = 32;
const SPAN_VALID: u32 = 24;                                     // the valid bitmap: 4 u32
const VALID_SHIFT: u32 = 6;                                     // start bits per valid bit: 64 (8 bytes)
const SPAN_BITMAP: u32 = SPAN_BYTES / 16 / 8;                   // 1024 bytes
const FIRST_PAYLOAD: u32 = SPAN_HEADER + SPAN_BITMAP + 16;      // 1072
const FIRST_BLOCK: u32 = FIRST_PAYLOAD - 4;                     // 1068
const END_BLOCK: u32 = SPAN_BYTES - 4;                          // the end marker's header
/** The size of the one block an empty span holds. */
const SPAN_BLOCK_BYTES: u32 = END_BLOCK - FIRST_BLOCK;          // 130000

const ALIGN: u32 = 16;
const MIN_BLOCK: u32 = 16;
const FREE: u32 = 1;
const LEFT_FREE: u32 = 2;
const CACHED: u32 = 4;
const ALIGNED: u32 = 8;
const SIZE_MASK: u32 = ~(ALIGN - 1);
/** The largest alignment heapAlloc accepts. */
export const MAX_ALIGN: u32 = 4096;
/** Requests above this get their own pages. */
export const LARGE_THRESHOLD: u32 = 64 << 10;
/**
 * heapRealloc moves a block that it must move to more than this to its own pages (a large
 * block), so that the next growth can take the pages after it instead of copying again (a
 * growing buffer). Measured on the growbuf trace (footprint / peak live, instructions per
 * operation, make bench): no such rule 1.59 and 1,794; 32 KiB 1.40 (host replay); 16 KiB 1.24
 * and 1,026, but 1.26 once the kmalloc class caches took their slab regions from the PMM (where
 * large blocks land changed); 8 KiB 1.23 and 847. The cost: such a block keeps its SPAN_BYTES
 * chunk of address space to itself (see largeAlloc).
 */
export const REALLOC_LARGE: u32 = 8 << 10;
/** Requests above this are refused (no rounding can overflow below it). */
export const MAX_REQUEST: u32 = 1 << 30;

const SL_BITS: u32 = 4;
const SL_COUNT: u32 = 1 << SL_BITS;
const SMALL_LIMIT: u32 = 256;          // sizes below: 16 exact classes of 16 bytes
const FL_COUNT: u32 = 10;              // up to 2^17 > SPAN_BLOCK_BYTES
const LIST_COUNT: u32 = FL_COUNT * SL_COUNT;
const CHUNKS: u32 = <u32>((<u64>1 << 32) / SPAN_BYTES);         // 32768
const CHUNK_MAP_BYTES: u32 = CHUNKS;                            // a byte each: 32 KiB
const CHUNK_NONE: u32 = 0, CHUNK_SPAN: u32 = 1, CHUNK_LARGE: u32 = 2;

/** The cache holds at most liveBytes >> CACHE_SHARE_SHIFT plus CACHE_SLACK bytes. */
const CACHE_SHARE_SHIFT: u32 = 3;
const CACHE_SLACK: u32 = 16 << 10;
/** How many classes above its own an allocation looks in the cache (cacheFind). */
const CACHE_REACH: u32 = 3;
/**
 * Aligned requests look in the cache only up to this alignment: a payload is aligned to 2^k
 * by chance once in 2^k / 16, so above it the look mostly misses (measured on the aligned
 * trace, before the gap rule's final form: 206.41 instructions per operation with no limit,
 * 201.38 with 128).
 */
const CACHE_ALIGN_LIMIT: u32 = 128;
// A cached block's payload: +0 the next cached block of its class.
const CACHE_NEXT: u32 = 4;   // offset from the block (its header)

// A run (a span or a large block) starts with this header; a large block's payload follows at
// its payload offset. Spans and large blocks are on two lists, linked through it.
//   +0 magic  +4 heap  +8 next run  +12 previous run  +16 pages
//   +20 large: payload offset
// then, in a span, the valid bitmap (+24, see the span's layout above)
const RUN_MAGIC: u32 = 0, RUN_HEAP: u32 = 4, RUN_NEXT: u32 = 8, RUN_PREV: u32 = 12, RUN_PAGES: u32 = 16, RUN_PAYLOAD: u32 = 20;
const LARGE_HEADER: u32 = 32;

// The control block (HEAP_BYTES, caller's memory). Arrays follow the fields:
//   slBitmaps FL_COUNT u32, lists LIST_COUNT usize, cache LIST_COUNT usize, chunk map.
@unmanaged export class Heap {
  provider: PageProvider;
  flBitmap: u32;
  slBitmaps: usize;
  lists: usize;
  cache: usize;          // the front cache's list heads, one per class
  chunkMap: usize;
  spans: usize;          // first span (doubly linked through span headers)
  larges: usize;         // first large block
  reserveSpans: u32;     // entirely free spans kept instead of returned (config)
  useCache: u32;         // 1: frees go through the front cache; 0: they merge at once (config)
  freeSpans: u32;        // entirely free spans held now
  spanCount: u32;
  largeCount: u32;
  liveBytes: usize;      // usable bytes of live blocks (a 32-bit address space bounds them all)
  peakLiveBytes: usize;
  heldBytes: usize;      // bytes held from the provider
  peakHeldBytes: usize;
  cachedBytes: usize;    // bytes of the blocks in the front cache (headers included)
  liveBlocks: u32;
  errors: u32;           // bad pointers and bad requests reported
}

const FIELDS_BYTES: u32 = (offsetof<Heap>() + 15) & ~15;
/** Bytes of a heap's control block. */
export const HEAP_BYTES: u32 = FIELDS_BYTES + ((FL_COUNT + LIST_COUNT + LIST_COUNT) << 2) + CHUNK_MAP_BYTES;

// --- blocks -----------------------------------------------------------------------------------

@inline function header(block: usize): u32 { return load<u32>(block); }
@inline function setHeader(block: usize, value: u32): void { store<u32>(block, value); }
@inline function blockSize(block: usize): u32 { return header(block) & SIZE_MASK; }
@inline function isFree(block: usize): bool { return (header(block) & FREE) != 0; }
@inline function isCached(block: usize): bool { return (header(block) & CACHED) != 0; }
@inline function nextFree(block: usize): usize { return load<usize>(block, 4); }
@inline function prevFree(block: usize): usize { return load<usize>(block, 8); }
@inline function setNextFree(block: usize, next: usize): void { store<usize>(block, next, 4); }
@inline function setPrevFree(block: usize, prev: usize): void { store<usize>(block, prev, 8); }
@inline function payloadOf(block: usize): usize { return block + 4; }
@inline function blockOf(payload: usize): usize { return payload - 4; }
@inline function spanOf(address: usize): usize { return address & ~(<usize>SPAN_MASK); }
@inline function rightOf(block: usize): usize { return block + blockSize(block); }

/** Sets block's LEFT_FREE bit to `leftFree`, keeping the rest. */
@inline function setLeftFree(block: usize, leftFree: bool): void {
  setHeader(block, leftFree ? header(block) | LEFT_FREE : header(block) & ~LEFT_FREE);
}

/** Marks `block` (of `size`) free, with its footer, and tells its right neighbour. */
@inline function writeFreeBlock(block: usize, size: u32, leftFree: bool): void {
  setHeader(block, size | FREE | (leftFree ? LEFT_FREE : 0));
  store<u32>(block + size - 4, size);
  setLeftFree(block + size, true);
}

// --- the block-start bitmap of a span -------------------------------------------------------

@inline function startBit(payload: usize): u32 { return <u32>(payload & SPAN_MASK) >> 4; }
/** The start-bitmap word that holds start bit `bit` of `span`. */
@inline function startWordAt(span: usize, bit: u32): usize { return span + SPAN_HEADER + ((bit >> 5) << 2); }
/** The valid-bitmap word that holds the valid bit of start bit `bit`'s group. */
@inline function validWordAt(span: usize, bit: u32): usize { return span + SPAN_VALID + ((bit >> (VALID_SHIFT + 5)) << 2); }
/** That valid bit, within its word. */
@inline function validBit(bit: u32): u32 { return 1 << ((bit >> VALID_SHIFT) & 31); }
/** Zeroes the group (8 bytes) of the start bitmap that holds start bit `bit` (never group 0). */
@inline function zeroGroup(span: usize, bit: u32): void {
  store<u64>(span + SPAN_HEADER + ((bit >> VALID_SHIFT) << (VALID_SHIFT - 3)), 0);
}

/** Records that a block's payload starts at `payload` (zeroing its bitmap group first if new). */
@inline function markStart(payload: usize): void {
  const span = spanOf(payload), bit = startBit(payload);
  const validAt = validWordAt(span, bit), valid = load<u32>(validAt);
  if ((valid & validBit(bit)) == 0) {
    zeroGroup(span, bit);
    store<u32>(validAt, valid | validBit(bit));
  }
  const at = startWordAt(span, bit);
  store<u32>(at, load<u32>(at) | (1 << (bit & 31)));
}
/** Forgets the start at `payload` (one that markStart recorded). */
@inline function clearStart(payload: usize): void {
  const bit = startBit(payload), at = startWordAt(spanOf(payload), bit);
  store<u32>(at, load<u32>(at) & ~(1 << (bit & 31)));
}
@inline function isStart(payload: usize): bool {
  const span = spanOf(payload), bit = startBit(payload);
  return (load<u32>(validWordAt(span, bit)) & validBit(bit)) != 0 &&
    (load<u32>(startWordAt(span, bit)) & (1 << (bit & 31))) != 0;
}

// --- the chunk map ----------------------------------------------------------------------------

@inline function chunkKind(heap: Heap, address: usize): u32 {
  const chunk = <u32>(address >> SPAN_SHIFT);
  return load<u8>(heap.chunkMap + chunk);
}
function setChunkKind(heap: Heap, address: usize, kind: u32): void {
  store<u8>(heap.chunkMap + <u32>(address >> SPAN_SHIFT), <u8>kind);
}

// --- size classes -----------------------------------------------------------------------------

@inline function log2(value: u32): u32 { return 31 - clz(value); }

/** The list a block of `size` bytes is filed under, computed (see classOf). */
function computeClass(size: u32): u32 {
  if (size < SMALL_LIMIT) return size >> 4;
  const log = log2(size);
  return ((log - 7) << SL_BITS) + ((size >> (log - SL_BITS)) & (SL_COUNT - 1));
}

/** `size` rounded up so that every block of its class or above fits it. */
function roundToClass(size: u32): u32 {
  if (size < SMALL_LIMIT) return size;
  const step = (<u32>1 << (log2(size) - SL_BITS)) - 1;
  return (size + step) & ~step;
}

// Classes by table: two bytes per 16-byte size step up to SPAN_BYTES (16 KiB, shared by every
// heap, filled when the module starts). A load instead of about a dozen instructions with a
// bit scan, on every cached free and allocation, every list insert and remove and every search.
//   classTable[size / 16]  the class a block of `size` is filed under
//   fitTable[size / 16]    the lowest class whose blocks all hold `size` (LIST_COUNT: none)
const CLASS_TABLE_ENTRIES: u32 = SPAN_BYTES >> 4;
const classTable = memory.data(CLASS_TABLE_ENTRIES);
const fitTable = memory.data(CLASS_TABLE_ENTRIES);
for (let i: u32 = 0; i < CLASS_TABLE_ENTRIES; i++) {
  store<u8>(classTable + i, <u8>computeClass(i << 4));
  store<u8>(fitTable + i, <u8>min<u32>(computeClass(roundToClass(i << 4)), LIST_COUNT));
}

/** The list a block of `size` bytes (a multiple of 16 below SPAN_BYTES) is filed under. */
@inline function classOf(size: u32): u32 { return load<u8>(classTable + (size >> 4)); }
/** The lowest list whose blocks all hold `size` bytes (a multiple of 16 below SPAN_BYTES). */
@inline function fitClassOf(size: u32): u32 { return load<u8>(fitTable + (size >> 4)); }

@inline function listInsert(heap: Heap, block: usize): void {
  const size = blockSize(block);
  const index = classOf(size);
  const headAt = heap.lists + (index << 2);
  const head = load<usize>(headAt);
  setNextFree(block, head);
  setPrevFree(block, 0);
  if (head != 0) setPrevFree(head, block);
  store<usize>(headAt, block);
  const fl = index >> SL_BITS;
  const slAt = heap.slBitmaps + (fl << 2);
  store<u32>(slAt, load<u32>(slAt) | (1 << (index & (SL_COUNT - 1))));
  heap.flBitmap |= 1 << fl;
  if (size == SPAN_BLOCK_BYTES) heap.freeSpans++;
}

@inline function listRemove(heap: Heap, block: usize): void { listRemoveAt(heap, block, classOf(blockSize(block))); }

/** Takes `block` off list `index` (its class, which the caller knows). */
@inline function listRemoveAt(heap: Heap, block: usize, index: u32): void {
  const next = nextFree(block), prev = prevFree(block);
  if (next != 0) setPrevFree(next, prev);
  if (prev != 0) setNextFree(prev, next);
  else {
    store<usize>(heap.lists + (index << 2), next);
    if (next == 0) {
      const fl = index >> SL_BITS;
      const slAt = heap.slBitmaps + (fl << 2);
      const sl = load<u32>(slAt) & ~(1 << (index & (SL_COUNT - 1)));
      store<u32>(slAt, sl);
      if (sl == 0) heap.flBitmap &= ~(1 << fl);
    }
  }
  if (blockSize(block) == SPAN_BLOCK_BYTES) heap.freeSpans--;
}

/** The index of the first non-empty list whose blocks all hold `size` bytes, or LIST_COUNT. O(1). */
@inline function findList(heap: Heap, size: u32): u32 {
  const index = fitClassOf(size);
  let fl = index >> SL_BITS;
  if (fl >= FL_COUNT) return LIST_COUNT;
  let sl = load<u32>(heap.slBitmaps + (fl << 2)) & (0xFFFFFFFF << (index & (SL_COUNT - 1)));
  if (sl == 0) {
    const above = heap.flBitmap & (0xFFFFFFFF << (fl + 1));
    if (above == 0) return LIST_COUNT;
    fl = ctz(above);
    sl = load<u32>(heap.slBitmaps + (fl << 2));
  }
  return (fl << SL_BITS) + ctz(sl);
}

// --- spans ------------------------------------------------------------------------------------

/**
 * Gets a new span from the provider and carves a block of `need` bytes aligned to `align` from
 * its start (allocFit's contract): the block's payload, or 0 if the provider has no pages.
 * The span is known to be empty, so for default alignment this writes the block and the free
 * tail directly; a gap goes through the general carve.
 */
function carveSpan(heap: Heap, need: u32, align: u32): usize {
  const span = providerGet(heap.provider, SPAN_PAGES, SPAN_PAGES);
  if (span == 0) return 0;
  heap.spans = claimRun(heap, span, SPAN_MAGIC, CHUNK_SPAN, SPAN_PAGES, heap.spans);
  heap.spanCount++;
  setHeader(span + END_BLOCK, 0);                    // the end marker: used, size 0
  const block = span + FIRST_BLOCK;
  // (need is at most LARGE_THRESHOLD + 16, so the tail is always big enough to be a block)
  if ((payloadOf(block) & (align - 1)) != 0) {
    freshStarts(span, 0);
    writeFreeBlock(block, SPAN_BLOCK_BYTES, false);
    return carve(heap, block, need, align);
  }
  const rest = block + need;
  freshStarts(span, startBit(payloadOf(rest)));
  writeFreeBlock(rest, SPAN_BLOCK_BYTES - need, false);
  listInsert(heap, rest);
  setHeader(block, need | (align > ALIGN ? ALIGNED : 0));
  countAllocated(heap, need - 4);
  return payloadOf(block);
}

/** Returns the span holding `block` to the provider: the caller has taken every block in it off the lists. */
function removeSpan(heap: Heap, block: usize): void {
  heap.spans = releaseRun(heap, spanOf(block), heap.spans);
  heap.spanCount--;
}

/**
 * Sets up the start and valid bitmaps of new `span` with the first block's start and, unless
 * `restBit` is 0, start bit `restBit` (above the first block's): markStart twice, written for
 * bitmaps known to be empty, so without the valid tests and read-modify-writes (42
 * instructions less per span taken: heap.span_take 429 before, 387 after).
 */
@inline function freshStarts(span: usize, restBit: u32): void {
  const firstBit = FIRST_PAYLOAD >> 4;
  zeroGroup(span, firstBit);
  store<u32>(startWordAt(span, firstBit), 1 << (firstBit & 31));
  store<u64>(span, 0, SPAN_VALID);                   // only the first block's group is valid
  store<u64>(span, 0, SPAN_VALID + 8);
  store<u32>(validWordAt(span, firstBit), validBit(firstBit));
  if (restBit == 0) return;
  const validAt = validWordAt(span, restBit), at = startWordAt(span, restBit);
  if ((restBit >> VALID_SHIFT) != (firstBit >> VALID_SHIFT)) {
    zeroGroup(span, restBit);
    store<u32>(validAt, load<u32>(validAt) | validBit(restBit));
  }
  store<u32>(at, load<u32>(at) | (1 << (restBit & 31)));
}

/**
 * Writes the run header of `run` (fresh from the provider, `pages` long), marks it in the chunk
 * map as `kind`, counts it as held and links it first on the list starting at `head`.
 * Returns the new first element.
 */
@inline function claimRun(heap: Heap, run: usize, magic: u32, kind: u32, pages: u32, head: usize): usize {
  store<u32>(run, magic, RUN_MAGIC);
  store<usize>(run, changetype<usize>(heap), RUN_HEAP);
  store<usize>(run, head, RUN_NEXT);
  store<usize>(run, 0, RUN_PREV);
  store<u32>(run, pages, RUN_PAGES);
  if (head != 0) store<usize>(head, run, RUN_PREV);
  setChunkKind(heap, run, kind);
  countHeld(heap, pages * PROVIDER_PAGE_SIZE);
  return run;
}

/**
 * Unlinks `run` from the list starting at `head`, forgets it and gives its pages back to the
 * provider. Returns the list's new first element.
 */
function releaseRun(heap: Heap, run: usize, head: usize): usize {
  const next = load<usize>(run, RUN_NEXT), prev = load<usize>(run, RUN_PREV), pages = load<u32>(run, RUN_PAGES);
  if (next != 0) store<usize>(next, prev, RUN_PREV);
  if (prev != 0) store<usize>(prev, next, RUN_NEXT); else head = next;
  setChunkKind(heap, run, CHUNK_NONE);
  store<u32>(run, 0, RUN_MAGIC);
  heap.heldBytes -= pages * PROVIDER_PAGE_SIZE;
  providerPut(heap.provider, run, pages);
  return head;
}

function countHeld(heap: Heap, bytes: u32): void {
  heap.heldBytes += bytes;
  if (heap.heldBytes > heap.peakHeldBytes) heap.peakHeldBytes = heap.heldBytes;
}

@inline function countAllocated(heap: Heap, usable: u32): void {
  const live = heap.liveBytes + usable;
  heap.liveBytes = live;
  if (live > heap.peakLiveBytes) heap.peakLiveBytes = live;
  heap.liveBlocks++;
}

@inline function countFreed(heap: Heap, usable: u32): void {
  heap.liveBytes -= usable;
  heap.liveBlocks--;
}

// --- the public operations --------------------------------------------------------------------

/**
 * Makes an empty heap whose control block (HEAP_BYTES, 16-aligned) is at `at`, getting memory
 * from `provider`, keeping up to `reserveSpans` entirely free spans instead of giving them back,
 * with a front cache of freed blocks if `useCache` (the kernel's heap has one; without, every
 * free merges at once).
 */
export function heapCreate(at: usize, provider: PageProvider, reserveSpans: u32, useCache: bool): Heap {
  memory.fill(at, 0, HEAP_BYTES);
  const heap = changetype<Heap>(at);
  heap.provider = provider;
  heap.slBitmaps = at + FIELDS_BYTES;
  heap.lists = heap.slBitmaps + (FL_COUNT << 2);
  heap.cache = heap.lists + (LIST_COUNT << 2);
  heap.chunkMap = heap.cache + (LIST_COUNT << 2);
  heap.reserveSpans = reserveSpans;
  heap.useCache = useCache ? 1 : 0;
  return heap;
}

/**
 * `size` bytes aligned to `align` (0: 16; a power of two up to MAX_ALIGN), or 0: logged with
 * the reason for size 0, a size above MAX_REQUEST or a bad alignment; silently (the caller
 * decides) when the provider has no memory. Never panics. O(1) apart from the provider call.
 * The caller frees the block with heapFree.
 */
export function heapAlloc(heap: Heap, size: u32, align: u32): usize {
  // The fast path: default alignment, a span block, and a cached block of the request's class
  // (if the newest one there is too small, of one of the next CACHE_REACH classes up).
  if ((align | ALIGN) == ALIGN && size - 1 < LARGE_THRESHOLD) {
    const need = (size + 4 + ALIGN - 1) & ~(ALIGN - 1);   // at least MIN_BLOCK since size >= 1
    const at = cacheFind(heap, need, ALIGN);
    if (at != 0) return takeCached(heap, at);
    return allocFit(heap, need, ALIGN);   // a request already known to be sound
  }
  return allocSlow(heap, size, align);
}

/**
 * The address of the cache list whose newest block holds `need` bytes at a payload aligned to
 * `align`: need's own class, or one of the next CACHE_REACH classes (whose blocks all fit, at
 * most 3 class steps too big: 3/16 of the size above 256 B, 48 B below; heapSize reports it).
 * 0 if none. Only the head of each list is looked at.
 */
@inline function cacheFind(heap: Heap, need: u32, align: u32): usize {
  const first = heap.cache + (classOf(need) << 2);
  let block = load<usize>(first);
  if (block != 0 && blockSize(block) >= need && cachedAligned(block, align)) return first;
  // The next CACHE_REACH classes, written out (a loop here cost 7 instructions a pair):
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
@inline function takeCached(heap: Heap, at: usize): usize {
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

/** heapAlloc off its fast path: checks the request, then the cache, the free lists or a large block. */
function allocSlow(heap: Heap, size: u32, align: u32): usize {
  if (align == 0) align = ALIGN;
  // (a power of two: one bit set; `align & (align - 1)` would become a software popcount here)
  if (size == 0 || size > MAX_REQUEST || align > MAX_ALIGN || align != <u32>1 << ctz(align)) {
    heap.errors++;
    if (reportBegin(ReportLevel.Error, "heap")) {
      reportText("alloc("); reportDec(size); reportText(", "); reportDec(align); reportText("): ");
      reportText(size == 0 ? "size 0" : size > MAX_REQUEST ? "size too large" : "alignment not a power of two up to 4096");
      reportText("; returns 0"); reportEnd();
    }
    return 0;
  }
  if (align < ALIGN) align = ALIGN;
  if (size > LARGE_THRESHOLD) return largeAlloc(heap, size, align);
  const need = max<u32>((size + 4 + ALIGN - 1) & ~(ALIGN - 1), MIN_BLOCK);
  if (align > ALIGN && align <= CACHE_ALIGN_LIMIT) {
    // An aligned request may take a cached block whose payload happens to be aligned (often
    // one an aligned request of the same class freed).
    const at = cacheFind(heap, need, align);
    if (at != 0) return takeCached(heap, at);
  }
  return allocFit(heap, need, align);
}

/**
 * A block of `need` bytes (a multiple of 16, at least MIN_BLOCK, for a span) whose payload is
 * aligned to `align` (16..MAX_ALIGN), from the free lists or a new span: its payload, or 0 when
 * the provider has no pages.
 */
@inline function allocFit(heap: Heap, need: u32, align: u32): usize {
  const search = need + align - ALIGN;   // room to move the payload up
  let index = findList(heap, search);
  if (index == LIST_COUNT) {
    const fresh = carveSpan(heap, need, align);
    if (fresh != 0) return fresh;
    // Out of pages. Last resort: merge the cache's blocks (which may also give whole spans
    // back to the provider), then look again, then try for a span again.
    if (heapFlushCache(heap) == 0) return 0;
    index = findList(heap, search);
    if (index == LIST_COUNT) return carveSpan(heap, need, align);
  }
  return carve(heap, takeListed(heap, index), need, align);
}

/**
 * Carves a block of `need` bytes aligned to `align` out of free `block` (on no list, big enough
 * for both): the gap before the payload and the tail after it are filed as free blocks. Counts
 * the block live and returns its payload.
 */
@inline function carve(heap: Heap, block: usize, need: u32, align: u32): usize {
  let size0 = blockSize(block);
  const leftFree = (header(block) & LEFT_FREE) != 0;   // false: free blocks are merged
  // Move the payload up to the alignment: the gap (a multiple of 16) becomes a free block.
  const gap = <u32>((payloadOf(block) + align - 1) & ~(<usize>align - 1)) - <u32>payloadOf(block);
  if (gap != 0) {
    writeFreeBlock(block, gap, leftFree);
    listInsert(heap, block);
    block += gap;
    size0 -= gap;
    markStart(payloadOf(block));
  }
  size0 = keepHead(heap, block, size0, need);
  setHeader(block, size0 | (gap != 0 ? LEFT_FREE : 0) | (align > ALIGN ? ALIGNED : 0));
  countAllocated(heap, size0 - 4);
  return payloadOf(block);
}

/** Takes the first block off free list `index` (not empty): free, on no list. */
@inline function takeListed(heap: Heap, index: u32): usize {
  const block = load<usize>(heap.lists + (index << 2));
  listRemoveAt(heap, block, index);
  return block;
}

/**
 * `block` is to be used, `size` bytes long, of which it needs `need`: files the tail as a free
 * block if it can hold one, else tells the right neighbour its left is used. Returns the size
 * the block keeps (the caller writes its header).
 */
@inline function keepHead(heap: Heap, block: usize, size: u32, need: u32): u32 {
  if (size - need < MIN_BLOCK) { setLeftFree(block + size, false); return size; }
  const rest = block + need;
  writeFreeBlock(rest, size - need, false);
  markStart(payloadOf(rest));
  listInsert(heap, rest);
  return need;
}

/**
 * A large block: a run of pages of its own for `size` bytes at `align`, its header at the run's
 * start, the run aligned to SPAN_BYTES (the chunk map marks its first chunk). The rest of that
 * chunk stays free in the provider, for its other users: the heap puts no span or run there.
 * Its payload, or 0 if the provider has no pages even after a trim.
 */
function largeAlloc(heap: Heap, size: u32, align: u32): usize {
  const offset = max<u32>(LARGE_HEADER, align);
  const pages = (offset + size + PROVIDER_PAGE_SIZE - 1) / PROVIDER_PAGE_SIZE;
  let run = providerGet(heap.provider, pages, SPAN_PAGES);   // chunk-aligned: see the chunk map
  if (run == 0) {
    // Out of pages: give back what the cache and the reserve hold, and try once more.
    if (heapTrim(heap) == 0) return 0;
    run = providerGet(heap.provider, pages, SPAN_PAGES);
    if (run == 0) return 0;
  }
  heap.larges = claimRun(heap, run, LARGE_MAGIC, CHUNK_LARGE, pages, heap.larges);
  store<u32>(run, offset, RUN_PAYLOAD);
  heap.largeCount++;
  countAllocated(heap, pages * PROVIDER_PAGE_SIZE - offset);
  return run + offset;
}

/**
 * Checks that `ptr` is a live block of this heap: AllocError.Ok, or why not. Reads only memory
 * the heap owns. O(1).
 */
export function heapCheckPointer(heap: Heap, ptr: usize): AllocError { return classify(heap, ptr, chunkKind(heap, ptr)); }

/** heapCheckPointer, given the chunk kind of `ptr` (inlined into the operations that need both). */
@inline function classify(heap: Heap, ptr: usize, kind: u32): AllocError {
  if (kind == CHUNK_LARGE) {
    const run = spanOf(ptr);
    if (ptr == run + load<u32>(run, RUN_PAYLOAD)) return AllocError.Ok;
    return (ptr & (ALIGN - 1)) != 0 ? AllocError.Misaligned : AllocError.Interior;
  }
  if (kind != CHUNK_SPAN) return AllocError.Foreign;
  if ((ptr & (ALIGN - 1)) != 0) return AllocError.Misaligned;
  const offset = <u32>(ptr & SPAN_MASK);
  if (offset - FIRST_PAYLOAD >= END_BLOCK - FIRST_PAYLOAD || !isStart(ptr)) return AllocError.Interior;
  return (header(blockOf(ptr)) & (FREE | CACHED)) != 0 ? AllocError.DoubleFree : AllocError.Ok;
}

/** The usable size of live block `ptr` (at least what was asked for), or 0 if it is not one. */
export function heapSize(heap: Heap, ptr: usize): u32 {
  const kind = chunkKind(heap, ptr);
  return classify(heap, ptr, kind) == AllocError.Ok ? usableSize(ptr, kind) : 0;
}

/** The usable size of `ptr`, which classify accepted as a block in a chunk of `kind`. */
function usableSize(ptr: usize, kind: u32): u32 {
  if (kind == CHUNK_LARGE) {
    const run = spanOf(ptr);
    return load<u32>(run, RUN_PAGES) * PROVIDER_PAGE_SIZE - load<u32>(run, RUN_PAYLOAD);
  }
  return blockSize(blockOf(ptr)) - 4;
}

/**
 * Frees block `ptr`: into the front cache when its class has room there, otherwise merging it
 * with free neighbours (an entirely free span goes back to the provider unless fewer than
 * `reserveSpans` are kept). A pointer that is not a live block of this heap (foreign,
 * misaligned, interior, already free) is logged with the reason and returned as an error, and
 * nothing changes. O(1) apart from the provider call.
 */
export function heapFree(heap: Heap, ptr: usize): AllocError {
  // The fast path: a live span block, into the cache if it has room, else merged.
  const kind = chunkKind(heap, ptr);
  if (kind == CHUNK_SPAN && classify(heap, ptr, kind) == AllocError.Ok) {
    const block = blockOf(ptr);
    const word = header(block);
    const size = word & SIZE_MASK;
    countFreed(heap, size - 4);
    const strandsGap = (word & (ALIGNED | LEFT_FREE)) == (ALIGNED | LEFT_FREE);
    if (heap.useCache != 0 && !strandsGap && heap.cachedBytes + size <= (heap.liveBytes >> CACHE_SHARE_SHIFT) + CACHE_SLACK) {
      const at = heap.cache + (classOf(size) << 2);
      setHeader(block, word | CACHED);
      store<usize>(block, load<usize>(at), CACHE_NEXT);
      store<usize>(at, block);
      heap.cachedBytes += size;
    } else mergeAndFile(heap, block);
    return AllocError.Ok;
  }
  return freeUncached(heap, ptr);   // a large block, or a bad pointer to report
}

/**
 * heapFree without the cache: checks `ptr` (a bad one is logged and returned, nothing changes),
 * then frees a large block's pages or merges a span block into the free lists.
 */
function freeUncached(heap: Heap, ptr: usize): AllocError {
  const kind = chunkKind(heap, ptr);
  const error = classify(heap, ptr, kind);
  if (error != AllocError.Ok) { reportBadPointer(heap, "free", ptr, error); return error; }
  if (kind == CHUNK_LARGE) { largeFree(heap, spanOf(ptr)); return AllocError.Ok; }
  const block = blockOf(ptr);
  countFreed(heap, blockSize(block) - 4);
  mergeAndFile(heap, block);
  return AllocError.Ok;
}

/**
 * Makes used (or just uncached) `block` free: merges it with its free neighbours and files the
 * result, or gives its span back if that makes the span entirely free and the reserve is full.
 * Statistics are the caller's.
 */
function mergeAndFile(heap: Heap, block: usize): void {
  let size = blockSize(block);
  const right = block + size;
  const rightBytes = isFree(right) ? blockSize(right) : 0;
  const leftBytes = (header(block) & LEFT_FREE) != 0 ? load<u32>(block - 4) : 0;
  if (size + rightBytes + leftBytes == SPAN_BLOCK_BYTES && heap.freeSpans >= heap.reserveSpans) {
    // The span becomes entirely free and goes back: its tags and start bits need no update.
    if (rightBytes != 0) listRemove(heap, right);
    if (leftBytes != 0) listRemove(heap, block - leftBytes);
    removeSpan(heap, block);
    return;
  }
  if (rightBytes != 0) {
    listRemove(heap, right);
    clearStart(payloadOf(right));
    size += rightBytes;
  }
  if (leftBytes != 0) {
    listRemove(heap, block - leftBytes);
    clearStart(payloadOf(block));
    size += leftBytes;
    block -= leftBytes;
  }
  writeFreeBlock(block, size, false);
  listInsert(heap, block);
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

function largeFree(heap: Heap, run: usize): void {
  countFreed(heap, usableSize(run + load<u32>(run, RUN_PAYLOAD), CHUNK_LARGE));
  heap.larges = releaseRun(heap, run, heap.larges);
  heap.largeCount--;
}

/** Logs a refused pointer: the operation, the address and the reason. Counts it. */
function reportBadPointer(heap: Heap, what: string, ptr: usize, error: AllocError): void {
  heap.errors++;
  if (!reportBegin(ReportLevel.Error, "heap")) return;
  reportText(what); reportText("("); reportAddress(<u32>ptr); reportText("): "); reportText(allocErrorText(error)); reportText("; heap unchanged"); reportEnd();
}

/**
 * Resizes live block `ptr` to `size` bytes, keeping its contents up to the smaller size: in
 * place when the block already fits, when its right neighbour is free and large enough, or (a
 * large block) when the provider can add the pages after it; otherwise by allocating (default
 * alignment), copying and freeing. A block that has to move to more than REALLOC_LARGE bytes
 * moves to its own pages (a large block), where it can go on growing in place; a large block
 * shrunk to REALLOC_LARGE or less moves back into a span. `ptr` 0 allocates; `size` 0 frees
 * and returns 0. A bad `ptr` is logged and returns 0 with the heap unchanged; no memory returns
 * 0 and leaves the old block as it was.
 */
export function heapRealloc(heap: Heap, ptr: usize, size: u32): usize {
  if (ptr == 0) return heapAlloc(heap, size, 0);
  const kind = chunkKind(heap, ptr);
  const error = classify(heap, ptr, kind);
  if (error != AllocError.Ok) { reportBadPointer(heap, "realloc", ptr, error); return 0; }
  if (size == 0) { freeUncached(heap, ptr); return 0; }   // merged at once: the caller shrinks
  const have = usableSize(ptr, kind);
  if (kind == CHUNK_SPAN) {
    if (size <= have) return ptr;
    if (size <= LARGE_THRESHOLD && growInPlace(heap, blockOf(ptr), size)) return ptr;
  } else {
    if (size <= have && size > REALLOC_LARGE) return ptr;
    if (size > have && size <= MAX_REQUEST && growLarge(heap, spanOf(ptr), size)) return ptr;
  }
  let moved: usize = 0;
  if (size > REALLOC_LARGE && size <= MAX_REQUEST) moved = largeAlloc(heap, size, ALIGN);
  // A span block (also when no run of pages could be had), or the refusal of a size too large
  if (moved == 0 && (size <= LARGE_THRESHOLD || size > MAX_REQUEST)) moved = heapAlloc(heap, size, 0);
  if (moved == 0) return 0;
  memory.copy(moved, ptr, min<u32>(have, size));
  heapFree(heap, ptr);
  return moved;
}

/** Grows used `block` into its free right neighbour if together they hold `size`. */
function growInPlace(heap: Heap, block: usize, size: u32): bool {
  const need = (size + 4 + ALIGN - 1) & ~(ALIGN - 1);
  const right = rightOf(block);
  const have = blockSize(block);
  if (!isFree(right) || have + blockSize(right) < need) return false;
  countFreed(heap, have - 4);
  listRemove(heap, right);
  clearStart(payloadOf(right));
  const total = keepHead(heap, block, have + blockSize(right), need);
  setHeader(block, total | (header(block) & (LEFT_FREE | ALIGNED)));
  countAllocated(heap, total - 4);
  return true;
}

/**
 * Grows large block `run` in place to hold `size` bytes, if the provider can add the pages right
 * after it (PageProvider.growPages). Whether it did.
 */
function growLarge(heap: Heap, run: usize, size: u32): bool {
  const pages = load<u32>(run, RUN_PAGES), offset = load<u32>(run, RUN_PAYLOAD);
  const want = (offset + size + PROVIDER_PAGE_SIZE - 1) / PROVIDER_PAGE_SIZE;
  if (!providerGrow(heap.provider, run, pages, want - pages)) return false;
  countFreed(heap, pages * PROVIDER_PAGE_SIZE - offset);
  store<u32>(run, want, RUN_PAGES);
  countHeld(heap, (want - pages) * PROVIDER_PAGE_SIZE);
  countAllocated(heap, want * PROVIDER_PAGE_SIZE - offset);
  return true;
}

/**
 * For the end of a workload that freed every block (benchmarks, replays): runs the checker,
 * gives the reserve back (heapTrim) and returns Invariant.Holds, or the checker's failure, or
 * HeapStillHolding if the heap still has live blocks or holds memory, or HeapRefusedCalls if it
 * refused a call as bad input (a workload never makes one). O(heap), as heapCheck.
 */
export function heapEndCheck(heap: Heap): Invariant {
  const broken = heapCheck(heap);
  heapTrim(heap);
  const holding = heap.heldBytes != 0 || heap.liveBlocks != 0;
  return broken != Invariant.Holds ? broken : holding ? Invariant.HeapStillHolding : heap.errors != 0 ? Invariant.HeapRefusedCalls : Invariant.Holds;
}

/**
 * Calls `visit(context, address, pages)` for every run of pages the heap holds from its provider:
 * each span (free ones in reserve too) and each large block. O(runs).
 */
export function heapEachRun(heap: Heap, visit: RunVisitor, context: usize): void {
  for (let run = heap.spans; run != 0; run = load<usize>(run, RUN_NEXT)) visit(context, run, load<u32>(run, RUN_PAGES));
  for (let run = heap.larges; run != 0; run = load<usize>(run, RUN_NEXT)) visit(context, run, load<u32>(run, RUN_PAGES));
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

// --- statistics and the checker ---------------------------------------------------------------

/** The smallest block size of first-level class `fl` (header included), for the statistics. */
function classStart(fl: u32): u32 { return fl == 0 ? 0 : SMALL_LIMIT << (fl - 1); }

/** The first-level class of a block of `size` bytes (0: below SMALL_LIMIT), for the counts. */
@inline function flOf(size: u32): u32 { return size < SMALL_LIMIT ? 0 : log2(size) - 7; }

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
  for (let span = heap.spans; span != 0; span = load<usize>(span, RUN_NEXT)) {
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
  for (let span = heap.spans; span != 0; span = load<usize>(span, RUN_NEXT)) {
    if (!runHeaderSound(heap, span, SPAN_MAGIC, CHUNK_SPAN, prev) || load<u32>(span, RUN_PAGES) != SPAN_PAGES) return Invariant.HeapRunHeader;
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
  for (let run = heap.larges; run != 0; run = load<usize>(run, RUN_NEXT)) {
    if (!runHeaderSound(heap, run, LARGE_MAGIC, CHUNK_LARGE, prev)) return Invariant.HeapRunHeader;
    prev = run; larges++; liveBlocks++;
    held += load<u32>(run, RUN_PAGES) * PROVIDER_PAGE_SIZE;
    liveBytes += usableSize(run + load<u32>(run, RUN_PAYLOAD), CHUNK_LARGE);
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
  return load<u32>(run, RUN_MAGIC) == magic && load<usize>(run, RUN_HEAP) == changetype<usize>(heap) &&
    load<usize>(run, RUN_PREV) == prev && chunkKind(heap, run) == kind && (run & SPAN_MASK) == 0;
}
