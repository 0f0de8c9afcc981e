// An object cache's slabs (slab/cache.ts holds its CPUs' parts and the paths through them): a
// slab taken for the cache (a partial one, an empty one, or new pages filled with free,
// constructed objects), filed on the list its use says, kept when empty (up to maxEmpty) or
// given back to the regions. Under the regions' lock. Hardware-independent.
import { slabPagesTake, slabPagesGive, slabEntry, SlabEntry } from "./regions";
import { debugFillSlot } from "./debug";
import { listPush, listUnlink } from "../../../lib/list";
import { SlabCache, SlabList, listHeadAt } from "./cache-layout";

/** Called on every object of a new slab, so that free objects are always constructed. */
export type Constructor = (object: usize) => void;

/** Puts `slab` first on the cache's list `list` (SlabList) and records which. */
export function fileSlab(cache: SlabCache, slab: usize, list: u32): void {
  listPush<SlabEntry>(slab, listHeadAt(cache, list));
  slabEntry(slab).list = <u16>list;
  if (list == SlabList.Empty) cache.emptySlabs++;
}

/** Takes `slab` off the cache's list it is on. */
export function unfileSlab(cache: SlabCache, slab: usize): void {
  const list = <u32>slabEntry(slab).list;
  listUnlink<SlabEntry>(slab, listHeadAt(cache, list));
  if (list == SlabList.Empty) cache.emptySlabs--;
}

/** Moves `slab` to the cache's list `list`. */
export function refileSlab(cache: SlabCache, slab: usize, list: u32): void {
  unfileSlab(cache, slab);
  fileSlab(cache, slab, list);
}

/** A slab of `cache` with a free object, taken off its list: a partial one, else an empty one, else a new one. Or 0. Under the lock. */
export function takeSlab(cache: SlabCache): usize {
  let slab = cache.partial;
  if (slab == 0) slab = cache.empty;
  if (slab == 0) {
    slab = slabPagesTake(cache.regions, cache.slabPages);
    if (slab == 0) return 0;
    fillSlab(cache, slab);
    cache.slabCount++;
  } else unfileSlab(cache, slab);
  return slab;
}

/** Makes `slab` (fresh pages, on no list) a slab of `cache`: its free list in address order, constructed. */
function fillSlab(cache: SlabCache, slab: usize): void {
  const start = slabEntry(slab).start, size = cache.objectSize, count = cache.capacity;
  slabEntry(slab).cache = changetype<usize>(cache);
  slabEntry(slab).inUse = 0;
  slabEntry(slab).free = start;
  const ctor = cache.ctor, zone = cache.zone, debug = cache.debug != 0;
  if (ctor == 0 && !debug) {
    // the common case, written out: a store per object (the link at +0: no constructor); the
    // general loop below tests both options for every object, and a new slab of 16-byte
    // objects has 256 of them (make compare's real traces spent 5 % of kmalloc here)
    const last = start + (count - 1) * size;
    for (let slot = start; slot < last; slot += size) store<usize>(slot, slot + size);
    store<usize>(last, 0);
    return;
  }
  for (let i: u32 = 0; i < count; i++) {
    const slot = start + i * size;
    if (debug) debugFillSlot(slot, zone, cache.linkOffset, ctor == 0);
    if (ctor != 0) changetype<Constructor>(ctor)(slot + zone);
    store<usize>(slot + cache.linkOffset, i + 1 < count ? slot + size : 0);
  }
}

/** `slab` (on no list) has no object in use: keep it on the empty list, or give its pages back. */
export function keepOrRelease(cache: SlabCache, slab: usize): void {
  if (cache.emptySlabs < cache.maxEmpty) { fileSlab(cache, slab, SlabList.Empty); return; }
  cache.slabCount--;
  slabPagesGive(cache.regions, slab);
}

/**
 * Gives the pages of every empty slab of `cache` back, the parts left as they are (for a caller
 * that drained them on their CPUs). Returns how many slabs went. Under the lock. O(empty slabs).
 */
export function cacheReleaseEmpty(cache: SlabCache): u32 {
  let released: u32 = 0;
  for (let slab = cache.empty; slab != 0; slab = cache.empty) {
    unfileSlab(cache, slab);
    cache.slabCount--;
    slabPagesGive(cache.regions, slab);
    released++;
  }
  return released;
}

/**
 * A slot from a partial slab (else a new or empty one), for a cache that has no active slabs (a
 * constructor or slab_debug: its link is not at +0): its count and lists as for any slab. Or 0.
 * Under the lock.
 */
export function slabAllocLocked(cache: SlabCache): usize {
  let slab = cache.partial;
  if (slab == 0) {
    slab = takeSlab(cache);
    if (slab == 0) return 0;
    fileSlab(cache, slab, SlabList.Partial);
  }
  const slot = slabEntry(slab).free;
  const next = load<usize>(slot + cache.linkOffset);
  slabEntry(slab).free = next;
  slabEntry(slab).inUse = slabEntry(slab).inUse + 1;
  if (next == 0) refileSlab(cache, slab, SlabList.Full);
  return slot;
}
