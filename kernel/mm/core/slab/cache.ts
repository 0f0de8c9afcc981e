// Object caches: fixed-size objects carved from slabs, each slab one or more pages of a slab
// regions (slab/regions.ts). A cache keeps its slabs on three lists by how full they are, and at most
// `maxEmpty` empty slabs; free objects are linked through their first word. Each CPU has a part of
// its own in the cache (CacheCpu: an active slab and a stash; the kernel gives each CPU two,
// one for threads and one for interrupt handlers: cache-layout.ts), so that its fast paths touch
// no shared state and take no lock. Hardware-independent: the caller names the part (its byte
// offset, cacheCpuOffset) and keeps it to itself while it works on it (the kernel: with
// preemption off, and handlers on the other part); the shared lists are worked on under the
// regions' lock.
//
//   cache ──cpus[i].active──> slab               CPU i's active slab: its free objects are the
//                                                 part's `freelist`, where CPU i's fast paths
//                                                 pop and push
//         ──cpus[i].stash───> [obj][obj]...      objects CPU i freed outside its active slab
//                                                 (up to STASH_CAPACITY): its next allocations
//                                                 take them first; a full stash goes back to
//                                                 the slabs in one locked batch
//         ──partial──> slab <-> slab <-> ...     some objects free: the next active slab
//         ──full─────> slab <-> ...              no object free
//         ──empty────> slab <-> ...              no object in use (kept for reuse, up to maxEmpty)
//
// An active slab counts as wholly in use while active (in the manner of SLUB's per-CPU slab):
// an allocation pops its CPU's free list and a free of one of its objects on that CPU (its address
// range alone proves that) pushes onto it, with no count and no list to touch. When the list runs
// dry the stash serves, then another slab becomes active. A free of any other object (another
// CPU's, or a slab that is not active) is checked through the slab table and goes to the
// stash: lock-free as well, so an object freed on another CPU than the one that allocated it costs
// a check and a push (magazines, in Bonwick's terms; Linux's sheaves). Stashed objects still count
// as in use in their slabs; so do the objects of an active slab freed by other CPUs' stashes until
// the batch comes: they go on the slab's own free list (SlabEntry.free) and its count, and the
// owning CPU takes them back when it deactivates the slab.
//
//   a slab's pages:  [object 0][object 1] ... [object capacity-1][waste]
//   a free object:   [next free object (or 0)][ ... ]                 (no constructor)
//                    [ ... constructed state ... ][next free object]  (with one: the link
//                                                                      after the object)
//
// Only a cache whose link is at +0 (no constructor, no slab_debug) has active slabs, so the fast
// paths read and write the link at the object itself: a cache with a constructor or slab_debug
// takes every allocation and free through its slow paths, under the lock (the kernel has no
// cache with a constructor).
//   the control block (a cache's fields and its CPUs' parts): slab/cache-layout.ts
//   the frees off the fast path: slab/cache-free.ts; a debug cache's paths: slab/cache-debug.ts
//
// The slab of an object comes from slab/regions.ts's slabOf (its region's slab table), so a free
// checks that the object belongs to this cache, starts an object and is neither the newest free
// object of its slab nor the newest in the stash (the cheapest double-free checks) without
// searching or trusting the pointer. The table is read without the lock: the slab of an object in
// use cannot change under it, so a good pointer is always found; a bad pointer freed while another
// CPU reshapes the table may be read through a half-written entry (slab_debug caches take the
// lock for every free, and check exactly).
import { ReportLevel, reportBegin, reportText, reportDec, reportLast } from "../report";
import { SlabRegions, MAX_SLAB_PAGES, slabEntry, regionsLock, regionsUnlock } from "./regions";
import { PROVIDER_PAGE_SIZE } from "../pages";
import { slabDebugWanted, debugZone, debugLinkOffset, debugSlotSize } from "./debug";
import { AllocError } from "../alloc-error";
import {
  SlabCache, CacheCpu, SlabList, CACHE_BYTES, CACHE_PARTS, ALL_CPUS, CPU0, cacheInBlock, cachePartOffset,
  cachePartOf, cacheCpu, cacheStashSlot, partDivisor,
} from "./cache-layout";
import { cacheActiveObjects } from "./counts";
import { Constructor, fileSlab, takeSlab, keepOrRelease, cacheReleaseEmpty, slabAllocLocked } from "./cache-slabs";
import { freeSlow, freeInSlabSlow, flushStash } from "./cache-free";
import { debugAlloc, isObjectStart } from "./cache-debug";
export { Constructor, cacheReleaseEmpty } from "./cache-slabs";
export { cacheActiveObjects, cacheCpuHeld, cacheCpuFree, cacheSlabsInUse } from "./counts";
export {
  SlabCache, CacheCpu, SlabList, CACHE_BYTES, CACHE_CPU_BYTES, CACHE_MAX_CPUS, CACHE_PARTS, CACHE_IRQ_PART, STASH_CAPACITY,
  ALL_CPUS, CPU0, cacheInBlock, cacheBlock, cacheCpuOffset, cachePartOffset, cacheCpu, cacheStashSlot, listHeadAt,
} from "./cache-layout";
import { divisorTestInit, exactQuotient } from "../../../lib/bits";

