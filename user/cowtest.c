/* cowtest: xv6's copy-on-write test, on askern. A process touches about two thirds of free
 * memory and forks: the fork must succeed (the pages are shared, not copied); the child writes
 * to part of them and exits. Then three processes do the same at once, each with a share. Exits
 * 0 when every fork succeeded, every child saw its parent's data and memory is back at the end. */
#include "lib/askern.h"

static int failures;
static void expect(const char *what, int ok) {
  if (ok) return;
  failures++; print("cowtest: FAILED: "); print(what); print("\n");
}

/* touches `pages` pages of a new mapping with a pattern, forks, the child checks the pattern and
 * writes every `stride`-th page; returns the fork's result */
static int share_and_write(u32 pages, u32 stride, u32 seed) {
  u32 *m = (u32 *)mmap(0, pages * PAGE_SIZE, PROT_READ | PROT_WRITE);
  if (is_error((int)m)) { print("cowtest: mmap failed: "); print_dec((int)m); print("\n"); return (int)m; }
  for (u32 i = 0; i < pages; i++) m[i * 1024] = seed + i;
  int child = fork();
  if (child == 0) {
    for (u32 i = 0; i < pages; i++) if (m[i * 1024] != seed + i) exit(2);
    for (u32 i = 0; i < pages; i += stride) m[i * 1024] = 0xDEAD;
    exit(0);
  }
  if (child > 0) {
    int status = -1;
    expect("waitpid", waitpid(child, &status, 0) == child);
    expect("the child saw the data and wrote", status == 0);
    for (u32 i = 0; i < pages; i++) if (m[i * 1024] != seed + i) { expect("the parent's data unchanged by the child", 0); break; }
  }
  munmap(m, pages * PAGE_SIZE);
  return child;
}

int main(void) {
  struct memstats before, after;
  memstats(&before);
  u32 pages = before.free_frames * 2 / 3;
  /* (with more RAM than a 32-bit program can map, most of mmap's area instead) */
  if (pages > (MMAP_END - MMAP_BASE) / PAGE_SIZE * 7 / 8) pages = (MMAP_END - MMAP_BASE) / PAGE_SIZE * 7 / 8;
  print("cowtest: touching "); print_dec((int)pages); print(" pages (two thirds of free memory, at most 7/8 of mmap's area) and forking\n");
  /* the child writes one page in 64: each write copies a page while the rest stay shared */
  expect("fork of a large process", share_and_write(pages, 64, 1) > 0);
  /* three processes, each with a third of the share, at once */
  int kids[3];
  for (int k = 0; k < 3; k++) {
    kids[k] = fork();
    if (kids[k] == 0) exit(share_and_write(pages / 3, 16, 100 * (u32)(k + 1)) > 0 ? failures : 1);
  }
  for (int k = 0; k < 3; k++) {
    int status = -1;
    expect("fork of a worker", kids[k] > 0);
    if (kids[k] > 0) expect("a worker's test passed", waitpid(kids[k], &status, 0) == kids[k] && status == 0);
  }
  memstats(&after);
  /* (its page tables stay until it exits, and its stack may have grown a page: the kernel's test
   * checks every frame after it exits) */
  expect("memory back", after.committed_pages == before.committed_pages && after.resident_pages <= before.resident_pages + 2);
  if (after.resident_pages > before.resident_pages + 2) { say("resident before", (int)before.resident_pages); say("after", (int)after.resident_pages); print("\n"); }
  if (failures == 0) print("cowtest: ok\n");
  return failures;
}
