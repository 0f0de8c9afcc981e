// Starting the application processors (docs/smp.md, "Bring-up"; Intel SDM vol. 3, 9.4 and
// 11.6): the bootstrap processor maps the local APIC, copies the trampoline (boot/ap-start.asm)
// to a free page below 1 MiB, and for each processor the MADT lists sends INIT, waits, and sends
// STARTUP (a second one if the first was not taken), then waits until the processor says it is
// online. Each AP runs apMain on a stack of its own: the kernel's page directory, a GDT and TSS
// of its own with GS on its record (arch/percpu.ts), the shared IDT, its local APIC on.
//
// With smp=on an AP then becomes its idle thread and schedules (sched/runqueue.ts), its local
// APIC timer ticking at the PIT's rate; from the first STARTUP on, the kernel lock is taken
// (arch/klock.ts) and page-table changes are shot down on every CPU (arch/tlb.ts). By default
// (smp=park) it parks with interrupts off, and the kernel runs on the bootstrap processor alone.
import { cli, hlt, rdtsc, readCr4, writeCr3, cpuRelax, atomicExchange, thisCpu, linkerAddress, LinkerSymbol, cpuidEdx, saveFlagsAndCli, restoreFlags } from "../arch/x86";
import { pitTicks, pitHz, uptimeMilliseconds } from "../arch/pit";
import { gdtInit } from "../arch/gdt";
import { idtLoad } from "../arch/idt";
import {
  CpuState, CPU_RECORD_BYTES, CPU_STATE, CPU_STACK_LOW, CPU_STACK_HIGH, CPU_APIC_ID_SEEN, CPU_START_TSC, CPU_SELF_SEEN,
  DF_STACK_BYTES, MAX_CPUS, bootCpu, cpuRecordInit, cpuRegister, cpuRecords, cpuAt, cpuState, cpuApicId,
  CPU_APIC_ID, CPU_DF_STACK_TOP, CPU_CR3, CPU_TLB_ONLINE, CPU_TIMER_COUNT, CPU_INDEX,
} from "../arch/percpu";
import {
  lapicSetBase, lapicEnable, lapicId, lapicSendInit, lapicSendStartup, lapicTimerCountStart, lapicTimerElapsed, lapicTimerPeriodic,
  VECTOR_APIC_TIMER,
} from "../arch/apic";
import { klockEnter, klockLeave } from "../arch/klock";
import { tlbInit } from "../arch/tlb";
import { setInterruptHandler } from "../arch/idt";
import { InterruptFrame } from "../arch/frame";
import { kzalloc } from "../mm/alloc/kmalloc";
import { ARENA_BYTES, interruptArenaCreate, interruptArenaUse } from "../mm/alloc/arena";
import { schedCpuPrepare, schedCpuStart } from "../sched/scheduler";
import { schedCpuTick } from "../sched/clock";
import { schedCpu, VECTOR_RESCHEDULE } from "../sched/runqueue";
import { LogLevel, logBegin } from "../console/log";
import { puts, putDec, putHex, newline } from "../console/console";
import { cpusListed, cpusListedApicId, cpusLapicPhys } from "../boot/cpus";
import { allocLowFrame, allocFrames, freeFrame, pmmFreeFrames, pmmCpuAttach } from "../mm/phys/pmm";
import { linearVirt } from "../mm/layout";
import { kernelAddressSpace, reserveRange, releaseRange, RANGE_WRITABLE, RANGE_PROMISED } from "../mm/virt/vmm";
import { ioremap, IoCaching } from "../mm/virt/ioremap";
import { PAGE_PRESENT, PAGE_WRITABLE, PDE_LARGE } from "../mm/virt/paging";
import { stackReserve, STACK_BYTES } from "../sched/scheduler";

// The trampoline page's parameters (boot/ap-start.asm keeps the same offsets).
const TRAMPOLINE_PARAMS: u32 = 0x100;
const TR_CR3: u32 = TRAMPOLINE_PARAMS + 0;
const TR_CR4: u32 = TRAMPOLINE_PARAMS + 4;
const TR_STACK: u32 = TRAMPOLINE_PARAMS + 8;
const TR_CPU: u32 = TRAMPOLINE_PARAMS + 12;
/** A STARTUP's vector is the page number: the trampoline must lie below 1 MiB. */
const STARTUP_LIMIT: u64 = 0x100000;
/** CPUID.1:EDX bit 9: the CPU has a local APIC. */
const CPUID_APIC: u32 = 1 << 9;

