// Self-tests of the CPUs' bring-up and per-CPU data (kernel/smp/, kernel/arch/percpu.ts) and of
// the atomic operations (kernel/arch/x86.ts). The bring-up tests skip on one processor; the
// QEMU tests boot -smp 2 and 4 (test/smp/smp.qemu.test.ts).
import { registerTest, check, checkEqual, skipTest } from "./harness";
import { thisCpu, atomicExchange, atomicFetchAdd, compareExchange, memoryFence, atomicBitSet, atomicBitClear, cpuPlus, softInterruptBench } from "../arch/x86";
import {
  CpuState, CPU_GDT, CPU_GDT_POINTER, CPU_TSS, CPU_DF_TSS, CPU_APIC_ID_SEEN, CPU_SELF_SEEN, CPU_START_TSC, CPU_STACK_LOW,
  CPU_STACK_HIGH, CPU_RECORD_BYTES, CPU_INDEX, MAX_CPUS, bootCpu, cpuRecords, cpusScheduling, cpuAt, cpuState, cpuApicId, cpuIndex, cpuIndexOf,
} from "../arch/percpu";
import { lapicReady, lapicId } from "../arch/apic";
import { cpusListed } from "../boot/cpus";
import { STACK_BYTES, threadCreateStopped, threadRelease, threadSetAffinity, threadJoin, threadYield, currentThread } from "../sched/scheduler";
import { Thread } from "../sched/thread";
import { setInterruptHandler, emptyHandler, VECTOR_BENCH } from "../arch/idt";
import { InterruptFrame } from "../arch/frame";
import { arenaAlloc, arenaMark, arenaRelease, currentArena } from "../mm/alloc/arena";

/** The base of the descriptor at `index` of the GDT at `gdt`. */
function descriptorBase(gdt: usize, index: u32): u32 {
  const d = gdt + index * 8;
  return <u32>load<u16>(d, 2) | (<u32>load<u8>(d, 4) << 16) | (<u32>load<u8>(d, 7) << 24);
}

registerTest("smp.this_cpu", () => {
  // the tests run on the bootstrap processor (threads are not scheduled elsewhere yet)
  checkEqual(thisCpu(), bootCpu, "GS's record is the bootstrap processor's");
  checkEqual(cpuIndex(), 0, "its index is 0");
  checkEqual(descriptorBase(bootCpu + CPU_GDT, 7), <u32>bootCpu, "the per-CPU descriptor's base is the record");
  checkEqual(descriptorBase(bootCpu + CPU_GDT, 3), <u32>(bootCpu + CPU_TSS), "the main TSS descriptor points into the record");
  checkEqual(descriptorBase(bootCpu + CPU_GDT, 4), <u32>(bootCpu + CPU_DF_TSS), "the double-fault TSS descriptor too");
  if (lapicReady()) checkEqual(lapicId(), cpuApicId(bootCpu), "the local APIC's id is the one recorded");
});

registerTest("smp.cpus_online", () => {
  if (cpusListed() < 2) { skipTest("one processor (boot QEMU with -smp 2 or more)"); return; }
  checkEqual(cpuRecords(), cpusListed(), "a record for every processor the MADT lists");
  for (let i: u32 = 0; i < cpuRecords(); i++) {
    const cpu = cpuAt(i);
    checkEqual(cpuIndexOf(cpu), i, "the record's index is its place in the table");
    checkEqual(cpuState(cpu), CpuState.Online, "the processor is online");
    checkEqual(load<u32>(cpu, CPU_APIC_ID_SEEN), cpuApicId(cpu), "its local APIC gave the id the MADT lists");
    checkEqual(load<u32>(cpu, CPU_SELF_SEEN), <u32>cpu, "on it, thisCpu() (through GS) was its own record");
    checkEqual(load<u32>(cpu, CPU_GDT_POINTER + 2), <u32>(cpu + CPU_GDT), "its GDT is its own");
    checkEqual(descriptorBase(cpu + CPU_GDT, 7), <u32>cpu, "and its per-CPU descriptor's base its record");
    for (let j: u32 = 0; j < i; j++) {
      const other = cpuAt(j);
      check(cpuApicId(other) != cpuApicId(cpu), "APIC ids differ");
      check(cpu + CPU_RECORD_BYTES <= other || cpu >= other + CPU_RECORD_BYTES, "records do not overlap");
    }
    if (i == 0) continue;
    check(load<u64>(cpu, CPU_START_TSC) != 0, "it reached its kernel code");
    checkEqual(load<u32>(cpu, CPU_STACK_HIGH) - load<u32>(cpu, CPU_STACK_LOW), STACK_BYTES, "it has a stack of its own");
  }
});

