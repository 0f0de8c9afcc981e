// Host build of kernel/mm/core/slab/cache.ts and slab/regions.ts over the buffer page provider
// (test/support/entry), exported for test/mm/core/slab.test.ts. Up to MAX_CACHES caches at a time,
// named by index.
import { SlabRegions, SLAB_REGIONS_BYTES, slabRegionsCreate, slabRegionsCheck, slabOf, slabRegionsLend, regionsSetLock } from "../../../kernel/mm/core/slab/regions";
import {
  SlabCache, CACHE_BYTES, cacheCreate, cacheAlloc, cacheFree, cacheShrink, cacheDestroy, cacheActiveObjects, cacheDrainCpu,
  cacheCpu, cacheCpuOffset, cacheCpuHeld, STASH_CAPACITY, cacheInBlock,
} from "../../../kernel/mm/core/slab/cache";
import { cacheCheck, slabCheckAll } from "../../../kernel/mm/core/slab/check";
import { bufferProviderReset, bufferPagesOut, bufferStart, bufferBytes, bufferSetGets } from "../host-lib/buffer-provider";

const regionsBlock = memory.data(SLAB_REGIONS_BYTES, 16);
let regions: SlabRegions = changetype<SlabRegions>(regionsBlock);
const MAX_CACHES: u32 = 8;
const cacheBlocks = memory.data(MAX_CACHES * CACHE_BYTES, 16);
let ctorCalls: u32 = 0;

/** The test constructor: marks the object's first word with a pattern derived from its address. */
function construct(object: usize): void { store<u32>(object, <u32>object ^ 0x5EED5EED); ctorCalls++; }

@inline function cacheAt(index: u32): SlabCache { return cacheInBlock(cacheBlocks + index * CACHE_BYTES); }

/** A fresh regions (for one CPU: frees go straight to their slabs); the provider may hand out at most `limitPages` pages. */
export function reset(limitPages: u32): void {
  ctorCalls = 0;
  regions = slabRegionsCreate(regionsBlock, bufferProviderReset(limitPages));
}
/** The regions' caches as several CPUs use them: frees outside the active slab wait in stashes (regionsSetLock). */
export function shareAmongCpus(): void { regionsSetLock(regions, 0, 0, true); }
/** Creates cache `index` (objects of `size` at `align`, with the test constructor if `withCtor`, under slab_debug if `debug`): 1, or 0 if refused. */
export function create(index: u32, size: u32, align: u32, withCtor: bool, debug: bool): u32 {
  const made = cacheCreate(cacheBlocks + index * CACHE_BYTES, regions, "test", size, align, withCtor ? changetype<usize>(construct) : 0, debug);
  return made != null ? 1 : 0;
}
export function alloc(index: u32): usize { return cacheAlloc(cacheAt(index)); }
export function free(index: u32, object: usize): u32 { return cacheFree(cacheAt(index), object); }
// the same on CPU `cpu`'s part (0..15), as the kernel's CPUs call them
export function allocOn(index: u32, cpu: u32): usize { return cacheAlloc(cacheAt(index), cacheCpuOffset(cpu)); }
export function freeOn(index: u32, object: usize, cpu: u32): u32 { return cacheFree(cacheAt(index), object, cacheCpuOffset(cpu)); }
export function drain(index: u32, cpu: u32): void { cacheDrainCpu(cacheAt(index), cacheCpuOffset(cpu)); }
export function shrinkOn(index: u32, cpu: u32): u32 { return cacheShrink(cacheAt(index), cacheCpuOffset(cpu)); }
export function checkOn(index: u32, cpu: u32): u32 { return cacheCheck(cacheAt(index), cacheCpuOffset(cpu)); }
export function stashed(index: u32, cpu: u32): u32 { return cacheCpu(cacheAt(index), cacheCpuOffset(cpu)).stashed; }
export function cpuHeld(index: u32, cpu: u32): u32 { return cacheCpuHeld(cacheAt(index), cacheCpuOffset(cpu)); }
export function activeSlabs(index: u32): u32 { return cacheAt(index).activeSlabs; }
export function stashCapacity(): u32 { return STASH_CAPACITY; }
export function shrink(index: u32): u32 { return cacheShrink(cacheAt(index)); }
export function destroy(index: u32): bool { return cacheDestroy(cacheAt(index)); }
export function checkCache(index: u32): u32 { return cacheCheck(cacheAt(index)); }
export function checkAll(): u32 { return slabCheckAll(regions); }
export function checkRegions(): u32 { return slabRegionsCheck(regions); }
export function objectSize(index: u32): u32 { return cacheAt(index).objectSize; }
export function capacity(index: u32): u32 { return cacheAt(index).capacity; }
export function slabPages(index: u32): u32 { return cacheAt(index).slabPages; }
export function slabCount(index: u32): u32 { return cacheAt(index).slabCount; }
export function emptySlabs(index: u32): u32 { return cacheAt(index).emptySlabs; }
export function active(index: u32): u32 { return cacheActiveObjects(cacheAt(index)); }
export function setMaxEmpty(index: u32, count: u32): void { cacheAt(index).maxEmpty = count; }
export function errors(): u32 { return regions.errors; }
export function debugErrors(index: u32): u32 { return cacheAt(index).debugErrors; }
/** Whether `ptr` lies in a slab page of the regions now. */
export function inSlab(ptr: usize): bool { return slabOf(regions, ptr) != 0; }
export function regionCount(): u32 { return regions.regionCount; }
export function heldBytes(): usize { return regions.heldBytes; }
export function providerPagesOut(): u32 { return bufferPagesOut(); }
export function constructed(): u32 { return ctorCalls; }
/** Whether `object`'s first word holds the constructor's pattern. */
export function isConstructed(object: usize): bool { return load<u32>(object) == (<u32>object ^ 0x5EED5EED); }
export function poolStart(): usize { return bufferStart(); }
export function poolBytes(): u32 { return bufferBytes(); }
export { fill, holds } from "../host-lib/buffer-provider";
export * from "../host-lib/alloc-errors";

/** Lends every free region page to the provider (reclaim): the pages lent. */
export function lend(): u32 { return slabRegionsLend(regions); }
export function lentPages(): u32 { return regions.lentPages; }
export function recalledPages(): u32 { return regions.recalled; }
export function freeRegionPages(): u32 { return regions.freePages; }
/** Lets the provider hand out new regions, or only take lent pages back. */
export function providerGets(enabled: bool): void { bufferSetGets(enabled); }