/** How long an AP has to come online after its STARTUP, in milliseconds. */
const ONLINE_TIMEOUT_MS: u32 = 1000;
/** The SDM's wait between INIT and STARTUP, in milliseconds (rounded up to whole timer ticks). */
const INIT_WAIT_MS: u32 = 10;

let startMilliseconds: u32 = 0;

/** Waits at least `ms` milliseconds, counting timer ticks (interrupts on). */
function waitMilliseconds(ms: u32): void {
  const ticks = <u64>((ms * pitHz() + 999) / 1000) + 1;   // (+1: the current tick is partly gone)
  const end = pitTicks() + ticks;
  while (pitTicks() < end) cpuRelax();
}

/** Waits up to `ms` for `cpu` to say it is online; true if it did. */
function waitOnline(cpu: usize, ms: u32): bool {
  const end = pitTicks() + <u64>((ms * pitHz() + 999) / 1000) + 1;
  while (pitTicks() < end) {
    if (cpuState(cpu) == CpuState.Online) return true;
    cpuRelax();
  }
  return cpuState(cpu) == CpuState.Online;
}

/** A directory for the trampoline's first paged instructions: the kernel's half, and 0-4 MiB identity-mapped with one large page. */
function trampolineDirectory(): u32 {
  const phys = allocLowFrame();   // (written through the linear map: a high frame is not in it)
  if (phys == 0) return 0;
  const directory = linearVirt(phys);
  memory.fill(directory, 0, 4096);
  memory.copy(directory + 768 * 4, kernelAddressSpace().directory + 768 * 4, 256 * 4);
  store<u32>(directory, PDE_LARGE | PAGE_PRESENT | PAGE_WRITABLE);   // (virtual 0-4 MiB -> physical 0-4 MiB)
  return phys;
}

// An AP's own memory besides its stack (a range, every page committed; the guard page below it):
//
//   +0      the double-fault task's stack (DF_STACK_BYTES), growing down towards the guard page
//   +8192   its record (CPU_RECORD_BYTES), alone in the last page
const CPU_AREA_BYTES: u32 = DF_STACK_BYTES + 4096;
let bootFrames: u32 = 0;
const irqArenas = memory.data(MAX_CPUS * 4, 4);   // each AP's interrupt arena (an ARENA_BYTES control block)
let timerCount: u32 = 0;
let scheduling = false;

/** A record, a stack and a double-fault stack for the AP with local APIC `apicId`, registered as the next CPU; 0 when memory is short. */
function apPrepare(apicId: u32): usize {
  const area = reserveRange(CPU_AREA_BYTES, RANGE_WRITABLE | RANGE_PROMISED, "cpu record");
  if (area == 0) return 0;
  const stack = stackReserve("cpu stack");
  if (stack == 0) return 0;   // (boot: what was had stays, unused)
  let arena: usize = 0;
  if (scheduling) {
    arena = kzalloc(ARENA_BYTES);
    if (arena == 0 || !interruptArenaCreate(arena)) return 0;
  }
  for (let page: u32 = 0; page < CPU_AREA_BYTES; page += 4096) store<u32>(area + page, 0);   // commit now
  const cpu = area + DF_STACK_BYTES;
  const index = cpuRecords();
  cpuRecordInit(cpu, index, apicId);
  store<u32>(cpu, <u32>stack, CPU_STACK_LOW);
  store<u32>(cpu, <u32>(stack + STACK_BYTES), CPU_STACK_HIGH);
  store<u32>(cpu, <u32>(area + DF_STACK_BYTES), CPU_DF_STACK_TOP);
  store<u32>(cpu, timerCount, CPU_TIMER_COUNT);
  pmmCpuAttach(cpu, index);
  store<u32>(irqArenas + index * 4, <u32>arena);
  if (scheduling && !schedCpuPrepare(cpu, stack, stack + STACK_BYTES)) return 0;
  cpuRegister(cpu);
  return cpu;
}

/** Frames the other CPUs' bring-up took: their records, stacks, interrupt arenas, scheduler state (for the self-tests' accounting). Any context. */
export function smpBootFrames(): u32 { return bootFrames; }

