/* What the twins share: the stopwatch's overhead, and the layouts they assume, reported for
 * kernel/bench/fidelity.ts to check against the AssemblyScript classes. */
#include "twins.h"

uint64_t twin_rdtsc_overhead(void) {
  uint64_t best = (uint64_t)-1;
  for (int i = 0; i < 16; i++) {
    uint64_t a = TWIN_STAMP();
    uint64_t b = TWIN_STAMP();
    if (b - a < best) best = b - a;
  }
  return best;
}

/* The twins' view of each layout, in the order kernel/bench/fidelity.ts lists them. */
static const uint32_t layout[] = {
  offsetof(struct cache_cpu, freelist), offsetof(struct cache_cpu, active_start),
  offsetof(struct cache_cpu, active_objects),
  offsetof(struct cache_cpu, div_inverse), offsetof(struct cache_cpu, div_shift),
  SLAB_CHUNK_MAP_OFFSET, offsetof(struct slab_entry, cache), sizeof(struct slab_entry),
  offsetof(struct frame_allocator_head, bitmap), offsetof(struct frame_allocator_head, low_limit_frame),
  CPU_PREEMPT_DEPTH, CPU_CACHE_OFFSET, CPU_FRAME_LIST, REGION_SHIFT, REGION_HEADER, REGION_PAGES,
  KMALLOC_SLAB_MAX, LIST_LIMIT,
  offsetof(struct heap, fl_bitmap), offsetof(struct heap, sl_bitmaps), offsetof(struct heap, lists), offsetof(struct heap, cache),
  offsetof(struct heap, chunk_map), offsetof(struct heap, reserve_spans), offsetof(struct heap, use_cache), offsetof(struct heap, free_spans),
  offsetof(struct heap, live_bytes), offsetof(struct heap, peak_live_bytes), offsetof(struct heap, cached_bytes), offsetof(struct heap, live_blocks),
  FIRST_PAYLOAD, SPAN_BLOCK_BYTES, LARGE_THRESHOLD, LIST_COUNT, CACHE_SLACK, CACHE_SHARE_SHIFT,
};

/* Entry `index` of the twins' layout table, or 0xFFFFFFFF past its end. */
uint32_t Z_twinsZ_layout(struct Z_twins_instance_t *t, uint32_t index) {
  (void)t;
  return index < sizeof layout / sizeof layout[0] ? layout[index] : 0xFFFFFFFFu;
}
