// The object caches' checker (cacheCheck, one cache) and the whole slab layer's (slabCheckAll:
// every cache of a set of slab regions, then the regions): for tests and debugging.
import { SlabRegions, slabRegionsCheck, slabEntry, slabOf } from "./regions";
import { Invariant } from "../invariant";
import {
  SlabCache, SlabList, CacheCpu, listHeadAt, cacheCpu, cachePartOffset, cachePartOf, cacheStashSlot, CACHE_PARTS, STASH_CAPACITY, ALL_CPUS,
} from "./cache-layout";

/**
 * Checks `cache`'s slabs: each on the list its use says (the active ones on none), owned by the
 * cache, its free list inside the slab, on object starts, without repeats and as long as its
 * free objects; the CPU parts' active slabs and stashes (every part, or only CPU `cpu`'s two,
 * when other CPUs may be using theirs: their active slabs are then only counted); and the
 * counts. Returns Invariant.Holds, or the first broken invariant (Cache*, invariant.ts: a list,
 * a slab's owner or use, 23 a free list, 24 the slab counts). O(objects); for tests and
 * debugging, under the regions' lock.
 */
export function cacheCheck(cache: SlabCache, cpu: u32 = ALL_CPUS): Invariant {
  let slabs: u32 = 0, empty: u32 = 0, actives: u32 = 0, given: u32 = 0;
  for (let i: u32 = 0; i < CACHE_PARTS; i++) {
    const offset = cachePartOffset(i);
    if (!cachePartOf(offset, cpu)) continue;
    const failed = checkPart(cache, cacheCpu(cache, offset));
    if (failed != Invariant.Holds) return failed;
    const active = cacheCpu(cache, offset).active;
    if (active != 0) { actives++; given += cache.capacity - slabEntry(active).inUse; }
  }
  if (cpu == ALL_CPUS ? actives != cache.activeSlabs || given != cache.remoteHeld : actives > cache.activeSlabs || given > cache.remoteHeld) return Invariant.CacheCounts;
  slabs += cache.activeSlabs;
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
      if (freeListLength(cache, slab, slabEntry(slab).free, cache.capacity - inUse) != cache.capacity - inUse) return Invariant.CacheFreeList;
    }
  }
  if (slabs != cache.slabCount || empty != cache.emptySlabs) return Invariant.CacheCounts;
  return Invariant.Holds;
}

/**
 * A CPU part: its active slab on no list, owned, counted as wholly in use but for what other
 * CPUs gave it (on the slab's own list), the part's free list inside it; its stash within
 * bounds, of this cache's object starts.
 */
function checkPart(cache: SlabCache, part: CacheCpu): Invariant {
  if (part.stashed > STASH_CAPACITY) return Invariant.CacheFreeList;
  for (let i: u32 = 0; i < part.stashed; i++) {
    const object = load<usize>(cacheStashSlot(part, i));
    const slab = slabOf(cache.regions, object);
    if (slab == 0 || slabEntry(slab).cache != changetype<usize>(cache) || slab == part.active) return Invariant.CacheFreeList;
    if (offsetIn(cache, slab, object) == OUTSIDE) return Invariant.CacheFreeList;
  }
  const active = part.active;
  if (active == 0) return part.freelist != 0 || part.activeStart != 0 || part.activeObjects != 0 ? Invariant.CacheSlab : Invariant.Holds;
  if (slabEntry(active).cache != changetype<usize>(cache) || <u32>slabEntry(active).list != SlabList.Active) return Invariant.CacheSlab;
  if (part.activeStart != slabEntry(active).start || part.activeObjects != cache.capacity) return Invariant.CacheSlab;
  const given = cache.capacity - slabEntry(active).inUse;   // by other CPUs' stashes
  if (slabEntry(active).inUse > cache.capacity || freeListLength(cache, active, slabEntry(active).free, given) != given) return Invariant.CacheFreeList;
  const own = freeListLength(cache, active, part.freelist, cache.capacity - given);
  return own > cache.capacity - given ? Invariant.CacheFreeList : Invariant.Holds;
}

const OUTSIDE: u32 = 0xFFFFFFFF;
/** `object`'s offset in `slab` if it starts an object there, else OUTSIDE. */
function offsetIn(cache: SlabCache, slab: usize, object: usize): u32 {
  const start = slabEntry(slab).start, offset = <u32>(object - start);
  return object < start || offset >= cache.capacity * cache.objectSize || offset % cache.objectSize != 0 ? OUTSIDE : offset;
}

/**
 * The length of the free list from `first` in `slab`, every object a start inside the slab; past
 * `most` (no object twice, then) or at a bad object: most + 1.
 */
function freeListLength(cache: SlabCache, slab: usize, first: usize, most: u32): u32 {
  let free: u32 = 0;
  for (let object = first; object != 0; object = load<usize>(object + cache.linkOffset)) {
    if (offsetIn(cache, slab, object) == OUTSIDE || ++free > most) return most + 1;
  }
  return free;
}

/** Checks every cache of `regions` (cacheCheck, with `cpu` as there) and the regions itself (slabRegionsCheck): 0 or the first failure. */
export function slabCheckAll(regions: SlabRegions, cpu: u32 = ALL_CPUS): Invariant {
  for (let at = regions.caches; at != 0; at = changetype<SlabCache>(at).next) {
    const failed = cacheCheck(changetype<SlabCache>(at), cpu);
    if (failed != Invariant.Holds) return failed;
  }
  return slabRegionsCheck(regions);
}