/** The smallest object: a free object holds a pointer (without a constructor). */
const MIN_OBJECT: u32 = 4;
/** The alignment of objects when the caller asks for none. */
export const DEFAULT_ALIGN: u32 = 8;
/** The largest object a cache takes (its slab: MAX_SLAB_PAGES pages). */
export const MAX_OBJECT: u32 = MAX_SLAB_PAGES * PROVIDER_PAGE_SIZE;
/** Empty slabs a cache keeps by default instead of giving their pages back. */
export const DEFAULT_MAX_EMPTY: u32 = 1;

/**
 * Makes an empty cache of objects of `objectSize` bytes aligned to `align` (0: DEFAULT_ALIGN; a
 * power of two up to PROVIDER_PAGE_SIZE) in the control block at `at` (CACHE_BYTES), over
 * `regions`. `ctor` (or 0) runs on each object when its slab is made. Returns null (logged) for a
 * size of 0 or above MAX_OBJECT or a bad alignment. Slab pages are chosen so that at most an
 * eighth of a slab is waste. The cache is not at `at` but cacheInBlock(at) (its CPU parts come first).
 */
export function cacheCreate(at: usize, regions: SlabRegions, name: string, objectSize: u32, align: u32, ctor: usize, debug: bool = false): SlabCache | null {
  if (align == 0) align = DEFAULT_ALIGN;
  debug = debug || slabDebugWanted(name);
  // With a constructor, a free object keeps its constructed state: its link goes after it. With
  // slab_debug, a slot holds red zones, the object, the link and a state (slab/debug.ts).
  const own = max<u32>(objectSize, MIN_OBJECT);
  const rounded = (own + 3) & ~3;
  const linkOffset = debug ? debugLinkOffset(align, rounded) : ctor != 0 ? rounded : 0;
  const size = debug ? debugSlotSize(align, rounded) : (linkOffset + (ctor != 0 ? 4 : own) + align - 1) & ~(align - 1);
  if (objectSize == 0 || objectSize > MAX_OBJECT || size > MAX_OBJECT || align > PROVIDER_PAGE_SIZE || (align & (align - 1)) != 0) {
    regions.errors++;
    if (reportBegin(ReportLevel.Error, "slab")) {
      reportText("cacheCreate("); reportText(name); reportText(", "); reportDec(objectSize); reportText(", "); reportDec(align);
      reportText("): size must be 1.."); reportDec(MAX_OBJECT); reportText(" (with room for the link, given a constructor)");
      reportLast(" and alignment a power of two up to 4096");
    }
    return null;
  }
  let pages: u32 = 1;
  while (pages < MAX_SLAB_PAGES && (pages * PROVIDER_PAGE_SIZE < size || (pages * PROVIDER_PAGE_SIZE) % size > pages * PROVIDER_PAGE_SIZE / 8)) pages++;
  memory.fill(at, 0, CACHE_BYTES);
  const cache = cacheInBlock(at);
  cache.regions = regions;
  cache.name = changetype<usize>(name);
  cache.requestedSize = objectSize;
  cache.objectSize = size;
  cache.align = align;
  cache.ctor = ctor;
  cache.linkOffset = linkOffset;
  for (let i: u32 = 0; i < CACHE_PARTS; i++) {   // (what the fast paths read in the part)
    const part = cacheCpu(cache, cachePartOffset(i));
    part.cache = changetype<usize>(cache);
    divisorTestInit(partDivisor(part), size);
  }
  cache.slabPages = pages;
  cache.capacity = pages * PROVIDER_PAGE_SIZE / size;
  cache.maxEmpty = DEFAULT_MAX_EMPTY;
  cache.live = 1;
  cache.debug = debug ? 1 : 0;
  cache.zone = debug ? debugZone(align) : 0;
  cache.next = regions.caches;
  if (regions.caches != 0) changetype<SlabCache>(regions.caches).prev = changetype<usize>(cache);
  regions.caches = changetype<usize>(cache);
  return cache;
}

