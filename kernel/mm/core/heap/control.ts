// The heap's control block (Heap, HEAP_BYTES, in the caller's memory), its policy constants,
// the chunk map and the statistics counters.
//
// The chunk map (in the control block): a byte per SPAN_BYTES of the address space saying
// whether it starts a span or a large block of this heap (a byte, not two bits: one load on
// every free instead of a load, two shifts and a mask). With the span's block-start bitmap it
// validates every pointer without reading memory the heap does not own: a foreign, interior,
// misaligned or already-freed pointer is reported, never trusted.
import { PageProvider } from "../pages";
import { SPAN_BYTES, SPAN_SHIFT } from "./block";

/** The largest alignment heapAlloc accepts. */
export const MAX_ALIGN: u32 = 4096;
/** Requests above this get their own pages. */
export const LARGE_THRESHOLD: u32 = 64 << 10;

/**
 * heapRealloc moves a block that it must move to more than this to its own pages (a large
 * block), so that the next growth can take the pages after it instead of copying again (a
 * growing buffer). The value is the one that gave the growbuf trace the lowest footprint and
 * instructions per operation in make bench (docs/heap.md has the figures). The cost: such a block
 * keeps its SPAN_BYTES chunk of address space to itself (see largeAlloc).
 */
export const REALLOC_LARGE: u32 = 8 << 10;
/** Requests above this are refused (no rounding can overflow below it). */
export const MAX_REQUEST: u32 = 1 << 30;
export const SL_BITS: u32 = 4;
export const SL_COUNT: u32 = 1 << SL_BITS;
export const SMALL_LIMIT: u32 = 256;          // sizes below: 16 exact classes of 16 bytes
export const FL_COUNT: u32 = 10;              // up to 2^17 > SPAN_BLOCK_BYTES
export const LIST_COUNT: u32 = FL_COUNT * SL_COUNT;
const CHUNKS: u32 = <u32>((<u64>1 << 32) / SPAN_BYTES);         // 32768
const CHUNK_MAP_BYTES: u32 = CHUNKS;                            // a byte each: 32 KiB
export const CHUNK_NONE: u32 = 0, CHUNK_SPAN: u32 = 1, CHUNK_LARGE: u32 = 2;

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

export const FIELDS_BYTES: u32 = (offsetof<Heap>() + 15) & ~15;
/** Bytes of a heap's control block. */
export const HEAP_BYTES: u32 = FIELDS_BYTES + ((FL_COUNT + LIST_COUNT + LIST_COUNT) << 2) + CHUNK_MAP_BYTES;

@inline export function chunkKind(heap: Heap, address: usize): u32 {
  const chunk = <u32>(address >> SPAN_SHIFT);
  return load<u8>(heap.chunkMap + chunk);
}

export function setChunkKind(heap: Heap, address: usize, kind: u32): void {
  store<u8>(heap.chunkMap + <u32>(address >> SPAN_SHIFT), <u8>kind);
}

export function countHeld(heap: Heap, bytes: u32): void {
  heap.heldBytes += bytes;
  if (heap.heldBytes > heap.peakHeldBytes) heap.peakHeldBytes = heap.heldBytes;
}

@inline export function countAllocated(heap: Heap, usable: u32): void {
  const live = heap.liveBytes + usable;
  heap.liveBytes = live;
  if (live > heap.peakLiveBytes) heap.peakLiveBytes = live;
  heap.liveBlocks++;
}

@inline export function countFreed(heap: Heap, usable: u32): void {
  heap.liveBytes -= usable;
  heap.liveBlocks--;
}