/** Local APIC timer counts (bus clock / 16) in one PIT tick, measured on the bootstrap processor over `ticks` ticks. Interrupts on. */
function calibrateTimer(ticks: u32): u32 {
  const first = pitTicks();
  while (pitTicks() == first) cpuRelax();   // (from a tick's start)
  const flags = saveFlagsAndCli();
  lapicTimerCountStart();
  restoreFlags(flags);
  const end = pitTicks() + ticks;
  while (pitTicks() < end) cpuRelax();
  return lapicTimerElapsed() / ticks;
}

/** STARTUP at `page` (twice if needed), its INIT sent: true once `cpu` is online. Interrupts on; boot. */
function apStart(cpu: usize, page: u32, trampoline: usize, directoryPhys: u32): bool {
  store<u32>(trampoline + TR_CR3, directoryPhys);
  store<u32>(trampoline + TR_CR4, readCr4());
  store<u32>(trampoline + TR_STACK, load<u32>(cpu, CPU_STACK_HIGH));
  store<u32>(trampoline + TR_CPU, <u32>cpu);
  atomicExchange(cpu + CPU_STATE, CpuState.Starting);
  const apicId = cpuApicId(cpu);
  for (let attempt = 0; attempt < 2; attempt++) {
    if (!lapicSendStartup(apicId, page)) return false;
    if (waitOnline(cpu, attempt == 0 ? 10 : ONLINE_TIMEOUT_MS)) return true;
  }
  return false;
}

/**
 * Starts every processor the MADT lists and logs one line: which came online, and how long it
 * took. With `schedule` (smp=on) they take part in scheduling; else they park. Without usable
 * tables or a local APIC it says so and the kernel stays on one CPU. Boot, once, thread context
 * on the bootstrap processor, interrupts on (it waits on the timer).
 */
export function smpStart(schedule: bool): void {
  scheduling = schedule;
  const listed = cpusListed();
  if (listed == 0 || (cpuidEdx(1) & CPUID_APIC) == 0 || cpusLapicPhys() == 0) return;
  const freeBefore = pmmFreeFrames();
  const lapic = ioremap(<u64>cpusLapicPhys(), 4096, IoCaching.Uncached);
  if (lapic == 0) { if (logBegin(LogLevel.Error, "cpu")) puts("cannot map the local APIC: one processor\n"); return; }
  lapicSetBase(lapic);
  lapicEnable(true);
  const bootId = lapicId();
  store<u32>(bootCpu, bootId, CPU_APIC_ID);
  store<u32>(bootCpu, bootId, CPU_APIC_ID_SEEN);
  store<u32>(bootCpu, <u32>bootCpu, CPU_SELF_SEEN);
  if (listed == 1) return;

  const trampolinePhys = allocFrames(1, 1, STARTUP_LIMIT);
  const directoryPhys = trampolineDirectory();
  if (trampolinePhys == 0 || directoryPhys == 0) {
    if (logBegin(LogLevel.Error, "cpu")) puts("no page below 1 MiB for the trampoline: one processor\n");
    if (trampolinePhys != 0) freeFrame(trampolinePhys);
    if (directoryPhys != 0) freeFrame(directoryPhys);
    return;
  }
  const trampoline = linearVirt(trampolinePhys);
  const blob = linkerAddress(LinkerSymbol.ApTrampolineStart);
  memory.copy(trampoline, blob, linkerAddress(LinkerSymbol.ApTrampolineEnd) - blob);
  if (scheduling) {
    timerCount = calibrateTimer(2);
    setInterruptHandler(VECTOR_APIC_TIMER, onCpuTimer);
    setInterruptHandler(VECTOR_RESCHEDULE, onReschedule);
    tlbInit();
    store<u32>(bootCpu, 1, CPU_TLB_ONLINE);   // (the kernel lock is taken since boot: main.ts, klockStart)
  }

  const begin = uptimeMilliseconds();
  // every AP gets its record and stacks and its INIT first, so that one wait serves them all
  for (let i: u32 = 0; i < listed && cpuRecords() < MAX_CPUS; i++) {
    const apicId = cpusListedApicId(i);
    if (apicId == bootId) continue;
    const cpu = apPrepare(apicId);
    if (cpu == 0) { if (logBegin(LogLevel.Error, "cpu")) puts("no memory for an application processor's record and stacks\n"); break; }
    if (!lapicSendInit(apicId)) atomicExchange(cpu + CPU_STATE, CpuState.Failed);
  }
  waitMilliseconds(INIT_WAIT_MS);
  let online: u32 = 1, failed: u32 = 0;
  for (let i: u32 = 1; i < cpuRecords(); i++) {
    const cpu = cpuAt(i);
    if (cpuState(cpu) != CpuState.Failed && apStart(cpu, trampolinePhys >> 12, trampoline, directoryPhys)) { online++; continue; }
    atomicExchange(cpu + CPU_STATE, CpuState.Failed);
    lapicSendInit(cpuApicId(cpu));   // (back to waiting: it must not run the trampoline page once it is freed)
    failed++;
  }
  startMilliseconds = <u32>(uptimeMilliseconds() - begin);
  freeFrame(trampolinePhys);
  freeFrame(directoryPhys);
  bootFrames = freeBefore - pmmFreeFrames();
  smpPrintOnline(online, failed);
}

