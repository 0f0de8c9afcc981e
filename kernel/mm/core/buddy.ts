// A DMA pool: small buffers at known physical addresses, carved by a buddy allocator out of one
// physically contiguous run of pages that the caller provides (kernel/mm/alloc/dma.ts takes it from
// the PMM below a physical limit). Hardware-independent: the pool only does arithmetic on the
// run's virtual and physical base addresses.
//
// Chunks are powers of two from MIN_CHUNK bytes up, aligned to their size relative to the run;
// the run's physical base is aligned to its largest top block, so a chunk's physical address is
// aligned to its size too, and a chunk of up to 4 KiB never crosses a 4 KiB boundary.
//
//   the run:   [top block 2^k pages][top block 2^j pages] ...   (pages split into powers of two,
//                                                               largest first)
//   a top block: split in halves (buddies) down to the size asked for; two free buddies merge
//
// The unit map (caller's memory, a byte per MIN_CHUNK bytes of the run) records, at the first
// unit of every chunk: FREE_MARK | order for a free chunk, USED_MARK | order for a handed-out
// one, 0 elsewhere. Free chunks of each order are on a doubly linked list through their own
// first 8 bytes (next, previous: virtual addresses); a bitmap says which lists are non-empty.
// So an allocation is a count-trailing-zeros and a split per halving, a free is a map check
// and a merge per level: O(orders), no search.
import { ReportLevel, reportBegin, reportText, reportAddress, reportDec, reportLast } from "./report";
import { AllocError } from "./alloc-error";
import { Invariant } from "./invariant";
import { listPush, listUnlink } from "../../lib/list";

/** The smallest chunk: 16 bytes (order 4). */
export const MIN_ORDER: u32 = 4;
export const MIN_CHUNK: u32 = 1 << MIN_ORDER;
const PAGE_ORDER: u32 = 12;
/** The largest top block: 2^MAX_ORDER bytes (4 MiB). */
export const MAX_ORDER: u32 = 22;
const ORDER_COUNT: u32 = MAX_ORDER + 1;
const FREE_MARK: u8 = 0x40;
const USED_MARK: u8 = 0x80;
const ORDER_MASK: u8 = 0x3F;


// The pool's control block (DMA_POOL_BYTES, caller's memory): these fields, then the free-list
// heads (one per order, 0..MAX_ORDER). The unit map is separate (dmaMapBytes).
@unmanaged export class DmaPool {
  virtBase: usize;
  physBase: u64;
  bytes: u32;            // the run's size
  map: usize;            // the unit map
  nonEmpty: u32;         // bit k: the free list of order k is not empty
  usedChunks: u32;
  usedBytes: u32;
  errors: u32;
}
const FIELDS_BYTES: u32 = (offsetof<DmaPool>() + 7) & ~7;
/** Bytes of a pool's control block (the free-list heads included). */
export const DMA_POOL_BYTES: u32 = FIELDS_BYTES + ORDER_COUNT * 4;
/** Bytes of the unit map for a run of `pages` pages. */
export function dmaMapBytes(pages: u32): u32 { return (pages << PAGE_ORDER) >> MIN_ORDER; }

/** A free chunk's first 8 bytes: its links on the free list of its order. */
@unmanaged class FreeChunk {
  next: usize;
  prev: usize;
}
@inline function freeChunk(chunk: usize): FreeChunk { return changetype<FreeChunk>(chunk); }

@inline function headAt(pool: DmaPool, order: u32): usize { return changetype<usize>(pool) + FIELDS_BYTES + (order << 2); }
@inline function unitOf(pool: DmaPool, virt: usize): u32 { return <u32>(virt - pool.virtBase) >> MIN_ORDER; }
@inline function mark(pool: DmaPool, virt: usize): u8 { return load<u8>(pool.map + unitOf(pool, virt)); }
@inline function setMark(pool: DmaPool, virt: usize, value: u8): void { store<u8>(pool.map + unitOf(pool, virt), value); }

function pushFree(pool: DmaPool, chunk: usize, order: u32): void {
  listPush<FreeChunk>(chunk, headAt(pool, order));
  pool.nonEmpty |= 1 << order;
  setMark(pool, chunk, FREE_MARK | <u8>order);
}

function removeFree(pool: DmaPool, chunk: usize, order: u32): void {
  if (listUnlink<FreeChunk>(chunk, headAt(pool, order))) pool.nonEmpty &= ~(1 << order);
  setMark(pool, chunk, 0);
}

