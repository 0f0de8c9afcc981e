// The stopwatch every benchmark times with. Under `qemu -icount shift=0` rdtsc counts guest
// instructions exactly, so a lap is the instructions between two reads, less what an empty pair
// of reads costs (the watch's overhead). Laps add up to a total and keep the worst and the best.
// Every IRQ line is masked at the PIC from start to stop, so no timer tick lands inside a lap;
// the CPU's interrupt flag stays as it was, so the code measured runs in the context it would
// run in otherwise (interrupts off would make it atomic context: arch/context.ts).
//
//   const watch = stopwatchStart();
//   for (...) { const t0 = stamp(); operation(); lapEnd(watch, t0); }
//   stopwatchStop();
//   benchReport(name, watch.total, operations, unit);
//
// Consecutive laps share a stamp, and are added up only after the last one, so that no
// bookkeeping falls inside a window:
//   const t0 = stamp(); first(); const t1 = stamp(); second(); const t2 = stamp();
//   lap(watch, t0, t1); lap(watch, t1, t2);
// (a benchmark that keeps two kinds of operation apart starts both watches, 0 and 1). The lap
// functions are inlined, so a measured operation sits between two rdtsc calls with nothing
// else in the window, exactly as if the reads were written out.
import { rdtsc } from "../arch/x86";
import { picMaskAll, picRestoreMasks } from "../arch/pic";

@unmanaged export class Stopwatch {
  overhead: u64;   // subtracted from every lap: an empty rdtsc pair, or a baseline the benchmark sets
  total: u64;      // the sum of the laps
  worst: u64;      // the longest lap
  best: u64;       // the shortest lap
}

const WATCHES: u32 = 2;
let savedMasks: u32 = 0;
let masked = false;
const watches = memory.data(WATCHES * offsetof<Stopwatch>(), 8);

/** The cost of `rdtsc(); rdtsc();` with nothing between (the lowest of 16 tries). */
export function rdtscOverhead(): u64 {
  let best: u64 = <u64>-1;
  for (let i = 0; i < 16; i++) {
    const a = rdtsc();
    const b = rdtsc();
    if (b - a < best) best = b - a;
  }
  return best;
}

/**
 * Masks every IRQ and returns stopwatch `which` (0 or 1) zeroed, its overhead measured.
 * Starting the second watch while the first runs keeps the first's laps. Thread context.
 */
export function stopwatchStart(which: u32 = 0): Stopwatch {
  if (!masked) { savedMasks = picMaskAll(); masked = true; }
  const watch = changetype<Stopwatch>(watches + min<u32>(which, WATCHES - 1) * offsetof<Stopwatch>());
  watch.overhead = rdtscOverhead();
  watch.total = 0;
  watch.worst = 0;
  watch.best = <u64>-1;
  return watch;
}

/** Unmasks the IRQs as they were before the first start (the watches keep their figures). */
export function stopwatchStop(): void {
  if (masked) { picRestoreMasks(savedMasks); masked = false; }
}

/** The instruction count now: a lap's start (or, between two laps, the end of one and the start of the next). */
@inline export function stamp(): u64 { return rdtsc(); }

/** Adds the lap from `start` to `end` (two stamps) to `watch`. */
@inline export function lap(watch: Stopwatch, start: u64, end: u64): void {
  const cost = end - start - watch.overhead;
  watch.total += cost;
  if (cost > watch.worst) watch.worst = cost;
  if (cost < watch.best) watch.best = cost;
}

/** Ends the lap begun at `start` now and adds it to `watch`. */
@inline export function lapEnd(watch: Stopwatch, start: u64): void { lap(watch, start, rdtsc()); }
