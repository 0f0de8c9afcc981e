/* The arch seam, native side: every instruction AssemblyScript cannot express (port I/O,
 * control registers, descriptor tables, interrupts, rdtsc) as one small imported function.
 * The AssemblyScript side declares them in kernel/arch/x86.ts; host tests mock the same names.
 * Each is a plain cdecl function whose first argument is the (unused) import instance. */
#include <stdint.h>
#include "kernel.h"

typedef struct Z_arch_instance_t arch_t;

/* ---- port I/O ---- */
void Z_archZ_outb(arch_t *a, u32 port, u32 value) { (void)a; __asm__ volatile("outb %b0, %w1" : : "a"(value), "Nd"(port)); }
u32 Z_archZ_inb(arch_t *a, u32 port) { (void)a; uint8_t v; __asm__ volatile("inb %w1, %b0" : "=a"(v) : "Nd"(port)); return v; }
void Z_archZ_outw(arch_t *a, u32 port, u32 value) { (void)a; __asm__ volatile("outw %w0, %w1" : : "a"(value), "Nd"(port)); }
void Z_archZ_outl(arch_t *a, u32 port, u32 value) { (void)a; __asm__ volatile("outl %0, %w1" : : "a"(value), "Nd"(port)); }

/* ---- interrupts and the CPU ---- */
void Z_archZ_cli(arch_t *a) { (void)a; __asm__ volatile("cli" ::: "memory"); }
void Z_archZ_sti(arch_t *a) { (void)a; __asm__ volatile("sti" ::: "memory"); }
void Z_archZ_hlt(arch_t *a) { (void)a; __asm__ volatile("hlt" ::: "memory"); }
/* Wait for the next interrupt with interrupts enabled, atomically (sti's one-instruction shadow). */
void Z_archZ_waitForInterrupt(arch_t *a) { (void)a; __asm__ volatile("sti; hlt" ::: "memory"); }
u64 Z_archZ_rdtsc(arch_t *a) { (void)a; uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((u64)hi << 32) | lo; }

/* CPUID leaf `leaf`'s EDX (the feature bits of leaf 1), and the low half of MSR `msr`. */
u32 Z_archZ_cpuidEdx(arch_t *a, u32 leaf) {
  (void)a; u32 eax = leaf, ebx, ecx = 0, edx;
  __asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
  return edx;
}
u32 Z_archZ_readMsrLow(arch_t *a, u32 msr) { (void)a; u32 lo, hi; __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr)); return lo; }

/* ---- device memory: one access each, never merged or reordered by the compiler ---- */
u32 Z_archZ_mmioRead32(arch_t *a, u32 address) { (void)a; return *(volatile uint32_t *)(uintptr_t)address; }
void Z_archZ_mmioWrite32(arch_t *a, u32 address, u32 value) { (void)a; *(volatile uint32_t *)(uintptr_t)address = value; }