/**
 * Makes a pool over the run of `pages` pages at virtual `virtBase`, physical `physBase` (the
 * physical base aligned to the run's largest power-of-two part, at most 2^MAX_ORDER bytes), with
 * its control block at `at` (DMA_POOL_BYTES) and its unit map at `map` (dmaMapBytes(pages)).
 * Every chunk is free.
 */
export function dmaPoolInit(at: usize, map: usize, virtBase: usize, physBase: u64, pages: u32): DmaPool {
  memory.fill(at, 0, DMA_POOL_BYTES);
  memory.fill(map, 0, dmaMapBytes(pages));
  const pool = changetype<DmaPool>(at);
  pool.virtBase = virtBase;
  pool.physBase = physBase;
  pool.bytes = pages << PAGE_ORDER;
  pool.map = map;
  // the run as top blocks, largest first: each aligned to its size relative to the run's start
  let offset: u32 = 0;
  while (offset < pool.bytes) {
    const rest = pool.bytes - offset;
    const order = min<u32>(31 - clz(rest), MAX_ORDER);
    pushFree(pool, virtBase + offset, order);
    offset += 1 << order;
  }
  return pool;
}

/** The order of the chunk that holds `size` bytes (0 if `size` is 0 or above 2^MAX_ORDER). */
function orderFor(size: u32): u32 {
  if (size == 0 || size > (1 << MAX_ORDER)) return 0;
  const order = size <= MIN_CHUNK ? MIN_ORDER : 32 - clz(size - 1);
  return order;
}

/**
 * A chunk of at least `size` bytes, a power of two aligned to its size (virtually and
 * physically; so one of up to 4 KiB never crosses a 4 KiB boundary): its virtual address, or 0
 * when the pool has no free chunk that large (and, logged, for a size of 0 or above 4 MiB). Its
 * physical address is dmaVirtToPhys of it. O(orders). Free it with dmaFree.
 */
export function dmaAlloc(pool: DmaPool, size: u32): usize {
  const order = orderFor(size);
  if (order == 0) {
    pool.errors++;
    if (reportBegin(ReportLevel.Error, "dma")) { reportText("dmaAlloc("); reportDec(size); reportLast("): the size must be 1 to 4 MiB; returns 0"); }
    return 0;
  }
  const above = pool.nonEmpty & (0xFFFFFFFF << order);
  if (above == 0) return 0;
  let have = ctz(above);
  const chunk = load<usize>(headAt(pool, have));
  removeFree(pool, chunk, have);
  while (have > order) {   // split: keep the lower half, file the upper one
    have--;
    pushFree(pool, chunk + (1 << have), have);
  }
  setMark(pool, chunk, USED_MARK | <u8>order);
  pool.usedChunks++;
  pool.usedBytes += 1 << order;
  return chunk;
}

@inline function inPool(pool: DmaPool, virt: usize): bool { return virt >= pool.virtBase && virt - pool.virtBase < pool.bytes; }

/** The size of the handed-out chunk at `virt`, or 0 if `virt` is not one. O(1). */
export function dmaChunkSize(pool: DmaPool, virt: usize): u32 {
  if (!inPool(pool, virt) || (virt & (MIN_CHUNK - 1)) != 0) return 0;
  const m = mark(pool, virt);
  return (m & USED_MARK) != 0 ? 1 << (m & ORDER_MASK) : 0;
}

/**
 * Frees the chunk at `virt`, merging it with its free buddies. A pointer that is not a chunk
 * handed out now (outside the pool, inside a chunk, already free) is logged with the address and
 * the reason, returned as an error, and changes nothing. O(orders).
 */
