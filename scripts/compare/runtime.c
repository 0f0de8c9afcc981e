/* The wasm2c embedder for the native comparison program: the runtime functions the generated
 * askern.c and tlsf.c call, their imports, and the page source behind askern's page provider.
 *
 * Memory model, as in the kernel (boot/runtime.c): each module's memory has data == 0, so a wasm
 * address is a native address, and the loads and stores are rewritten not to add a base (the
 * Makefile's sed, the same as the kernel's). So the two modules share one address space below
 * 4 GiB, in a region reserved here at start-up. The region is the top half of the first 4 GiB:
 * natively nothing is there (the program is position-independent, so it and its libraries are
 * mapped far above), and under valgrind, which loads the program and itself lower, neither is:
 *
 *   0x80000000  askern.wasm (--memoryBase): static data, then its stub heap (trace text and tables)
 *   0xA0000000  tlsf.wasm (--memoryBase): static data, then the TLSF's heap, grown with memory.grow
 *   0xC0000000  pages for askern's provider (host.getPages), up to 4 GiB - 64 KiB
 *
 * Bounds checks are compiled out (WASM_RT_MEMCHECK_SIGNAL_HANDLER with SKIP_SIGNAL_RECOVERY): an
 * address outside the reservation faults like any native bug. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "askern.h"
#include "tlsf.h"
#include "compare.h"

#define RESERVED_START 0x80000000ull
#define RESERVED_END 0xFFFF0000ull
#define ASKERN_LIMIT 0xA0000000u   /* askern's memory ends where the TLSF's starts */
#define TLSF_LIMIT 0xC0000000u
#define PAGES_START 0xC0000000u
#define PAGE 4096u

struct Z_report_instance_t { int unused; };
struct Z_host_instance_t { int unused; };
struct Z_section_instance_t { int unused; };   /* (its functions: section.h) */
static struct Z_report_instance_t report_instance;
static struct Z_host_instance_t host_instance;
static struct Z_section_instance_t section_instance;
static Z_askern_instance_t askern_instance;
static Z_tlsf_instance_t tlsf_instance;
static uint32_t next_memory_limit;   /* the grow limit of the module being instantiated */

/* ---- wasm-rt embedder API -------------------------------------------------------------- */

/* wasm_rt_init, wasm_rt_is_initialized, wasm_rt_free, wasm_rt_register_func_type: boot/wasm-rt-basics.c */

void wasm_rt_allocate_memory(wasm_rt_memory_t *memory, uint32_t initial_pages, uint32_t max_pages) {
  memory->data = 0;                 /* wasm address == native address */
  memory->pages = initial_pages;
  memory->max_pages = next_memory_limit >> 16;
  (void)max_pages;
  memory->size = 0xFFFFFFFFu;       /* bulk operations reach the provider's pages too */
}
uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *memory, uint32_t pages) {
  uint32_t before = memory->pages;
  if ((uint64_t)before + pages > memory->max_pages) return (uint32_t)-1;
  memory->pages = before + pages;
  return before;
}
void wasm_rt_free_memory(wasm_rt_memory_t *memory) { (void)memory; }
#define FUNCREF_TABLE_CAPACITY 256
void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t *table, uint32_t elements, uint32_t max) {
  static wasm_rt_funcref_t storage[2][FUNCREF_TABLE_CAPACITY];
  static int used;
  if (elements > FUNCREF_TABLE_CAPACITY || used == 2) wasm_rt_trap(WASM_RT_TRAP_OOB);
  table->data = storage[used++];
  table->size = elements;
  table->max_size = max;
}
void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t *table) { (void)table; }
__attribute__((noreturn)) void wasm_rt_trap(wasm_rt_trap_t trap) {
  fprintf(stderr, "compare: wasm trap %d\n", (int)trap);
  abort();
}

/* ---- imports: the cores' reports (kernel/mm/core/report.ts) go to stderr ------------------- */

#define REPORT_PLAIN (-1)
#define REPORT_INFO 2
#define REPORT_FIRST 1
#define REPORT_LAST 2
static int32_t report_level;
static u32 report_subsystem;
u32 Z_reportZ_begin(struct Z_report_instance_t *r, u32 level, u32 subsystem) {
  (void)r;
  if ((int32_t)level != REPORT_PLAIN && (int32_t)level > REPORT_INFO) return 0;
  report_level = (int32_t)level;
  report_subsystem = subsystem;
  return 1;
}
void Z_reportZ_write(struct Z_report_instance_t *r, u32 bytes, u32 length, u32 part) {
  (void)r;
  if ((part & REPORT_FIRST) && report_level != REPORT_PLAIN) {
    /* an AssemblyScript string: UTF-16, its byte length in the 4 bytes before it (memory base 0) */
    const uint16_t *name = (const uint16_t *)(uintptr_t)report_subsystem;
    uint32_t units = *(const uint32_t *)(uintptr_t)(report_subsystem - 4) / 2;
    fputs("askern ", stderr);
    for (uint32_t i = 0; i < units; i++) fputc(name[i] & 0x7F, stderr);
    fputs(": ", stderr);
  }
  fwrite((const void *)(uintptr_t)bytes, 1, length, stderr);
  if ((part & REPORT_LAST) && (length == 0 || ((const char *)(uintptr_t)bytes)[length - 1] != '\n')) fputc('\n', stderr);
}

/* ---- imports: pages for askern's provider -------------------------------------------------
 * Runs handed out come from a bump pointer; runs given back are kept sorted by address,
 * merged with free neighbours, and reused first fit (with alignment). A run may grow in place
 * into a free run or the bump space right after it. A few free runs at a time, so this costs
 * little next to the allocator it serves. */

