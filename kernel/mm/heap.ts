// A general-purpose heap: constant-time segregated fit (two-level bitmaps over size classes, in
// the manner of TLSF) with boundary tags, over spans of pages from a page provider (pages.ts).
// A heap is an instance: its control block lives where the caller says, so the kernel's heap
// (kmalloc.ts) and a test's heap over a buffer are the same code. Hardware-independent.
//
// Spans: SPAN_BYTES, aligned to SPAN_BYTES, so the span of any pointer is `ptr & ~SPAN_MASK`.
//
//   +0     span header: the run header (RUN_*, below; SPAN_HEADER bytes)
//   +32    block-start bitmap: bit i <=> a block's payload starts at span + 16 i
//   +1068  first block (its header; payloads are 16-aligned)
//   ...    blocks, tiling the span
//   +SPAN_BYTES-4   end marker: a used block header of size 0
//
// A block: one header word before its payload. Sizes are multiples of 16 and include the header.
//
//   header (at payload - 4):  31 ............................ 4   3   2   1       0
//                            |           size / 16 ...        | 0 | 0 |LEFT_FREE| FREE |
//
//   used block:  [header][payload .............................................]
//   free block:  [header][next free][prev free][ ... ][size (footer, last word)]
//
//   LEFT_FREE says the block just before is free, so its footer (the word before this header)
//   gives its size: freeing merges with both neighbours in O(1).
//
// Free blocks sit on lists by class: sizes below 256 in 16 classes of 16 bytes; above, 16
// classes per power of two. An allocation rounds its size up to the next class start, so any
// block on the first non-empty list at or above that class fits (two count-trailing-zeros).
// Requests above LARGE_THRESHOLD get their own run of pages (a "large" block) instead.
//
// The chunk map (in the control block): two bits per SPAN_BYTES of the address space saying
// whether it starts a span or a large block of this heap. With the span's block-start bitmap it
// validates every pointer without reading memory the heap does not own: a foreign, interior,
// misaligned or already-freed pointer is reported, never trusted.
import { PageProvider, providerGet, providerPut, PROVIDER_PAGE_SIZE } from "./pages";
import { LogLevel, logBegin } from "../console/log";
import { puts, putHex, putDec, putRatio } from "../console/console";

const SPAN_SHIFT: u32 = 17;
export const SPAN_BYTES: u32 = 1 << SPAN_SHIFT;   // 128 KiB
const SPAN_MASK: u32 = SPAN_BYTES - 1;
const SPAN_PAGES: u32 = SPAN_BYTES / PROVIDER_PAGE_SIZE;
const SPAN_MAGIC: u32 = 0x4E415053;    // "SPAN"
const LARGE_MAGIC: u32 = 0x4752414C;   // "LARG"
const SPAN_HEADER: u32 = 32;
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
const SIZE_MASK: u32 = ~(ALIGN - 1);
/** The largest alignment heapAlloc accepts. */
export const MAX_ALIGN: u32 = 4096;
/** Requests above this get their own pages. */
export const LARGE_THRESHOLD: u32 = 64 << 10;
/** Requests above this are refused (no rounding can overflow below it). */
export const MAX_REQUEST: u32 = 1 << 30;

const SL_BITS: u32 = 4;
const SL_COUNT: u32 = 1 << SL_BITS;
const SMALL_LIMIT: u32 = 256;          // sizes below: 16 exact classes of 16 bytes
const FL_COUNT: u32 = 10;              // up to 2^17 > SPAN_BLOCK_BYTES
const LIST_COUNT: u32 = FL_COUNT * SL_COUNT;
const CHUNKS: u32 = <u32>((<u64>1 << 32) / SPAN_BYTES);         // 32768
const CHUNK_MAP_BYTES: u32 = CHUNKS / 4;                        // 2 bits each: 8 KiB
const CHUNK_NONE: u32 = 0, CHUNK_SPAN: u32 = 1, CHUNK_LARGE: u32 = 2;