export function dmaFree(pool: DmaPool, virt: usize): AllocError {
  let error = AllocError.Ok;
  if (!inPool(pool, virt)) error = AllocError.Foreign;
  else if ((virt & (MIN_CHUNK - 1)) != 0) error = AllocError.Interior;
  else {
    const m = mark(pool, virt);
    if ((m & FREE_MARK) != 0) error = AllocError.DoubleFree;
    else if ((m & USED_MARK) == 0) error = AllocError.Interior;
  }
  if (error != AllocError.Ok) {
    pool.errors++;
    if (reportBegin(ReportLevel.Error, "dma")) {
      reportText("dmaFree("); reportAddress(<u32>virt); reportText("): ");
      reportText(error == AllocError.Foreign ? "not in this pool" : error == AllocError.DoubleFree ? "already free (double free)" : "not the start of a chunk");
      reportLast("; pool unchanged");
    }
    return error;
  }
  let order = <u32>(mark(pool, virt) & ORDER_MASK), chunk = virt;
  setMark(pool, chunk, 0);
  pool.usedChunks--;
  pool.usedBytes -= 1 << order;
  // merge while the buddy (the other half of the block above) is free, whole, and inside the run
  while (order < MAX_ORDER) {
    const offset = <u32>(chunk - pool.virtBase), buddyOffset = offset ^ (1 << order);
    if (buddyOffset + (1 << order) > pool.bytes) break;   // a top block's edge
    const buddy = pool.virtBase + buddyOffset;
    if (mark(pool, buddy) != (FREE_MARK | <u8>order)) break;
    // (a top block has no buddy: the blocks after it in the run are smaller, so its buddy's
    // range runs past the run's end and the test above stops the merge)
    removeFree(pool, buddy, order);
    chunk = min<usize>(chunk, buddy);
    order++;
  }
  pushFree(pool, chunk, order);
  return AllocError.Ok;
}

/** The physical address of `virt`, inside the pool's run. O(1). */
@inline export function dmaVirtToPhys(pool: DmaPool, virt: usize): u64 { return pool.physBase + <u64>(virt - pool.virtBase); }
/** The virtual address of physical `phys`, inside the pool's run. O(1). */
@inline export function dmaPhysToVirt(pool: DmaPool, phys: u64): usize { return pool.virtBase + <usize>(phys - pool.physBase); }

/**
 * Checks the pool: the free lists (linked both ways, each chunk marked free with its order and
 * aligned to its size), the map against them, no two free buddies unmerged, and the counts.
 * Returns Invariant.Holds, or the first broken invariant (Buddy*: free lists, map, merging,
 * counts; invariant.ts). O(map); for tests and debugging.
 */
export function dmaPoolCheck(pool: DmaPool): Invariant {
  let freeChunks: u32 = 0, freeBytes: u32 = 0;
  for (let order: u32 = 0; order <= MAX_ORDER; order++) {
    let chunk = load<usize>(headAt(pool, order)), prev: usize = 0;
    if ((chunk != 0) != ((pool.nonEmpty & (1 << order)) != 0)) return Invariant.BuddyFreeLists;
    while (chunk != 0) {
      if (freeChunk(chunk).prev != prev || !inPool(pool, chunk)) return Invariant.BuddyFreeLists;
      if (((chunk - pool.virtBase) & ((1 << order) - 1)) != 0 || mark(pool, chunk) != (FREE_MARK | <u8>order)) return Invariant.BuddyFreeLists;
      freeChunks++; freeBytes += 1 << order;
      if (freeChunks > (pool.bytes >> MIN_ORDER)) return Invariant.BuddyFreeLists;
      prev = chunk;
      chunk = freeChunk(chunk).next;
    }
  }
  let marks: u32 = 0, usedBytes: u32 = 0, usedChunks: u32 = 0;
  for (let unit: u32 = 0; unit < pool.bytes >> MIN_ORDER; unit++) {
    const m = load<u8>(pool.map + unit);
    if (m == 0) continue;
    marks++;
    const order = <u32>(m & ORDER_MASK), offset = unit << MIN_ORDER;
    if (order < MIN_ORDER || order > MAX_ORDER || (offset & ((1 << order) - 1)) != 0 || offset + (1 << order) > pool.bytes) return Invariant.BuddyMap;
    if ((m & USED_MARK) != 0) { usedChunks++; usedBytes += 1 << order; }
    else {
      const buddy = offset ^ (1 << order);
      if (buddy + (1 << order) <= pool.bytes && load<u8>(pool.map + (buddy >> MIN_ORDER)) == m &&
          topAllows(pool, min<u32>(offset, buddy), order + 1)) return Invariant.BuddyUnmerged;
    }
  }
  if (marks != freeChunks + usedChunks || usedChunks != pool.usedChunks || usedBytes != pool.usedBytes || freeBytes + usedBytes != pool.bytes) return Invariant.BuddyCounts;
  return Invariant.Holds;
}

/** Whether a block of `order` at `offset` lies inside one top block of the run's decomposition. */
function topAllows(pool: DmaPool, offset: u32, order: u32): bool {
  let start: u32 = 0;
  while (start < pool.bytes) {
    const top = min<u32>(31 - clz(pool.bytes - start), MAX_ORDER);
    if (offset >= start && offset < start + (1 << top)) return order <= top && offset + (1 << order) <= start + (1 << top);
    start += 1 << top;
  }
  return false;
}
