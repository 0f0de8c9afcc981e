// The object caches' frees off the fast path (slab/cache.ts cacheFreeIn takes an object of the
// CPU's active slab itself): the checks, then on one CPU the object straight back to its slab in
// the cores' section, with several CPUs into the part's stash and back to the slabs in batches
// under the regions' lock; a debug cache's free, checked exactly under the lock; and a refused
// free's report. Hardware-independent.
import { ReportLevel, reportBegin, reportText, reportAddress, reportLast } from "../report";
import { slabOf, slabEntry, regionsLock, regionsUnlock } from "./regions";
import { SLOT_ALLOCATED } from "./debug";
import { AllocError, allocErrorText } from "../alloc-error";
import { SlabCache, CacheCpu, SlabList, STASH_CAPACITY, cacheStashSlot, partDivisor } from "./cache-layout";
import { unfileSlab, refileSlab, keepOrRelease } from "./cache-slabs";
import { isObjectStart, debugRetire } from "./cache-debug";
import { exactQuotient } from "../../../lib/bits";
import { sectionEnter, sectionLeave } from "../section";

// Kept out of line (a reference from the function table stops binaryen inlining a function
// with one caller), so that clang sees the slow half as the cold function it is (Makefile).
const FREE_SLOW_PATHS: usize = changetype<usize>(freeInSlabSlow) + changetype<usize>(freeStashedOrDebug);

/**
 * cacheFree of what the fast path did not take: a pointer outside every slab, or in a slab of
 * another cache, is refused here; anything else goes on to freeInSlabSlow. Contexts as
 * cacheFree (slab/cache.ts): the caller keeps the part to itself; never sleeps.
 */
export function freeSlow(part: CacheCpu, object: usize): AllocError {
  const cache = changetype<SlabCache>(part.cache), slab = slabOf(cache.regions, object);
  if (slab == 0) return refuseFreeLocked(cache, object, AllocError.Foreign);
  if (slabEntry(slab).cache != changetype<usize>(cache)) return refuseFreeLocked(cache, object, AllocError.WrongCache);
  return freeInSlabSlow(part, slab, object);
}

/**
 * cacheFree of an object outside the CPU's active slab, or of a bad pointer, given its slab
 * (slabOf's answer: not 0, and of the part's cache). On one CPU (regions.stashFrees 0) the
 * object goes straight back to its slab, checked, in the cores' section (the regions' lock on
 * one CPU: see regionsSetLock); with several CPUs, and for a debug cache, freeStashedOrDebug.
 * Contexts as cacheFree; never sleeps.
 */
export function freeInSlabSlow(part: CacheCpu, slab: usize, object: usize): AllocError {
  const cache = changetype<SlabCache>(part.cache), regions = cache.regions;
  if ((cache.debug | regions.stashFrees) != 0) return freeStashedOrDebug(cache, part, slab, object);
  const saved = sectionEnter();
  const error = plainFreeCheck(cache, part, slab, object);
  if (error == AllocError.Ok) freeToSlab(cache, slab, object);
  else refuseFree(cache, object, error);
  sectionLeave(saved);
  return error;
}

/**
 * freeInSlabSlow with several CPUs: the checks, then the object into the stash (or, when it is
 * full, the stash and the object back to their slabs under the lock); and any free of a debug
 * cache, checked exactly under the lock (`slab`, read without it, is looked up again there).
 */
function freeStashedOrDebug(cache: SlabCache, part: CacheCpu, slab: usize, object: usize): AllocError {
  const regions = cache.regions;
  if (cache.debug != 0) {
    regionsLock(regions);
    const error = debugFree(cache, object);
    regionsUnlock(regions);
    return error;
  }
  const error = plainFreeCheck(cache, part, slab, object);
  if (error != AllocError.Ok) return refuseFreeLocked(cache, object, error);
  const stashed = part.stashed;
  if (stashed != 0 && load<usize>(cacheStashSlot(part, stashed - 1)) == object) return refuseFreeLocked(cache, object, AllocError.DoubleFree);
  if (stashed < STASH_CAPACITY) {
    store<usize>(cacheStashSlot(part, stashed), object);
    part.stashed = stashed + 1;
    return AllocError.Ok;
  }
  regionsLock(regions);
  flushStash(cache, part);
  freeToSlab(cache, slab, object);
  regionsUnlock(regions);
  return AllocError.Ok;
}

