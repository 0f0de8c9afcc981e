// PMM benchmarks (instructions under -icount shift=0; `make bench` boots with 3584 MiB).
//
// The state they measure: half of all free frames allocated "in random order", that is by a
// random mix of allocFrame, allocLowFrame and frees of randomly chosen held frames, until
// half the frames are held. Both zones then have holes scattered through their used part.
//
//   pmm.alloc_free_pair    free a random held frame, then allocFrame: mean per pair
//   pmm.alloc_worst        the most expensive single allocFrame/allocLowFrame seen, setup included
//   pmm.alloc_contig16     allocFrames(16, 16, anywhere): the worst of 64 calls
//   pmm.alloc_contig16_isa allocFrames(16, 16, below 16 MiB): the worst of 8 calls
//   pmm.init_<N>m          pmmInit at boot, for N MiB of RAM
//
// Every call is timed on its own by the stopwatch (interrupts off throughout, so that a timer
// tick landing inside a call does not count as its cost).
import { registerBench, benchReport, benchReportValue, benchReportValueNumbered } from "./bench";
import { stopwatchStart, stopwatchStop, stamp, lap, lapEnd } from "./stopwatch";
import { puts, putDec } from "../console/console";
import {
  allocFrame, allocLowFrame, freeFrame, allocFrames, freeFrames, pmmFreeFrames, pmmInitInstructions,
  pmmUsableFrames, pmmCheck, pmmMemoryMap,
} from "../mm/phys/pmm";
import { ISA_DMA_LIMIT, PHYS_LIMIT, FrameError } from "../mm/core/frames";
import { lowMemoryEnd, linearVirt } from "../mm/layout";
import { entryLength, entryNext, entryIsRam } from "../mm/core/memory-map";
import { Random, randomSeed, randomBelow } from "../lib/random";
import { panic } from "../diag/panic";
import { memallocBegin, memallocEnd } from "../mm/pressure";

const rng = changetype<Random>(memory.data(8, 8));
const PAIRS: u32 = 100000;
const CONTIG_CALLS: u32 = 64;
const CONTIG_ISA_CALLS: u32 = 8;

/** RAM the map offers, in MiB, rounded up (what `-m` was, give or take BIOS holes). */
function ramMiB(): u64 {
  const map = pmmMemoryMap();
  let bytes: u64 = 0;
  for (let e = map.addr; e < map.addr + map.bytes; e = entryNext(e)) {
    if (entryIsRam(e)) bytes += entryLength(e);
  }
  return (bytes + (1 << 20) - 1) >> 20;
}

registerBench("pmm.init", () => {
  benchReportValueNumbered("pmm.init_", ramMiB(), "m", pmmInitInstructions(), "instr");
});

