// Global descriptor table, and the two task-state segments: one of each per CPU, in its record
// (arch/percpu.ts).
//
// Selectors:  0x08 kernel code   0x10 kernel data   0x18 main TSS   0x20 double-fault TSS
//             0x28 user code     0x30 user data     0x38 per-CPU data (base: this CPU's record)
//
// A segment descriptor (8 bytes):
//   63..56 base 31..24 | 55..52 flags (G, D/B, L, AVL) | 51..48 limit 19..16 | 47..40 access
//   39..16 base 23..0  | 15..0 limit 15..0
//
// The double fault (vector 8) is delivered through a task gate: the CPU saves the running
// state into the main TSS and loads the double-fault TSS, whose stack is separate. That is what
// makes a kernel stack overflow reportable instead of a triple fault and a reboot.
import { lgdt, ltr, reloadSegments, readCr3, linkerAddress, LinkerSymbol, thisCpu } from "./x86";
import { GDT_ENTRIES, CPU_GDT, CPU_GDT_POINTER, CPU_TSS, CPU_DF_TSS, CPU_DF_STACK_TOP, CPU_RECORD_BYTES } from "./percpu";

export const KERNEL_CODE_SELECTOR: u32 = 0x08;
export const KERNEL_DATA_SELECTOR: u32 = 0x10;
export const MAIN_TSS_SELECTOR: u32 = 0x18;
export const DOUBLE_FAULT_TSS_SELECTOR: u32 = 0x20;
/** Ring 3's code and data segments (flat, like the kernel's), with their requested privilege 3. */
export const USER_CODE_SELECTOR: u32 = 0x28 | 3;
export const USER_DATA_SELECTOR: u32 = 0x30 | 3;
/** The per-CPU data segment: GS in the kernel (boot/interrupts.asm loads it on every entry). */
export const PERCPU_SELECTOR: u32 = 0x38;

// access bytes
const ACCESS_CODE_RING0: u32 = 0x9A;            // present, ring 0, code, readable
const ACCESS_DATA_RING0: u32 = 0x92;            // present, ring 0, data, writable
const ACCESS_CODE_RING3: u32 = 0xFA;            // present, ring 3, code, readable
const ACCESS_DATA_RING3: u32 = 0xF2;            // present, ring 3, data, writable
const ACCESS_TSS32: u32 = 0x89;                 // present, ring 0, 32-bit available TSS
const FLAGS_4K_32BIT: u32 = 0xC;                // granularity 4 KiB, 32-bit
const FLAGS_BYTE_32BIT: u32 = 0x4;              // granularity 1 byte, 32-bit

// Task-state segment (104 bytes), the fields we use, by byte offset:
//   0 link  4 esp0  8 ss0  28 cr3  32 eip  36 eflags  40 eax 44 ecx 48 edx 52 ebx
//   56 esp  60 ebp  64 esi  68 edi  72 es  76 cs  80 ss  84 ds  88 fs  92 gs  102 iomap base
export const TSS_SIZE: u32 = 104;
/** The ring-0 stack the CPU switches to on an interrupt from ring 3: the running thread's (sched). */
export const TSS_ESP0 = 4, TSS_SS0 = 8;
export const TSS_CR3 = 28, TSS_EIP = 32, TSS_EFLAGS = 36, TSS_EAX = 40, TSS_ECX = 44, TSS_EDX = 48,
  TSS_EBX = 52, TSS_ESP = 56, TSS_EBP = 60, TSS_ESI = 64, TSS_EDI = 68, TSS_ES = 72, TSS_CS = 76,
  TSS_SS = 80, TSS_DS = 84, TSS_FS = 88, TSS_GS = 92, TSS_IOMAP = 102;

/** The running CPU's main TSS: where the CPU saves the interrupted state when a double fault switches tasks. */
@inline export function mainTss(): usize { return thisCpu() + CPU_TSS; }

function setDescriptor(gdt: usize, index: u32, base: u32, limit: u32, access: u32, flags: u32): void {
  const d = gdt + index * 8;
  store<u16>(d, <u16>(limit & 0xFFFF));
  store<u16>(d, <u16>(base & 0xFFFF), 2);
  store<u8>(d, <u8>((base >> 16) & 0xFF), 4);
  store<u8>(d, <u8>access, 5);
  store<u8>(d, <u8>(((limit >> 16) & 0xF) | (flags << 4)), 6);
  store<u8>(d, <u8>(base >> 24), 7);
}

