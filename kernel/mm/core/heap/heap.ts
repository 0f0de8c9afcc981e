// A general-purpose heap: constant-time segregated fit (two-level bitmaps over size classes, in
// the manner of TLSF) with boundary tags, over spans of pages from a page provider (../pages.ts),
// with a small front cache of recently freed blocks per class. A heap is an instance: its
// control block lives where the caller says, so the kernel's heap (kmalloc.ts) and a test's heap
// over a buffer are the same code. Hardware-independent.
//
// The files: block.ts (the layouts of spans, blocks and runs), control.ts (the control block,
// the chunk map, the counters), classes.ts (size classes, free lists, carving), span.ts (runs,
// spans, merging), front-cache.ts (the front cache, flushing and trimming), large.ts (large
// blocks), check.ts (statistics and the checker), and this file: the public operations, which
// also re-exports what the heap's users need.
import { PageProvider, RunVisitor, PROVIDER_PAGE_SIZE } from "../pages";
import {
  ReportLevel, reportBegin, reportText, reportAddress, reportDec, reportLast,
} from "../report";
import { AllocError, allocErrorText } from "../alloc-error";
import { Invariant } from "../invariant";
import {
  ALIGN, ALIGNED, CACHED, END_BLOCK, FIRST_PAYLOAD, FREE, LEFT_FREE, MIN_BLOCK, SIZE_MASK,
  SPAN_MASK, blockOf, blockSize, clearStart, header, isFree, isStart, payloadOf, rightOf,
  setHeader, spanOf, runHeader,
} from "./block";
import {
  CHUNK_LARGE, CHUNK_SPAN, FIELDS_BYTES, FL_COUNT, HEAP_BYTES, Heap, LARGE_THRESHOLD, LIST_COUNT,
  MAX_ALIGN, MAX_REQUEST, REALLOC_LARGE, chunkKind, countAllocated, countFreed,
} from "./control";
import { carve, classOf, findList, keepHead, listRemove, takeListed } from "./classes";
import { carveSpan, mergeAndFile } from "./span";
import {
  CACHE_ALIGN_LIMIT, CACHE_NEXT, CACHE_SHARE_SHIFT, CACHE_SLACK, cacheFind, heapFlushCache,
  heapTrim, takeCached,
} from "./front-cache";
import { growLarge, largeAlloc, largeFree } from "./large";
import { heapCheck } from "./check";

// What the heap's users need, from the files that define it.
export { Heap, HEAP_BYTES, MAX_ALIGN, LARGE_THRESHOLD, REALLOC_LARGE, MAX_REQUEST } from "./control";
export { SPAN_BYTES } from "./block";
export { heapFlushCache, heapTrim } from "./front-cache";
export { heapCheck, heapPrintStats, heapClassCount } from "./check";

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
  return allocChecked(heap, size, align);
}

/**
 * heapAlloc off its fast path: checks the request, then the cache, the free lists or a large
 * block. (Not named *Slow, which the build would mark cold: aligned requests come this way, and
 * make bench's aligned trace took 6 % more instructions with it cold.)
 */
function allocChecked(heap: Heap, size: u32, align: u32): usize {
  if (align == 0) align = ALIGN;
  // (a power of two: one bit set; `align & (align - 1)` would become a software popcount here)
  if (size == 0 || size > MAX_REQUEST || align > MAX_ALIGN || align != <u32>1 << ctz(align)) {
    heap.errors++;
    if (reportBegin(ReportLevel.Error, "heap")) {
      reportText("alloc("); reportDec(size); reportText(", "); reportDec(align); reportText("): ");
      reportText(size == 0 ? "size 0" : size > MAX_REQUEST ? "size too large" : "alignment not a power of two up to 4096");
      reportLast("; returns 0");
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
 * Checks that `ptr` is a live block of this heap: AllocError.Ok, or why not. Reads only memory
 * the heap owns. O(1).
 */
export function heapCheckPointer(heap: Heap, ptr: usize): AllocError { return classify(heap, ptr, chunkKind(heap, ptr)); }

/** heapCheckPointer, given the chunk kind of `ptr` (inlined into the operations that need both). */
@inline function classify(heap: Heap, ptr: usize, kind: u32): AllocError {
  if (kind == CHUNK_LARGE) {
    const run = spanOf(ptr);
    if (ptr == run + runHeader(run).payload) return AllocError.Ok;
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
export function usableSize(ptr: usize, kind: u32): u32 {
  if (kind == CHUNK_LARGE) {
    const run = spanOf(ptr);
    return runHeader(run).pages * PROVIDER_PAGE_SIZE - runHeader(run).payload;
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

/** Logs a refused pointer: the operation, the address and the reason. Counts it. */
function reportBadPointer(heap: Heap, what: string, ptr: usize, error: AllocError): void {
  heap.errors++;
  if (!reportBegin(ReportLevel.Error, "heap")) return;
  reportText(what); reportText("("); reportAddress(<u32>ptr); reportText("): "); reportText(allocErrorText(error)); reportLast("; heap unchanged");
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
  for (let run = heap.spans; run != 0; run = runHeader(run).next) visit(context, run, runHeader(run).pages);
  for (let run = heap.larges; run != 0; run = runHeader(run).next) visit(context, run, runHeader(run).pages);
}
