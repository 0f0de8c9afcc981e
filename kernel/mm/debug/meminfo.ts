// The memory report: what each part of the memory system holds, and what it could give back now.
// The monitor's `meminfo` prints it; an out-of-memory panic prints it too (registered with
// mm/pressure.ts), in the manner of Linux's show_mem, so the panic says where the memory went.
// It only reads counters and prints: safe inside a panic, with any lock held.
import { puts, putDec, putSize, newline } from "../../console/console";
import {
  pmmTotalFrames, pmmUsableFrames, pmmFreeFrames, pmmFreeLowFrames, pmmReservedFrames,
  pmmWatermarkMin, pmmWatermarkLow, pmmWatermarkHigh, pmmAtomicDips, pmmDirectReclaims, pmmShortFailures,
} from "../phys/pmm";
import { kernelRanges, vmmCommittedPages, vmmParkedPages } from "../virt/vmm";
import { vrangeAreaPages } from "../layout";
import { kernelHeapInstance, kernelSlabRegions, kmallocHeldFrames } from "../alloc/kmalloc";
import { transientArena, interruptArenaOf } from "../alloc/arena";
import { guardStats, guardQuarantined } from "../alloc/guard";
import { reclaimedPages, shrinkersPrint } from "../alloc/shrink";
import { setMemoryReport } from "../pressure";
import { processFirst, processNext, processMemory, processCount, Process } from "../../proc/process";
import { commitTotalPages } from "../../proc/memory";
import { oomKills } from "../../proc/oom";
import { reclaimerRuns, reclaimerPages } from "../../sched/reclaimd";

function kib(frames: u64): void { putDec(frames << 2); puts(" KiB"); }

/** Prints the report, one subsystem per line, the shrinkers last. Any context (reads and prints only). */
export function meminfoPrint(): void {
  const free = <u64>pmmFreeFrames(), freeLow = <u64>pmmFreeLowFrames();
  puts("physical: "); putSize(<u64>pmmTotalFrames() << 12); puts(" managed, "); putSize(<u64>pmmUsableFrames() << 12);
  puts(" usable, "); putSize(<u64>pmmReservedFrames() << 12); puts(" reserved\n");
  puts("free: "); kib(free); puts(" ("); kib(freeLow); puts(" low, "); kib(free - freeLow); puts(" high)\n");
  puts("watermarks (low memory): min "); kib(pmmWatermarkMin()); puts(", low "); kib(pmmWatermarkLow()); puts(", high ");
  kib(pmmWatermarkHigh()); puts("; "); putDec(pmmAtomicDips()); puts(" atomic requests below low, ");
  putDec(pmmDirectReclaims()); puts(" direct reclaims, "); putDec(pmmShortFailures()); puts(" requests refused\n");
  const heap = kernelHeapInstance();
  puts("kernel heap: "); putDec(<u64>heap.liveBytes); puts(" B live in "); putDec(heap.liveBlocks); puts(" blocks, ");
  putDec(<u64>heap.heldBytes >> 10); puts(" KiB held, "); putDec(<u64>heap.cachedBytes); puts(" B in the front cache\n");
  puts("slab regions: "); putDec(<u64>kernelSlabRegions().heldBytes >> 10); puts(" KiB held\n");
  puts("kmalloc: "); kib(kmallocHeldFrames()); puts(" held in all; "); putDec(guardStats().live); puts(" guard objects live, ");
  putDec(guardQuarantined()); puts(" in quarantine\n");
  puts("ranges: "); putDec(vmmCommittedPages()); puts(" pages committed, "); putDec(vmmParkedPages()); puts(" promised frames parked, ");
  putDec(kernelRanges().freePages); puts(" of "); putDec(vrangeAreaPages()); puts(" pages of range space free\n");
  const boot = transientArena(), irq = interruptArenaOf();
  puts("transient arena: "); putDec(<u64>(boot.top - boot.base)); puts(" B in use (peak "); putDec(<u64>(boot.peak - boot.base));
  puts(" B); interrupt arena: "); putDec(<u64>(irq.top - irq.base)); puts(" B (peak "); putDec(<u64>(irq.peak - irq.base)); puts(" B)\n");
  let resident: u64 = 0;
  for (let at = processFirst(); at != 0; at = processNext(changetype<Process>(at))) resident += processMemory(changetype<Process>(at)).resident;
  puts("processes: "); putDec(processCount()); puts(", "); kib(resident); puts(" resident, "); kib(commitTotalPages());
  puts(" committed; "); putDec(oomKills()); puts(" killed for memory\n");
  puts("reclaim: "); putDec(reclaimedPages()); puts(" pages given back so far ("); putDec(reclaimerRuns()); puts(" reclaimer runs, ");
  putDec(reclaimerPages()); puts(" pages); the shrinkers:\n");
  shrinkersPrint();
}

/** Registers the report for out-of-memory panics. Boot, once. */
export function meminfoInit(): void {
  setMemoryReport((): void => {
    puts("memory report (what each part holds, and what it could give back now):\n");
    meminfoPrint();
  });
}
