/* The C twins of the hot paths (docs/fidelity.md): hand-written C that implements the same
 * algorithm over the same memory layout as the AssemblyScript it mirrors, built by the same clang
 * with the kernel's flags and linked into the benchmark kernel, so that kernel/bench/fidelity.ts
 * can run both on the same data in the same boot and compare their instruction counts. They are
 * test instruments, not a second implementation: the kernel runs the AssemblyScript code.
 *
 * What they share with the kernel: the arch primitives of boot/arch-inline.h (the same inline
 * asm), the kernel's exports for the slow paths (a twin's fast path that misses calls the
 * AssemblyScript slow path, as the AssemblyScript fast path does), and the layouts below, which
 * twins/common.c reports (the import `layout`) so that the benchmark checks them against the
 * AssemblyScript classes before it runs anything. */
#ifndef ASKERN_TWINS_H
#define ASKERN_TWINS_H
#include <stddef.h>
#include <stdint.h>

/* Not kernel.h: its prototypes of the arch imports would make boot/arch-inline.h's inline
 * definitions external ones here too (C99 inline), defined twice at the link. So the kernel's
 * instance and the exports the twins call are declared here (as kernel.h has them, with the
 * instance as an opaque pointer). */
struct Z_arch_instance_t;
struct Z_twins_instance_t;
extern void *const askern_kernel;   /* boot/runtime.c */
uint64_t Z_archZ_rdtsc(struct Z_arch_instance_t *);
uint32_t Z_kernelZ_twinCacheAllocSlow(void *, uint32_t part);
uint32_t Z_kernelZ_twinCacheFreeSlow(void *, uint32_t part, uint32_t object);
uint32_t Z_kernelZ_twinKmallocSampled(void *, uint32_t size);
uint32_t Z_kernelZ_twinKmallocLarge(void *, uint32_t size);
uint32_t Z_kernelZ_twinKfreeNotSlab(void *, uint32_t ptr);
uint32_t Z_kernelZ_twinAllocFrameRefill(void *);
uint32_t Z_kernelZ_twinFreeFrameSlow(void *, uint32_t phys);
uint32_t Z_kernelZ_twinHeapAlloc(void *, uint32_t heap, uint32_t size);
uint32_t Z_kernelZ_twinHeapFree(void *, uint32_t heap, uint32_t ptr);
void Z_kernelZ_twinHeapMergeAndFile(void *, uint32_t heap, uint32_t block);

#define TWIN_ARCH ((struct Z_arch_instance_t *)0)
#define AT32(address) (*(uint32_t *)(uintptr_t)(address))

/* kernel/arch/percpu.ts: the offsets in a CPU's record that the fast paths read */
#define CPU_PREEMPT_DEPTH 48
#define CPU_CACHE_OFFSET 88
#define CPU_FRAME_LIST 148

/* kernel/arch/context.ts preemptDisableLocal / preemptEnableLocal */
static inline __attribute__((always_inline)) void preempt_disable_local(void) { Z_archZ_cpuAdd(TWIN_ARCH, CPU_PREEMPT_DEPTH, 1); }
static inline __attribute__((always_inline)) void preempt_enable_local(void) { Z_archZ_cpuAdd(TWIN_ARCH, CPU_PREEMPT_DEPTH, (uint32_t)-1); }

/* kernel/mm/core/slab/cache-layout.ts CacheCpu: a CPU's part of an object cache */
struct cache_cpu {
  uint32_t freelist;        /* its active slab's free objects, or 0 */
  uint32_t active_start;    /* its active slab's first object */
  uint32_t active_objects;  /* and its objects */
  uint32_t active;
  uint32_t stashed;
  uint32_t cache;
  uint32_t div_inverse;     /* the DivisorTest (kernel/lib/bits.ts) of the object size */
  uint32_t div_shift;
  uint32_t div_limit;
};

/* kernel/mm/core/slab/regions.ts: the slab regions' fields the fast paths read, and a slab entry */
#define REGION_SHIFT 17
#define REGION_HEADER 64
#define REGION_PAGES 32
#define SLAB_CHUNK_MAP_OFFSET 64   /* regions.ts: the chunk map, that far into the regions' control block */
struct slab_entry { uint32_t head, cache, free, in_use, next, prev; uint16_t pages, list; uint32_t start; };

/* kmalloc.ts's largest class; frame-lists.ts's list of frames */
#define KMALLOC_SLAB_MAX 2048
#define LIST_LIMIT 63
#define FRAME_SHIFT 12

/* kernel/mm/core/frames.ts FrameAllocator: the fields freeFrame's fast path reads */
struct frame_allocator_head { uint32_t bitmap; uint32_t has_free, all_free; uint32_t frame_count, word_count, low_limit_frame; };

/* kernel/mm/core/heap/control.ts Heap: a heap's control block (its arrays follow) */
struct heap {
  uint32_t provider, fl_bitmap, sl_bitmaps, lists, cache, chunk_map, spans, larges, reserve_spans, use_cache;
  uint32_t free_spans, span_count, large_count, live_bytes, peak_live_bytes, held_bytes, peak_held_bytes;
  uint32_t cached_bytes, live_blocks, errors;
};

/* heap/block.ts: a span's layout and a block's header bits */
#define SPAN_SHIFT 17
#define SPAN_BYTES (1u << SPAN_SHIFT)
#define SPAN_MASK (SPAN_BYTES - 1)
#define SPAN_HEADER 32
#define SPAN_VALID 24
#define VALID_SHIFT 6
#define FIRST_PAYLOAD (SPAN_HEADER + SPAN_BYTES / 16 / 8 + 16)
#define END_BLOCK (SPAN_BYTES - 4)
#define SPAN_BLOCK_BYTES (END_BLOCK - (FIRST_PAYLOAD - 4))
#define ALIGN 16u
#define MIN_BLOCK 16u
#define FREE 1u
#define LEFT_FREE 2u
#define CACHED 4u
#define ALIGNED 8u
#define SIZE_MASK (~(ALIGN - 1))
/* heap/control.ts and heap/front-cache.ts */
#define LARGE_THRESHOLD (64u << 10)
#define SL_BITS 4
#define SL_COUNT (1u << SL_BITS)
#define FL_COUNT 10u
#define LIST_COUNT (FL_COUNT * SL_COUNT)
#define CHUNK_SPAN 1
#define CACHE_SHARE_SHIFT 4
#define CACHE_SLACK (16u << 10)
#define CACHE_NEXT 4

/* The cost of an empty pair of rdtsc reads, the lowest of 16 (kernel/bench/stopwatch.ts). */
uint64_t twin_rdtsc_overhead(void);

/* One timed lap: the instructions between two reads, less the empty pair's. */
#define TWIN_STAMP() Z_archZ_rdtsc(TWIN_ARCH)

#endif
