/* The native comparison program's replay driver (`make compare`, scripts/compare.ts runs it).
 *
 *   compare-<build> --allocator NAME --mode count|footprint|check TRACE
 *   compare-<build> --validate TRACE     decode only: {"ops":N,"peak_live":B}, or the bad line
 *   compare-<build> --list               the allocators linked in
 *
 * The trace (the format of docs/heap.md) is checked and decoded by the kernel's own decoder
 * (kernel/lib/trace.ts, in askern.wasm), whatever the allocator: a bad line is reported as
 * TRACE:LINE:COLUMN: what, with exit status 2, and nothing runs. Then it is replayed:
 *
 *   count      compare_replay, once: `valgrind --tool=callgrind --toggle-collect=compare_replay`
 *              counts its instructions (the allocator's, and the loop's few per operation)
 *   footprint  the same operations, each block written all through as a program would (so a
 *              resident-memory figure means what it says), reading the allocator's footprint
 *              after each one: its peak, less what it held before the first, and about 200
 *              points of it over the trace
 *   check      writes every block's first and last bytes and checks them before it is freed or
 *              moved, and the contents a realloc keeps (a correctness check, for the tests)
 *
 * and prints one JSON object. An allocation or realloc the allocator refuses (out of memory, or
 * a size it does not take) is counted ("failed", and "first_failure", the operation's index)
 * and the replay goes on without that block: a comparison of allocators that fail differently
 * still measures the others. The tables it needs are mapped directly (mmap), not allocated, so
 * they do not count in the footprint of the malloc being measured. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "askern.h"
#include "compare.h"

/* The allocators this program was linked with (Makefile: each program has its own list). */
extern const Allocator glibc_allocator __attribute__((weak));
extern const Allocator jemalloc_allocator __attribute__((weak));
extern const Allocator mimalloc_allocator __attribute__((weak));
extern const Allocator askern_heap_allocator __attribute__((weak));
extern const Allocator askern_kmalloc_allocator __attribute__((weak));
extern const Allocator tlsf_allocator __attribute__((weak));

enum { OP_ALLOC = 1, OP_FREE = 2, OP_REALLOC = 3 };
typedef struct { uint32_t kind, id, size, align; } Op;

static const Allocator *linked(int i) {
  const Allocator *all[] = { &glibc_allocator, &jemalloc_allocator, &mimalloc_allocator,
                             &askern_heap_allocator, &askern_kmalloc_allocator, &tlsf_allocator };
  return i < (int)(sizeof all / sizeof all[0]) ? all[i] : (const Allocator *)-1;
}

static void *map_table(size_t bytes) {
  void *p = mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) { perror("compare: mmap"); exit(3); }
  return p;
}

/* Reads and decodes the trace with the kernel's decoder; exits 2 on a bad line. */
static Op *load_trace(const char *path, uint32_t *count, uint32_t *max_id, double *peak_live) {
  Z_askern_instance_t *m = askern_module();
  int fd = open(path, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) { fprintf(stderr, "compare: %s: %s\n", path, strerror(errno)); exit(2); }
  if (st.st_size > 0x30000000) { fprintf(stderr, "compare: %s: too large\n", path); exit(2); }
  uint32_t length = (uint32_t)st.st_size, text = Z_askernZ_textAlloc(m, length);
  if (text == 0) { fprintf(stderr, "compare: %s: no room for the text\n", path); exit(2); }
  for (uint32_t done = 0; done < length;) {
    ssize_t n = read(fd, (char *)(uintptr_t)text + done, length - done);
    if (n <= 0) { fprintf(stderr, "compare: %s: read failed\n", path); exit(2); }
    done += (uint32_t)n;
  }
  close(fd);
  if (!Z_askernZ_decode(m, text, length)) {
    char what[200];
    wasm_string(Z_askernZ_errorText(m), what, sizeof what);
    fprintf(stderr, "%s:%u:%u: %s\n", path, Z_askernZ_errorLine(m), Z_askernZ_errorColumn(m), what);
    exit(2);
  }
  *count = Z_askernZ_opCount(m);
  *max_id = Z_askernZ_maxId(m);
  *peak_live = Z_askernZ_peakLiveBytes(m);
  Op *ops = map_table((size_t)*count * sizeof(Op));
  for (uint32_t i = 0; i < *count; i++) {
    ops[i] = (Op){ Z_askernZ_opKind(m, i), Z_askernZ_opId(m, i), Z_askernZ_opSize(m, i), Z_askernZ_opAlign(m, i) };
  }
  return ops;
}

