// The arch seam: every instruction AssemblyScript cannot express, as an imported function.
// The native side is boot/arch.c; host tests (test/host) supply mocks under the same names.
// Plain load<T>/store<T> are not volatile, so anything with a side effect beyond memory
// (ports, control registers, descriptor tables) must come through here.

@external("arch", "outb") export declare function outb(port: u32, value: u32): void;
@external("arch", "inb") export declare function inb(port: u32): u32;
@external("arch", "outw") export declare function outw(port: u32, value: u32): void;
@external("arch", "outl") export declare function outl(port: u32, value: u32): void;

@external("arch", "cli") export declare function cli(): void;
@external("arch", "sti") export declare function sti(): void;
@external("arch", "hlt") export declare function hlt(): void;
/** sti; hlt — sleeps until the next interrupt without losing a wake-up. */
@external("arch", "waitForInterrupt") export declare function waitForInterrupt(): void;
@external("arch", "readEflags") export declare function readEflags(): u32;
/** Time-stamp counter. Under `qemu -icount shift=0` it counts guest instructions exactly. */
@external("arch", "rdtsc") export declare function rdtsc(): u64;

@external("arch", "readCr0") export declare function readCr0(): u32;
@external("arch", "readCr2") export declare function readCr2(): u32;
@external("arch", "readCr3") export declare function readCr3(): u32;
@external("arch", "readCr4") export declare function readCr4(): u32;
@external("arch", "writeCr3") export declare function writeCr3(physAddr: u32): void;
@external("arch", "invlpg") export declare function invlpg(virtAddr: u32): void;

@external("arch", "lgdt") export declare function lgdt(pointerAddr: usize): void;
@external("arch", "lidt") export declare function lidt(pointerAddr: usize): void;
@external("arch", "ltr") export declare function ltr(selector: u32): void;
@external("arch", "reloadSegments") export declare function reloadSegments(codeSelector: u32, dataSelector: u32, perCpuSelector: u32): void;

/** The frame pointer (EBP) of the function that calls this one. */
@external("arch", "framePointer") export declare function framePointer(): usize;
/** An address in the code that calls this (its return address): where a lock was taken, for the lock checker. */
@external("arch", "codeAddress") export declare function codeAddress(): u32;
/** Writes 11 words at `out`: eax ebx ecx edx esi edi ebp esp eflags cs ss. */
@external("arch", "captureRegisters") export declare function captureRegisters(out: usize): void;
/** Does nothing: the debugger's breakpoint on panic (.gdbinit breaks on Z_archZ_panicHook). */
@external("arch", "panicHook") export declare function panicHook(): void;
/**
 * Records where the PMM's state, the kernel heap, the kernel slab regions and the list of
 * threads (a word holding its first record) are, for the gdb commands.
 */
@external("arch", "setDebugRoots") export declare function setDebugRoots(pmm: usize, heap: usize, arena: usize, threads: usize): void;
/** Kernel threads: saves the callee-saved registers and ESP at `saveSlot`, loads `newSp` (boot/switch.asm). */
@external("arch", "switchContext") export declare function switchContext(saveSlot: usize, newSp: u32): void;
/**
 * Drops the running thread to ring 3 through the ring-3 frame in the kmalloc'd block `frame`
 * (arch/frame.ts UserFrame), copied to the top of its kernel stack, `top`; the block is freed
 * (the export userFrameFree) once copied (boot/interrupts.asm). Never returns; the thread
 * re-enters the kernel through interrupts and system calls.
 */
@external("arch", "resumeUserFrame") export declare function resumeUserFrame(frame: usize, top: usize): void;
/** The int 0x80 gate's own entry stub (boot/interrupts.asm syscall_entry). */
@external("arch", "syscallEntryAddress") export declare function syscallEntryAddress(): u32;
/** Where a thread killed in ring 3 resumes in ring 0 (boot/runtime.c's user_killed_c, which calls the export userKilled). */
@external("arch", "userKilledAddress") export declare function userKilledAddress(): u32;
/** Where a new thread's first switch returns to (boot/switch.asm's thread_start). */
@external("arch", "threadStartAddress") export declare function threadStartAddress(): u32;
/**
 * `pause`, and a compiler barrier: in a loop that waits for memory an interrupt handler or another
 * thread changes (the PIT's tick count, a flag), it makes the compiled code read it again.
 */
@external("arch", "cpuRelax") export declare function cpuRelax(): void;
/** EFLAGS, then interrupts off: pass the result to restoreFlags. */
@external("arch", "saveFlagsAndCli") export declare function saveFlagsAndCli(): u32;
/** Restores EFLAGS (and so the interrupt flag) saved by saveFlagsAndCli. */
@external("arch", "restoreFlags") export declare function restoreFlags(flags: u32): void;
/**
 * EFLAGS into the word at `cell`, then interrupts off: a critical section whose saved flags live
 * in its lock's own word (no register held across it). The word must belong to one lock that is
 * never taken twice at once (an interrupt handler can only take it while it is free, since the
 * section runs with interrupts off). Restore with irqRestoreFrom(cell).
 */
