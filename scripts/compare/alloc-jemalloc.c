/* jemalloc (Debian's libjemalloc, which replaces malloc for the whole program: linked only into
 * compare-jemalloc). The footprint is its own statistic, refreshed before each read. */
#include <jemalloc/jemalloc.h>
#include "alloc-malloc.h"

static double je_held(void) {
  uint64_t epoch = 1;
  size_t length = sizeof epoch, resident = 0, size = sizeof resident;
  mallctl("epoch", &epoch, &length, &epoch, length);
  mallctl("stats.resident", &resident, &size, NULL, 0);
  return (double)resident;
}

const Allocator jemalloc_allocator = {
  "jemalloc", "stats.resident: pages it has mapped and touched, metadata included",
  malloc_init, malloc_alloc, malloc_free, malloc_realloc, malloc_user, je_held, malloc_end,
};
