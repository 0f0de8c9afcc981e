/* The C library's allocation calls, for the adapters whose allocator is `malloc` itself: glibc's
 * (alloc-glibc.c) and jemalloc, which replaces it (alloc-jemalloc.c). Each includes this once. */
#ifndef ALLOC_MALLOC_H
#define ALLOC_MALLOC_H
#include <stdlib.h>
#include "compare.h"

static void malloc_init(void) {}
static uintptr_t malloc_alloc(uint32_t size, uint32_t align) {
  if (align <= 16) return (uintptr_t)malloc(size);   /* malloc is 16-aligned on x86-64 */
  void *p;
  return posix_memalign(&p, align, size) == 0 ? (uintptr_t)p : 0;
}
static void malloc_free(uintptr_t block) { free((void *)block); }
static uintptr_t malloc_realloc(uintptr_t block, uint32_t size) { return (uintptr_t)realloc((void *)block, size); }
static uintptr_t malloc_user(uintptr_t block, uint32_t align) { (void)align; return block; }
static int malloc_end(void) { return 0; }
#endif