@external("arch", "irqSaveTo") export declare function irqSaveTo(cell: usize): void;
/** Restores EFLAGS from the word irqSaveTo wrote. */
@external("arch", "irqRestoreFrom") export declare function irqRestoreFrom(cell: usize): void;
/**
 * `lock cmpxchg`: if the word at `cell` is `expected`, it becomes `desired`. Returns the word as
 * it was (equal to `expected` when the exchange happened). Atomic against interrupts and CPUs.
 */
@external("arch", "compareExchange") export declare function compareExchange(cell: usize, expected: u32, desired: u32): u32;
/** `xchg`: the word at `cell` becomes `value`; returns what it was. Atomic against interrupts and CPUs; a full barrier. */
@external("arch", "atomicExchange") export declare function atomicExchange(cell: usize, value: u32): u32;
/** `lock xadd`: adds `delta` (wrapping) to the word at `cell`; returns what it was. Atomic; a full barrier. */
@external("arch", "atomicFetchAdd") export declare function atomicFetchAdd(cell: usize, delta: u32): u32;
/**
 * `lock bts` / `lock btr`: sets (clears) bit `bit` of the bit string at `base`, of any length;
 * returns 1 if the bit was set before, else 0. Atomic against interrupts and CPUs; a full barrier.
 */
@external("arch", "atomicBitSet") export declare function atomicBitSet(base: usize, bit: u32): u32;
@external("arch", "atomicBitClear") export declare function atomicBitClear(base: usize, bit: u32): u32;
/** A full memory barrier: no load or store moves across it, on this CPU or as other CPUs see it. */
@external("arch", "memoryFence") export declare function memoryFence(): void;
/** The running CPU's record (arch/percpu.ts), read through GS in one instruction. Any context. */
@external("arch", "thisCpu") export declare function thisCpu(): usize;
/**
 * The word at `offset` (a constant: a variable one does not compile) of the running CPU's record,
 * read, written or added to through GS in one instruction (atomic against this CPU's
 * interrupts). Any context.
 */
@external("arch", "cpuLoad") export declare function cpuLoad(offset: u32): u32;
@external("arch", "cpuStore") export declare function cpuStore(offset: u32, value: u32): void;
@external("arch", "cpuAdd") export declare function cpuAdd(offset: u32, delta: u32): void;
/** `value` plus the word at constant `offset` of this CPU's record: one `addl %gs:offset`. Any context (the CPU as cpuLoad). */
@external("arch", "cpuPlus") export declare function cpuPlus(value: u32, offset: u32): u32;
/**
 * Reads the 32-bit word at `address` whatever the compiler thinks of it: a plain load whose value
 * is unused may be dropped (docs/runtime.md). For code that touches memory on purpose (a test
 * that must fault, a probe). May fault.
 */
/**
 * Reads the 32-bit word at kernel address `address` into `out` and answers true, or answers
 * false (`out` untouched) when the read faults: the page-fault handler resumes it through
 * faultFixup instead of serving or panicking, so a page not mapped is never committed by it.
 * For tests that read through mappings another CPU removes (smp.stale_tlb). Any context.
 */
@external("arch", "probeRead") export declare function probeRead(address: usize, out: usize): bool;
/** Where a kernel fault at `eip` resumes instead (probeRead's one instruction that may fault), or 0. Any context. */
@external("arch", "faultFixup") export declare function faultFixup(eip: u32): u32;
/** CPUID leaf `leaf`'s EDX (leaf 1: the feature bits; bit 9 is the local APIC). */
@external("arch", "cpuidEdx") export declare function cpuidEdx(leaf: u32): u32;
/** The low 32 bits of model-specific register `msr` (0x1B: IA32_APIC_BASE). */
@external("arch", "readMsrLow") export declare function readMsrLow(msr: u32): u32;
/** One 32-bit read / write of device memory (a register): never merged, reordered or left out. */
@external("arch", "mmioRead32") export declare function mmioRead32(address: usize): u32;
@external("arch", "mmioWrite32") export declare function mmioWrite32(address: usize, value: u32): void;
@external("arch", "touchRead") export declare function touchRead(address: usize): u32;
/** `int 0x81`: one round trip through the interrupt path (benchmark). */
@external("arch", "softInterruptBench") export declare function softInterruptBench(): void;
/** A native `div`: divisor 0 raises the CPU's #DE (self-test of the exception path). */
@external("arch", "cpuDivide") export declare function cpuDivide(dividend: u32, divisor: u32): u32;

/** Addresses fixed at link time; ids as in boot/arch.c. */
export const enum LinkerSymbol {
  KernelStart = 0, KernelEnd = 1, TextStart = 2, TextEnd = 3, RodataEnd = 4,
  KsymsStart = 5, KsymsEnd = 6, AsDataStart = 7, AsDataEnd = 8,
  BootStackGuard = 9, BootStackBottom = 10, BootStackTop = 11,
  BootPageDirectory = 12, IsrStubTable = 13, DoubleFaultEntry = 14, DoubleFaultStackTop = 15,
  BootEntryTsc = 16, ApTrampolineStart = 17, ApTrampolineEnd = 18,
}
@external("arch", "linkerAddress") export declare function linkerAddress(id: LinkerSymbol): usize;

/** Where the kernel's higher half starts: virtual = physical + KERNEL_VMA_OFFSET. */
export const KERNEL_VMA_OFFSET: usize = 0xC0000000;
