// What an object cache holds, counted: the objects its slabs count as in use, the free objects
// its CPUs' parts hold (slab/cache-layout.ts), and from the two the objects in use. For
// statistics (slabinfo), the checker's users and cacheDestroy. Hardware-independent.
//
// A part that another CPU uses without the lock cannot be walked (its free list changes under
// the walk), so a caller names the part it may read: ALL_CPUS when no other CPU runs the cache
// (one CPU, the host, a drained cache), else its own, and then the other parts count only their
// stashes (a word each).
import { slabEntry } from "./regions";
import { SlabCache, cacheCpu, cachePartOffset, cachePartOf, CACHE_PARTS, ALL_CPUS } from "./cache-layout";

/** Free objects the part at `cpu` holds: its active slab's on its list, and its stash. O(them). */
export function cacheCpuHeld(cache: SlabCache, cpu: u32): u32 {
  const part = cacheCpu(cache, cpu);
  let held = part.stashed;
  for (let object = part.freelist; object != 0; object = load<usize>(object + cache.linkOffset)) held++;
  return held;
}

/**
 * Free objects the CPUs' parts of `cache` hold: every part's (`cpu` ALL_CPUS), or CPU `cpu`'s
 * two parts' and the others' stashes. O(free objects the parts read hold).
 */
export function cacheCpuFree(cache: SlabCache, cpu: u32): u32 {
  let free: u32 = 0;
  for (let i: u32 = 0; i < CACHE_PARTS; i++) {
    const offset = cachePartOffset(i);
    free += cachePartOf(offset, cpu) ? cacheCpuHeld(cache, offset) : cacheCpu(cache, offset).stashed;
  }
  return free;
}

/**
 * Objects of `cache` its slabs count as in use: the partial and full slabs' counts and the
 * active slabs' (objects CPUs hold free, in their active slabs' lists and their stashes, count
 * as in use here). O(slabs); reads no CPU's part. Under the regions' lock.
 */
export function cacheSlabsInUse(cache: SlabCache): u32 {
  let inUse: u32 = cache.activeSlabs * cache.capacity;
  for (let slab = cache.partial; slab != 0; slab = slabEntry(slab).next) inUse += slabEntry(slab).inUse;
  for (let slab = cache.full; slab != 0; slab = slabEntry(slab).next) inUse += slabEntry(slab).inUse;
  return inUse - cache.remoteHeld;
}

/**
 * Objects of `cache` in use now: cacheSlabsInUse less cacheCpuFree (with `cpu` as there: exact
 * for ALL_CPUS; otherwise the objects on other CPUs' active slabs' lists count as in use, as
 * Linux's slabinfo counts its per-CPU slabs). O(slabs + free objects the parts read hold).
 * Under the regions' lock.
 */
export function cacheActiveObjects(cache: SlabCache, cpu: u32 = ALL_CPUS): u32 {
  return cacheSlabsInUse(cache) - cacheCpuFree(cache, cpu);
}