function smpPrintOnline(online: u32, failed: u32): void {
  if (!logBegin(LogLevel.Info, "cpu")) return;
  putDec(online); puts(online == 1 ? " processor online" : " processors online"); puts(": APIC ids");
  for (let i: u32 = 0; i < cpuRecords(); i++) {
    const cpu = cpuAt(i);
    if (cpuState(cpu) != CpuState.Online && i != 0) continue;
    puts(i == 0 ? " " : ", "); putDec(cpuApicId(cpu)); if (i == 0) puts(" (bootstrap)");
  }
  if (failed != 0) {
    puts("; did not start:");
    for (let i: u32 = 1; i < cpuRecords(); i++) if (cpuState(cpuAt(i)) == CpuState.Failed) { puts(" "); putDec(cpuApicId(cpuAt(i))); }
  }
  puts("; started in "); putDec(startMilliseconds); puts(" ms; ");
  if (scheduling) { puts("they schedule threads (smp=on), local APIC timers at "); putDec(timerCount); puts(" counts a tick\n"); }
  else puts("the application processors wait, parked (smp=on schedules on them)\n");
}

/**
 * An application processor's first kernel code (boot/runtime.c: ap_entry_c), on its own stack
 * with the trampoline's directory and GDT, interrupts off: the kernel's directory, its own GDT
 * and TSS (GS on `cpu`), the IDT, its local APIC; then it says it is online and parks. Never
 * returns.
 */
export function apMain(cpu: usize): void {
  const directory = kernelAddressSpace().directoryPhys;
  writeCr3(directory);   // (first: the double-fault TSS takes CR3 from here)
  gdtInit(cpu, <usize>load<u32>(cpu, CPU_STACK_HIGH), <usize>load<u32>(cpu, CPU_DF_STACK_TOP));
  idtLoad();
  store<u32>(cpu, directory, CPU_CR3);
  lapicEnable(false);
  store<u32>(cpu, lapicId(), CPU_APIC_ID_SEEN);
  store<u32>(cpu, <u32>thisCpu(), CPU_SELF_SEEN);
  store<u64>(cpu, rdtsc(), CPU_START_TSC);
  const count = load<u32>(cpu, CPU_TIMER_COUNT);
  if (count != 0) lapicTimerPeriodic(count);
  if (!scheduling) {
    atomicExchange(cpu + CPU_STATE, CpuState.Online);
    for (;;) { cli(); hlt(); }   // (parked: only an NMI, a panic's, wakes it)
  }
  interruptArenaUse(<usize>load<u32>(irqArenas + load<u32>(cpu, CPU_INDEX) * 4));
  atomicExchange(cpu + CPU_STATE, CpuState.Online);
  schedCpuStart();   // (it becomes its idle thread: interrupts on, never returns)
}

/** An application processor's timer: its running thread's slice (a section of the kernel lock). */
function onCpuTimer(frame: InterruptFrame): void {
  klockEnter();
  schedCpuTick();
  klockLeave();
}

/** The reschedule IPI: work was queued here; the IRQ exit hook schedules. Takes no lock. */
function onReschedule(frame: InterruptFrame): void { schedCpu().needResched = 1; }
