// An object cache under slab_debug (slab/debug.ts has the slot layout, the red zones and the
// poison): its allocations come from a partial slab, checked, and its frees (slab/cache-free.ts
// debugFree) retire the slot, both under the regions' lock; a debug cache never has an active
// slab. Also the exact object-start test the slow paths share. Hardware-independent.
import { slabEntry } from "./regions";
import { debugCheckZones, debugCheckPoison, debugMarkRounding, RED, RED_ZONE, POISON, SLOT_FREE, SLOT_ALLOCATED } from "./debug";
import { SlabCache, CPU0, cacheCpu, partDivisor } from "./cache-layout";
import { slabAllocLocked } from "./cache-slabs";
import { exactQuotient } from "../../../lib/bits";

/** Whether `pointer` starts an object (of a debug cache: the object in a slot) in `slab` of `cache`. Any context. */
@inline export function isObjectStart(cache: SlabCache, slab: usize, pointer: usize): bool {
  const offset = <u32>(pointer - cache.zone - slabEntry(slab).start);
  // Its index by the divisibility test each part carries (no div: every free outside the active
  // slab comes here): above every index unless the offset is a multiple of the object size.
  return pointer >= cache.zone && exactQuotient(partDivisor(cacheCpu(cache, CPU0)), offset) < cache.capacity;
}

/** The size of a debug slot's object part: the size asked for, rounded up to 4. */
@inline function debugOwn(cache: SlabCache): u32 { return cache.linkOffset - cache.zone - RED_ZONE; }

/** Counts `reports` slab_debug reports for `cache` (refused frees are counted by refuseFree). */
function countDebug(cache: SlabCache, reports: u32): void {
  cache.debugErrors += reports;
  cache.regions.errors += reports;
}

/** cacheAlloc for a debug cache: a slot from a partial slab, checked (poison, red zones). Or 0. Under the regions' lock; never sleeps. */
export function debugAlloc(cache: SlabCache): usize {
  const slot = slabAllocLocked(cache);
  if (slot == 0) return 0;
  const link = cache.linkOffset, object = slot + cache.zone;
  const name = changetype<string>(cache.name), own = debugOwn(cache);
  let reports = debugCheckZones(name, slot, cache.zone, slot + link - RED_ZONE, link);
  if (cache.ctor == 0) reports += debugCheckPoison(name, object, own);
  countDebug(cache, reports);
  store<u32>(slot + link, SLOT_ALLOCATED, 4);
  debugMarkRounding(object, cache.requestedSize, own);
  return object;
}

/**
 * Retires the handed-out slot at `slot` of a debug cache before freeSlow files it: its red zones
 * checked (reported, then repaired, so that a broken zone is reported once), its object poisoned
 * (unless the cache has a constructor) and its state set free. Under the regions' lock.
 */
export function debugRetire(cache: SlabCache, slot: usize): void {
  const link = cache.linkOffset, object = slot + cache.zone, own = debugOwn(cache);
  countDebug(cache, debugCheckZones(changetype<string>(cache.name), slot, cache.zone, object + cache.requestedSize, link));
  memory.fill(slot, RED, cache.zone);
  memory.fill(object + own, RED, RED_ZONE);
  if (cache.ctor == 0) memory.fill(object, POISON, own);
  store<u32>(slot + link, SLOT_FREE, 4);
}
