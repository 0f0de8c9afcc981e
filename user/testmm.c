/* testmm: Tilck's test_mm idea. Maps as much anonymous memory as the kernel allows (in strict
 * commit mode, where mmap fails at the commit limit), touches a sample of it, unmaps it, ten
 * times: the capacity must be the same every time (a leak shows as shrinking capacity), and mmap
 * must stop exactly at the commit limit. */
#include "lib/askern.h"

#define CHUNK (256 * PAGE_SIZE)
#define MAX_CHUNKS 4096
static u32 chunks[MAX_CHUNKS];

int main(void) {
  u32 first = 0;
  int failures = 0;
  for (int round = 0; round < 10; round++) {
    u32 n = 0, pages = 0;
    while (n < MAX_CHUNKS) {
      int m = mmap(0, CHUNK, PROT_READ | PROT_WRITE);
      if (is_error(m)) { if (m != -ENOMEM) { print("testmm: mmap: "); print_dec(m); print("\n"); failures++; } break; }
      chunks[n++] = (u32)m;
      ((volatile u32 *)(u32)m)[0] = round;    /* one page in each chunk touched */
    }
    /* then single pages to the exact limit */
    for (;;) {
      int m = mmap(0, PAGE_SIZE, PROT_READ | PROT_WRITE);
      if (is_error(m)) break;
      *(volatile u32 *)(u32)m = round;
      pages++;
      if (pages > 255) break;
    }
    u32 capacity = n * 256 + pages;
    struct memstats s;
    memstats(&s);
    int area_full = capacity * PAGE_SIZE >= (MMAP_END - MMAP_BASE) - CHUNK;   /* (more RAM than a 32-bit program can map) */
    if (s.strict && s.committed_total != s.commit_limit && !area_full) {
      print("testmm: strict mode, but mmap stopped at "); print_dec((int)s.committed_total);
      print(" committed pages, not at the limit "); print_dec((int)s.commit_limit); print("\n");
      failures++;
    }
    /* unmap: the single pages are after the chunks in the region map but their addresses are
     * not kept; munmap of everything above the first chunk's start covers them */
    for (u32 i = 0; i < n; i++) munmap((void *)chunks[i], CHUNK);
    munmap((void *)MMAP_BASE, MMAP_END - MMAP_BASE);
    print("testmm: round "); print_dec(round); print(": "); print_dec((int)capacity); print(" pages\n");
    if (round == 0) first = capacity;
    else if (capacity != first) { print("testmm: capacity changed\n"); failures++; }
  }
  return failures;
}
