/* The heap's alloc and free (kernel/mm/core/heap/: heap.ts heapAlloc and heapFree, with
 * front-cache.ts, classes.ts, span.ts mergeAndFile and block.ts) in C: the default-alignment
 * allocation from the front cache or the free lists (found through the two-level bitmaps, carved),
 * and the checked free into the front cache or merged with its neighbours. Off those paths (an
 * aligned or large request, no list with a fit, a bad or large pointer, a span that becomes
 * entirely free) the twin calls the AssemblyScript code, with the heap as it found it.
 * What is inlined follows the AssemblyScript: its @inline helpers are always_inline here, and
 * heapAlloc and heapFree, plain functions there, are functions here. */
#include "twins.h"

static uint32_t class_table, fit_table;   /* classes.ts classTable, fitTable */

static inline __attribute__((always_inline)) uint32_t header(uint32_t block) { return AT32(block); }
static inline __attribute__((always_inline)) uint32_t block_size(uint32_t block) { return header(block) & SIZE_MASK; }
static inline __attribute__((always_inline)) uint32_t class_of(uint32_t size) { return *(uint8_t *)(uintptr_t)(class_table + (size >> 4)); }
static inline __attribute__((always_inline)) uint32_t fit_class_of(uint32_t size) { return *(uint8_t *)(uintptr_t)(fit_table + (size >> 4)); }

static inline __attribute__((always_inline)) void set_left_free(uint32_t block, int left_free) {
  AT32(block) = left_free ? header(block) | LEFT_FREE : header(block) & ~LEFT_FREE;
}
static inline __attribute__((always_inline)) void write_free_block(uint32_t block, uint32_t size, int left_free) {
  AT32(block) = size | FREE | (left_free ? LEFT_FREE : 0);
  AT32(block + size - 4) = size;
  set_left_free(block + size, 1);
}

/* The start and valid bitmaps (block.ts markStart, clearStart, isStart). */
static inline __attribute__((always_inline)) uint32_t start_bit(uint32_t payload) { return (payload & SPAN_MASK) >> 4; }
static inline __attribute__((always_inline)) uint32_t start_word_at(uint32_t span, uint32_t bit) { return span + SPAN_HEADER + ((bit >> 5) << 2); }
static inline __attribute__((always_inline)) uint32_t valid_word_at(uint32_t span, uint32_t bit) { return span + SPAN_VALID + ((bit >> (VALID_SHIFT + 5)) << 2); }
static inline __attribute__((always_inline)) uint32_t valid_bit(uint32_t bit) { return 1u << ((bit >> VALID_SHIFT) & 31); }
static inline __attribute__((always_inline)) void mark_start(uint32_t payload) {
  uint32_t span = payload & ~SPAN_MASK, bit = start_bit(payload);
  uint32_t valid_at = valid_word_at(span, bit), valid = AT32(valid_at);
  if ((valid & valid_bit(bit)) == 0) {
    *(uint64_t *)(uintptr_t)(span + SPAN_HEADER + ((bit >> VALID_SHIFT) << (VALID_SHIFT - 3))) = 0;
    AT32(valid_at) = valid | valid_bit(bit);
  }
  uint32_t at = start_word_at(span, bit);
  AT32(at) = AT32(at) | (1u << (bit & 31));
}
static inline __attribute__((always_inline)) void clear_start(uint32_t payload) {
  uint32_t bit = start_bit(payload), at = start_word_at(payload & ~SPAN_MASK, bit);
  AT32(at) = AT32(at) & ~(1u << (bit & 31));
}
static inline __attribute__((always_inline)) int is_start(uint32_t payload) {
  uint32_t span = payload & ~SPAN_MASK, bit = start_bit(payload);
  return (AT32(valid_word_at(span, bit)) & valid_bit(bit)) != 0 && (AT32(start_word_at(span, bit)) & (1u << (bit & 31))) != 0;
}

