/* The wasm2c embedder: the runtime functions the generated kernel.c calls, the one kernel
 * instance, and the bridges from native entry points (boot, interrupts, double fault, traps)
 * into AssemblyScript.
 *
 * Memory model: the module's linear memory has data == 0, so a wasm address *is* a virtual
 * address. Bounds checks are compiled out (WASM_RT_MEMCHECK_SIGNAL_HANDLER=1 with
 * WASM_RT_SKIP_SIGNAL_RECOVERY=1): a bad address faults through the MMU like any kernel bug.
 */
#include <stdarg.h>
#include <stdint.h>
#include "kernel.h"

struct Z_arch_instance_t { int unused; };
struct Z_report_instance_t { int unused; };
struct Z_section_instance_t { int unused; };   /* (its functions: boot/arch-inline.h) */
static struct Z_arch_instance_t arch_instance;
static struct Z_report_instance_t report_instance;
static struct Z_section_instance_t section_instance;
/* The one instance: kernel.c reads and writes its globals here directly (the Makefile's
 * one-instance rewrite), so it is not static. */
Z_kernel_instance_t askern_kernel_instance;
#define kernel_instance askern_kernel_instance
/* The instance, for native code that calls the kernel's exports (the C twins: twins/). */
void *const askern_kernel = &kernel_instance;

/* The benchmark kernel imports the C twins of the hot paths (module "twins": twins/); the
 * release kernel, which has no benchmarks, does not (the Makefile says which: ASKERN_TWINS). */
#if ASKERN_TWINS
struct Z_twins_instance_t { int unused; };
static struct Z_twins_instance_t twins_instance;
#define KERNEL_IMPORTS &arch_instance, &report_instance, &section_instance, &twins_instance
#else
#define KERNEL_IMPORTS &arch_instance, &report_instance, &section_instance
#endif

/* ---- wasm-rt embedder API -------------------------------------------------------------- */

/* wasm_rt_init, wasm_rt_is_initialized, wasm_rt_free, wasm_rt_register_func_type: wasm-rt-basics.c */

void wasm_rt_allocate_memory(wasm_rt_memory_t *memory, uint32_t initial_pages, uint32_t max_pages) {
  memory->data = 0;                        /* wasm address == virtual address */
  memory->pages = initial_pages;
  memory->max_pages = max_pages;
  /* The wasm memory is the whole virtual address space. wasm2c still range-checks bulk memory
   * operations (memory.fill/copy) against `size`, even with MEMCHECK off: with the declared
   * pages as the size, a memory.fill of a PMM bitmap in the linear map would trap. */
  memory->size = 0xFFFFFFFFu;
}
/* memory.grow may extend the wasm memory only to the end of the AssemblyScript data region
 * (.asdata, which the PMM keeps reserved). The kernel never grows memory (it has no runtime
 * allocator: scripts/check-wasm.ts); the TLSF benchmark variant, whose AssemblyScript runtime
 * grows memory for its heap, is linked with a larger region (docs/runtime.md). Grown pages are
 * not zeroed: the region is the kernel's own, and the TLSF writes before it reads. */
extern char __asdata_end[];
uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *memory, uint32_t pages) {
  uint64_t limit = (uint64_t)(uintptr_t)__asdata_end >> 16;
  uint32_t before = memory->pages;
  if ((uint64_t)before + pages > limit) return (uint32_t)-1;
  memory->pages = before + pages;
  return before;
}
void wasm_rt_free_memory(wasm_rt_memory_t *memory) { (void)memory; }

/* The function table holds the targets of AssemblyScript function references (self-tests,
 * interrupt handlers). It is static: the kernel has no allocator when it is instantiated. */
#define FUNCREF_TABLE_CAPACITY 1024
static wasm_rt_funcref_t funcref_storage[FUNCREF_TABLE_CAPACITY];
void wasm_rt_allocate_funcref_table(wasm_rt_funcref_table_t *table, uint32_t elements, uint32_t max) {
  if (elements > FUNCREF_TABLE_CAPACITY) wasm_rt_trap(WASM_RT_TRAP_OOB);
  table->data = funcref_storage;
  table->size = elements;
  table->max_size = max;
}
void wasm_rt_free_funcref_table(wasm_rt_funcref_table_t *table) { (void)table; }