#define MAX_FREE_RUNS 65536
typedef struct { uint32_t start, pages; } Run;
static Run free_runs[MAX_FREE_RUNS];
static uint32_t free_count;
static uint32_t bump = PAGES_START;

static uint32_t align_up(uint32_t value, uint32_t align) { return (value + align - 1) & ~(align - 1); }

/* The index of the first free run starting at or after `address`. */
static uint32_t run_at_or_after(uint32_t address) {
  uint32_t lo = 0, hi = free_count;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (free_runs[mid].start < address) lo = mid + 1; else hi = mid;
  }
  return lo;
}
static void remove_run(uint32_t i) {
  memmove(&free_runs[i], &free_runs[i + 1], (free_count - i - 1) * sizeof(Run));
  free_count--;
}

u32 Z_hostZ_getPages(struct Z_host_instance_t *host, u32 pages, u32 align_pages) {
  (void)host;
  uint32_t bytes = pages * PAGE, align = align_pages * PAGE;
  for (uint32_t i = 0; i < free_count; i++) {
    Run *r = &free_runs[i];
    uint32_t at = align_up(r->start, align), end = r->start + r->pages * PAGE;
    if (at + bytes > end) continue;
    uint32_t before = at - r->start, after = end - (at + bytes);
    if (before == 0 && after == 0) remove_run(i);
    else if (before == 0) { r->start += bytes; r->pages -= pages; }
    else {
      r->pages = before / PAGE;
      if (after != 0) {
        if (free_count == MAX_FREE_RUNS) return 0;
        memmove(&free_runs[i + 2], &free_runs[i + 1], (free_count - i - 1) * sizeof(Run));
        free_runs[i + 1] = (Run){ at + bytes, after / PAGE };
        free_count++;
      }
    }
    return at;
  }
  uint64_t at = align_up(bump, align);
  if (at + bytes > RESERVED_END) return 0;
  if (at > bump) Z_hostZ_putPages(host, bump, (uint32_t)((at - bump) / PAGE));   /* the gap is free */
  bump = (uint32_t)(at + bytes);
  return (u32)at;
}

void Z_hostZ_putPages(struct Z_host_instance_t *host, u32 address, u32 pages) {
  (void)host;
  uint32_t end = address + pages * PAGE;
  if (end == bump) { bump = address; }
  else {
    uint32_t i = run_at_or_after(address);
    if (free_count == MAX_FREE_RUNS) { fprintf(stderr, "compare: too many free runs\n"); abort(); }
    memmove(&free_runs[i + 1], &free_runs[i], (free_count - i) * sizeof(Run));
    free_runs[i] = (Run){ address, pages };
    free_count++;
    if (i + 1 < free_count && free_runs[i + 1].start == end) { free_runs[i].pages += free_runs[i + 1].pages; remove_run(i + 1); }
    if (i > 0 && free_runs[i - 1].start + free_runs[i - 1].pages * PAGE == address) { free_runs[i - 1].pages += free_runs[i].pages; remove_run(i); i--; }
    if (free_runs[i].start + free_runs[i].pages * PAGE == bump) { bump = free_runs[i].start; remove_run(i); }
    return;
  }
  /* the run was at the top: take back any free run that now touches the bump pointer */
  if (free_count > 0 && free_runs[free_count - 1].start + free_runs[free_count - 1].pages * PAGE == bump) {
    bump = free_runs[free_count - 1].start;
    free_count--;
  }
}

u32 Z_hostZ_growPages(struct Z_host_instance_t *host, u32 address, u32 pages, u32 more) {
  (void)host;
  uint32_t end = address + pages * PAGE, bytes = more * PAGE;
  if (end == bump) {
    if ((uint64_t)bump + bytes > RESERVED_END) return 0;
    bump += bytes;
    return 1;
  }
  uint32_t i = run_at_or_after(end);
  if (i == free_count || free_runs[i].start != end || free_runs[i].pages < more) return 0;
  if (free_runs[i].pages == more) remove_run(i);
  else { free_runs[i].start += bytes; free_runs[i].pages -= more; }
  return 1;
}

/* ---- start-up ----------------------------------------------------------------------------- */

static void instantiate(void) {
  void *want = (void *)(uintptr_t)RESERVED_START;
  void *got = mmap(want, RESERVED_END - RESERVED_START, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (got != want) {
    fprintf(stderr, "compare: cannot reserve 0x80000000-0xffff0000 for the wasm modules (is the program position-independent?)\n");
    exit(2);
  }
  wasm_rt_init();
  Z_askern_init_module();
  next_memory_limit = ASKERN_LIMIT;
  Z_askern_instantiate(&askern_instance, &host_instance, &report_instance, &section_instance);
  Z_tlsf_init_module();
  next_memory_limit = TLSF_LIMIT;
  Z_tlsf_instantiate(&tlsf_instance);
}

struct Z_askern_instance_t *askern_module(void) {
  if (!wasm_rt_is_initialized()) instantiate();
  return &askern_instance;
}
struct Z_tlsf_instance_t *tlsf_module(void) {
  if (!wasm_rt_is_initialized()) instantiate();
  return &tlsf_instance;
}

void wasm_string(uint32_t string, char *out, size_t capacity) {
  uint32_t bytes = *(uint32_t *)(uintptr_t)(string - 4);
  size_t n = 0;
  for (uint32_t i = 0; i + 1 < bytes && n + 1 < capacity; i += 2) out[n++] = (char)*(uint16_t *)(uintptr_t)(string + i);
  out[n] = 0;
}