// A run (a span or a large block) starts with this header; a large block's payload follows at
// its payload offset. Spans and large blocks are on two lists, linked through it.
//   +0 magic  +4 heap  +8 next run  +12 previous run  +16 pages  +20 payload offset (large)
const RUN_MAGIC: u32 = 0, RUN_HEAP: u32 = 4, RUN_NEXT: u32 = 8, RUN_PREV: u32 = 12, RUN_PAGES: u32 = 16, RUN_PAYLOAD: u32 = 20;
const LARGE_HEADER: u32 = 32;

/** What a free, a size query or a realloc found wrong with a pointer. */
export const enum HeapError {
  Ok = 0,
  Foreign = 1,       // not in any span or large block of this heap
  Misaligned = 2,    // not a multiple of 16
  Interior = 3,      // inside a block, not its start
  DoubleFree = 4,    // the block is already free
}

// The control block (HEAP_BYTES, caller's memory). Arrays follow the fields:
//   slBitmaps FL_COUNT u32, lists LIST_COUNT usize, classCounts FL_COUNT+1 u32, chunk map.
@unmanaged export class Heap {
  provider: PageProvider;
  flBitmap: u32;
  slBitmaps: usize;
  lists: usize;
  classCounts: usize;    // live blocks per first-level class; the last counts large blocks
  chunkMap: usize;
  spans: usize;          // first span (doubly linked through span headers)
  larges: usize;         // first large block
  reserveSpans: u32;     // entirely free spans kept instead of returned (config)
  freeSpans: u32;        // entirely free spans held now
  spanCount: u32;
  largeCount: u32;
  liveBytes: usize;      // usable bytes of live blocks (a 32-bit address space bounds them all)
  peakLiveBytes: usize;
  heldBytes: usize;      // bytes held from the provider
  peakHeldBytes: usize;
  liveBlocks: u32;
  errors: u32;           // bad pointers and bad requests reported
}

const FIELDS_BYTES: u32 = (offsetof<Heap>() + 15) & ~15;
/** Bytes of a heap's control block. */
export const HEAP_BYTES: u32 = FIELDS_BYTES + ((FL_COUNT + LIST_COUNT + FL_COUNT + 1) << 2) + CHUNK_MAP_BYTES;

// --- blocks -----------------------------------------------------------------------------------

@inline function header(block: usize): u32 { return load<u32>(block); }
@inline function setHeader(block: usize, value: u32): void { store<u32>(block, value); }
@inline function blockSize(block: usize): u32 { return header(block) & SIZE_MASK; }
@inline function isFree(block: usize): bool { return (header(block) & FREE) != 0; }
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
@inline function setStart(payload: usize, on: bool): void {
  const bit = startBit(payload);
  const at = spanOf(payload) + SPAN_HEADER + ((bit >> 5) << 2);
  store<u32>(at, on ? load<u32>(at) | (1 << (bit & 31)) : load<u32>(at) & ~(1 << (bit & 31)));
}
@inline function isStart(payload: usize): bool {
  const bit = startBit(payload);
  return (load<u32>(spanOf(payload) + SPAN_HEADER + ((bit >> 5) << 2)) & (1 << (bit & 31))) != 0;
}

// --- the chunk map ----------------------------------------------------------------------------

@inline function chunkKind(heap: Heap, address: usize): u32 {
  const chunk = <u32>(address >> SPAN_SHIFT);
  return (load<u8>(heap.chunkMap + (chunk >> 2)) >> ((chunk & 3) << 1)) & 3;
}
function setChunkKind(heap: Heap, address: usize, kind: u32): void {
  const chunk = <u32>(address >> SPAN_SHIFT);
  const at = heap.chunkMap + (chunk >> 2), shift = (chunk & 3) << 1;
  store<u8>(at, <u8>((<u32>load<u8>(at) & ~(<u32>3 << shift)) | (kind << shift)));
}

// --- size classes -----------------------------------------------------------------------------

@inline function log2(value: u32): u32 { return 31 - clz(value); }