registerTest("atomics.operations", () => {
  const cell = memory.data(8, 4);
  store<u32>(cell, 5);
  checkEqual(atomicExchange(cell, 9), 5, "xchg returns the old value");
  checkEqual(load<u32>(cell), 9, "and leaves the new one");
  checkEqual(atomicFetchAdd(cell, 3), 9, "lock xadd returns the old value");
  checkEqual(load<u32>(cell), 12, "and adds");
  checkEqual(atomicFetchAdd(cell, <u32>-13), 12, "a negative delta");
  checkEqual(load<u32>(cell), 0xFFFFFFFF, "wraps");
  checkEqual(compareExchange(cell, 1, 2), 0xFFFFFFFF, "cmpxchg with a wrong expected value returns the word");
  checkEqual(load<u32>(cell), 0xFFFFFFFF, "and leaves it");
  checkEqual(compareExchange(cell, 0xFFFFFFFF, 7), 0xFFFFFFFF, "cmpxchg with the right one");
  checkEqual(load<u32>(cell), 7, "stores");
  store<u32>(cell + 4, 0x1234);
  memoryFence();
  checkEqual(load<u32>(cell + 4), 0x1234, "a fence keeps memory as it is");
  // bit strings: bit 37 is bit 5 of the second word
  store<u32>(cell, 0); store<u32>(cell + 4, 0);
  checkEqual(atomicBitSet(cell, 37), 0, "lock bts returns the bit as it was");
  checkEqual(load<u32>(cell + 4), 1 << 5, "and sets it, past the first word");
  checkEqual(atomicBitSet(cell, 37), 1, "a set bit answers 1 and stays");
  checkEqual(atomicBitClear(cell, 37), 1, "lock btr returns the bit as it was");
  checkEqual(atomicBitClear(cell, 37), 0, "and clears it");
  checkEqual(load<u32>(cell) | load<u32>(cell + 4), 0, "no other bit touched");
  checkEqual(cpuPlus(5, CPU_INDEX), 5 + cpuIndex(), "addl %gs: adds a word of this CPU's record");
});

// With smp=on every CPU schedules: a thread pinned to each runs there, and threads left free
// spread over them (each notes the CPU it ran on; the run queues move them).
const ranOn = memory.data(MAX_CPUS * 4, 4);
registerTest("smp.threads_on_every_cpu", () => {
  if (cpusScheduling() < 2) { skipTest("the other processors do not schedule (boot with -smp 2 or more and smp=on)"); return; }
  const n = cpuRecords();
  memory.fill(ranOn, 0, MAX_CPUS * 4);
  const threads = memory.data(MAX_CPUS * 4, 4);
  for (let i: u32 = 0; i < n; i++) {
    const t = threadCreateStopped("pinned", (arg: usize): void => {
      for (let k = 0; k < 3; k++) { store<u32>(ranOn + (<u32>arg) * 4, cpuIndex() + 1); threadYield(); }
    }, i);
    if (!check(t != null, "a thread could be created")) return;
    check(threadSetAffinity(t!, 1 << i), "it could be pinned to its CPU");
    threadRelease(t!);
    store<u32>(threads + i * 4, <u32>changetype<usize>(t));
  }
  for (let i: u32 = 0; i < n; i++) threadJoin(changetype<Thread>(<usize>load<u32>(threads + i * 4)));
  for (let i: u32 = 0; i < n; i++) checkEqual(load<u32>(ranOn + i * 4), i + 1, "the thread pinned to CPU i ran there");
  check(!threadSetAffinity(currentThread(), 1 << (n + 1)), "pinning to a CPU that does not exist is refused");
});