/**
 * Builds the GDT and both TSSs in the CPU record `cpu` (arch/percpu.ts), loads them and reloads
 * every segment register, GS with the record as its base. `stackTop`: the ring-0 stack until the
 * scheduler sets the running thread's; `dfStackTop`: the double-fault task's (DF_STACK_BYTES).
 * Interrupts off; on the CPU that owns `cpu`, once.
 */
export function gdtInit(cpu: usize, stackTop: usize, dfStackTop: usize): void {
  const gdt = cpu + CPU_GDT;
  setDescriptor(gdt, 0, 0, 0, 0, 0);
  setDescriptor(gdt, 1, 0, 0xFFFFF, ACCESS_CODE_RING0, FLAGS_4K_32BIT);
  setDescriptor(gdt, 2, 0, 0xFFFFF, ACCESS_DATA_RING0, FLAGS_4K_32BIT);
  setDescriptor(gdt, 3, <u32>(cpu + CPU_TSS), TSS_SIZE - 1, ACCESS_TSS32, 0);
  setDescriptor(gdt, 4, <u32>(cpu + CPU_DF_TSS), TSS_SIZE - 1, ACCESS_TSS32, 0);
  setDescriptor(gdt, 5, 0, 0xFFFFF, ACCESS_CODE_RING3, FLAGS_4K_32BIT);
  setDescriptor(gdt, 6, 0, 0xFFFFF, ACCESS_DATA_RING3, FLAGS_4K_32BIT);
  setDescriptor(gdt, 7, <u32>cpu, CPU_RECORD_BYTES - 1, ACCESS_DATA_RING0, FLAGS_BYTE_32BIT);

  const main = cpu + CPU_TSS;
  memory.fill(main, 0, TSS_SIZE);
  store<u16>(main + TSS_IOMAP, <u16>TSS_SIZE);
  store<u32>(main + TSS_SS0, KERNEL_DATA_SELECTOR);
  store<u32>(main + TSS_ESP0, <u32>stackTop);

  const t = cpu + CPU_DF_TSS;
  memory.fill(t, 0, TSS_SIZE);
  store<u32>(t + TSS_CR3, readCr3());
  store<u32>(t + TSS_EIP, <u32>linkerAddress(LinkerSymbol.DoubleFaultEntry));
  store<u32>(t + TSS_EFLAGS, 0x2);              // reserved bit 1; interrupts off
  store<u32>(t + TSS_ESP, <u32>dfStackTop);
  store<u32>(cpu, <u32>dfStackTop, CPU_DF_STACK_TOP);
  store<u32>(t + TSS_CS, KERNEL_CODE_SELECTOR);
  store<u32>(t + TSS_SS, KERNEL_DATA_SELECTOR);
  store<u32>(t + TSS_DS, KERNEL_DATA_SELECTOR);
  store<u32>(t + TSS_ES, KERNEL_DATA_SELECTOR);
  store<u32>(t + TSS_FS, KERNEL_DATA_SELECTOR);
  store<u32>(t + TSS_GS, PERCPU_SELECTOR);
  store<u16>(t + TSS_IOMAP, <u16>TSS_SIZE);

  const pointer = cpu + CPU_GDT_POINTER;
  store<u16>(pointer, <u16>(GDT_ENTRIES * 8 - 1));
  store<u32>(pointer, <u32>gdt, 2);
  lgdt(pointer);
  reloadSegments(KERNEL_CODE_SELECTOR, KERNEL_DATA_SELECTOR, PERCPU_SELECTOR);
  ltr(MAIN_TSS_SELECTOR);
}

/**
 * Makes `top` the ring-0 stack an interrupt from user mode lands on (the TSS's esp0): the
 * scheduler sets the running thread's stack top on every switch. Interrupts off.
 */
@inline export function tssSetKernelStack(top: usize): void { store<u32>(thisCpu() + CPU_TSS + TSS_ESP0, <u32>top); }

/** The TSS's esp0 now (for tests). */
export function tssKernelStack(): usize { return load<u32>(thisCpu() + CPU_TSS + TSS_ESP0); }