/** The first-level class of a block of `size` bytes (0: below SMALL_LIMIT), for the counts. */
@inline function flOf(size: u32): u32 { return size < SMALL_LIMIT ? 0 : log2(size) - 7; }

/** The list a free block of `size` bytes is filed under. */
@inline function classOf(size: u32): u32 {
  if (size < SMALL_LIMIT) return size >> 4;
  const log = log2(size);
  return ((log - 7) << SL_BITS) + ((size >> (log - SL_BITS)) & (SL_COUNT - 1));
}

/** `size` rounded up so that every block of its class or above fits it. */
@inline function roundToClass(size: u32): u32 {
  if (size < SMALL_LIMIT) return size;
  const step = (<u32>1 << (log2(size) - SL_BITS)) - 1;
  return (size + step) & ~step;
}

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

@inline function listRemove(heap: Heap, block: usize): void {
  const size = blockSize(block);
  const index = classOf(size);
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
  if (size == SPAN_BLOCK_BYTES) heap.freeSpans--;
}

/** A free block of at least `size` bytes, or 0. O(1). */
@inline function findFree(heap: Heap, size: u32): usize {
  const index = classOf(roundToClass(size));
  let fl = index >> SL_BITS;
  if (fl >= FL_COUNT) return 0;
  let sl = load<u32>(heap.slBitmaps + (fl << 2)) & (0xFFFFFFFF << (index & (SL_COUNT - 1)));
  if (sl == 0) {
    const above = heap.flBitmap & (0xFFFFFFFF << (fl + 1));
    if (above == 0) return 0;
    fl = ctz(above);
    sl = load<u32>(heap.slBitmaps + (fl << 2));
  }
  return load<usize>(heap.lists + (((fl << SL_BITS) + ctz(sl)) << 2));
}

// --- spans ------------------------------------------------------------------------------------

/** Gets a new span from the provider and files its one free block; false if none. */
function addSpan(heap: Heap): bool {
  const span = providerGet(heap.provider, SPAN_PAGES, SPAN_PAGES);
  if (span == 0) return false;
  heap.spans = claimRun(heap, span, SPAN_MAGIC, CHUNK_SPAN, SPAN_PAGES, heap.spans);
  heap.spanCount++;
  memory.fill(span + SPAN_HEADER, 0, SPAN_BITMAP);
  setHeader(span + END_BLOCK, 0);                    // the end marker: used, size 0
  const block = span + FIRST_BLOCK;
  writeFreeBlock(block, SPAN_BLOCK_BYTES, false);
  setStart(payloadOf(block), true);
  listInsert(heap, block);
  return true;
}

/** Returns the span of `block` (its one, entirely free block, not on a list) to the provider. */
function removeSpan(heap: Heap, block: usize): void {
  heap.spans = releaseRun(heap, spanOf(block), heap.spans);
  heap.spanCount--;
}

/**
 * Writes the run header of `run` (fresh from the provider, `pages` long), marks it in the chunk
 * map as `kind`, counts it as held and links it first on the list starting at `head`.
 * Returns the new first element.
 */
