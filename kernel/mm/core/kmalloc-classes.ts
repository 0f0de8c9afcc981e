// kmalloc's size classes, apart from where their caches live: the class sizes and names, the
// table from a request size to its class, the caches' creation over any slab regions, and what
// kfree, ksize and krealloc do with a class object once slabOf has found its slab. The kernel's
// kmalloc (kmalloc.ts) builds them over the PMM; the native comparison program
// (scripts/compare/askern.ts) over pages from the host. Hardware-independent.
//
//   caches  KMALLOC_CLASS_COUNT x CACHE_BYTES: the class caches, smallest first
//   table   KMALLOC_TABLE_BYTES: word (size + 15) / 16 is the class cache (its SlabCache's
//           address) for a request of `size` bytes (1 .. KMALLOC_SLAB_MAX): one load from size
//           to cache, no multiply
import { SlabRegions, slabEntry } from "./slab/regions";
import { SlabCache, CACHE_BYTES, CPU0, cacheCreate, cacheCpu, cacheFreeInSlab, cacheUsableSize, cacheInBlock } from "./slab/cache";
import { AllocError } from "./alloc-error";


/** The largest request the class caches serve; larger ones go to the heap. */
export const KMALLOC_SLAB_MAX: u32 = 2048;
/** The number of classes. */
export const KMALLOC_CLASS_COUNT: u32 = 32;
/** Bytes of a size-to-class table. */
export const KMALLOC_TABLE_BYTES: u32 = ((KMALLOC_SLAB_MAX >> 4) + 1) << 2;
/**
 * The classes: object sizes, every one a multiple of 16 (kmalloc's alignment). 16 B steps to 128,
 * four classes to each doubling to 512, eight above: a request is rounded up by at most a
 * quarter, and above 512 B (where a page holds few objects and the waste is bytes, not
 * percent) by at most an eighth. docs/slab.md has the real traces' figures.
 */
const CLASS_SIZES: StaticArray<u32> = [
  16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512, 576, 640, 704, 768, 832, 896, 960, 1024,
  1152, 1280, 1408, 1536, 1664, 1792, 1920, 2048,
];
const CLASS_NAMES: StaticArray<string> = [
  "kmalloc-16", "kmalloc-32", "kmalloc-48", "kmalloc-64", "kmalloc-80", "kmalloc-96", "kmalloc-112", "kmalloc-128",
  "kmalloc-160", "kmalloc-192", "kmalloc-224", "kmalloc-256", "kmalloc-320", "kmalloc-384", "kmalloc-448", "kmalloc-512",
  "kmalloc-576", "kmalloc-640", "kmalloc-704", "kmalloc-768", "kmalloc-832", "kmalloc-896", "kmalloc-960", "kmalloc-1k",
  "kmalloc-1152", "kmalloc-1280", "kmalloc-1408", "kmalloc-1536", "kmalloc-1664", "kmalloc-1792", "kmalloc-1920", "kmalloc-2k",
];

/** Class `index`'s cache among `caches`. */
@inline export function kmallocClassCache(caches: usize, index: u32): SlabCache {
  return cacheInBlock(caches + index * CACHE_BYTES);
}

/** The class cache for a request of `size` bytes (1..KMALLOC_SLAB_MAX), from the size-to-cache `table`. */
@inline export function kmallocCacheForSize(table: usize, size: u32): SlabCache {
  return changetype<SlabCache>(load<usize>(table + (((size + 15) >> 4) << 2)));
}

/** Fills the size-to-cache `table` and creates the class caches at `caches` over `regions` (empty). */
export function kmallocClassesInit(regions: SlabRegions, caches: usize, table: usize): void {
  let index: u32 = 0;
  for (let step: u32 = 0; step <= KMALLOC_SLAB_MAX >> 4; step++) {
    while (CLASS_SIZES[index] < step << 4) index++;
    store<usize>(table + (step << 2), changetype<usize>(kmallocClassCache(caches, index)));
  }
  for (let i: u32 = 0; i < KMALLOC_CLASS_COUNT; i++) {
    cacheCreate(caches + i * CACHE_BYTES, regions, CLASS_NAMES[i], CLASS_SIZES[i], 16, 0);
  }
}

/** The cache of the class object in slab `slab` (slabOf's answer: the slab table names it). */
@inline export function kmallocObjectCache(slab: usize): SlabCache { return changetype<SlabCache>(slabEntry(slab).cache); }

/** kfree of `ptr` in slab `slab`, on one CPU (CPU0's parts): back to its cache, with cacheFree's verdict. */
@inline export function kmallocFreeObject(slab: usize, ptr: usize): AllocError {
  return cacheFreeInSlab(cacheCpu(kmallocObjectCache(slab), CPU0), slab, ptr);
}

/** ksize of `ptr` in slab `slab`: its class's size, or 0 if it is not an object's start. */
export function kmallocObjectSize(slab: usize, ptr: usize): u32 { return cacheUsableSize(kmallocObjectCache(slab), slab, ptr); }