static uintptr_t *blocks;    /* by id: the handle of the live block */
static uint32_t *sizes;      /* by id: its size */
static uint32_t *aligns;     /* by id: its alignment (for the TLSF's rounding) */

/* An allocation the allocator refused (out of memory, or a size it does not take): counted,
 * and the replay goes on; the block is absent (a free of it is skipped, a realloc of it keeps
 * the old block). The comparison of the other allocators is not affected. */
static uint32_t failed_ops, first_failure;
static void refused(uint32_t i) { if (failed_ops++ == 0) first_failure = i; }

/* The measured loop: nothing but the operations. Not inlined, so callgrind can count it. */
__attribute__((noinline)) void compare_replay(const Allocator *a, const Op *ops, uint32_t count) {
  for (uint32_t i = 0; i < count; i++) {
    const Op *op = &ops[i];
    if (op->kind == OP_ALLOC) {
      uintptr_t b = a->alloc(op->size, op->align);
      if (b == 0) refused(i);
      blocks[op->id] = b;
    } else if (op->kind == OP_FREE) {
      if (blocks[op->id]) a->free(blocks[op->id]);
    } else {
      uintptr_t b = blocks[op->id] ? a->realloc(blocks[op->id], op->size) : 0;
      if (b == 0) refused(i); else blocks[op->id] = b;
    }
  }
}

#define SERIES_POINTS 200
static double series_footprint[SERIES_POINTS + 1], series_live[SERIES_POINTS + 1];
static uint32_t series_op[SERIES_POINTS + 1], series_count;

/* The same operations with the footprint read after each; returns the peak less the start. */
static double replay_footprint(const Allocator *a, const Op *ops, uint32_t count) {
  double start = a->held(), peak = start, live = 0;
  uint32_t step = count / SERIES_POINTS ? count / SERIES_POINTS : 1;
  for (uint32_t i = 0; i < count; i++) {
    const Op *op = &ops[i];
    if (op->kind == OP_ALLOC) {
      if ((blocks[op->id] = a->alloc(op->size, op->align)) == 0) { refused(i); sizes[op->id] = 0; }
      else memset((void *)a->user(blocks[op->id], op->align), 0x5A, op->size);   /* used, as a program would */
      if (blocks[op->id]) { sizes[op->id] = op->size; live += op->size; }
    } else if (op->kind == OP_FREE) {
      if (blocks[op->id]) { a->free(blocks[op->id]); live -= sizes[op->id]; }
    } else {
      uintptr_t b = blocks[op->id] ? a->realloc(blocks[op->id], op->size) : 0;
      if (b == 0) refused(i);
      else {
        blocks[op->id] = b;
        memset((void *)b, 0x5A, op->size);
        live += (double)op->size - sizes[op->id]; sizes[op->id] = op->size;
      }
    }
    double now = a->held();
    if (now > peak) peak = now;
    if (i % step == 0 || i + 1 == count) {
      if (series_count <= SERIES_POINTS) {
        series_op[series_count] = i + 1; series_footprint[series_count] = now - start; series_live[series_count] = live;
        series_count++;
      }
    }
  }
  return peak - start;
}

static uint8_t mark_of(uint32_t id, uint32_t salt) { return (uint8_t)(id * 31 + salt * 7 + 1); }

/* Every block's ends written and checked; returns the number of wrong bytes found. */
static uint32_t replay_check(const Allocator *a, const Op *ops, uint32_t count) {
  uint32_t wrong = 0;
  for (uint32_t i = 0; i < count; i++) {
    const Op *op = &ops[i];
    uint32_t id = op->id;
    if (op->kind != OP_ALLOC && blocks[id] == 0) { if (op->kind == OP_REALLOC) refused(i); continue; }   /* its allocation was refused */
    if (op->kind != OP_ALLOC) {
      uint8_t *p = (uint8_t *)a->user(blocks[id], aligns[id]);
      if (p[0] != mark_of(id, sizes[id]) || p[sizes[id] - 1] != mark_of(id, sizes[id] + 1)) wrong++;
    }
    if (op->kind == OP_FREE) { a->free(blocks[id]); continue; }
    uint32_t old = op->kind == OP_REALLOC ? sizes[id] : 0;
    uintptr_t b = op->kind == OP_ALLOC ? a->alloc(op->size, op->align) : a->realloc(blocks[id], op->size);
    if (b == 0) { refused(i); if (op->kind == OP_ALLOC) blocks[id] = 0; continue; }
    uint32_t align = op->kind == OP_ALLOC ? op->align : 0;
    uint8_t *p = (uint8_t *)a->user(b, align);
    if (align > 1 && ((uintptr_t)p & (align - 1)) != 0) wrong++;
    if (old != 0 && op->size > 0 && p[0] != mark_of(id, old)) wrong++;   /* realloc kept the start */
    blocks[id] = b; sizes[id] = op->size; aligns[id] = align;
    p[0] = mark_of(id, op->size); p[op->size - 1] = mark_of(id, op->size + 1);
  }
  return wrong;
}