/**
 * An object of `cache` (constructed, if the cache has a constructor) for the CPU whose part is at
 * `cpu` (cacheCpuOffset; CPU0 on one CPU), or 0 if the regions' provider has no pages for a new
 * slab. O(1) apart from making a slab. Free it with cacheFree on the same cache, on any CPU. The
 * caller keeps the part to itself meanwhile (the kernel: preemption off, a handler on a part of
 * its own); slow paths take the regions' lock (regionsLock). Never sleeps.
 */
@inline export function cacheAlloc(cache: SlabCache, cpu: u32 = CPU0): usize { return cacheAllocIn(cacheCpu(cache, cpu)); }

/** cacheAlloc given the CPU's part itself (cacheCpu), which names its cache. */
@inline export function cacheAllocIn(part: CacheCpu): usize {
  const object = part.freelist;
  if (object == 0) return allocSlow(part);
  part.freelist = load<usize>(object);   // (an active slab's link is at +0: see above)
  return object;
}

/** cacheAlloc when the CPU's active slab has no free object: the stash's newest, or another slab becomes active. Or 0. */
function allocSlow(part: CacheCpu): usize {
  const cache = changetype<SlabCache>(part.cache);
  const stashed = part.stashed;
  if (stashed != 0) {
    part.stashed = stashed - 1;
    return load<usize>(cacheStashSlot(part, stashed - 1));
  }
  const regions = cache.regions;
  regionsLock(regions);
  let object: usize = 0;
  if (cache.debug != 0) object = debugAlloc(cache);   // (neither has an active slab)
  else if (cache.linkOffset != 0) object = slabAllocLocked(cache);
  else {
    deactivate(cache, part);   // it is full, but for what other CPUs gave back
    const slab = takeSlab(cache);
    if (slab != 0) {
      activate(cache, part, slab);
      object = part.freelist;
      part.freelist = load<usize>(object);
    }
  }
  regionsUnlock(regions);
  return object;
}

/**
 * Makes `slab` (on no list, with a free object) the active slab of the CPU whose part is `part`:
 * its free list becomes the part's, and it counts as wholly in use until it is deactivated.
 * Under the lock.
 */
function activate(cache: SlabCache, part: CacheCpu, slab: usize): void {
  part.freelist = slabEntry(slab).free;
  slabEntry(slab).free = 0;
  slabEntry(slab).inUse = cache.capacity;
  slabEntry(slab).list = <u16>SlabList.Active;
  part.active = slab;
  part.activeStart = slabEntry(slab).start;
  part.activeObjects = cache.capacity;
  cache.activeSlabs++;
}

/**
 * Gives the part's active slab (if any) its free objects back, after those other CPUs freed to
 * it meanwhile, and files it by its use: full, partial, or empty (kept or given back). Under the
 * lock. O(its free objects).
 */
function deactivate(cache: SlabCache, part: CacheCpu): void {
  const slab = part.active;
  if (slab == 0) return;
  let free: u32 = 0, last: usize = 0;   // (an active slab's link is at +0)
  for (let object = part.freelist; object != 0; object = load<usize>(object)) { free++; last = object; }
  if (last != 0) {
    store<usize>(last, slabEntry(slab).free);
    slabEntry(slab).free = part.freelist;
  }
  cache.remoteHeld -= cache.capacity - slabEntry(slab).inUse;   // (what other CPUs gave it)
  const inUse = slabEntry(slab).inUse - free;
  slabEntry(slab).inUse = inUse;
  part.freelist = 0;
  part.active = 0;
  part.activeStart = 0;
  part.activeObjects = 0;
  cache.activeSlabs--;
  if (inUse == 0) keepOrRelease(cache, slab);
  else fileSlab(cache, slab, inUse == cache.capacity ? SlabList.Full : SlabList.Partial);
}

/**
 * Gives `object` back to `cache`, on the CPU whose part is at `cpu` (cacheCpuOffset; any CPU,
 * not only the one that allocated it). A pointer that is not an object of this cache handed out
 * now (foreign, of another cache, not an object's start, or the newest free object of its slab
 * or of the stash: a double free) is logged with the cache, the address and the reason, returned
 * as an error, and changes nothing. O(1) apart from a full stash's batch. The part as cacheAlloc;
 * a free outside the active slab takes, on one CPU (regionsSetLock), the cores' one-CPU section
 * (section.ts: the kernel's interrupts off) for a few instructions, else the stash and at times
 * the regions' lock. Never sleeps.
 */