/**
 * Why `object`, in `slab` (a slab of `cache`, which has no slab_debug), may not be freed on the
 * CPU whose part is `part`, or AllocError.Ok. The newest free object of its slab, and any
 * object of the CPU's active slab that reaches the slow path (the fast path takes all but its
 * newest free one), are double frees. Its index comes from the part's divisibility test (no
 * div: every free outside the active slab comes here).
 */
@inline function plainFreeCheck(cache: SlabCache, part: CacheCpu, slab: usize, object: usize): AllocError {
  if (exactQuotient(partDivisor(part), <u32>(object - slabEntry(slab).start)) >= cache.capacity) return AllocError.Interior;
  if (slab == part.active || slabEntry(slab).free == object) return AllocError.DoubleFree;
  return AllocError.Ok;
}

/**
 * A debug cache's free, under the lock: exact checks (the slot's state), then the slot retired
 * (debugRetire) and back to its slab.
 */
function debugFree(cache: SlabCache, object: usize): AllocError {
  const slab = slabOf(cache.regions, object);
  let error = AllocError.Ok;
  if (slab == 0) error = AllocError.Foreign;
  else if (slabEntry(slab).cache != changetype<usize>(cache)) error = AllocError.WrongCache;
  else if (!isObjectStart(cache, slab, object)) error = AllocError.Interior;
  else if (load<u32>(object - cache.zone + cache.linkOffset, 4) != SLOT_ALLOCATED) error = AllocError.DoubleFree;
  if (error != AllocError.Ok) return refuseFree(cache, object, error);
  debugRetire(cache, object - cache.zone);
  freeToSlab(cache, slab, object);
  return AllocError.Ok;
}

/**
 * Puts `object` (checked) on its slab `slab`'s free list and count. Another CPU's active slab
 * stays where it is: that CPU takes the object when it deactivates the slab. Never the CPU's own
 * active slab: a free of one of its objects that reaches the slow path is refused, and the
 * stash, which holds no object of it (a slab becomes active only when the stash is empty), is
 * flushed through here. Any other slab is refiled by its use (refileFreed). Under the lock.
 */
@inline function freeToSlab(cache: SlabCache, slab: usize, object: usize): void {
  const slot = object - cache.zone;
  const free = slabEntry(slab).free, inUse = slabEntry(slab).inUse - 1;
  store<usize>(slot + cache.linkOffset, free);
  slabEntry(slab).free = slot;
  slabEntry(slab).inUse = inUse;
  if (<u32>slabEntry(slab).list == SlabList.Active || free == 0 || inUse == 0) refileFreed(cache, slab, free, inUse);
}

/**
 * freeToSlab's rare half: another CPU's active slab counts the object as given to it; a slab
 * left with `inUse` 0 objects in use goes (kept empty or given back), and one whose free list
 * was empty (`free` 0: it was full) becomes partial. Under the lock.
 */
function refileFreed(cache: SlabCache, slab: usize, free: usize, inUse: u32): void {
  if (<u32>slabEntry(slab).list == SlabList.Active) { cache.remoteHeld++; return; }
  if (inUse == 0) { unfileSlab(cache, slab); keepOrRelease(cache, slab); }
  else if (free == 0) refileSlab(cache, slab, SlabList.Partial);   // it was full
}

/** Sends every object of the part's stash back to its slab (they were checked when stashed). Under the lock. */
@inline export function flushStash(cache: SlabCache, part: CacheCpu): void {
  const stashed = part.stashed;
  if (stashed == 0) return;
  for (let i: u32 = 0; i < stashed; i++) {
    const object = load<usize>(cacheStashSlot(part, i));
    freeToSlab(cache, slabOf(cache.regions, object), object);
  }
  part.stashed = 0;
}

/** Logs a refused free (the cache, the address, the reason), counts it (as a slab_debug report too, in a debug cache) and returns `error`. */
function refuseFree(cache: SlabCache, object: usize, error: AllocError): AllocError {
  cache.regions.errors++;
  cache.debugErrors += cache.debug;
  if (reportBegin(ReportLevel.Error, "slab")) {
    reportText("cacheFree("); reportText(changetype<string>(cache.name)); reportText(", "); reportAddress(<u32>object); reportText("): ");
    reportText(allocErrorText(error)); reportLast("; cache unchanged");
  }
  return error;
}

/** refuseFree under the regions' lock (its counts are shared). */
function refuseFreeLocked(cache: SlabCache, object: usize, error: AllocError): AllocError {
  regionsLock(cache.regions);
  refuseFree(cache, object, error);
  regionsUnlock(cache.regions);
  return error;
}