// The transient arenas on every CPU (docs/smp.md, "Per-CPU transient arenas"): a thread pinned
// to each CPU allocates from its own thread arena and, through a software interrupt, from its
// CPU's interrupt arena, all at once. Each CPU's interrupt arena is its own, no two threads
// share an arena, and what each wrote is intact.
const ARENA_BLOCKS: u32 = 64;
const threadArenaOn = memory.data(MAX_CPUS * 4, 4);      // the arena each pinned thread allocated from
const interruptArenaOn = memory.data(MAX_CPUS * 4, 4);   // the arena the handler allocated from, per CPU
const arenaIntact = memory.data(MAX_CPUS * 4, 4);
function arenaInHandler(frame: InterruptFrame): void {
  const p = arenaAlloc(16, 8);
  if (p != 0) store<u32>(interruptArenaOn + cpuIndex() * 4, <u32>changetype<usize>(currentArena()));
}
registerTest("smp.arenas_per_cpu", () => {
  if (cpusScheduling() < 2) { skipTest("the other processors do not schedule (boot with -smp 2 or more and smp=on)"); return; }
  const n = cpuRecords();
  memory.fill(threadArenaOn, 0, MAX_CPUS * 4); memory.fill(interruptArenaOn, 0, MAX_CPUS * 4); memory.fill(arenaIntact, 0, MAX_CPUS * 4);
  setInterruptHandler(VECTOR_BENCH, arenaInHandler);
  const threads = memory.data(MAX_CPUS * 4, 4);
  for (let i: u32 = 0; i < n; i++) {
    const t = threadCreateStopped("arena", (arg: usize): void => {
      const cpu = <u32>arg;
      const mark = arenaMark();
      const first = arenaAlloc(16, 8);
      store<u32>(threadArenaOn + cpu * 4, <u32>changetype<usize>(currentArena()));
      let intact = first != 0;
      for (let k: u32 = 0; k < ARENA_BLOCKS && intact; k++) {
        const p = arenaAlloc(16, 8);
        if (p == 0) { intact = false; break; }
        store<u32>(p, cpu * 1000 + k);
        softInterruptBench();   // (the handler allocates from this CPU's interrupt arena)
        threadYield();
        intact = load<u32>(p) == cpu * 1000 + k;
      }
      arenaRelease(mark);
      store<u32>(arenaIntact + cpu * 4, intact ? 1 : 0);
    }, i);
    if (!check(t != null, "a thread could be created")) return;
    threadSetAffinity(t!, 1 << i);
    store<u32>(threads + i * 4, <u32>changetype<usize>(t));
  }
  for (let i: u32 = 0; i < n; i++) threadRelease(changetype<Thread>(<usize>load<u32>(threads + i * 4)));
  for (let i: u32 = 0; i < n; i++) threadJoin(changetype<Thread>(<usize>load<u32>(threads + i * 4)));
  setInterruptHandler(VECTOR_BENCH, emptyHandler);
  for (let i: u32 = 0; i < n; i++) {
    checkEqual(load<u32>(arenaIntact + i * 4), 1, "each thread's blocks stayed as it wrote them");
    const mine = load<u32>(threadArenaOn + i * 4), irq = load<u32>(interruptArenaOn + i * 4);
    check(mine != 0 && irq != 0, "each allocated in thread and in interrupt context");
    check(mine != irq, "a thread's arena is not its CPU's interrupt arena");
    for (let j: u32 = 0; j < i; j++) {
      check(load<u32>(threadArenaOn + j * 4) != mine, "no two threads share an arena");
      check(load<u32>(interruptArenaOn + j * 4) != irq, "no two CPUs share an interrupt arena");
    }
  }
});
