/* The object cache's fast paths (kernel/mm/core/slab/cache.ts cacheAllocIn, cacheFreeIn, and
 * kernel/mm/alloc/caches.ts kmemCacheAlloc, kmemCacheFree), and kmalloc's class selection and fast
 * paths (kernel/mm/alloc/kmalloc.ts kmalloc, kfree), in C. */
#include "twins.h"

/* cacheAllocIn: pop the part's free list; empty: the AssemblyScript slow path. */
static inline __attribute__((always_inline)) uint32_t cache_alloc_in(struct cache_cpu *part) {
  uint32_t object = part->freelist;
  if (object == 0) return Z_kernelZ_twinCacheAllocSlow(askern_kernel, (uint32_t)(uintptr_t)part);
  part->freelist = AT32(object);   /* (an active slab's link is at +0) */
  return object;
}

/* cacheFreeIn: an object of the part's active slab (its index by the divisibility test, below the
 * slab's object count) that is not the newest free one goes on the free list; anything else to
 * the AssemblyScript slow path. */
static inline __attribute__((always_inline)) uint32_t cache_free_in(struct cache_cpu *part, uint32_t object) {
  uint32_t scaled = (object - part->active_start) * part->div_inverse;
  uint32_t shift = part->div_shift;
  uint32_t index = (scaled >> shift) | (scaled << ((32 - shift) & 31));
  if (index < part->active_objects) {
    uint32_t free = part->freelist;
    if (object != free) {
      AT32(object) = free;
      part->freelist = object;
      return 0;
    }
  }
  return Z_kernelZ_twinCacheFreeSlow(askern_kernel, (uint32_t)(uintptr_t)part, object);
}

/* arch/percpu.ts cpuCachePart: the running context's part of `cache`, one addl from GS. */
static inline __attribute__((always_inline)) struct cache_cpu *cpu_cache_part(uint32_t cache) {
  return (struct cache_cpu *)(uintptr_t)Z_archZ_cpuPlus(TWIN_ARCH, cache, CPU_CACHE_OFFSET);
}

static inline __attribute__((always_inline)) uint32_t kmem_cache_alloc(uint32_t cache) {
  preempt_disable_local();
  uint32_t object = cache_alloc_in(cpu_cache_part(cache));
  preempt_enable_local();
  return object;
}

static inline __attribute__((always_inline)) uint32_t kmem_cache_free(uint32_t cache, uint32_t object) {
  preempt_disable_local();
  uint32_t error = cache_free_in(cpu_cache_part(cache), object);
  preempt_enable_local();
  return error;
}

/* `pairs` kmemCacheAlloc + kmemCacheFree pairs on `cache` in a loop timed as one lap: its instructions. */
uint64_t Z_twinsZ_slabPairs(struct Z_twins_instance_t *t, uint32_t cache, uint32_t pairs) {
  (void)t;
  uint64_t overhead = twin_rdtsc_overhead(), t0 = TWIN_STAMP();
  for (uint32_t n = 0; n < pairs; n++) kmem_cache_free(cache, kmem_cache_alloc(cache));
  return TWIN_STAMP() - t0 - overhead;
}

/* kmalloc's state (kmalloc.ts): the size-to-cache table, the slab regions, the sampling
 * countdown (the twin's own, restarted from the kernel's interval). */
static uint32_t cache_of_size, slab_regions, countdown, interval;

/* kmalloc: the countdown, the cache of the size from the table, its part. */
static inline __attribute__((always_inline)) uint32_t kmalloc(uint32_t size) {
  if (--countdown == 0) {
    countdown = interval;
    return Z_kernelZ_twinKmallocSampled(askern_kernel, size);
  }
  if (size - 1 >= KMALLOC_SLAB_MAX) return Z_kernelZ_twinKmallocLarge(askern_kernel, size);
  preempt_disable_local();
  uint32_t cache = AT32(cache_of_size + (((size + 15) >> 4) << 2));
  uint32_t object = cache_alloc_in(cpu_cache_part(cache));
  preempt_enable_local();
  return object;
}

/* kfree: the slab of `ptr` from the regions' chunk map and its region's slab table; no slab: the
 * AssemblyScript path for the rest (0, heap blocks, guard objects). */
static inline __attribute__((always_inline)) uint32_t kfree(uint32_t ptr) {
  uint32_t slab = 0;
  if (*(uint8_t *)(uintptr_t)(slab_regions + SLAB_CHUNK_MAP_OFFSET + (ptr >> REGION_SHIFT)) != 0) {
    slab = AT32((ptr & ~((1u << REGION_SHIFT) - 1)) + REGION_HEADER + ((ptr >> 12) & (REGION_PAGES - 1)) * sizeof(struct slab_entry));
  }
  if (slab == 0) return Z_kernelZ_twinKfreeNotSlab(askern_kernel, ptr);
  preempt_disable_local();
  uint32_t error = cache_free_in(cpu_cache_part(((struct slab_entry *)(uintptr_t)slab)->cache), ptr);
  preempt_enable_local();
  return error;
}

/* `pairs` kmalloc(64) + kfree pairs over the kernel's kmalloc state in a loop timed as one lap: its instructions. */
uint64_t Z_twinsZ_kmallocPairs(struct Z_twins_instance_t *t, uint32_t table, uint32_t regions, uint32_t sampleInterval, uint32_t pairs) {
  (void)t;
  cache_of_size = table;
  slab_regions = regions;
  interval = sampleInterval;
  countdown = sampleInterval;
  uint64_t overhead = twin_rdtsc_overhead(), t0 = TWIN_STAMP();
  for (uint32_t n = 0; n < pairs; n++) kfree(kmalloc(64));
  return TWIN_STAMP() - t0 - overhead;
}
