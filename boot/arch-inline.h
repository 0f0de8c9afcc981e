/* The arch imports on hot paths, defined where the generated C can inline them. kernel.c is
 * compiled with `-include boot/arch-inline.h` (Makefile), so a spinlock's or a mutex's save and
 * restore of the interrupt flag are two instructions each where they are used, not a call into
 * arch.c. Same names and signatures as the wasm2c declarations in kernel.h (whose prototypes
 * then make these the functions' one external definition). */
#include <stdint.h>

struct Z_arch_instance_t;

/* EFLAGS, then interrupts off (kernel/arch/x86.ts: saveFlagsAndCli). */
__attribute__((always_inline)) inline uint32_t Z_archZ_saveFlagsAndCli(struct Z_arch_instance_t *a) {
  (void)a;
  uint32_t flags;
  __asm__ volatile("pushfl; popl %0; cli" : "=r"(flags) : : "memory");
  return flags;
}

/* Restores EFLAGS saved by saveFlagsAndCli. */
__attribute__((always_inline)) inline void Z_archZ_restoreFlags(struct Z_arch_instance_t *a, uint32_t flags) {
  (void)a;
  __asm__ volatile("pushl %0; popfl" : : "r"(flags) : "memory", "cc");
}

/* EFLAGS into the word at `cell`, then interrupts off (kernel/arch/x86.ts: irqSaveTo). The word is
 * written after the cli, so an interrupt cannot come between the two and leave its own flags
 * there; and no register is held across the critical section. */
__attribute__((always_inline)) inline void Z_archZ_irqSaveTo(struct Z_arch_instance_t *a, uint32_t cell) {
  (void)a;
  __asm__ volatile("pushfl; cli; popl %0" : "=m"(*(uint32_t *)(uintptr_t)cell) : : "memory");
}

/* Restores EFLAGS from the word irqSaveTo wrote. */
__attribute__((always_inline)) inline void Z_archZ_irqRestoreFrom(struct Z_arch_instance_t *a, uint32_t cell) {
  (void)a;
  __asm__ volatile("pushl %0; popfl" : : "m"(*(uint32_t *)(uintptr_t)cell) : "memory", "cc");
}

/* `lock cmpxchg`: if the word at `cell` is `expected`, it becomes `desired`; returns what it was
 * (kernel/arch/x86.ts: compareExchange). One instruction, atomic against interrupts and CPUs. */
__attribute__((always_inline)) inline uint32_t Z_archZ_compareExchange(struct Z_arch_instance_t *a, uint32_t cell, uint32_t expected, uint32_t desired) {
  (void)a;
  uint32_t previous;
  __asm__ volatile("lock cmpxchgl %2, %1" : "=a"(previous), "+m"(*(uint32_t *)(uintptr_t)cell) : "r"(desired), "0"(expected) : "memory", "cc");
  return previous;
}

/* Where a kernel fault at `eip` resumes (kernel/arch/x86.ts: faultFixup): probeRead's one read
 * (boot/arch.c) resumes at its fixup; any other instruction, 0. */
extern char probe_read_access[], probe_read_fixup[];
__attribute__((always_inline)) inline uint32_t Z_archZ_faultFixup(struct Z_arch_instance_t *a, uint32_t eip) {
  (void)a;
  return eip == (uint32_t)(uintptr_t)probe_read_access ? (uint32_t)(uintptr_t)probe_read_fixup : 0;
}

/* A 32-bit read that is always made (kernel/arch/x86.ts: touchRead): a plain load whose value
 * is not used may be dropped by the compiler. */
__attribute__((always_inline)) inline uint32_t Z_archZ_touchRead(struct Z_arch_instance_t *a, uint32_t address) {
  (void)a;
  uint32_t value;
  __asm__ volatile("movl (%1), %0" : "=r"(value) : "r"(address) : "memory");
  return value;
}

/* EFLAGS (kernel/arch/x86.ts: readEflags): the context checks read the interrupt flag. */
__attribute__((always_inline)) inline uint32_t Z_archZ_readEflags(struct Z_arch_instance_t *a) {
  (void)a;
  uint32_t flags;
  __asm__ volatile("pushfl; popl %0" : "=r"(flags));
  return flags;
}

/* `pause`, and a compiler barrier (a wait loop reads memory again). */
__attribute__((always_inline)) inline void Z_archZ_cpuRelax(struct Z_arch_instance_t *a) {
  (void)a;
  __asm__ volatile("pause" ::: "memory");
}

/* `xchg`: the word at `cell` becomes `value`; returns what it was (kernel/arch/x86.ts:
 * atomicExchange). xchg with memory is locked by the CPU: atomic against interrupts and CPUs, and
 * a full barrier. */
__attribute__((always_inline)) inline uint32_t Z_archZ_atomicExchange(struct Z_arch_instance_t *a, uint32_t cell, uint32_t value) {
  (void)a;
  __asm__ volatile("xchgl %0, %1" : "+r"(value), "+m"(*(uint32_t *)(uintptr_t)cell) : : "memory");
  return value;
}

/* `lock xadd`: adds `delta` to the word at `cell`; returns what it was (kernel/arch/x86.ts:
 * atomicFetchAdd). A full barrier. */