/* classes.ts: the free lists and their bitmaps */
static inline __attribute__((always_inline)) void list_insert(struct heap *heap, uint32_t block) {
  uint32_t size = block_size(block), index = class_of(size);
  uint32_t head_at = heap->lists + (index << 2), head = AT32(head_at);
  AT32(block + 4) = head;
  AT32(block + 8) = 0;
  if (head != 0) AT32(head + 8) = block;
  AT32(head_at) = block;
  uint32_t fl = index >> SL_BITS, sl_at = heap->sl_bitmaps + (fl << 2);
  AT32(sl_at) = AT32(sl_at) | (1u << (index & (SL_COUNT - 1)));
  heap->fl_bitmap |= 1u << fl;
  if (size == SPAN_BLOCK_BYTES) heap->free_spans++;
}
static inline __attribute__((always_inline)) void list_remove_at(struct heap *heap, uint32_t block, uint32_t index) {
  uint32_t next = AT32(block + 4), prev = AT32(block + 8);
  if (next != 0) AT32(next + 8) = prev;
  if (prev != 0) AT32(prev + 4) = next;
  else {
    AT32(heap->lists + (index << 2)) = next;
    if (next == 0) {
      uint32_t fl = index >> SL_BITS, sl_at = heap->sl_bitmaps + (fl << 2);
      uint32_t sl = AT32(sl_at) & ~(1u << (index & (SL_COUNT - 1)));
      AT32(sl_at) = sl;
      if (sl == 0) heap->fl_bitmap &= ~(1u << fl);
    }
  }
  if (block_size(block) == SPAN_BLOCK_BYTES) heap->free_spans--;
}
static inline __attribute__((always_inline)) void list_remove(struct heap *heap, uint32_t block) { list_remove_at(heap, block, class_of(block_size(block))); }

/* seg-fit.ts segFindList over classes.ts's fit table: the first non-empty list whose blocks all hold `size`, or LIST_COUNT */
static inline __attribute__((always_inline)) uint32_t find_list(struct heap *heap, uint32_t size) {
  uint32_t index = fit_class_of(size), fl = index >> SL_BITS;
  if (fl >= FL_COUNT) return LIST_COUNT;
  uint32_t sl = AT32(heap->sl_bitmaps + (fl << 2)) & (0xFFFFFFFFu << (index & (SL_COUNT - 1)));
  if (sl == 0) {
    uint32_t above = heap->fl_bitmap & (0xFFFFFFFFu << (fl + 1));
    if (above == 0) return LIST_COUNT;
    fl = (uint32_t)__builtin_ctz(above);
    sl = AT32(heap->sl_bitmaps + (fl << 2));
  }
  return (fl << SL_BITS) + (uint32_t)__builtin_ctz(sl);
}

static inline __attribute__((always_inline)) void count_allocated(struct heap *heap, uint32_t usable) {
  uint32_t live = heap->live_bytes + usable;
  heap->live_bytes = live;
  if (live > heap->peak_live_bytes) heap->peak_live_bytes = live;
  heap->live_blocks++;
}

/* classes.ts keepHead and carve, with carve's alignment the default's (as heapAlloc's fast path
 * calls it: the gap is computed, and is 0) */
static inline __attribute__((always_inline)) uint32_t keep_head(struct heap *heap, uint32_t block, uint32_t size, uint32_t need) {
  if (size - need < MIN_BLOCK) { set_left_free(block + size, 0); return size; }
  uint32_t rest = block + need;
  write_free_block(rest, size - need, 0);
  mark_start(rest + 4);
  list_insert(heap, rest);
  return need;
}
static inline __attribute__((always_inline)) uint32_t carve(struct heap *heap, uint32_t block, uint32_t need) {
  uint32_t size = block_size(block);
  int left_free = (header(block) & LEFT_FREE) != 0;
  uint32_t gap = ((block + 4 + ALIGN - 1) & ~(ALIGN - 1)) - (block + 4);
  if (gap != 0) {
    write_free_block(block, gap, left_free);
    list_insert(heap, block);
    block += gap;
    size -= gap;
    mark_start(block + 4);
  }
  size = keep_head(heap, block, size, need);
  AT32(block) = size | (gap != 0 ? LEFT_FREE : 0);
  count_allocated(heap, size - 4);
  return block + 4;
}

/* front-cache.ts cacheFind (default alignment: every cached payload is aligned) and takeCached */
static inline __attribute__((always_inline)) uint32_t cache_find(struct heap *heap, uint32_t need) {
  uint32_t first = heap->cache + (class_of(need) << 2);
  uint32_t block = AT32(first);
  if (block != 0 && block_size(block) >= need) return first;
  if (AT32(first + 4) != 0) return first + 4;
  if (AT32(first + 8) != 0) return first + 8;
  if (AT32(first + 12) != 0) return first + 12;
  return 0;
}
static inline __attribute__((always_inline)) uint32_t take_cached(struct heap *heap, uint32_t at) {
  uint32_t block = AT32(at);
  AT32(at) = AT32(block + CACHE_NEXT);
  uint32_t word = header(block);
  AT32(block) = word & ~CACHED;
  heap->cached_bytes -= word & SIZE_MASK;
  count_allocated(heap, (word & SIZE_MASK) - 4);
  return block + 4;
}