@inline export function cacheFree(cache: SlabCache, object: usize, cpu: u32 = CPU0): AllocError {
  return cacheFreeIn(cacheCpu(cache, cpu), object);
}

/** cacheFree given the CPU's part itself (cacheCpu), which names its cache. */
@inline export function cacheFreeIn(part: CacheCpu, object: usize): AllocError {
  if (freeToActive(part, object)) return AllocError.Ok;
  return freeSlow(part, object);
}

/**
 * cacheFreeIn when the caller has found the object's slab already (slabOf's answer, not 0) and
 * the part is of that slab's cache (kfree: the slab table names the cache), so that the slow
 * path need not find or check either again. Contexts and locks as cacheFree.
 */
@inline export function cacheFreeInSlab(part: CacheCpu, slab: usize, object: usize): AllocError {
  if (freeToActive(part, object)) return AllocError.Ok;
  return freeInSlabSlow(part, slab, object);
}

/**
 * The free fast path: `object` onto the part's list if it is an object of the CPU's active slab
 * (its range alone proves it ours) other than the list's newest; false for anything else.
 */
@inline function freeToActive(part: CacheCpu, object: usize): bool {
  // Its index in the active slab: exactQuotient is above every index unless the offset is a
  // multiple of the object size, so one compare also refuses a pointer inside an object.
  // (nested, each field read where it is needed: fewer registers live at once on i386)
  const index = exactQuotient(partDivisor(part), <u32>(object - part.activeStart));
  if (index < part.activeObjects) {
    const free = part.freelist;
    if (object != free) {
      store<usize>(object, free);   // (an active slab's link is at +0)
      part.freelist = object;
      return true;
    }
  }
  return false;
}

/**
 * The usable size of `pointer` if it is the start of an object of `cache` in `slab` (the size
 * asked for, under slab_debug; the object's size otherwise), else 0. (Free objects count too:
 * only slab_debug's state tells them apart.)
 */
export function cacheUsableSize(cache: SlabCache, slab: usize, pointer: usize): u32 {
  if (!isObjectStart(cache, slab, pointer)) return 0;
  return cache.debug != 0 ? cache.requestedSize : cache.objectSize;
}

/**
 * Gives the part at `cpu` back to the slabs: its stash and its active slab's free objects.
 * Under the lock; the part as cacheAlloc. O(free objects the part holds).
 */
@inline export function cacheDrainCpu(cache: SlabCache, cpu: u32): void {
  const part = cacheCpu(cache, cpu);
  flushStash(cache, part);
  deactivate(cache, part);
}

/**
 * Gives the pages of every empty slab of `cache` back, after draining the part at `cpu` (its
 * active slab too goes, when it has no object in use; ALL_CPUS: every part, when no other CPU
 * uses the cache). Returns how many slabs went. Under the lock. O(empty slabs + the drained
 * parts' free objects).
 */
export function cacheShrink(cache: SlabCache, cpu: u32 = ALL_CPUS): u32 {
  drainParts(cache, cpu);
  return cacheReleaseEmpty(cache);
}

/** cacheDrainCpu of CPU `cpu`'s two parts, or of every part (ALL_CPUS). Under the lock. */
function drainParts(cache: SlabCache, cpu: u32): void {
  for (let i: u32 = 0; i < CACHE_PARTS; i++) {
    const offset = cachePartOffset(i);
    if (cachePartOf(offset, cpu)) cacheDrainCpu(cache, offset);
  }
}

/**
 * Destroys `cache`: drains every CPU's part (no other CPU may use the cache meanwhile), gives
 * all its slabs back and takes it off its regions' list. Refuses, with a message naming the
 * cache and its live objects, while any object is in use: returns false and changes nothing
 * but the drained parts. Under the lock.
 */
export function cacheDestroy(cache: SlabCache): bool {
  drainParts(cache, ALL_CPUS);
  const active = cacheActiveObjects(cache);
  if (active != 0) {
    cache.regions.errors++;
    if (reportBegin(ReportLevel.Error, "slab")) {
      reportText("cacheDestroy("); reportText(changetype<string>(cache.name)); reportText("): "); reportDec(active);
      reportLast(" objects still in use; cache kept");
    }
    return false;
  }
  cacheReleaseEmpty(cache);
  const regions = cache.regions;
  if (cache.next != 0) changetype<SlabCache>(cache.next).prev = cache.prev;
  if (cache.prev != 0) changetype<SlabCache>(cache.prev).next = cache.next; else regions.caches = cache.next;
  cache.live = 0;
  return true;
}
