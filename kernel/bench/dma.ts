// DMA pool benchmarks (instructions under -icount shift=0), each pair timed on its own by the
// stopwatch, on a pool of 64 pages below 16 MiB with LIVE chunks of mixed sizes
// held throughout, so the buddies split and merge:
//   dma.alloc_free_pair      dmaPoolAlloc(64) then dmaPoolFree of it
//   dma.alloc_free_pair_4k   the same for a 4 KiB chunk (a page: more levels to split and merge)
import { registerBench, benchReport } from "./bench";
import { stopwatchStart, stopwatchStop, stamp, lapEnd } from "./stopwatch";
import { ISA_DMA_LIMIT } from "../mm/core/frames";
import { dmaPoolCreate, dmaPoolDestroy, dmaPoolAlloc, dmaPoolFree } from "../mm/alloc/dma";
import { DmaPool } from "../mm/core/buddy";
import { panic } from "../diag/panic";

const POOL_PAGES: u32 = 64;
const LIVE: u32 = 200;
const PAIRS: u32 = 10000;
const held = memory.data(LIVE * 4, 4);

function pairs(pool: DmaPool, size: u32): u64 {
  const watch = stopwatchStart();
  for (let n: u32 = 0; n < PAIRS; n++) {
    const t0 = stamp();
    dmaPoolFree(pool, dmaPoolAlloc(pool, size));
    lapEnd(watch, t0);
  }
  stopwatchStop();
  return watch.total;
}

registerBench("dma", () => {
  const made = dmaPoolCreate(POOL_PAGES, ISA_DMA_LIMIT);
  if (made == null) panic("bench dma: no pool");
  const pool = made!;
  for (let i: u32 = 0; i < LIVE; i++) store<usize>(held + i * 4, dmaPoolAlloc(pool, 16 << (i % 7)));   // 16 B .. 1 KiB
  const small = pairs(pool, 64), page = pairs(pool, 4096);
  for (let i: u32 = 0; i < LIVE; i++) dmaPoolFree(pool, load<usize>(held + i * 4));
  if (!dmaPoolDestroy(pool)) panic("bench dma: the pool did not empty");
  benchReport("dma.alloc_free_pair", small, PAIRS, "instr/pair");
  benchReport("dma.alloc_free_pair_4k", page, PAIRS, "instr/pair");
});
