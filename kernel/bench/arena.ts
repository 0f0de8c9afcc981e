// Transient arena benchmarks (instructions under -icount shift=0), each operation timed on its
// own (an rdtsc pair, its cost subtracted), on the kernel's arena:
//   arena.alloc              arenaAlloc(16, 8), mean of ALLOCS
//   arena.mark_release_pair  arenaMark() then arenaRelease() of that mark, mean of PAIRS
import { rdtsc, cli, sti } from "../arch/x86";
import { registerBench, benchReport, rdtscOverhead } from "./bench";
import { arenaMark, arenaAlloc, arenaRelease } from "../mm/alloc/arena";
import { panic } from "../diag/panic";

const ALLOCS: u32 = 10000;
const PAIRS: u32 = 10000;

registerBench("arena", () => {
  const overhead = rdtscOverhead();
  const scope = arenaMark();
  let total: u64 = 0;
  cli();
  for (let n: u32 = 0; n < ALLOCS; n++) {
    const t0 = rdtsc();
    const p = arenaAlloc(16, 8);
    const t1 = rdtsc();
    if (p == 0) panic("bench arena: the arena is full");
    total += t1 - t0 - overhead;
  }
  sti();
  arenaRelease(scope);
  benchReport("arena.alloc", total, ALLOCS, "instr");
  total = 0;
  cli();
  for (let n: u32 = 0; n < PAIRS; n++) {
    const t0 = rdtsc();
    const mark = arenaMark();
    arenaRelease(mark);
    const t1 = rdtsc();
    total += t1 - t0 - overhead;
  }
  sti();
  benchReport("arena.mark_release_pair", total, PAIRS, "instr/pair");
});
