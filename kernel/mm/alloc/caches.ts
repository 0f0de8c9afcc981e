// Object caches for kernel code: caches of fixed-size objects (slab/cache.ts) over the kernel's
// slab regions, the ones kmalloc's class caches use. See docs/slab.md.
//
// Contexts (docs/threads.md): kmemCacheAlloc and kmemCacheFree may be called from any context, on
// any CPU: they work on the running context's part of the cache (a CPU's threads and its
// interrupt handlers have one each) with preemption off and no lock, and
// the cache's slow paths take the kmalloc lock (kmalloc.ts), since the caches share their slab
// regions with kmalloc's. Creating and destroying a cache is thread context only (refused and
// reported otherwise).
import { mightSleep } from "../../diag/context";
import { SlabCache, CACHE_BYTES, cacheCreate, cacheAllocIn, cacheFreeIn, cacheDestroy, cacheBlock } from "../core/slab/cache";
import { AllocError } from "../core/alloc-error";
import { kmalloc, kfree, kmallocLock, kmallocUnlock, kernelSlabRegions, kmallocDrainHere } from "./kmalloc";
import { preemptDisableLocal, preemptEnableLocal } from "../../arch/context";
import { cpuCachePart } from "../../arch/percpu";
import { onEachCpu } from "../each-cpu";

/**
 * A new cache named `name` (a literal) of `size`-byte objects aligned to `align` (0: 16; a power
 * of two up to 4096), `ctor` (0 for none) run on each object when its slab is made; its control
 * block comes from kmalloc. Null, logged, for a bad size or alignment or no memory. Thread context.
 */
export function kmemCacheCreate(name: string, size: u32, align: u32, ctor: usize): SlabCache | null {
  if (!mightSleep("kmemCacheCreate")) return null;
  const at = kmalloc(CACHE_BYTES);
  if (at == 0) return null;
  kmallocLock();
  const cache = cacheCreate(at, kernelSlabRegions(), name, size, align, ctor);
  kmallocUnlock();
  if (cache == null) kfree(at);
  return cache;
}

/**
 * An object of `cache`, or 0 when no memory is left. Any context, any CPU; never sleeps; no lock
 * but on its slow paths (the kmalloc lock). O(1) but for a new slab.
 */
@inline export function kmemCacheAlloc(cache: SlabCache): usize {
  preemptDisableLocal();
  const object = cacheAllocIn(cpuCachePart(cache));
  preemptEnableLocal();
  return object;
}

/**
 * Frees `object` to `cache` (on any CPU: not only the one that allocated it); a bad pointer is
 * logged and refused (AllocError), nothing changed. Any context, any CPU; never sleeps; locks as
 * kmemCacheAlloc.
 */
@inline export function kmemCacheFree(cache: SlabCache, object: usize): AllocError {
  preemptDisableLocal();
  const error = cacheFreeIn(cpuCachePart(cache), object);
  preemptEnableLocal();
  return error;
}

/**
 * Destroys `cache` and frees its control block, after every CPU gave its part back (it moves to
 * each CPU in turn). Refuses (false, logged) while objects are in use, or in atomic context.
 * Thread context.
 */
export function kmemCacheDestroy(cache: SlabCache): bool {
  if (!mightSleep("kmemCacheDestroy")) return false;
  onEachCpu(kmallocDrainHere);   // (every cache's part: simpler than naming this one to each CPU)
  kmallocLock();
  const done = cacheDestroy(cache);
  kmallocUnlock();
  if (done) kfree(cacheBlock(cache));
  return done;
}