/* heap.ts heapAlloc: a function of its own, as the AssemblyScript's is (not @inline) */
static __attribute__((noinline)) uint32_t heap_alloc(struct heap *heap, uint32_t size) {
  if (size - 1 < LARGE_THRESHOLD) {
    uint32_t need = (size + 4 + ALIGN - 1) & ~(ALIGN - 1);
    uint32_t at = cache_find(heap, need);
    if (at != 0) return take_cached(heap, at);
    uint32_t index = find_list(heap, need);
    if (index != LIST_COUNT) {
      uint32_t block = AT32(heap->lists + (index << 2));
      list_remove_at(heap, block, index);
      return carve(heap, block, need);
    }
  }
  return Z_kernelZ_twinHeapAlloc(askern_kernel, (uint32_t)(uintptr_t)heap, size);
}

/* span.ts mergeAndFile, but for the span that becomes entirely free (the AssemblyScript gives it back) */
static inline __attribute__((always_inline)) void merge_and_file(struct heap *heap, uint32_t block) {
  uint32_t size = block_size(block), right = block + size;
  uint32_t right_bytes = (header(right) & FREE) != 0 ? block_size(right) : 0;
  uint32_t left_bytes = (header(block) & LEFT_FREE) != 0 ? AT32(block - 4) : 0;
  if (size + right_bytes + left_bytes == SPAN_BLOCK_BYTES && heap->free_spans >= heap->reserve_spans) {
    Z_kernelZ_twinHeapMergeAndFile(askern_kernel, (uint32_t)(uintptr_t)heap, block);
    return;
  }
  if (right_bytes != 0) {
    list_remove(heap, right);
    clear_start(right + 4);
    size += right_bytes;
  }
  if (left_bytes != 0) {
    list_remove(heap, block - left_bytes);
    clear_start(block + 4);
    size += left_bytes;
    block -= left_bytes;
  }
  write_free_block(block, size, 0);
  list_insert(heap, block);
}

/* heap.ts heapFree: a live span block (classify's checks) into the cache or merged; a function
 * of its own, as heapAlloc */
static __attribute__((noinline)) uint32_t heap_free(struct heap *heap, uint32_t ptr) {
  if (*(uint8_t *)(uintptr_t)(heap->chunk_map + (ptr >> SPAN_SHIFT)) == CHUNK_SPAN && (ptr & (ALIGN - 1)) == 0 &&
      (ptr & SPAN_MASK) - FIRST_PAYLOAD < END_BLOCK - FIRST_PAYLOAD && is_start(ptr) &&
      (header(ptr - 4) & (FREE | CACHED)) == 0) {
    uint32_t block = ptr - 4, word = header(block), size = word & SIZE_MASK;
    heap->live_bytes -= size - 4;
    heap->live_blocks--;
    int strands_gap = (word & (ALIGNED | LEFT_FREE)) == (ALIGNED | LEFT_FREE);
    if (heap->use_cache != 0 && !strands_gap && heap->cached_bytes + size <= (heap->live_bytes >> CACHE_SHARE_SHIFT) + CACHE_SLACK) {
      uint32_t at = heap->cache + (class_of(size) << 2);
      AT32(block) = word | CACHED;
      AT32(block + CACHE_NEXT) = AT32(at);
      AT32(at) = block;
      heap->cached_bytes += size;
    } else merge_and_file(heap, block);
    return 0;
  }
  return Z_kernelZ_twinHeapFree(askern_kernel, (uint32_t)(uintptr_t)heap, ptr);
}

/* `pairs` steps of the plan (per step: a slot of `slots` and a size) over `heap`: free the slot's
 * block, allocate the size into it; the loop timed as one lap: its instructions. 0xFFFFFFFF...:
 * an allocation failed. */
uint64_t Z_twinsZ_heapPairs(struct Z_twins_instance_t *t, uint32_t heap, uint32_t classes, uint32_t fits, uint32_t slots, uint32_t plan, uint32_t pairs) {
  (void)t;
  class_table = classes;
  fit_table = fits;
  struct heap *h = (struct heap *)(uintptr_t)heap;
  uint64_t overhead = twin_rdtsc_overhead(), t0 = TWIN_STAMP();
  for (uint32_t n = 0; n < pairs; n++) {
    uint32_t at = slots + AT32(plan + n * 8) * 4;
    heap_free(h, AT32(at));
    AT32(at) = heap_alloc(h, AT32(plan + n * 8 + 4));
  }
  return TWIN_STAMP() - t0 - overhead;
}