__attribute__((always_inline)) inline uint32_t Z_archZ_atomicFetchAdd(struct Z_arch_instance_t *a, uint32_t cell, uint32_t delta) {
  (void)a;
  __asm__ volatile("lock xaddl %0, %1" : "+r"(delta), "+m"(*(uint32_t *)(uintptr_t)cell) : : "memory", "cc");
  return delta;
}

/* `lock bts` / `lock btr`: sets or clears bit `bit` of the bit string at `base` (any length: the
 * bit offset is a register); returns the bit as it was (kernel/arch/x86.ts: atomicBitSet,
 * atomicBitClear). Atomic against interrupts and CPUs; a full barrier. */
__attribute__((always_inline)) inline uint32_t Z_archZ_atomicBitSet(struct Z_arch_instance_t *a, uint32_t base, uint32_t bit) {
  (void)a;
  uint8_t old;
  __asm__ volatile("lock btsl %2, (%1)\n\tsetc %0" : "=q"(old) : "r"(base), "r"(bit) : "memory", "cc");
  return old;
}
__attribute__((always_inline)) inline uint32_t Z_archZ_atomicBitClear(struct Z_arch_instance_t *a, uint32_t base, uint32_t bit) {
  (void)a;
  uint8_t old;
  __asm__ volatile("lock btrl %2, (%1)\n\tsetc %0" : "=q"(old) : "r"(base), "r"(bit) : "memory", "cc");
  return old;
}

/* A full memory barrier (kernel/arch/x86.ts: memoryFence): `lock or` of 0 into the top of the
 * stack, the i686 form (mfence needs SSE2, which -march=i686 does not assume). */
__attribute__((always_inline)) inline void Z_archZ_memoryFence(struct Z_arch_instance_t *a) {
  (void)a;
  __asm__ volatile("lock orl $0, (%%esp)" ::: "memory", "cc");
}

/* The running CPU's record (kernel/arch/percpu.ts: thisCpu): its first word, read through GS,
 * whose base each CPU's GDT sets to its own record. One instruction. */
__attribute__((always_inline)) inline uint32_t Z_archZ_thisCpu(struct Z_arch_instance_t *a) {
  (void)a;
  uint32_t record;
  __asm__ volatile("movl %%gs:0, %0" : "=r"(record));
  return record;
}

/* A word of the running CPU's record at `offset` (kernel/arch/percpu.ts), read, written or added
 * to through GS in one instruction: `movl %gs:OFFSET, reg` and the like, the offset an immediate
 * where it is a constant after inlining (always, in kernel.c), a register otherwise (the one
 * out-of-line copy the prototype in kernel.h asks for). One instruction is atomic against
 * interrupts on this CPU; no other CPU changes another's counters. */
__attribute__((always_inline)) inline uint32_t Z_archZ_cpuLoad(struct Z_arch_instance_t *a, uint32_t offset) {
  (void)a;
  uint32_t value;
  if (__builtin_constant_p(offset)) __asm__ volatile("movl %%gs:%c1, %0" : "=r"(value) : "i"(offset));
  else __asm__ volatile("movl %%gs:(%1), %0" : "=r"(value) : "r"(offset));
  return value;
}
__attribute__((always_inline)) inline void Z_archZ_cpuStore(struct Z_arch_instance_t *a, uint32_t offset, uint32_t value) {
  (void)a;
  if (__builtin_constant_p(offset)) __asm__ volatile("movl %1, %%gs:%c0" : : "i"(offset), "ri"(value) : "memory");
  else __asm__ volatile("movl %1, %%gs:(%0)" : : "r"(offset), "ri"(value) : "memory");
}
/* value + the word at offset `offset` of this CPU's record: one addl from GS (object caches' parts). */
__attribute__((always_inline)) inline uint32_t Z_archZ_cpuPlus(struct Z_arch_instance_t *a, uint32_t value, uint32_t offset) {
  (void)a;
  if (__builtin_constant_p(offset)) __asm__ volatile("addl %%gs:%c2, %0" : "=r"(value) : "0"(value), "i"(offset) : "cc");
  else __asm__ volatile("addl %%gs:(%2), %0" : "=r"(value) : "0"(value), "r"(offset) : "cc");
  return value;
}
__attribute__((always_inline)) inline void Z_archZ_cpuAdd(struct Z_arch_instance_t *a, uint32_t offset, uint32_t delta) {
  (void)a;
  if (__builtin_constant_p(offset)) __asm__ volatile("addl %1, %%gs:%c0" : : "i"(offset), "ri"(delta) : "memory", "cc");
  else __asm__ volatile("addl %1, %%gs:(%0)" : : "r"(offset), "ri"(delta) : "memory", "cc");
}

/* The cores' one-CPU section (kernel/mm/core/section.ts, module "section"): interrupts off, and
 * EFLAGS as they were: saveFlagsAndCli and restoreFlags. */
struct Z_section_instance_t;
__attribute__((always_inline)) inline uint32_t Z_sectionZ_enter(struct Z_section_instance_t *s) {
  (void)s;
  return Z_archZ_saveFlagsAndCli(0);
}
__attribute__((always_inline)) inline void Z_sectionZ_leave(struct Z_section_instance_t *s, uint32_t saved) {
  (void)s;
  Z_archZ_restoreFlags(0, saved);
}
