// Per-CPU data: one record per CPU, found through the GS segment (docs/smp.md, "Per-CPU data").
//
// Each CPU has a GDT of its own (arch/gdt.ts) whose PERCPU descriptor (selector 0x38) has this
// CPU's record as its base, so `movl %gs:0, reg` (thisCpu) reads the record's first word, its own
// address, in one instruction on every CPU; fields are then plain loads from that address. The
// interrupt and system-call entries (boot/interrupts.asm) load GS again on every entry, since a
// return to ring 3 empties it (its descriptor is ring 0) and ring 3 may load anything there.
//
// A CPU record (CPU_RECORD_BYTES; the bootstrap processor's is static, the others' from kmalloc):
//
//   +0    self         this record's address (what thisCpu() returns)
//   +4    index        0 for the bootstrap processor, then 1, 2, ... in the MADT's order
//   +8    apicId       its local APIC's id (from the MADT)
//   +12   state        CpuState
//   +16   stackLow     its boot stack (an AP's; 0 for the bootstrap processor, on the linker's)
//   +20   stackHigh
//   +24   dfStackTop   the double-fault task's stack top (DF_STACK_BYTES below it)
//   +28   apicIdSeen   the id its local APIC gave when it came up (checked against apicId)
//   +32   startTsc     u64: rdtsc when it reached its kernel code (under -icount: instructions)
//   +40   selfSeen     what thisCpu() returned on it when it came up (its GS works)
//   +44   irqDepth     handlers running on it (arch/context.ts)
//   +48   preemptDepth levels of preemption off on it (arch/context.ts)
//   +52   klockDepth   sections of the kernel lock open on it (arch/klock.ts)
//   +56   arena        the running context's transient arena (mm/alloc/arena.ts; the
//                      dispatcher swaps it around handlers: arch/idt.ts)
//   +60   irqArena     its interrupt arena, what `arena` becomes while a handler runs
//   +64   irqScope     its interrupt scope (an InterruptScope: arch/idt.ts)
//   +68   mmBusy       the memory manager's re-entry guard bytes (mm/busy.ts)
//   +72   threadName   the running thread's name, stack low and high, for a panic on this CPU
//   +76   threadLow    (diag/panic.ts: panicSetThread)
//   +80   threadHigh
//   +84   current      the running thread (sched/scheduler.ts)
//   +88   cacheOffset  where the running context's part lies from every object cache
//                      (mm/core/slab/cache-layout.ts), so its fast paths add one load from GS:
//                      cacheCpuOffset(index), its thread part, and CACHE_IRQ_PART further
//                      while a handler runs (arch/context.ts irqEnter)
//   +92   sched        this CPU's scheduler state (sched/scheduler.ts: its run queue, slice, ...)
//   +96   scratch      32 bytes for formatting numbers (console/console.ts)
//   +128  cr3          the page directory loaded on it (arch/tlb.ts: whom a user shootdown asks)
//   +132  tlbOnline    1 once it takes shootdowns (it runs threads, interrupts on)
//   +136  stopEip      where a panic on another CPU stopped it (its NMI frame's eip)
//   +140  stopped      1 once it stopped for that panic
//   +144  timerCount   its local APIC timer's initial count (0: none)
//   +148  frameList    its list of free frames in front of the PMM (mm/phys/pmm.ts: pmmCpuAttach)
//   +152  (reserved, to +160)
//   +160  gdt          GDT_ENTRIES descriptors of 8 bytes (arch/gdt.ts)
//   +224  gdtPointer   u16 limit, u32 base (lgdt's operand)
//   +232  tss          the task-state segment: esp0 is the running thread's stack top
//   +336  dfTss        the double-fault task's state segment
import { thisCpu, cpuLoad, cpuPlus } from "./x86";
import { SlabCache, CacheCpu, cacheCpuOffset, CACHE_MAX_CPUS, ALL_CPUS } from "../mm/core/slab/cache-layout";
import { klockStarted } from "./klock";

export const enum CpuState {
  /** Listed by the firmware; not started. */
  Offline = 0,
  /** INIT and STARTUP sent; its trampoline runs. */
  Starting = 1,
  /** In the kernel, with its own GDT, TSS and local APIC. */
  Online = 2,
  /** Did not answer its STARTUP within the timeout. */
  Failed = 3,
}

