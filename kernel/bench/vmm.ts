// VMM benchmarks (instructions under -icount shift=0).
//   vmm.map_unmap_pair     kernelMap + kernelUnmap of one 4 KiB page whose page table exists
//                          (unmap includes its invlpg), mean of 10,000 pairs
//   vmm.fault_lazy_zeroing one lazy-commit fault (fault-around 0), from the faulting write to the
//                          instruction after it, zeroing included: mean of FAULTS first touches
//   vmm.fault_lazy_faN     the same with fault-around N (0, 4, 16: N + 1 pages per fault),
//                          the zeroing of those pages excluded (vmm.page_zeroing each)
//   vmm.page_zeroing       zeroing one page (the memset the handler calls)
//   vmm.range_pair_1000    reserveRange + releaseRange with 1,000 ranges live: each pair
//                          reserves a range of 1..16 pages and releases a random live one
//   vmalloc.pair_64k       vmalloc + a write to each page + vfree of 64 KiB, and the share of it
//                          spent zeroing (vmalloc.zeroing_share)
//   reclaim.cost_per_page  one reclaim's instructions per page it gave back (a cache's empty slabs)
import { registerBench, benchReport, benchReportValue } from "./bench";
import { stopwatchStart, stopwatchStop, stamp, lapEnd } from "./stopwatch";
import { allocFrame, freeFrame, pmmFreeFrames } from "../mm/phys/pmm";
import { kernelMap, kernelUnmap, reserveRange, releaseRange, rangeFaultAround, RANGE_WRITABLE } from "../mm/virt/vmm";
import { PAGE_WRITABLE } from "../mm/virt/paging";
import { fixmapAddress, FixmapSlot } from "../mm/layout";
import { Random, randomSeed, randomBelow } from "../lib/random";
import { panic } from "../diag/panic";
import { vmalloc, vfree } from "../mm/alloc/vmalloc";
import { kmemCacheCreate, kmemCacheAlloc, kmemCacheFree, kmemCacheDestroy } from "../mm/alloc/caches";
import { reclaim } from "../mm/alloc/shrink";

const PAIRS: u32 = 10000;
const BENCH_PAGE: u32 = fixmapAddress(FixmapSlot.BenchScratch);
const PAGE: u32 = 4096;
const FAULTS: u32 = 256;
const LIVE_RANGES: u32 = 1000;
const rng = changetype<Random>(memory.data(8, 8));

registerBench("vmm.map_unmap_pair", () => {
  const frame = allocFrame();
  if (frame == 0) panic("bench vmm.map_unmap_pair: no frame");
  const watch = stopwatchStart();
  const start = stamp();
  for (let i: u32 = 0; i < PAIRS; i++) {
    kernelMap(BENCH_PAGE, frame, PAGE_WRITABLE);
    kernelUnmap(BENCH_PAGE);
  }
  lapEnd(watch, start);
  stopwatchStop();
  freeFrame(frame);
  benchReport("vmm.map_unmap_pair", watch.total, PAIRS);
});

/**
 * Mean instructions from just before a first-touch write to just after it, for FAULTS faults
 * `stride` pages apart in a range with fault-around `around`, less the same write on a mapped
 * page (so what remains is the exception: entry, handler, iret). With little RAM (16 MiB) as
 * many faults as half the free frames allow.
 */
function meanFault(around: u32, stride: u32): u64 {
  const faults = min<u32>(FAULTS, (pmmFreeFrames() / 2) / stride);
  if (faults < 16) panic("bench vmm.fault: too few free frames");
  const range = reserveRange(faults * stride * PAGE, RANGE_WRITABLE | rangeFaultAround(around), "bench.fault");
  if (range == 0) panic("bench vmm.fault: no range");
  const baseline = stopwatchStart(1), watch = stopwatchStart(0);
  store<u32>(range, 1);                        // the first fault, outside the timing
  baseline.overhead = 0;
  for (let i = 0; i < 16; i++) {
    const t0 = stamp();
    store<u32>(range + 8, 1);
    lapEnd(baseline, t0);
  }
  watch.overhead = baseline.best;
  for (let n: u32 = 1; n < faults; n++) {
    const at = range + n * stride * PAGE;
    const t0 = stamp();
    store<u32>(at, n);
    lapEnd(watch, t0);
  }
  stopwatchStop();
  if (releaseRange(range) != 0) panic("bench vmm.fault: release failed");
  return watch.total / (faults - 1);
}

