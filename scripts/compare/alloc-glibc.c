/* glibc's malloc (ptmalloc2), as every C program gets it. Linked only into compare-main: in the
 * other programs malloc is jemalloc's or mimalloc's. */
#include <malloc.h>
#include <stdlib.h>
#include "compare.h"

static void glibc_init(void) {}
static uintptr_t glibc_alloc(uint32_t size, uint32_t align) {
  if (align <= 16) return (uintptr_t)malloc(size);   /* malloc is 16-aligned on x86-64 */
  void *p;
  return posix_memalign(&p, align, size) == 0 ? (uintptr_t)p : 0;
}
static void glibc_free(uintptr_t block) { free((void *)block); }
static uintptr_t glibc_realloc(uintptr_t block, uint32_t size) { return (uintptr_t)realloc((void *)block, size); }
static uintptr_t as_is(uintptr_t block, uint32_t align) { (void)align; return block; }
static double glibc_held(void) {
  struct mallinfo2 info = mallinfo2();
  return (double)info.arena + (double)info.hblkhd;
}
static int glibc_end(void) { return 0; }

const Allocator glibc_allocator = {
  "glibc", "mallinfo2: arena (sbrk heap) + hblkhd (mmapped blocks)",
  glibc_init, glibc_alloc, glibc_free, glibc_realloc, as_is, glibc_held, glibc_end,
};