export const CPU_SELF: u32 = 0;
export const CPU_INDEX: u32 = 4;
export const CPU_APIC_ID: u32 = 8;
export const CPU_STATE: u32 = 12;
export const CPU_STACK_LOW: u32 = 16;
export const CPU_STACK_HIGH: u32 = 20;
export const CPU_DF_STACK_TOP: u32 = 24;
export const CPU_APIC_ID_SEEN: u32 = 28;
export const CPU_START_TSC: u32 = 32;
export const CPU_SELF_SEEN: u32 = 40;
export const CPU_IRQ_DEPTH: u32 = 44;
export const CPU_PREEMPT_DEPTH: u32 = 48;
export const CPU_KLOCK_DEPTH: u32 = 52;
export const CPU_ARENA: u32 = 56;
export const CPU_IRQ_ARENA: u32 = 60;
export const CPU_IRQ_SCOPE: u32 = 64;
export const CPU_MM_BUSY: u32 = 68;
export const CPU_THREAD_NAME: u32 = 72;
export const CPU_THREAD_LOW: u32 = 76;
export const CPU_THREAD_HIGH: u32 = 80;
export const CPU_CURRENT: u32 = 84;
export const CPU_CACHE_OFFSET: u32 = 88;
export const CPU_SCHED: u32 = 92;
export const CPU_SCRATCH: u32 = 96;
export const CPU_CR3: u32 = 128;
export const CPU_TLB_ONLINE: u32 = 132;
export const CPU_STOP_EIP: u32 = 136;
export const CPU_STOPPED: u32 = 140;
export const CPU_TIMER_COUNT: u32 = 144;
export const CPU_FRAME_LIST: u32 = 148;
export const CPU_GDT: u32 = 160;
export const GDT_ENTRIES: u32 = 8;
export const CPU_GDT_POINTER: u32 = CPU_GDT + GDT_ENTRIES * 8;   // 224
export const CPU_TSS: u32 = CPU_GDT_POINTER + 8;                 // 232
export const TSS_BYTES: u32 = 104;
export const CPU_DF_TSS: u32 = CPU_TSS + TSS_BYTES;              // 336
export const CPU_RECORD_BYTES: u32 = CPU_DF_TSS + TSS_BYTES;     // 440
/** The double-fault task's stack: it prints a report with a backtrace, calling into the console. */
export const DF_STACK_BYTES: u32 = 8192;

/** The most CPUs askern runs (the MADT reader records as many: boot/acpi.ts). */
export const MAX_CPUS: u32 = 16;
// (every object cache has a part for each CPU)
if (MAX_CPUS > CACHE_MAX_CPUS) ERROR("MAX_CPUS must not exceed the object caches' CACHE_MAX_CPUS");

/** The bootstrap processor's record: static, so that it exists before any allocator. */
export const bootCpu: usize = memory.data(CPU_RECORD_BYTES, 16);

const records = memory.data(MAX_CPUS * 4, 4);
/** The interrupt scope (arch/idt.ts) of a CPU until its arena sets one: unwinds nothing. */
const noScope = memory.data(8, 4);
let recordCount: u32 = 0;

/**
 * Adds `cpu` (set up by cpuRecordInit, its index the next one) to the table cpuAt reads. Boot
 * and bring-up, on the bootstrap processor; false when MAX_CPUS are listed.
 */
export function cpuRegister(cpu: usize): bool {
  if (recordCount >= MAX_CPUS || load<u32>(cpu, CPU_INDEX) != recordCount) return false;
  store<u32>(records + recordCount * 4, <u32>cpu);
  recordCount++;
  return true;
}
/** How many CPUs have a record (started or not). Any context. */
export function cpuRecords(): u32 { return recordCount; }
/** The record of CPU `index` (below cpuRecords()). Any context. */
export function cpuAt(index: u32): usize { return <usize>load<u32>(records + index * 4); }

/** The running CPU's index (0: the bootstrap processor). */
@inline export function cpuIndex(): u32 { return load<u32>(thisCpu(), CPU_INDEX); }

/**
 * The running CPU's thread part offset in object caches (cacheCpuOffset(cpuIndex()): what the
 * caches' functions take as `cpu` to mean this CPU's two parts). Any context.
 */
@inline export function cpuCacheOffset(): u32 { return cacheCpuOffset(cpuIndex()); }

/**
 * Which parts of the object caches the running CPU may read (cacheCheck's and cacheActiveObjects'
 * `cpu`): every part (ALL_CPUS) while no other CPU uses them (one CPU, or the others parked),
 * else only its own two. Any context.
 */
export function cpuCachesReadable(): u32 { return klockStarted() ? cpuCacheOffset() : ALL_CPUS; }

/** CPUs that schedule threads: every recorded one with smp=on, else 1 (the others, if any, parked). Any context. */
export function cpusScheduling(): u32 { return klockStarted() ? cpuRecords() : 1; }

/**
 * The running context's part of object cache `cache` (cacheCpu): one `addl` from GS. Its thread
 * part in thread context, its interrupt part in a handler. The caller keeps preemption off
 * (preemptDisableLocal) while it uses the part.
 */
@inline export function cpuCachePart(cache: SlabCache): CacheCpu {
  return changetype<CacheCpu>(<usize>cpuPlus(<u32>changetype<usize>(cache), CPU_CACHE_OFFSET));
}

/** Sets up the record at `at` for CPU `index` with local APIC `apicId` (zeroed first). Boot or bring-up. */
export function cpuRecordInit(at: usize, index: u32, apicId: u32): void {
  memory.fill(at, 0, CPU_RECORD_BYTES);
  store<u32>(at, <u32>noScope, CPU_IRQ_SCOPE);
  store<u32>(at, <u32>at, CPU_SELF);
  store<u32>(at, index, CPU_INDEX);
  store<u32>(at, apicId, CPU_APIC_ID);
  store<u32>(at, cacheCpuOffset(index), CPU_CACHE_OFFSET);
}

/** The state's name, for listings. */
export function cpuStateName(state: CpuState): string {
  switch (state) {
    case CpuState.Offline: return "offline";
    case CpuState.Starting: return "starting";
    case CpuState.Online: return "online";
    case CpuState.Failed: return "failed to start";
    default: return "?";
  }
}

@inline export function cpuState(cpu: usize): CpuState { return <CpuState>load<u32>(cpu, CPU_STATE); }
@inline export function cpuApicId(cpu: usize): u32 { return load<u32>(cpu, CPU_APIC_ID); }
@inline export function cpuIndexOf(cpu: usize): u32 { return load<u32>(cpu, CPU_INDEX); }
