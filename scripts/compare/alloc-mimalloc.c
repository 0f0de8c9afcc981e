/* mimalloc (Debian's libmimalloc) through its own API. Linked only into compare-mimalloc: its
 * shared library also replaces malloc. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <mimalloc.h>
#include "compare.h"

static void mi_init(void) {}
static uintptr_t mi_alloc(uint32_t size, uint32_t align) {
  return (uintptr_t)(align <= 16 ? mi_malloc(size) : mi_malloc_aligned(size, align));
}
static void mi_release(uintptr_t block) { mi_free((void *)block); }
static uintptr_t mi_resize(uintptr_t block, uint32_t size) { return (uintptr_t)mi_realloc((void *)block, size); }
static uintptr_t as_is(uintptr_t block, uint32_t align) { (void)align; return block; }
/* The process's resident pages (/proc/self/statm): mimalloc's own commit statistic counts whole
 * segments it has not touched (32 MiB on every shipped trace), and its process-info RSS is that
 * commit figure too. The driver subtracts what was resident before the replay. */
static double mi_held(void) {
  static int statm = -1;
  char text[128];
  if (statm < 0) statm = open("/proc/self/statm", O_RDONLY);
  ssize_t n = pread(statm, text, sizeof text - 1, 0);
  if (n <= 0) return 0;
  text[n] = 0;
  unsigned long size = 0, resident = 0;
  sscanf(text, "%lu %lu", &size, &resident);
  return (double)resident * 4096.0;
}
static int mi_end(void) { return 0; }

const Allocator mimalloc_allocator = {
  "mimalloc", "the process's resident memory (/proc/self/statm; its own commit statistic counts whole untouched segments)",
  mi_init, mi_alloc, mi_release, mi_resize, as_is, mi_held, mi_end,
};