registerBench("vmm.fault_lazy", () => {
  // Zeroing one page, as the handler does it (memory.fill -> memset on a mapped page).
  const range = reserveRange(PAGE, RANGE_WRITABLE, "bench.zero");
  store<u32>(range, 1);
  const watch = stopwatchStart();
  for (let i = 0; i < 16; i++) {
    const t0 = stamp();
    memory.fill(range, 0, PAGE);
    lapEnd(watch, t0);
  }
  stopwatchStop();
  const zeroing = watch.best;
  releaseRange(range);
  const fa0 = meanFault(0, 1), fa4 = meanFault(4, 5), fa16 = meanFault(16, 17);
  benchReportValue("vmm.page_zeroing", zeroing, "instr");
  benchReportValue("vmm.fault_lazy_zeroing", fa0, "instr");
  benchReportValue("vmm.fault_lazy_fa0", fa0 - zeroing, "instr");
  benchReportValue("vmm.fault_lazy_fa4", fa4 - 5 * zeroing, "instr");
  benchReportValue("vmm.fault_lazy_fa16", fa16 - 17 * zeroing, "instr");
  benchReportValue("vmm.fault_lazy_fa4_per_page", (fa4 - 5 * zeroing) / 5, "instr");
  benchReportValue("vmm.fault_lazy_fa16_per_page", (fa16 - 17 * zeroing) / 17, "instr");
});

registerBench("vmm.range_pair_1000", () => {
  randomSeed(rng, 0x243F6A8885A308D3);
  const live = memory.data(1000 * 4, 4);
  for (let i: u32 = 0; i < LIVE_RANGES; i++) {
    const range = reserveRange((1 + randomBelow(rng, 16)) * PAGE, RANGE_WRITABLE, "bench.live");
    if (range == 0) panic("bench vmm.range_pair_1000: setup failed");
    store<u32>(live + i * 4, range);
  }
  const watch = stopwatchStart();
  for (let n: u32 = 0; n < PAIRS; n++) {
    const pages = 1 + randomBelow(rng, 16), slot = live + randomBelow(rng, LIVE_RANGES) * 4;
    const victim = load<u32>(slot);
    const t0 = stamp();
    const range = reserveRange(pages * PAGE, RANGE_WRITABLE, "bench.live");
    const error = releaseRange(victim);
    lapEnd(watch, t0);
    if (range == 0 || error != 0) panic("bench vmm.range_pair_1000: reserve or release failed");
    store<u32>(slot, range);
  }
  stopwatchStop();
  for (let i: u32 = 0; i < LIVE_RANGES; i++) releaseRange(load<u32>(live + i * 4));
  benchReport("vmm.range_pair_1000", watch.total, PAIRS, "instr/pair");
  benchReportValue("vmm.range_pair_1000_worst", watch.worst, "instr");
});

// vmalloc.pair_64k: vmalloc(64 KiB), a write to each of its 16 pages, vfree; mean of 200 pairs.
// vmalloc.zeroing_share: the part of it spent zeroing the 16 pages (16 x vmm.page_zeroing's
// memset, measured here the same way) over the whole pair.
const VMALLOC_PAIRS: u32 = 200;
registerBench("vmalloc.pair_64k", () => {
  const watch = stopwatchStart();
  for (let i: u32 = 0; i < VMALLOC_PAIRS; i++) {
    const t0 = stamp();
    const block = vmalloc(64 << 10);
    if (block == 0) panic("bench vmalloc.pair_64k: vmalloc failed");
    for (let p: u32 = 0; p < 16; p++) store<u32>(block + (p << 12), p);
    vfree(block);
    lapEnd(watch, t0);
  }
  // one page's zeroing, as the commit does it, on a page of a range of our own
  const range = reserveRange(PAGE, RANGE_WRITABLE, "bench zeroing");
  store<u32>(range, 1);
  const zero = stopwatchStart(1);
  for (let i = 0; i < 16; i++) { const t0 = stamp(); memory.fill(range, 0, PAGE); lapEnd(zero, t0); }
  stopwatchStop();
  releaseRange(range);
  const pair = watch.total / VMALLOC_PAIRS;
  benchReportValue("vmalloc.pair_64k", pair, "instr");
  benchReport("vmalloc.zeroing_share", zero.best * 16, pair, "ratio");
});

// reclaim.cost_per_page: an object cache's 20,000 objects allocated and all freed (their slabs
// kept empty), then one reclaim: its instructions over the pages the PMM got back.
registerBench("reclaim.cost_per_page", () => {
  const made = kmemCacheCreate("bench reclaim", 64, 0, 0);
  const list = vmalloc(20000 * 4);
  if (made == null || list == 0) panic("bench reclaim: no cache or list");
  const cache = made!;
  for (let i: u32 = 0; i < 20000; i++) store<usize>(list + (i << 2), kmemCacheAlloc(cache));
  for (let i: u32 = 0; i < 20000; i++) kmemCacheFree(cache, load<usize>(list + (i << 2)));
  const watch = stopwatchStart();
  const t0 = stamp();
  const pages = reclaim(0xFFFFFFFF);
  lapEnd(watch, t0);
  stopwatchStop();
  kmemCacheDestroy(cache);
  vfree(list);
  if (pages == 0) panic("bench reclaim: nothing given back");
  benchReport("reclaim.cost_per_page", watch.total, pages, "instr/page");
});