/* A wasm trap (unreachable, integer divide by zero or overflow, bad call_indirect) ends in the
 * kernel panic, with the native return address and frame so the backtrace starts at the trap. */
__attribute__((noreturn, noinline)) void wasm_rt_trap(wasm_rt_trap_t trap) {
  Z_kernelZ_onWasmTrap(&kernel_instance, (u32)trap,
                       (u32)(uintptr_t)__builtin_return_address(0),
                       *(u32 *)__builtin_frame_address(0)); /* the caller's saved EBP */
  for (;;) __asm__ volatile("cli; hlt");
}

__attribute__((noreturn)) void abort(void) { wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE); }
__attribute__((noreturn)) void askern_assert_failed(const char *expr, const char *file, int line) {
  (void)expr; (void)file; (void)line;
  wasm_rt_trap(WASM_RT_TRAP_UNREACHABLE);
}

/* ---- the cores' reports (kernel/mm/core/report.ts) -------------------------------------- */

/* The hardware-independent cores import "report.begin" and "report.write" (an import is a call
 * that is never inlined, so a report costs the code around it only its calls); the kernel sends
 * them to its console (kernel/console/report-sink.ts). */
u32 Z_reportZ_begin(struct Z_report_instance_t *r, u32 level, u32 subsystem) {
  (void)r;
  return Z_kernelZ_reportBegin(&kernel_instance, level, subsystem);
}
void Z_reportZ_write(struct Z_report_instance_t *r, u32 bytes, u32 length, u32 part) {
  (void)r;
  Z_kernelZ_reportWrite(&kernel_instance, bytes, length, part);
}

/* ---- native entry points -------------------------------------------------------------- */

/* Called by boot/entry.asm on the boot stack, paging on, interrupts off. Instantiating runs the
 * module's start function (all top-level AssemblyScript code, including self-test registration)
 * and copies the static data segments to their --memoryBase addresses. */
__attribute__((noreturn)) void kernel_entry(uint32_t multiboot_info_phys) {
  wasm_rt_init();
  Z_kernel_init_module();
  Z_kernel_instantiate(&kernel_instance, KERNEL_IMPORTS);
  Z_kernelZ_kmain(&kernel_instance, multiboot_info_phys);
  for (;;) __asm__ volatile("cli; hlt");
}

/* From ap_entry (boot/ap-start.asm), on an application processor's own stack with the trampoline's
 * page directory: `cpu` is its record (kernel/arch/percpu.ts). The kernel's apMain never returns. */
__attribute__((noreturn)) void ap_entry_c(uint32_t cpu) {
  Z_kernelZ_apMain(&kernel_instance, cpu);
  for (;;) __asm__ volatile("cli; hlt");
}

/* From thread_start (boot/switch.asm), on a new kernel thread's own stack: runs its entry and
 * exits it (kernel/sched/thread.ts); never returns. */
__attribute__((noreturn)) void thread_start_c(void) {
  Z_kernelZ_threadStart(&kernel_instance);
  for (;;) __asm__ volatile("cli; hlt");
}

/* Where a thread killed for an exception in ring 3 resumes, in ring 0 on its own kernel stack
 * (kernel/proc/fault.ts points the interrupted frame here): it ends the thread; never returns. */
__attribute__((noreturn)) void user_killed_c(void) {
  Z_kernelZ_userKilled(&kernel_instance);
  for (;;) __asm__ volatile("cli; hlt");
}

/* From resume_user_frame (boot/interrupts.asm), once a thread's first ring-3 frame is on its
 * stack: the block it was copied from goes back to kmalloc. */
void user_frame_free_c(uint32_t block) { Z_kernelZ_userFrameFree(&kernel_instance, block); }

/* From isr_common (boot/interrupts.asm) with a pointer to the saved frame. */
void isr_dispatch_c(uint32_t frame) { Z_kernelZ_isrDispatch(&kernel_instance, frame); }

/* From syscall_common (boot/interrupts.asm): int 0x80, with a pointer to the saved frame. */
void syscall_dispatch_c(uint32_t frame) { Z_kernelZ_syscallDispatch(&kernel_instance, frame); }

/* From the double-fault task (boot/interrupts.asm), on its own stack. */
__attribute__((noreturn)) void double_fault_c(void) {
  Z_kernelZ_onDoubleFault(&kernel_instance);
  for (;;) __asm__ volatile("cli; hlt");
}
