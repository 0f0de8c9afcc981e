// Size classes and the free lists.
//
// Free blocks sit on lists by class: sizes below 256 in 16 classes of 16 bytes; above, 16
// classes per power of two. An allocation rounds its size up to the next class start, so any
// block on the first non-empty list at or above that class fits (two count-trailing-zeros).
// The scheme is seg-fit.ts's, with a class unit of 16 bytes and 16 classes per power of two.
// Requests above LARGE_THRESHOLD get their own run of pages (a "large" block, large.ts) instead.
//
// Carving: a block taken off a list is cut to the size and alignment asked for, and what is
// left before and after it goes back on the lists.
import {
  ALIGN, ALIGNED, LEFT_FREE, MIN_BLOCK, SPAN_BLOCK_BYTES, SPAN_BYTES, blockSize, header, markStart,
  nextFree, payloadOf, prevFree, setHeader, setLeftFree, setNextFree, setPrevFree, writeFreeBlock,
} from "./block";
import {
  FL_COUNT, Heap, LIST_COUNT, SL_BITS, SL_COUNT, SMALL_LIMIT, countAllocated,
} from "./control";
import { highestBit } from "../../../lib/bits";
import { segClass, segRoundUp, segUnmarkList, segFindList } from "../seg-fit";

/** The list a block of `size` bytes (a multiple of 16) is filed under, computed (see classOf). */
export function computeClass(size: u32): u32 { return segClass(size >> 4, SL_BITS); }

/** `size` (a multiple of 16) rounded up so that every block of its class or above fits it. */
function roundToClass(size: u32): u32 { return segRoundUp(size >> 4, SL_BITS) << 4; }

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

/** The two tables' addresses (for the heap's C twin: bench/fidelity.ts). Any context (constants). */
export function heapClassTable(): usize { return classTable; }
export function heapFitTable(): usize { return fitTable; }

/** The list a block of `size` bytes (a multiple of 16 below SPAN_BYTES) is filed under. */
@inline export function classOf(size: u32): u32 { return load<u8>(classTable + (size >> 4)); }
/** The lowest list whose blocks all hold `size` bytes (a multiple of 16 below SPAN_BYTES). */
@inline function fitClassOf(size: u32): u32 { return load<u8>(fitTable + (size >> 4)); }

@inline export function listInsert(heap: Heap, block: usize): void {
  const size = blockSize(block);
  const index = classOf(size);
  const headAt = heap.lists + (index << 2);
  const head = load<usize>(headAt);
  setNextFree(block, head);
  setPrevFree(block, 0);
  if (head != 0) setPrevFree(head, block);
  store<usize>(headAt, block);
  // lib/list.ts's listPush and seg-fit.ts's segMarkList, written out here and in listRemoveAt:
  // through the generics, binaryen schedules carve's code differently and heap.alloc_free_pair
  // measured worse (the figures are in the commit that says so)
  const fl = index >> SL_BITS;
  const slAt = heap.slBitmaps + (fl << 2);
  store<u32>(slAt, load<u32>(slAt) | (1 << (index & (SL_COUNT - 1))));
  heap.flBitmap |= 1 << fl;
  if (size == SPAN_BLOCK_BYTES) heap.freeSpans++;
}

@inline export function listRemove(heap: Heap, block: usize): void { listRemoveAt(heap, block, classOf(blockSize(block))); }
/** Takes `block` off list `index` (its class, which the caller knows). */
@inline function listRemoveAt(heap: Heap, block: usize, index: u32): void {
  const next = nextFree(block), prev = prevFree(block);
  if (next != 0) setPrevFree(next, prev);
  if (prev != 0) setNextFree(prev, next);
  else {
    store<usize>(heap.lists + (index << 2), next);
    if (next == 0) segUnmarkList<Heap>(heap, index, SL_BITS);
  }
  if (blockSize(block) == SPAN_BLOCK_BYTES) heap.freeSpans--;
}

/** The index of the first non-empty list whose blocks all hold `size` bytes, or LIST_COUNT. O(1). */
@inline export function findList(heap: Heap, size: u32): u32 {
  return segFindList<Heap>(heap, fitClassOf(size), SL_BITS, FL_COUNT);
}

/** Takes the first block off free list `index` (not empty): free, on no list. */
@inline export function takeListed(heap: Heap, index: u32): usize {
  const block = load<usize>(heap.lists + (index << 2));
  listRemoveAt(heap, block, index);
  return block;
}

/**
 * Carves a block of `need` bytes aligned to `align` out of free `block` (on no list, big enough
 * for both): the gap before the payload and the tail after it are filed as free blocks. Counts
 * the block live and returns its payload.
 */
@inline export function carve(heap: Heap, block: usize, need: u32, align: u32): usize {
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

/**
 * `block` is to be used, `size` bytes long, of which it needs `need`: files the tail as a free
 * block if it can hold one, else tells the right neighbour its left is used. Returns the size
 * the block keeps (the caller writes its header).
 */
@inline export function keepHead(heap: Heap, block: usize, size: u32, need: u32): u32 {
  if (size - need < MIN_BLOCK) { setLeftFree(block + size, false); return size; }
  const rest = block + need;
  writeFreeBlock(rest, size - need, false);
  markStart(payloadOf(rest));
  listInsert(heap, rest);
  return need;
}

/** The smallest block size of first-level class `fl` (header included), for the statistics. */
export function classStart(fl: u32): u32 { return fl == 0 ? 0 : SMALL_LIMIT << (fl - 1); }

/** The first-level class of a block of `size` bytes (0: below SMALL_LIMIT), for the counts. */
@inline export function flOf(size: u32): u32 { return size < SMALL_LIMIT ? 0 : highestBit(size) - 7; }