u32 Z_archZ_readCr0(arch_t *a) { (void)a; u32 v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
u32 Z_archZ_readCr2(arch_t *a) { (void)a; u32 v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
u32 Z_archZ_readCr3(arch_t *a) { (void)a; u32 v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
u32 Z_archZ_readCr4(arch_t *a) { (void)a; u32 v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
void Z_archZ_writeCr3(arch_t *a, u32 v) { (void)a; __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
void Z_archZ_invlpg(arch_t *a, u32 virt) { (void)a; __asm__ volatile("invlpg (%0)" : : "r"(virt) : "memory"); }

/* ---- descriptor tables ---- */
void Z_archZ_lgdt(arch_t *a, u32 pointer) { (void)a; __asm__ volatile("lgdt (%0)" : : "r"(pointer) : "memory"); }
void Z_archZ_lidt(arch_t *a, u32 pointer) { (void)a; __asm__ volatile("lidt (%0)" : : "r"(pointer) : "memory"); }
void Z_archZ_ltr(arch_t *a, u32 selector) { (void)a; __asm__ volatile("ltr %w0" : : "r"(selector)); }
/* Reload CS with a far return and the data segment registers after lgdt: DS, ES, FS and SS
 * with `data`, GS with `percpu` (the CPU's record: kernel/arch/percpu.ts). */
void Z_archZ_reloadSegments(arch_t *a, u32 code, u32 data, u32 percpu) {
  (void)a;
  __asm__ volatile(
      "pushl %0\n\t"
      "pushl $1f\n\t"
      "lretl\n"
      "1:\n\t"
      "movw %w1, %%ds\n\tmovw %w1, %%es\n\tmovw %w1, %%fs\n\tmovw %w1, %%ss\n\tmovw %w2, %%gs"
      : : "r"(code), "r"(data), "r"(percpu) : "memory");
}

/* ---- diagnostics ---- */
/* The caller's frame pointer: where an AssemblyScript backtrace starts walking. */
__attribute__((noinline)) u32 Z_archZ_framePointer(arch_t *a) {
  (void)a;
  /* our own frame holds the caller's saved EBP: read it instead of __builtin_frame_address(1) */
  return *(u32 *)__builtin_frame_address(0);
}

/* Where the call to this function returns to: an address in the code that called it (after
 * inlining, the function a lock was taken in: the lock checker's "taken at"). */
__attribute__((noinline)) u32 Z_archZ_codeAddress(arch_t *a) {
  (void)a;
  return (u32)(uintptr_t)__builtin_return_address(0);
}

/* Fill 11 words at `out`: eax ebx ecx edx esi edi ebp esp eflags cs ss, as they are here. */
void Z_archZ_captureRegisters(arch_t *a, u32 out) {
  (void)a;
  u32 *r = (u32 *)(uintptr_t)out;
  __asm__ volatile(
      "movl %%eax, 0(%0)\n\tmovl %%ebx, 4(%0)\n\tmovl %%ecx, 8(%0)\n\tmovl %%edx, 12(%0)\n\t"
      "movl %%esi, 16(%0)\n\tmovl %%edi, 20(%0)\n\tmovl %%ebp, 24(%0)\n\tmovl %%esp, 28(%0)\n\t"
      "pushfl\n\tpopl 32(%0)\n\t"
      "movl $0, 36(%0)\n\tmovw %%cs, 36(%0)\n\tmovl $0, 40(%0)\n\tmovw %%ss, 40(%0)"
      : : "r"(r) : "memory");
}

/* Called at the start of every panic; never inlined, so gdb can always break here. */
__attribute__((noinline)) void Z_archZ_panicHook(arch_t *a) { (void)a; __asm__ volatile("" ::: "memory"); }

/* Where a debugger finds the kernel's allocators by name (scripts/gdb/askern.py):
 *   +0 magic "ROOT"  +4 the PMM's state  +8 the kernel heap  +12 the kernel slab arena */
volatile struct { u32 magic, pmm, heap, arena, threads; } askern_debug_roots;
void Z_archZ_setDebugRoots(arch_t *a, u32 pmm, u32 heap, u32 arena, u32 threads) {
  (void)a;
  askern_debug_roots.pmm = pmm;
  askern_debug_roots.heap = heap;
  askern_debug_roots.arena = arena;
  askern_debug_roots.threads = threads;
  askern_debug_roots.magic = 0x544F4F52;   /* "ROOT" */
}

/* The round trip through the full interrupt path (stub, dispatcher, empty handler, iret). */
/* Kernel threads (boot/switch.asm): the stack switch and where a new thread starts. */
extern void switch_context(u32 *save_sp, u32 new_sp);
extern void thread_start(void);
void Z_archZ_switchContext(arch_t *a, u32 save_slot, u32 new_sp) { (void)a; switch_context((u32 *)(uintptr_t)save_slot, new_sp); }
u32 Z_archZ_threadStartAddress(arch_t *a) { (void)a; return (u32)(uintptr_t)thread_start; }
extern void user_killed_c(void);
extern void syscall_entry(void);
u32 Z_archZ_syscallEntryAddress(arch_t *a) { (void)a; return (u32)(uintptr_t)syscall_entry; }
u32 Z_archZ_userKilledAddress(arch_t *a) { (void)a; return (u32)(uintptr_t)user_killed_c; }

/* A thread's first return to ring 3: the 76-byte frame in the kmalloc'd block `frame`
 * (kernel/arch/frame.ts UserFrame) goes to the top of its kernel stack, `top`, the block goes
 * back, and the common interrupt exit pops the frame (boot/interrupts.asm resume_user_frame). Never returns: the thread comes back into the kernel
 * only through an interrupt or a system call, on the TSS's ring-0 stack, with its frame there. */
extern void resume_user_frame(u32 frame, u32 top) __attribute__((noreturn));
void Z_archZ_resumeUserFrame(arch_t *a, u32 frame, u32 top) { (void)a; resume_user_frame(frame, top); }
/* (saveFlagsAndCli, restoreFlags and cpuRelax are in boot/arch-inline.h: inlined into kernel.c) */

void Z_archZ_softInterruptBench(arch_t *a) { (void)a; __asm__ volatile("int $0x81" ::: "memory"); }

/* A divide error raised by the CPU itself (#DE, vector 0), for the panic-path self-test.
 * AssemblyScript's own `/` never gets here: wasm2c checks the divisor and traps first. */
u32 Z_archZ_cpuDivide(arch_t *a, u32 dividend, u32 divisor) {
  (void)a;
  u32 q;
  __asm__ volatile("xorl %%edx, %%edx\n\tdivl %2" : "=a"(q) : "a"(dividend), "r"(divisor) : "edx");
  return q;
}

/* A kernel read that may fault (kernel/arch/x86.ts probeRead): the page-fault handler sends a
 * fault at probe_read_access on to probe_read_fixup (faultFixup), which answers 0 with `out`
 * untouched. Linux's exception table, with one entry. cdecl: probe_read(address, out). */
extern u32 probe_read(u32 address, u32 *out);
__asm__(".text\n"
        ".globl probe_read\n"
        "probe_read:\n"
        "  movl 4(%esp), %ecx\n"
        ".globl probe_read_access\n"
        "probe_read_access:\n"
        "  movl (%ecx), %eax\n"
        "  movl 8(%esp), %ecx\n"
        "  movl %eax, (%ecx)\n"
        "  movl $1, %eax\n"
        "  ret\n"
        ".globl probe_read_fixup\n"
        "probe_read_fixup:\n"
        "  xorl %eax, %eax\n"
        "  ret\n");
u32 Z_archZ_probeRead(arch_t *a, u32 address, u32 out) { (void)a; return probe_read(address, (u32 *)(uintptr_t)out); }
/* (faultFixup is in boot/arch-inline.h: every page fault asks it, so it is inlined) */

/* ---- link-time addresses (linker.ld, boot/entry.asm, boot/interrupts.asm) ---- */
extern char __kernel_start[], __kernel_end[], __text_start[], __text_end[], __rodata_end[];
extern char __ksyms_start[], __ksyms_end[], __asdata_start[], __asdata_end[];
extern char boot_stack_guard[], boot_stack_bottom[], boot_stack_top[];
extern char boot_page_directory[], isr_stub_table[], double_fault_task_entry[], boot_entry_tsc[];
extern char ap_trampoline_start[], ap_trampoline_end[];
static char double_fault_stack[8192] __attribute__((aligned(16)));

/* Ids match LinkerSymbol in kernel/arch/x86.ts. */
u32 Z_archZ_linkerAddress(arch_t *a, u32 id) {
  (void)a;
  switch (id) {
    case 0: return (u32)(uintptr_t)__kernel_start;
    case 1: return (u32)(uintptr_t)__kernel_end;
    case 2: return (u32)(uintptr_t)__text_start;
    case 3: return (u32)(uintptr_t)__text_end;
    case 4: return (u32)(uintptr_t)__rodata_end;
    case 5: return (u32)(uintptr_t)__ksyms_start;
    case 6: return (u32)(uintptr_t)__ksyms_end;
    case 7: return (u32)(uintptr_t)__asdata_start;
    case 8: return (u32)(uintptr_t)__asdata_end;
    case 9: return (u32)(uintptr_t)boot_stack_guard;
    case 10: return (u32)(uintptr_t)boot_stack_bottom;
    case 11: return (u32)(uintptr_t)boot_stack_top;
    case 12: return (u32)(uintptr_t)boot_page_directory;
    case 13: return (u32)(uintptr_t)isr_stub_table;
    case 14: return (u32)(uintptr_t)double_fault_task_entry;
    case 15: return (u32)(uintptr_t)(double_fault_stack + sizeof double_fault_stack);
    case 16: return (u32)(uintptr_t)boot_entry_tsc;
    case 17: return (u32)(uintptr_t)ap_trampoline_start;
    case 18: return (u32)(uintptr_t)ap_trampoline_end;
    default: return 0;
  }
}
