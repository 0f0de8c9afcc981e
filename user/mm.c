/* mm: the memory system calls from a program's side; prints what fails and exits with the
 * number of failures. mmap and munmap (partial: regions split), mprotect (a write to a page made
 * read-only kills, so it is checked in a child), brk, zero-filled anonymous memory, memstats. */
#include "lib/askern.h"

static int failures;
static void expect(const char *what, int ok) {
  if (ok) return;
  failures++; print("mm: FAILED: "); print(what); print("\n");
}

int main(void) {
  struct memstats s0, s1;
  expect("memstats", memstats(&s0) == 0);
  /* mmap: lazily committed, zero-filled, no resident page before a touch */
  u32 *a = (u32 *)mmap(0, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE);
  expect("mmap 16 pages", !is_error((int)a) && ((u32)a & 4095) == 0);
  memstats(&s1);
  expect("mmap commits but maps nothing", s1.resident_pages == s0.resident_pages && s1.committed_pages == s0.committed_pages + 16);
  expect("reads zero (the zero page)", a[0] == 0 && a[1024 * 5] == 0);
  memstats(&s1);
  expect("a read maps the zero page, no frame", s1.resident_pages == s0.resident_pages && s1.zero_maps >= s0.zero_maps + 2);
  for (u32 i = 0; i < 16; i++) a[i * 1024] = i + 1;
  memstats(&s1);
  expect("writes make 16 pages resident", s1.resident_pages == s0.resident_pages + 16);
  /* munmap of the middle: the region splits; the ends keep their data */
  expect("munmap the middle", munmap(a + 4 * 1024, 8 * PAGE_SIZE) == 0);
  memstats(&s1);
  expect("8 pages fewer, region split", s1.resident_pages == s0.resident_pages + 8 && s1.regions == s0.regions + 2);
  expect("ends intact", a[0] == 1 && a[3 * 1024] == 4 && a[12 * 1024] == 13 && a[15 * 1024] == 16);
  /* a mapping in the hole, exactly there */
  expect("mmap at a fixed free address", mmap(a + 4 * 1024, PAGE_SIZE, PROT_READ | PROT_WRITE) == (int)(a + 4 * 1024));
  expect("mmap over a mapping: -EEXIST", mmap(a, PAGE_SIZE, PROT_READ) == -EEXIST);
  expect("munmap unaligned: -EINVAL", munmap((char *)a + 1, PAGE_SIZE) == -EINVAL);
  expect("mmap of 0 bytes: -EINVAL", mmap(0, 0, PROT_READ) == -EINVAL);
  expect("mmap in the kernel half: -EINVAL", mmap((void *)0xC0000000, PAGE_SIZE, PROT_READ) == -EINVAL);
  expect("mmap absurd: -ENOMEM", mmap(0, 0xF0000000, PROT_READ) == -ENOMEM);
  expect("mmap bad prot: -EINVAL", mmap(0, PAGE_SIZE, 0x80) == -EINVAL);
  /* mprotect: read-only, then a write in a child dies; the parent's page is unchanged */
  expect("mprotect read-only", mprotect(a, 4 * PAGE_SIZE, PROT_READ) == 0);
  expect("mprotect of a hole: -ENOMEM", mprotect(a + 5 * 1024, 4 * PAGE_SIZE, PROT_READ) == -ENOMEM);
  int child = fork();
  if (child == 0) { a[0] = 99; exit(0); }
  int status = 0;
  expect("the child's write to a read-only page killed it", waitpid(child, &status, 0) == child && status == 139);
  expect("read-only page still readable", a[0] == 1);
  expect("mprotect back to writable", mprotect(a, 4 * PAGE_SIZE, PROT_READ | PROT_WRITE) == 0);
  a[0] = 7;
  expect("writable again", a[0] == 7);
  expect("munmap all", munmap(a, 16 * PAGE_SIZE) == 0);
  memstats(&s1);
  expect("all back", s1.resident_pages == s0.resident_pages && s1.committed_pages == s0.committed_pages && s1.regions == s0.regions);
  /* brk: grows, reads zero, shrinks */
  u32 base = brk(0);
  expect("brk(0) answers the break", base != 0 && (base & 4095) == 0);
  expect("brk grows by 64 KiB", brk(base + 65536) == base + 65536);
  char *heap = (char *)base;
  expect("the heap reads zero", heap[0] == 0 && heap[65535] == 0);
  heap[100] = 5;
  expect("brk shrinks", brk(base + 4096) == base + 4096);
  expect("brk grows again, zero-filled", brk(base + 65536) == base + 65536 && heap[100] == 5 && heap[8192] == 0);
  expect("brk below its start is refused", brk(base - 4096) == base + 65536);
  expect("brk back to its start", brk(base) == base);
  memstats(&s1);
  expect("heap pages back", s1.resident_pages == s0.resident_pages && s1.committed_pages == s0.committed_pages);
  if (failures == 0) print("mm: all checks passed\n");
  return failures;
}