registerBench("pmm.alloc", () => {
  // (the bitmap allocator's own figures: a run that fails here must not reclaim, which would
  // change the free count the end compares; the fast paths never look at the watermarks)
  const memalloc = memallocBegin();
  const allocs = stopwatchStart(0), frees = stopwatchStart(1);
  randomSeed(rng, 0x9E3779B97F4A7C15);
  const startFree = pmmFreeFrames();
  const target = startFree / 2;
  const heldFrames = (target * 4 + 4095) >> 12;
  const heldPhys = allocFrames(heldFrames, 1, lowMemoryEnd());
  if (heldPhys == 0) panic("bench pmm.alloc: no room for the list of held frames");
  const held = linearVirt(heldPhys);
  let count: u32 = 0;

  // Setup: a random mix until half of all free frames are held.
  while (count < target) {
    const r = randomBelow(rng, 3);
    if (r == 0 && count > 0) {
      const i = randomBelow(rng, count);
      freeFrame(load<u32>(held + (i << 2)));
      count--;
      store<u32>(held + (i << 2), load<u32>(held + (count << 2)));
      continue;
    }
    const t0 = stamp();
    let phys = r == 1 ? allocLowFrame() : allocFrame();
    lapEnd(allocs, t0);
    if (phys == 0) phys = allocFrame();
    if (phys == 0) panic("bench pmm.alloc: out of memory during setup");
    store<u32>(held + (count << 2), phys);
    count++;
  }

  // Pairs, as the issue states them: allocFrame, then freeFrame of that frame.
  allocs.total = 0;
  for (let n: u32 = 0; n < PAIRS; n++) {
    const t0 = stamp();
    const phys = allocFrame();
    const t1 = stamp();
    freeFrame(phys);
    const t2 = stamp();
    lap(allocs, t0, t1);
    lap(frees, t1, t2);
  }
  benchReport("pmm.alloc_free_pair", allocs.total + frees.total, PAIRS);

  // Churn: free a random held frame, then allocFrame one in its place (harder: the freed
  // frame's word was usually full, so both calls update the summary trees).
  allocs.total = 0;
  frees.total = 0;
  for (let n: u32 = 0; n < PAIRS; n++) {
    const at = held + (randomBelow(rng, count) << 2);
    const victim = load<u32>(at);
    const t0 = stamp();
    freeFrame(victim);
    const t1 = stamp();
    const phys = allocFrame();
    const t2 = stamp();
    lap(frees, t0, t1);
    lap(allocs, t1, t2);
    store<u32>(at, phys);
  }
  benchReport("pmm.free_alloc_churn", allocs.total + frees.total, PAIRS);
  benchReportValue("pmm.alloc_worst", allocs.worst, "instr");

  // Contiguous runs in the same state.
  const runs = memory.data(CONTIG_CALLS * 4, 4);
  let contig = stopwatchStart(1), got: u32 = 0;
  for (let i: u32 = 0; i < CONTIG_CALLS; i++) {
    const t0 = stamp();
    const phys = allocFrames(16, 16, PHYS_LIMIT);
    lapEnd(contig, t0);
    store<u32>(runs + (i << 2), phys);
    if (phys != 0) got++;
  }
  benchReportValue("pmm.alloc_contig16", contig.worst, "instr");
  puts("# pmm.alloc_contig16: "); putDec(got); puts(" of "); putDec(CONTIG_CALLS); puts(" calls succeeded, mean ");
  putDec(contig.total / CONTIG_CALLS); puts(" instr\n");
  for (let i: u32 = 0; i < CONTIG_CALLS; i++) {
    const phys = load<u32>(runs + (i << 2));
    if (phys != 0) freeFrames(phys, 16);
  }
  contig = stopwatchStart(1);
  got = 0;
  for (let i: u32 = 0; i < CONTIG_ISA_CALLS; i++) {
    const t0 = stamp();
    const phys = allocFrames(16, 16, ISA_DMA_LIMIT);
    lapEnd(contig, t0);
    store<u32>(runs + (i << 2), phys);
    if (phys != 0) got++;
  }
  benchReportValue("pmm.alloc_contig16_isa", contig.worst, "instr");
  puts("# pmm.alloc_contig16_isa: "); putDec(got); puts(" of "); putDec(CONTIG_ISA_CALLS); puts(" calls succeeded\n");
  for (let i: u32 = 0; i < CONTIG_ISA_CALLS; i++) {
    const phys = load<u32>(runs + (i << 2));
    if (phys != 0) freeFrames(phys, 16);
  }

  // Give everything back and check nothing leaked.
  for (let i: u32 = 0; i < count; i++) {
    if (freeFrame(load<u32>(held + (i << 2))) != FrameError.Ok) panic("bench pmm.alloc: a held frame would not free");
  }
  freeFrames(heldPhys, heldFrames);
  if (pmmFreeFrames() != startFree || pmmCheck() != 0) panic("bench pmm.alloc: the PMM did not return to its starting state");
  memallocEnd(memalloc);
  stopwatchStop();
  puts("# pmm.alloc: "); putDec(target); puts(" of "); putDec(pmmUsableFrames()); puts(" usable frames held during the measurements\n");
});
