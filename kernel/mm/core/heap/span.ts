// Runs and spans: a run of pages from the provider is claimed (its header written, the chunk
// map told) and released; a span is a run of SPAN_BYTES cut into blocks; a freed block merges
// with its free neighbours, and a span that becomes entirely free goes back (beyond the reserve).
import { providerGet, providerPut, PROVIDER_PAGE_SIZE } from "../pages";
import {
  ALIGN, ALIGNED, END_BLOCK, FIRST_BLOCK, FIRST_PAYLOAD, LEFT_FREE, SPAN_BLOCK_BYTES, SPAN_MAGIC,
  SPAN_PAGES, SPAN_VALID, VALID_SHIFT, blockSize, clearStart, header, isFree, payloadOf, setHeader,
  spanOf, startBit, startWordAt, validBit, validWordAt, writeFreeBlock, zeroGroup, RunHeader, runHeader,
} from "./block";
import { CHUNK_NONE, CHUNK_SPAN, Heap, countAllocated, countHeld, setChunkKind } from "./control";
import { carve, listInsert, listRemove } from "./classes";
import { listPush, listUnlink } from "../../../lib/list";

/**
 * Gets a new span from the provider and carves a block of `need` bytes aligned to `align` from
 * its start (allocFit's contract): the block's payload, or 0 if the provider has no pages.
 * The span is known to be empty, so for default alignment this writes the block and the free
 * tail directly; a gap goes through the general carve.
 */
export function carveSpan(heap: Heap, need: u32, align: u32): usize {
  const span = providerGet(heap.provider, SPAN_PAGES, SPAN_PAGES);
  if (span == 0) return 0;
  claimRun(heap, span, SPAN_MAGIC, CHUNK_SPAN, SPAN_PAGES, spansAt(heap));
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
export function removeSpan(heap: Heap, block: usize): void {
  releaseRun(heap, spanOf(block), spansAt(heap));
  heap.spanCount--;
}

/**
 * Sets up the start and valid bitmaps of new `span` with the first block's start and, unless
 * `restBit` is 0, start bit `restBit` (above the first block's): markStart twice, written for
 * bitmaps known to be empty, so without the valid tests and read-modify-writes (taking a span
 * is heap.span_take's figure).
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
 * map as `kind`, counts it as held and links it first on the list whose head word is at `headAt`
 * (spansAt or largesAt).
 */
@inline export function claimRun(heap: Heap, run: usize, magic: u32, kind: u32, pages: u32, headAt: usize): void {
  runHeader(run).magic = magic;
  runHeader(run).heap = changetype<usize>(heap);
  listPush<RunHeader>(run, headAt);
  runHeader(run).pages = pages;
  setChunkKind(heap, run, kind);
  countHeld(heap, pages * PROVIDER_PAGE_SIZE);
}

/** The heap's list of spans and list of large blocks, as head words for lib/list.ts. */
@inline export function spansAt(heap: Heap): usize { return changetype<usize>(heap) + offsetof<Heap>("spans"); }
@inline export function largesAt(heap: Heap): usize { return changetype<usize>(heap) + offsetof<Heap>("larges"); }

/**
 * Unlinks `run` from the list whose head word is at `headAt`, forgets it and gives its pages back
 * to the provider.
 */
export function releaseRun(heap: Heap, run: usize, headAt: usize): void {
  const pages = runHeader(run).pages;
  listUnlink<RunHeader>(run, headAt);
  setChunkKind(heap, run, CHUNK_NONE);
  runHeader(run).magic = 0;
  heap.heldBytes -= pages * PROVIDER_PAGE_SIZE;
  providerPut(heap.provider, run, pages);
}

/**
 * Makes used (or just uncached) `block` free: merges it with its free neighbours and files the
 * result, or gives its span back if that makes the span entirely free and the reserve is full.
 * Statistics are the caller's.
 */
export function mergeAndFile(heap: Heap, block: usize): void {
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
