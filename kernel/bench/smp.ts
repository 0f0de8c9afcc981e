// SMP benchmarks (docs/smp.md), in a boot of their own: `bench=smp.* smp=on` at -smp 4 under
// -icount (make bench's second boot); with one CPU scheduling they report nothing. Under
// -icount QEMU runs one virtual CPU at a time and rdtsc counts the instructions of all of them,
// so a lap holds whatever ran anywhere while it lasted: the other CPUs wait halted in their idle
// threads, and only what the measured operation makes them do (an IPI's handler) is counted.
//
//   smp.remote_free_pair   kmalloc(64) on CPU 0 and kfree of the same object on CPU 1 (a thread
//                          pinned there): the allocating laps plus the freeing laps, per object,
//                          OBJECTS objects a round
//   smp.local_free_pair    the same rounds with CPU 0 freeing its own objects: the comparison
//   smp.shootdown          kernelUnmap of one fixed-mapping page while every other CPU takes
//                          shootdowns: the unmap, its IPIs, the other CPUs' handlers and the wait
//   smp.shootdown_ipis     IPIs sent per unmap (one per other CPU)
import { registerBench, benchReport, benchFail } from "./bench";
import { Stopwatch, stopwatchStart, stopwatchStop, stamp, lapEnd } from "./stopwatch";
import { kmalloc, kfree } from "../mm/alloc/kmalloc";
import { allocFrame, freeFrame } from "../mm/phys/pmm";
import { kernelMap, kernelUnmap } from "../mm/virt/vmm";
import { PAGE_WRITABLE } from "../mm/virt/paging";
import { fixmapAddress, FixmapSlot } from "../mm/layout";
import { cpusScheduling, cpuIndex } from "../arch/percpu";
import { tlbIpisSent, tlbShootdowns } from "../arch/tlb";
import { threadCreateStopped, threadRelease, threadSetAffinity, threadJoin } from "../sched/scheduler";
import { puts } from "../console/console";

const OBJECTS: u32 = 1000;
const ROUNDS: u32 = 20;
const UNMAPS: u32 = 1000;
const OBJECT: u32 = 64;
const BENCH_PAGE: u32 = fixmapAddress(FixmapSlot.BenchScratch);

const objects = memory.data(OBJECTS * 4, 4);

/** Whether a second CPU schedules; says why not otherwise. */
function severalCpus(name: string): bool {
  if (cpusScheduling() >= 2) return true;
  puts("bench: "); puts(name); puts(" skipped: one CPU schedules (make bench boots -smp 4 smp=on for it)\n");
  return false;
}

/** CPU 0's laps: OBJECTS kmalloc(64)s into `objects`. */
function allocateAll(watch: Stopwatch): bool {
  for (let i: u32 = 0; i < OBJECTS; i++) {
    const t0 = stamp();
    const p = kmalloc(OBJECT);
    lapEnd(watch, t0);
    if (p == 0) return false;
    store<usize>(objects + i * 4, p);
  }
  return true;
}

/** Frees every object in `objects`, timing each free on `watch` (either CPU). */
function freeAll(watch: Stopwatch): void {
  for (let i: u32 = 0; i < OBJECTS; i++) {
    const p = load<usize>(objects + i * 4);
    const t0 = stamp();
    kfree(p);
    lapEnd(watch, t0);
  }
}

let freerWatch: Stopwatch = changetype<Stopwatch>(0);
let freerCpu: u32 = 0;

registerBench("smp.remote_free_pair", () => {
  if (!severalCpus("smp.remote_free_pair")) return;
  // local: the same shape of rounds on CPU 0 alone, first, so both find the caches warm
  const local = stopwatchStart(0);
  for (let r: u32 = 0; r < ROUNDS; r++) {
    if (!allocateAll(local)) { benchFail(); stopwatchStop(); return; }
    freeAll(local);
  }
  const localTotal = local.total;
  const allocating = stopwatchStart(0);
  freerWatch = stopwatchStart(1);
  for (let r: u32 = 0; r < ROUNDS; r++) {
    if (!allocateAll(allocating)) { benchFail(); break; }
    const t = threadCreateStopped("bench-freer", (arg: usize): void => { freerCpu = cpuIndex(); freeAll(freerWatch); }, 0);
    if (t == null) { benchFail(); break; }
    threadSetAffinity(t, 1 << 1);
    threadRelease(t);
    threadJoin(t);
    if (freerCpu != 1) { puts("bench: smp.remote_free_pair: the freer did not run on CPU 1\n"); benchFail(); break; }
  }
  stopwatchStop();
  benchReport("smp.local_free_pair", localTotal, ROUNDS * OBJECTS, "instr/pair");
  benchReport("smp.remote_free_pair", allocating.total + freerWatch.total, ROUNDS * OBJECTS, "instr/pair");
});

registerBench("smp.shootdown", () => {
  if (!severalCpus("smp.shootdown")) return;
  const frame = allocFrame();
  if (frame == 0) { benchFail(); return; }
  const ipis = tlbIpisSent(), shootdowns = tlbShootdowns();
  const watch = stopwatchStart();
  for (let i: u32 = 0; i < UNMAPS; i++) {
    kernelMap(BENCH_PAGE, frame, PAGE_WRITABLE);
    store<u32>(BENCH_PAGE, i);   // (the entry is in this CPU's TLB)
    const t0 = stamp();
    kernelUnmap(BENCH_PAGE);
    lapEnd(watch, t0);
  }
  stopwatchStop();
  freeFrame(frame);
  if (tlbShootdowns() - shootdowns != UNMAPS) { puts("bench: smp.shootdown: an unmap asked no other CPU\n"); benchFail(); return; }
  benchReport("smp.shootdown", watch.total, UNMAPS);
  benchReport("smp.shootdown_ipis", <u64>(tlbIpisSent() - ipis), UNMAPS, "IPIs/op");
});
