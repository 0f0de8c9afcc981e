// Guard-page debug allocator benchmarks (instructions under -icount shift=0), each pair timed on
// its own by the stopwatch, with LIVE objects of 64 bytes held throughout:
//   kfence.kmalloc64_pair_unsampled  kfree(kmallocUnsampled(64)): kmalloc without the countdown
//   kfence.kmalloc64_pair_off        kfree(kmalloc(64)), sampling off
//   kfence.kmalloc64_pair_between    the same with sampling on (one in 2^30: never reached)
//   kfence.fastpath_cost             what the countdown costs the fast path (target <= 3): in
//                                    one loop, each iteration times kfree(kmallocUnsampled(64))
//                                    and then kfree(kmalloc(64)) (sampling on, no sample due),
//                                    the second less the first, per pair. Both pairs are
//                                    compiled into the same loop body with the same values
//                                    live, so they differ by the countdown alone (dec + je) and
//                                    the figure cannot go below zero; if it ever does, the
//                                    benchmark fails rather than report it.
//   kfence100.kmalloc64_pair         kfree(kmalloc(64)) with kfence=100, samples included
//   guard.alloc_free_pair            guardAlloc(64, 16) + guardFree: a range, a page fault to
//                                    map its page, the pattern, retiring it into the quarantine
//                                    and releasing the oldest there
// The pair loops are written out, not shared through function references: an indirect call
// costs more than the path being measured.
import { registerBench, benchReport, benchFail } from "./bench";
import { stopwatchStart, stopwatchStop, stamp, lap, lapEnd } from "./stopwatch";
import { puts, putDec } from "../console/console";
import { kmalloc, kmallocUnsampled, kfree, kmallocSampling, kmallocSetSampling } from "../mm/alloc/kmalloc";
import { guardAlloc, guardFree, guardDrainQuarantine } from "../mm/alloc/guard";
import { MEASURING_TLSF } from "./allocator";
import { panic } from "../diag/panic";

const LIVE: u32 = 1000;
const PAIRS: u32 = 20000;
const GUARD_PAIRS: u32 = 2000;
const OBJECT: u32 = 64;
const held = memory.data(LIVE * 4, 4);

function holdLive(): void { for (let i: u32 = 0; i < LIVE; i++) store<usize>(held + i * 4, kmallocUnsampled(OBJECT)); }
function freeLive(): void { for (let i: u32 = 0; i < LIVE; i++) kfree(load<usize>(held + i * 4)); }

/** Instructions for PAIRS kfree(kmalloc(64)), the countdown included. */
function sampledPairs(): u64 {
  const watch = stopwatchStart();
  for (let n: u32 = 0; n < PAIRS; n++) {
    const t0 = stamp();
    kfree(kmalloc(OBJECT));
    lapEnd(watch, t0);
  }
  stopwatchStop();
  return watch.total;
}

/** The same loop without the countdown: the control. */
function unsampledPairs(): u64 {
  const watch = stopwatchStart();
  for (let n: u32 = 0; n < PAIRS; n++) {
    const t0 = stamp();
    kfree(kmallocUnsampled(OBJECT));
    lapEnd(watch, t0);
  }
  stopwatchStop();
  return watch.total;
}

/** [countdown's cost in total over PAIRS]: the interleaved loop described above. */
function countdownCost(): u64 {
  const plain = stopwatchStart(0), counted = stopwatchStart(1);
  for (let n: u32 = 0; n < PAIRS; n++) {
    const t0 = stamp();
    kfree(kmallocUnsampled(OBJECT));
    const t1 = stamp();
    kfree(kmalloc(OBJECT));
    const t2 = stamp();
    lap(plain, t0, t1);
    lap(counted, t1, t2);
  }
  stopwatchStop();
  if (counted.total < plain.total) {
    puts("bench kfence.fastpath_cost: the pair with the countdown measured fewer instructions ("); putDec(counted.total);
    puts(") than without it ("); putDec(plain.total); puts("): the instrument is broken\n");
    benchFail();
    return 0;
  }
  return counted.total - plain.total;
}

registerBench("guard", () => {
  if (MEASURING_TLSF) return;
  const sampling = kmallocSampling();
  holdLive();
  // (run twice, the lower kept: the two loops are then functions of the same shape, neither
  // inlined into this one, so their figures differ by the countdown alone)
  const unsampled = min<u64>(unsampledPairs(), unsampledPairs());
  kmallocSetSampling(0);
  const off = sampledPairs();
  kmallocSetSampling(1 << 30);
  const between = sampledPairs();
  kmallocSetSampling(100);
  const kfence100 = sampledPairs();
  kmallocSetSampling(1 << 30);
  const countdown = countdownCost();
  kmallocSetSampling(sampling);
  freeLive();
  benchReport("kfence.kmalloc64_pair_unsampled", unsampled, PAIRS, "instr/pair");
  benchReport("kfence.kmalloc64_pair_off", off, PAIRS, "instr/pair");
  benchReport("kfence.kmalloc64_pair_between", between, PAIRS, "instr/pair");
  benchReport("kfence.fastpath_cost", countdown, PAIRS, "instr/pair");
  benchReport("kfence100.kmalloc64_pair", kfence100, PAIRS, "instr/pair");

  const watch = stopwatchStart();
  for (let n: u32 = 0; n < GUARD_PAIRS; n++) {
    const t0 = stamp();
    const p = guardAlloc(OBJECT, 16);
    guardFree(p);
    lapEnd(watch, t0);
    if (p == 0) panic("bench guard: no guard allocation");
  }
  stopwatchStop();
  guardDrainQuarantine();
  benchReport("guard.alloc_free_pair", watch.total, GUARD_PAIRS, "instr/pair");
});
