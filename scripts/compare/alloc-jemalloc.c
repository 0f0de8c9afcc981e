/* jemalloc (Debian's libjemalloc, which replaces malloc for the whole program: linked only into
 * compare-jemalloc). The footprint is its own statistic, refreshed before each read. */
#include <stdlib.h>
#include <jemalloc/jemalloc.h>
#include "compare.h"

static void je_init(void) {}
static uintptr_t je_alloc(uint32_t size, uint32_t align) {
  if (align <= 16) return (uintptr_t)malloc(size);
  void *p;
  return posix_memalign(&p, align, size) == 0 ? (uintptr_t)p : 0;
}
static void je_free(uintptr_t block) { free((void *)block); }
static uintptr_t je_realloc(uintptr_t block, uint32_t size) { return (uintptr_t)realloc((void *)block, size); }
static uintptr_t as_is(uintptr_t block, uint32_t align) { (void)align; return block; }
static double je_held(void) {
  uint64_t epoch = 1;
  size_t length = sizeof epoch, resident = 0, size = sizeof resident;
  mallctl("epoch", &epoch, &length, &epoch, length);
  mallctl("stats.resident", &resident, &size, NULL, 0);
  return (double)resident;
}
static int je_end(void) { return 0; }

const Allocator jemalloc_allocator = {
  "jemalloc", "stats.resident: pages it has mapped and touched, metadata included",
  je_init, je_alloc, je_free, je_realloc, as_is, je_held, je_end,
};
