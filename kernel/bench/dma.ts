// DMA pool benchmarks (instructions under -icount shift=0), each pair timed on its own (an rdtsc
// pair, its cost subtracted), on a pool of 64 pages below 16 MiB with LIVE chunks of mixed sizes
// held throughout, so the buddies split and merge:
//   dma.alloc_free_pair      dmaAlloc(64) then dmaFree of it
//   dma.alloc_free_pair_4k   the same for a 4 KiB chunk (a page: more levels to split and merge)
import { rdtsc, cli, sti } from "../arch/x86";
import { registerBench, benchReport, rdtscOverhead } from "./bench";
import { ISA_DMA_LIMIT } from "../mm/core/frames";
import { dmaPoolCreate, dmaPoolDestroy } from "../mm/alloc/dma";
import { DmaPool, dmaAlloc, dmaFree } from "../mm/core/buddy";
import { panic } from "../diag/panic";

const POOL_PAGES: u32 = 64;
const LIVE: u32 = 200;
const PAIRS: u32 = 10000;
const held = memory.data(LIVE * 4, 4);

function pairs(pool: DmaPool, size: u32, overhead: u64): u64 {
  let total: u64 = 0;
  cli();
  for (let n: u32 = 0; n < PAIRS; n++) {
    const t0 = rdtsc();
    dmaFree(pool, dmaAlloc(pool, size));
    const t1 = rdtsc();
    total += t1 - t0 - overhead;
  }
  sti();
  return total;
}

registerBench("dma", () => {
  const made = dmaPoolCreate(POOL_PAGES, ISA_DMA_LIMIT);
  if (made == null) panic("bench dma: no pool");
  const pool = made!;
  for (let i: u32 = 0; i < LIVE; i++) store<usize>(held + i * 4, dmaAlloc(pool, 16 << (i % 7)));   // 16 B .. 1 KiB
  const overhead = rdtscOverhead();
  const small = pairs(pool, 64, overhead), page = pairs(pool, 4096, overhead);
  for (let i: u32 = 0; i < LIVE; i++) dmaFree(pool, load<usize>(held + i * 4));
  if (!dmaPoolDestroy(pool)) panic("bench dma: the pool did not empty");
  benchReport("dma.alloc_free_pair", small, PAIRS, "instr/pair");
  benchReport("dma.alloc_free_pair_4k", page, PAIRS, "instr/pair");
});
