/* bench WHAT: the processes issue's benchmarks from ring 3 (kernel/bench/proc.ts runs them under
 * -icount, where rdtsc counts instructions). Each exits with instructions per operation, the
 * kernel subtracts what it measures itself (a page's zeroing or copy).
 *   anon     first write to an untouched page of anonymous memory (a fault that commits it)
 *   cow      first write to a page shared with a child after fork (a fault that copies it)
 *   mmap     mmap and munmap of one page, never touched
 *   fork     fork, exit and waitpid of a process with 1 MiB touched
 *   exec-start  execve of this program again, which exits with the instructions from just before
 *               the call to its main (less the cost of formatting the arguments) */
#include "lib/askern.h"

#define PAGES 256

static void format_dec(char *out, u32 v) {
  char digits[12]; int n = 0;
  do { digits[n++] = (char)('0' + v % 10); v /= 10; } while (v);
  for (int i = 0; i < n; i++) out[i] = digits[n - 1 - i];
  out[n] = 0;
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "";
  if (streq(what, "anon")) {
    char *m = (char *)mmap(0, PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE);
    if (is_error((int)m)) return -1;
    u32 t = rdtsc32();
    for (u32 i = 0; i < PAGES; i++) m[i * PAGE_SIZE] = 1;
    return (int)((rdtsc32() - t) / PAGES);
  }
  if (streq(what, "cow")) {
    char *m = (char *)mmap(0, PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE);
    if (is_error((int)m)) return -1;
    for (u32 i = 0; i < PAGES; i++) m[i * PAGE_SIZE] = 1;
    int child = fork();
    if (child == 0) { sleep_ms(100); exit(0); }   /* holds the shared pages while the parent writes */
    u32 t = rdtsc32();
    for (u32 i = 0; i < PAGES; i++) m[i * PAGE_SIZE] = 2;
    u32 per = (rdtsc32() - t) / PAGES;
    int status; waitpid(child, &status, 0);
    return (int)per;
  }
  if (streq(what, "mmap")) {
    u32 t = rdtsc32();
    for (u32 i = 0; i < 1000; i++) { int m = mmap(0, PAGE_SIZE, PROT_READ | PROT_WRITE); munmap((void *)(u32)m, PAGE_SIZE); }
    return (int)((rdtsc32() - t) / 1000);
  }
  if (streq(what, "fork")) {
    char *m = (char *)mmap(0, 256 * PAGE_SIZE, PROT_READ | PROT_WRITE);
    if (is_error((int)m)) return -1;
    for (u32 i = 0; i < 256; i++) m[i * PAGE_SIZE] = 1;
    u32 t = rdtsc32();
    for (u32 i = 0; i < 10; i++) { int child = fork(); if (child == 0) exit(0); int status; waitpid(child, &status, 0); }
    return (int)((rdtsc32() - t) / 10);
  }
  if (streq(what, "exec") && argc > 3) return (int)(rdtsc32() - parse_u32(argv[2]) - parse_u32(argv[3]));
  if (streq(what, "exec-start")) {
    /* the first rdtsc goes into an argument; the formatting's own cost goes into another, and the
     * new image subtracts it */
    char when[12], cost[12];
    u32 t0 = rdtsc32();
    format_dec(when, t0);
    u32 spent = rdtsc32() - t0;
    format_dec(cost, spent);
    char *args[] = { "bench", "exec", when, cost, 0 };
    execve("bench", args);
    return -1;
  }
  return -2;
}
