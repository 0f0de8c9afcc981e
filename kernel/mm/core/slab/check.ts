// The object caches' checker (cacheCheck, one cache) and the whole slab layer's (slabCheckAll:
// every cache of a set of slab regions, then the regions): for tests and debugging.
import { SlabRegions, slabRegionsCheck, slabEntry } from "./regions";
import { Invariant } from "../invariant";
import { SlabCache, SlabList, listHeadAt } from "./cache";

/**
 * Checks `cache`'s slabs: each on the list its use says (the active one on none), owned by the
 * cache, its free list inside the slab, on object starts, without repeats and as long as its
 * free objects; and the counts.
 * Returns Invariant.Holds, or the first broken invariant (Cache*, invariant.ts: a list, a slab's owner or use,
 * 23 a free list, 24 the slab counts). O(objects); for tests and debugging.
 */
export function cacheCheck(cache: SlabCache): Invariant {
  let slabs: u32 = 0, empty: u32 = 0;
  // The active slab: on no list, counted as wholly in use, its free objects on the cache's list.
  const active = cache.active;
  if (active != 0) {
    slabs++;
    if (slabEntry(active).cache != changetype<usize>(cache) || <u32>slabEntry(active).list != SlabList.Active) return Invariant.CacheSlab;
    if (slabEntry(active).inUse != cache.capacity || slabEntry(active).free != 0) return Invariant.CacheSlab;
    if (cache.activeStart != slabEntry(active).start || cache.activeObjects != cache.capacity) return Invariant.CacheSlab;
    let free: u32 = 0;
    for (let object = cache.freelist; object != 0; object = load<usize>(object + cache.linkOffset)) {
      const offset = <u32>(object - cache.activeStart);
      if (offset >= cache.activeObjects * cache.objectSize || offset % cache.objectSize != 0 || ++free > cache.capacity) return Invariant.CacheFreeList;
    }
  } else if (cache.freelist != 0 || cache.activeStart != 0 || cache.activeObjects != 0) return Invariant.CacheSlab;
  for (let list: u32 = 0; list < 3; list++) {
    let prev: usize = 0;
    for (let slab = load<usize>(listHeadAt(cache, list)); slab != 0; slab = slabEntry(slab).next) {
      if (slabEntry(slab).prev != prev || <u32>slabEntry(slab).list != list) return Invariant.CacheLists;
      prev = slab;
      if (++slabs > cache.slabCount) return Invariant.CacheLists;
      const inUse = slabEntry(slab).inUse;
      if (slabEntry(slab).cache != changetype<usize>(cache) || <u32>slabEntry(slab).pages != cache.slabPages) return Invariant.CacheSlab;
      const expected = inUse == 0 ? SlabList.Empty : inUse == cache.capacity ? SlabList.Full : SlabList.Partial;
      if (list != expected || inUse > cache.capacity) return Invariant.CacheSlab;
      if (list == SlabList.Empty) empty++;
      // The free list: object starts inside the slab, no object twice (at most capacity steps).
      const start = slabEntry(slab).start;
      let free: u32 = 0;
      for (let object = slabEntry(slab).free; object != 0; object = load<usize>(object + cache.linkOffset)) {
        const offset = <u32>(object - start);
        if (object < start || offset >= cache.capacity * cache.objectSize || offset % cache.objectSize != 0) return Invariant.CacheFreeList;
        if (++free > cache.capacity - inUse) return Invariant.CacheFreeList;
      }
      if (free != cache.capacity - inUse) return Invariant.CacheFreeList;
    }
  }
  if (slabs != cache.slabCount || empty != cache.emptySlabs) return Invariant.CacheCounts;
  return Invariant.Holds;
}

/** Checks every cache of `regions` (cacheCheck) and the regions itself (slabRegionsCheck): 0 or the first failure. */
export function slabCheckAll(regions: SlabRegions): Invariant {
  for (let at = regions.caches; at != 0; at = changetype<SlabCache>(at).next) {
    const failed = cacheCheck(changetype<SlabCache>(at));
    if (failed != Invariant.Holds) return failed;
  }
  return slabRegionsCheck(regions);
}