int main(int argc, char **argv) {
  const char *name = NULL, *mode = "count", *path = NULL;
  int validate = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--validate")) { validate = 1; continue; }
    if (!strcmp(argv[i], "--list")) {
      for (int j = 0; linked(j) != (const Allocator *)-1; j++) if (linked(j)) printf("%s\n", linked(j)->name);
      return 0;
    }
    if (!strcmp(argv[i], "--allocator") && i + 1 < argc) name = argv[++i];
    else if (!strcmp(argv[i], "--mode") && i + 1 < argc) mode = argv[++i];
    else if (argv[i][0] != '-' && !path) path = argv[i];
    else { fprintf(stderr, "compare: unknown argument '%s'\n", argv[i]); return 1; }
  }
  if (validate && path) {
    uint32_t count, max_id;
    double peak_live;
    load_trace(path, &count, &max_id, &peak_live);
    printf("{\"ops\":%u,\"max_id\":%u,\"peak_live\":%.0f}\n", count, max_id, peak_live);
    return 0;
  }
  const Allocator *a = NULL;
  for (int j = 0; name && linked(j) != (const Allocator *)-1; j++) if (linked(j) && !strcmp(linked(j)->name, name)) a = linked(j);
  if (!a || !path) { fprintf(stderr, "usage: %s --allocator NAME [--mode count|footprint|check] TRACE (--list: the names)\n", argv[0]); return 1; }

  uint32_t count, max_id;
  double peak_live;
  Op *ops = load_trace(path, &count, &max_id, &peak_live);
  blocks = map_table(((size_t)max_id + 1) * sizeof *blocks);
  sizes = map_table(((size_t)max_id + 1) * sizeof *sizes);
  aligns = map_table(((size_t)max_id + 1) * sizeof *aligns);
  a->init();
  double footprint = -1;
  uint32_t wrong = 0;
  if (!strcmp(mode, "count")) compare_replay(a, ops, count);
  else if (!strcmp(mode, "footprint")) footprint = replay_footprint(a, ops, count);
  else if (!strcmp(mode, "check")) wrong = replay_check(a, ops, count);
  else { fprintf(stderr, "compare: unknown mode '%s'\n", mode); return 1; }
  /* blocks still live at the end of the trace are freed (not measured), then the allocator's own check */
  uint8_t *seen = map_table((size_t)max_id + 1);
  for (uint32_t i = 0; i < count; i++) seen[ops[i].id] = ops[i].kind != OP_FREE;
  for (uint32_t id = 0; id <= max_id; id++) if (seen[id] && blocks[id]) a->free(blocks[id]);
  int end = a->end();
  printf("{\"allocator\":\"%s\",\"trace\":\"%s\",\"mode\":\"%s\",\"ops\":%u,\"peak_live\":%.0f", a->name, path, mode, count, peak_live);
  if (footprint >= 0) {
    printf(",\"peak_footprint\":%.0f,\"footprint_means\":\"%s\",\"series\":[", footprint, a->footprint_means);
    for (uint32_t i = 0; i < series_count; i++) printf("%s[%u,%.0f,%.0f]", i ? "," : "", series_op[i], series_footprint[i], series_live[i]);
    printf("]");
  }
  if (!strcmp(mode, "check")) printf(",\"wrong\":%u", wrong);
  printf(",\"failed\":%u", failed_ops);
  if (failed_ops) printf(",\"first_failure\":%u", first_failure);
  printf(",\"end\":%d}\n", end);
  return end != 0 || wrong != 0 ? 4 : 0;
}
