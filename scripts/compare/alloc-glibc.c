/* glibc's malloc (ptmalloc2), as every C program gets it. Linked only into compare-main: in the
 * other programs malloc is jemalloc's or mimalloc's. */
#include <malloc.h>
#include "alloc-malloc.h"

static double glibc_held(void) {
  struct mallinfo2 info = mallinfo2();
  return (double)info.arena + (double)info.hblkhd;
}

const Allocator glibc_allocator = {
  "glibc", "mallinfo2: arena (sbrk heap) + hblkhd (mmapped blocks)",
  malloc_init, malloc_alloc, malloc_free, malloc_realloc, malloc_user, glibc_held, malloc_end,
};