function claimRun(heap: Heap, run: usize, magic: u32, kind: u32, pages: u32, head: usize): usize {
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

@inline function countLive(heap: Heap, usable: u32, fl: u32, delta: i32): void {
  if (delta > 0) {
    heap.liveBytes += usable;
    if (heap.liveBytes > heap.peakLiveBytes) heap.peakLiveBytes = heap.liveBytes;
  } else heap.liveBytes -= usable;
  heap.liveBlocks += delta;
  const at = heap.classCounts + (fl << 2);
  store<u32>(at, load<u32>(at) + delta);
}

// --- the public operations --------------------------------------------------------------------

/**
 * Makes an empty heap whose control block (HEAP_BYTES, 16-aligned) is at `at`, getting memory
 * from `provider`, keeping up to `reserveSpans` entirely free spans instead of giving them back.
 */
export function heapCreate(at: usize, provider: PageProvider, reserveSpans: u32): Heap {
  memory.fill(at, 0, HEAP_BYTES);
  const heap = changetype<Heap>(at);
  heap.provider = provider;
  heap.slBitmaps = at + FIELDS_BYTES;
  heap.lists = heap.slBitmaps + (FL_COUNT << 2);
  heap.classCounts = heap.lists + (LIST_COUNT << 2);
  heap.chunkMap = heap.classCounts + ((FL_COUNT + 1) << 2);
  heap.reserveSpans = reserveSpans;
  return heap;
}

/**
 * `size` bytes aligned to `align` (0: 16; a power of two up to MAX_ALIGN), or 0: logged with
 * the reason for size 0, a size above MAX_REQUEST or a bad alignment; silently (the caller
 * decides) when the provider has no memory. Never panics. O(1) apart from the provider call.
 * The caller frees the block with heapFree.
 */
export function heapAlloc(heap: Heap, size: u32, align: u32): usize {
  if (align == 0) align = ALIGN;
  if (size == 0 || size > MAX_REQUEST || align > MAX_ALIGN || (align & (align - 1)) != 0) {
    heap.errors++;
    if (logBegin(LogLevel.Error, "heap")) {
      puts("alloc("); putDec(size); puts(", "); putDec(align); puts("): ");
      puts(size == 0 ? "size 0" : size > MAX_REQUEST ? "size too large" : "alignment not a power of two up to 4096");
      puts("; returns 0\n");
    }
    return 0;
  }
  if (align < ALIGN) align = ALIGN;
  if (size > LARGE_THRESHOLD) return largeAlloc(heap, size, align);
  const need = max<u32>((size + 4 + ALIGN - 1) & ~(ALIGN - 1), MIN_BLOCK);
  const search = need + (align > ALIGN ? align - ALIGN : 0);   // room to move the payload up
  let block = findFree(heap, search);
  if (block == 0) {
    if (!addSpan(heap)) return 0;
    block = findFree(heap, search);
  }
  listRemove(heap, block);
  let size0 = blockSize(block);
  const leftFree = (header(block) & LEFT_FREE) != 0;   // false: free blocks are merged
  // Move the payload up to the alignment: the gap (a multiple of 16) becomes a free block.
  const gap = <u32>((payloadOf(block) + align - 1) & ~(<usize>align - 1)) - <u32>payloadOf(block);
  if (gap != 0) {
    writeFreeBlock(block, gap, leftFree);
    listInsert(heap, block);
    block += gap;
    size0 -= gap;
    setStart(payloadOf(block), true);
  }
  size0 = keepHead(heap, block, size0, need);
  setHeader(block, size0 | (gap != 0 ? LEFT_FREE : 0));
  countLive(heap, size0 - 4, flOf(size0), 1);
  return payloadOf(block);
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
  setStart(payloadOf(rest), true);
  listInsert(heap, rest);
  return need;
}

function largeAlloc(heap: Heap, size: u32, align: u32): usize {
  const offset = max<u32>(LARGE_HEADER, align);
  const pages = (offset + size + PROVIDER_PAGE_SIZE - 1) / PROVIDER_PAGE_SIZE;
  const run = providerGet(heap.provider, pages, SPAN_PAGES);   // chunk-aligned: see the chunk map
  if (run == 0) return 0;
  heap.larges = claimRun(heap, run, LARGE_MAGIC, CHUNK_LARGE, pages, heap.larges);
  store<u32>(run, offset, RUN_PAYLOAD);
  heap.largeCount++;
  countLive(heap, pages * PROVIDER_PAGE_SIZE - offset, FL_COUNT, 1);
  return run + offset;
}

/**
 * Checks that `ptr` is a live block of this heap: HeapError.Ok, or why not. Reads only memory
 * the heap owns. O(1).
 */
export function heapCheckPointer(heap: Heap, ptr: usize): HeapError { return classify(heap, ptr, chunkKind(heap, ptr)); }

/** heapCheckPointer, given the chunk kind of `ptr` (inlined into the operations that need both). */
@inline function classify(heap: Heap, ptr: usize, kind: u32): HeapError {
  if (kind == CHUNK_LARGE) {
    const run = spanOf(ptr);
    if (ptr == run + load<u32>(run, RUN_PAYLOAD)) return HeapError.Ok;
    return (ptr & (ALIGN - 1)) != 0 ? HeapError.Misaligned : HeapError.Interior;
  }
  if (kind != CHUNK_SPAN) return HeapError.Foreign;
  if ((ptr & (ALIGN - 1)) != 0) return HeapError.Misaligned;
  const offset = <u32>(ptr & SPAN_MASK);
  if (offset < FIRST_PAYLOAD || offset >= END_BLOCK || !isStart(ptr)) return HeapError.Interior;
  return isFree(blockOf(ptr)) ? HeapError.DoubleFree : HeapError.Ok;
}

/** The usable size of live block `ptr` (at least what was asked for), or 0 if it is not one. */
export function heapSize(heap: Heap, ptr: usize): u32 {
  const kind = chunkKind(heap, ptr);
  return classify(heap, ptr, kind) == HeapError.Ok ? usableSize(ptr, kind) : 0;
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
 * Frees block `ptr`, merging it with free neighbours; gives an entirely free span back to the
 * provider unless fewer than `reserveSpans` are kept. A pointer that is not a live block of
 * this heap (foreign, misaligned, interior, already free) is logged with the reason and
 * returned as an error, and nothing changes. O(1) apart from the provider call.
 */
export function heapFree(heap: Heap, ptr: usize): HeapError {
  const kind = chunkKind(heap, ptr);
  const error = classify(heap, ptr, kind);
  if (error != HeapError.Ok) { reportBadPointer(heap, "free", ptr, error); return error; }
  if (kind == CHUNK_LARGE) { largeFree(heap, spanOf(ptr)); return HeapError.Ok; }
  let block = blockOf(ptr);
  let size = blockSize(block);
  countLive(heap, size - 4, flOf(size), -1);
  const right = block + size;
  if (isFree(right)) {
    listRemove(heap, right);
    setStart(payloadOf(right), false);
    size += blockSize(right);
  }
  if ((header(block) & LEFT_FREE) != 0) {
    const left = block - load<u32>(block - 4);
    listRemove(heap, left);
    setStart(payloadOf(block), false);
    size += block - left;
    block = left;
  }
  writeFreeBlock(block, size, false);
  if (size == SPAN_BLOCK_BYTES && heap.freeSpans >= heap.reserveSpans) removeSpan(heap, block);
  else listInsert(heap, block);
  return HeapError.Ok;
}

function largeFree(heap: Heap, run: usize): void {
  countLive(heap, usableSize(run + load<u32>(run, RUN_PAYLOAD), CHUNK_LARGE), FL_COUNT, -1);
  heap.larges = releaseRun(heap, run, heap.larges);
  heap.largeCount--;
}

export function heapErrorText(error: HeapError): string {
  switch (error) {
    case HeapError.Ok: return "ok";
    case HeapError.Foreign: return "not a pointer this heap handed out";
    case HeapError.Misaligned: return "misaligned (not a multiple of 16)";
    case HeapError.Interior: return "inside a block, not its start";
    default: return "already free (double free)";
  }
}

/** Logs a refused pointer: the operation, the address and the reason. Counts it. */
function reportBadPointer(heap: Heap, what: string, ptr: usize, error: HeapError): void {
  heap.errors++;
  if (!logBegin(LogLevel.Error, "heap")) return;
  puts(what); puts("("); putHex(<u32>ptr); puts("): "); puts(heapErrorText(error)); puts("; heap unchanged\n");
}

/**
 * Resizes live block `ptr` to `size` bytes, keeping its contents up to the smaller size: in
 * place when the block already fits or its right neighbour is free and large enough, otherwise
 * by allocating (default alignment), copying and freeing. `ptr` 0 allocates; `size` 0 frees and
 * returns 0. A bad `ptr` is logged and returns 0 with the heap unchanged; no memory returns 0
 * and leaves the old block as it was.
 */
export function heapRealloc(heap: Heap, ptr: usize, size: u32): usize {
  if (ptr == 0) return heapAlloc(heap, size, 0);
  const kind = chunkKind(heap, ptr);
  const error = classify(heap, ptr, kind);
  if (error != HeapError.Ok) { reportBadPointer(heap, "realloc", ptr, error); return 0; }
  if (size == 0) { heapFree(heap, ptr); return 0; }
  const have = usableSize(ptr, kind);
  if (size <= have && (size > LARGE_THRESHOLD) == (kind == CHUNK_LARGE)) return ptr;
  if (size <= LARGE_THRESHOLD && kind == CHUNK_SPAN && growInPlace(heap, blockOf(ptr), size)) return ptr;
  const moved = heapAlloc(heap, size, 0);
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
  countLive(heap, have - 4, flOf(have), -1);
  listRemove(heap, right);
  setStart(payloadOf(right), false);
  const total = keepHead(heap, block, have + blockSize(right), need);
  setHeader(block, total | (header(block) & LEFT_FREE));
  countLive(heap, total - 4, flOf(total), 1);
  return true;
}

/**
 * Gives every entirely free span (the kept reserve) back to the provider. Returns how many.
 * O(free blocks of the largest class). With no live blocks, the heap then holds nothing.
 */
export function heapTrim(heap: Heap): u32 {
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

/**
 * Prints the heap's statistics to the console, one `# `-prefixed line per item (TAP comments):
 * live and peak bytes, held and peak held, footprint / peak live, spans, and the live blocks of
 * every first-level class that has any.
 */
export function heapPrintStats(heap: Heap, name: string): void {
  puts("# "); puts(name); puts(": "); putDec(heap.liveBlocks); puts(" live blocks, live "); putDec(heap.liveBytes);
  puts(" B (peak "); putDec(heap.peakLiveBytes); puts(" B), held "); putDec(heap.heldBytes); puts(" B (peak ");
  putDec(heap.peakHeldBytes); puts(" B), footprint/peak live ");
  putRatio(heap.peakHeldBytes, heap.peakLiveBytes);
  puts("\n# "); puts(name); puts(": "); putDec(heap.spanCount); puts(" spans ("); putDec(heap.freeSpans);
  puts(" free), "); putDec(heap.largeCount); puts(" large blocks, "); putDec(heap.errors); puts(" errors\n");
  for (let fl: u32 = 0; fl <= FL_COUNT; fl++) {
    const count = heapClassCount(heap, fl);
    if (count == 0) continue;
    puts("# "); puts(name); puts(":   class ");
    if (fl == FL_COUNT) { puts("large (> "); putDec(LARGE_THRESHOLD); puts(" B)"); }
    else { putDec(classStart(fl)); puts("-"); putDec(classStart(fl + 1) - 1); puts(" B"); }
    puts(": "); putDec(count); puts(" live\n");
  }
}

/** Live blocks in first-level class `fl` (0..FL_COUNT-1; FL_COUNT: large blocks). */
export function heapClassCount(heap: Heap, fl: u32): u32 { return load<u32>(heap.classCounts + (fl << 2)); }

/**
 * Walks every span and block and verifies the tags, the start bitmaps, the free lists and
 * their bitmaps, the chunk map and the statistics against each other. Returns 0, or the number
 * of the first broken invariant:
 *   1 a span or large block header (magic, owner, links, chunk map)
 *   2 a block's size (zero, unaligned, past the span's end marker)
 *   3 a block-start bit missing or extra
 *   4 a LEFT_FREE bit or a free block's footer
 *   5 two adjacent free blocks (merging incomplete)
 *   6 the free lists: a listed block not free, in the wrong class, badly linked, or a free
 *     block not listed; the class bitmaps
 *   7 the statistics (live blocks and bytes, held bytes, free spans)
 * O(blocks + spans): for tests and debugging.
 */
export function heapCheck(heap: Heap): u32 {
  let freeBlocks: u32 = 0, liveBlocks: u32 = 0, freeSpans: u32 = 0, spans: u32 = 0;
  let liveBytes: usize = 0, held: usize = 0, prev: usize = 0;
  for (let span = heap.spans; span != 0; span = load<usize>(span, RUN_NEXT)) {
    if (!runHeaderSound(heap, span, SPAN_MAGIC, CHUNK_SPAN, prev) || load<u32>(span, RUN_PAGES) != SPAN_PAGES) return 1;
    prev = span; spans++; held += SPAN_BYTES;
    let block = span + FIRST_BLOCK, leftFree = false, starts: u32 = 0;
    while (block != span + END_BLOCK) {
      const size = blockSize(block);
      if (size == 0 || (size & (ALIGN - 1)) != 0 || block + size > span + END_BLOCK) return 2;
      if (!isStart(payloadOf(block))) return 3;
      starts++;
      if (((header(block) & LEFT_FREE) != 0) != leftFree) return 4;
      const free = isFree(block);
      if (free) {
        if (leftFree) return 5;
        if (load<u32>(block + size - 4) != size) return 4;
        freeBlocks++;
        if (size == SPAN_BLOCK_BYTES) freeSpans++;
      } else { liveBlocks++; liveBytes += size - 4; }
      leftFree = free;
      block += size;
    }
    if (header(block) & ~LEFT_FREE) return 2;
    if (((header(block) & LEFT_FREE) != 0) != leftFree) return 4;
    let bits: u32 = 0;
    for (let w: u32 = 0; w < SPAN_BITMAP; w += 4) bits += popcnt(load<u32>(span + SPAN_HEADER + w));
    if (bits != starts) return 3;
  }
  prev = 0;
  let larges: u32 = 0;
  for (let run = heap.larges; run != 0; run = load<usize>(run, RUN_NEXT)) {
    if (!runHeaderSound(heap, run, LARGE_MAGIC, CHUNK_LARGE, prev)) return 1;
    prev = run; larges++; liveBlocks++;
    held += load<u32>(run, RUN_PAGES) * PROVIDER_PAGE_SIZE;
    liveBytes += usableSize(run + load<u32>(run, RUN_PAYLOAD), CHUNK_LARGE);
  }
  let listed: u32 = 0, flBits: u32 = 0;
  for (let index: u32 = 0; index < LIST_COUNT; index++) {
    let block = load<usize>(heap.lists + (index << 2)), back: usize = 0;
    const slBit = (load<u32>(heap.slBitmaps + ((index >> SL_BITS) << 2)) >> (index & (SL_COUNT - 1))) & 1;
    if ((block != 0 ? 1 : 0) != slBit) return 6;
    if (block != 0) flBits |= 1 << (index >> SL_BITS);
    while (block != 0) {
      if (chunkKind(heap, block) != CHUNK_SPAN || !isFree(block) || classOf(blockSize(block)) != index || prevFree(block) != back) return 6;
      if (++listed > freeBlocks) return 6;
      back = block;
      block = nextFree(block);
    }
  }
  if (listed != freeBlocks || flBits != heap.flBitmap) return 6;
  if (spans != heap.spanCount || larges != heap.largeCount || liveBlocks != heap.liveBlocks) return 7;
  if (liveBytes != heap.liveBytes || held != heap.heldBytes || freeSpans != heap.freeSpans) return 7;
  let classTotal: u32 = 0;
  for (let fl: u32 = 0; fl <= FL_COUNT; fl++) classTotal += heapClassCount(heap, fl);
  if (classTotal != liveBlocks) return 7;
  return 0;
}

/** Whether run `run`'s header has `magic`, this heap, back link `prev`, and its chunk says `kind`. */
function runHeaderSound(heap: Heap, run: usize, magic: u32, kind: u32, prev: usize): bool {
  return load<u32>(run, RUN_MAGIC) == magic && load<usize>(run, RUN_HEAP) == changetype<usize>(heap) &&
    load<usize>(run, RUN_PREV) == prev && chunkKind(heap, run) == kind && (run & SPAN_MASK) == 0;
}
