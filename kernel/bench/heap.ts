// Heap benchmarks (instructions under -icount shift=0), on the allocator of this build
// (bench/allocator.ts: ours in the kernel, AssemblyScript's TLSF in the benchmark variant; the
// records are named heap.* or tlsf.*):
//   <a>.alloc_free_pair          steady state with LIVE blocks of random sizes from 16 B to
//                                64 KiB (log-uniform: every power of two equally likely): free
//                                a random live block, allocate a new one in its place. Mean of
//                                PAIRS pairs after WARMUP unmeasured ones.
//   <a>.op_worst                 the most expensive single alloc or free among them
//   <a>.alloc_free_pair_uniform  the same with sizes uniform in 16 B .. 64 KiB (extra)
//   <a>.op_worst_uniform
//   heap.span_take               (ours only) an allocation that must take a new span from the
//                                kernel's page provider: the slowest path of a span block
//   heap.span_return             the free that gives that span back (no reserve): the slowest
//                                free. Mean of SPAN_CYCLES, each on an otherwise empty heap.
// Every operation is timed on its own by the stopwatch; the random sizes and slots are drawn
// before the measured phase.
import { registerBench, benchReport, benchReportValue } from "./bench";
import { stopwatchStart, stopwatchStop, stamp, lap } from "./stopwatch";
import {
  MEASURING_TLSF, allocatorBegin, allocatorEnd, allocatorAlloc, allocatorFree,
} from "./allocator";
import { kmalloc, kfree, kernelPageProvider } from "../mm/alloc/kmalloc";
import { HEAP_BYTES, heapCreate, heapAlloc, heapFree, heapCheck } from "../mm/core/heap/heap";
import { Random, randomSeed, randomBelow } from "../lib/random";
import { panic } from "../diag/panic";

const LIVE: u32 = 1000;
const WARMUP: u32 = 20000;
const PAIRS: u32 = 20000;
const MIN_SIZE: u32 = 16;
const MAX_SIZE: u32 = 64 << 10;
const SEED: u64 = 0x4845415042454E43;   // "HEAPBENC"
const rng = changetype<Random>(memory.data(8, 8));

/** A random size from MIN_SIZE to MAX_SIZE: log-uniform (an octave, then a size in it) or uniform. */
function randomSize(uniform: bool): u32 {
  if (uniform) return MIN_SIZE + randomBelow(rng, MAX_SIZE - MIN_SIZE + 1);
  const octave = 4 + randomBelow(rng, 12);                   // 2^4 .. 2^15
  return min<u32>((1 << octave) + randomBelow(rng, (1 << octave) + 1), MAX_SIZE);
}

/** Runs the steady-state workload; reports the mean pair and the worst single operation. */
function steadyState(uniform: bool, pairName: string, worstName: string): void {
  randomSeed(rng, SEED + (uniform ? 1 : 0));
  const slots = kmalloc(LIVE * 4);
  const plan = kmalloc(PAIRS * 8);   // per measured pair: { slot, size }
  if (slots == 0 || plan == 0 || !allocatorBegin()) panic("bench heap: no memory for the tables");
  for (let i: u32 = 0; i < LIVE; i++) {
    const block = allocatorAlloc(randomSize(uniform), 0);
    if (block == 0) panic("bench heap: out of memory filling");
    store<usize>(slots + i * 4, block);
  }
  for (let n: u32 = 0; n < WARMUP; n++) {
    const at = slots + randomBelow(rng, LIVE) * 4;
    allocatorFree(load<usize>(at));
    const block = allocatorAlloc(randomSize(uniform), 0);
    if (block == 0) panic("bench heap: out of memory in the warm-up");
    store<usize>(at, block);
  }
  for (let n: u32 = 0; n < PAIRS; n++) {
    store<u32>(plan + n * 8, randomBelow(rng, LIVE));
    store<u32>(plan + n * 8, randomSize(uniform), 4);
  }
  const watch = stopwatchStart();
  for (let n: u32 = 0; n < PAIRS; n++) {
    const at = slots + load<u32>(plan + n * 8) * 4;
    const size = load<u32>(plan + n * 8, 4);
    const old = load<usize>(at);
    const t0 = stamp();
    allocatorFree(old);
    const t1 = stamp();
    const block = allocatorAlloc(size, 0);
    const t2 = stamp();
    lap(watch, t0, t1);
    lap(watch, t1, t2);
    if (block == 0) panic("bench heap: out of memory while measuring");
    store<usize>(at, block);
  }
  stopwatchStop();
  benchReport(pairName, watch.total, PAIRS, "instr/pair");
  benchReportValue(worstName, watch.worst, "instr");
  for (let i: u32 = 0; i < LIVE; i++) allocatorFree(load<usize>(slots + i * 4));
  if (allocatorEnd() != 0) panic("bench heap: the heap checker failed after the workload");
  kfree(plan);
  kfree(slots);
}

registerBench("heap.steady", () => {
  if (MEASURING_TLSF) steadyState(false, "tlsf.alloc_free_pair", "tlsf.op_worst");
  else steadyState(false, "heap.alloc_free_pair", "heap.op_worst");
});

const SPAN_CYCLES: u32 = 200;
const SPAN_REQUEST: u32 = 60000;   // a span block the front cache's slack cannot hold

registerBench("heap.span", () => {
  if (MEASURING_TLSF) return;
  const control = kmalloc(HEAP_BYTES);
  if (control == 0) panic("bench heap.span: no memory for the control block");
  const heap = heapCreate(control, kernelPageProvider(), 0, true);
  const take = stopwatchStart(0), give = stopwatchStart(1);
  for (let n: u32 = 0; n < SPAN_CYCLES; n++) {
    const t0 = stamp();
    const block = heapAlloc(heap, SPAN_REQUEST, 0);
    const t1 = stamp();
    if (block == 0) panic("bench heap.span: out of memory");
    heapFree(heap, block);
    const t2 = stamp();
    lap(take, t0, t1);
    lap(give, t1, t2);
  }
  stopwatchStop();
  if (heap.heldBytes != 0 || heapCheck(heap) != 0) panic("bench heap.span: the span was not given back");
  kfree(control);
  benchReport("heap.span_take", take.total, SPAN_CYCLES, "instr");
  benchReport("heap.span_return", give.total, SPAN_CYCLES, "instr");
});

registerBench("heap.steady_uniform", () => {
  if (MEASURING_TLSF) steadyState(true, "tlsf.alloc_free_pair_uniform", "tlsf.op_worst_uniform");
  else steadyState(true, "heap.alloc_free_pair_uniform", "heap.op_worst_uniform");
});
