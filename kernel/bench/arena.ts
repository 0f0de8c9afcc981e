// Transient arena benchmarks (instructions under -icount shift=0), each operation timed on its
// own by the stopwatch, on the kernel's arena:
//   arena.alloc              arenaAlloc(16, 8), mean of ALLOCS
//   arena.mark_release_pair  arenaMark() then arenaRelease() of that mark, mean of PAIRS
import { registerBench, benchReport } from "./bench";
import { stopwatchStart, stopwatchStop, stamp, lapEnd } from "./stopwatch";
import { arenaMark, arenaAlloc, arenaRelease } from "../mm/alloc/arena";
import { panic } from "../diag/panic";

const ALLOCS: u32 = 10000;
const PAIRS: u32 = 10000;

registerBench("arena", () => {
  const scope = arenaMark();
  let watch = stopwatchStart();
  for (let n: u32 = 0; n < ALLOCS; n++) {
    const t0 = stamp();
    const p = arenaAlloc(16, 8);
    lapEnd(watch, t0);
    if (p == 0) panic("bench arena: the arena is full");
  }
  stopwatchStop();
  arenaRelease(scope);
  benchReport("arena.alloc", watch.total, ALLOCS, "instr");
  watch = stopwatchStart();
  for (let n: u32 = 0; n < PAIRS; n++) {
    const t0 = stamp();
    const mark = arenaMark();
    arenaRelease(mark);
    lapEnd(watch, t0);
  }
  stopwatchStop();
  benchReport("arena.mark_release_pair", watch.total, PAIRS, "instr/pair");
});
