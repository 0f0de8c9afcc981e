// Self-tests of DMA pools on the PMM (kernel/mm/alloc/dma.ts over buddy.ts): the host tests check
// the buddy allocator against a model; these check real frames below a physical limit.
import { framesNow } from "./frames";
import { registerTest, check, checkEqual, testRng } from "./harness";
import { randomBelow } from "../lib/random";
import { pmmFreeFrames } from "../mm/phys/pmm";
import { ISA_DMA_LIMIT } from "../mm/core/frames";
import { linearVirt } from "../mm/layout";
import { kmalloc, kfree, kmallocHeldFrames } from "../mm/alloc/kmalloc";
import { dmaPoolCreate, dmaPoolDestroy, dmaPoolAlloc, dmaPoolFree } from "../mm/alloc/dma";
import { dmaVirtToPhys, dmaPhysToVirt, dmaPoolCheck } from "../mm/core/buddy";
import { AllocError } from "../mm/core/alloc-error";

registerTest("dma.isa_pool", () => {
  // (the kmalloc side may keep what it took for the bookkeeping: an empty slab, a span in reserve)
  const freeBefore = framesNow();
  const made = dmaPoolCreate(16, ISA_DMA_LIMIT);
  if (!check(made != null, "a 16-page pool below 16 MiB")) return;
  const pool = made!;
  check(dmaVirtToPhys(pool, pool.virtBase) + 16 * 4096 <= ISA_DMA_LIMIT, "the run is below 16 MiB");
  checkEqual(dmaVirtToPhys(pool, pool.virtBase) & (16 * 4096 - 1), 0, "aligned to its size");
  const rng = testRng();
  const held = kmalloc(200 * 4);
  let count: u32 = 0, wrong: u32 = 0, servedBytes: u32 = 0;
  for (let i: u32 = 0; i < 200; i++) {
    const size: u32 = 1 + randomBelow(rng, randomBelow(rng, 8) == 0 ? 16384 : 1024);
    const v = dmaPoolAlloc(pool, size);
    if (v == 0) continue;
    const phys = dmaVirtToPhys(pool, v);
    let chunk: u32 = 16;
    while (chunk < size) chunk <<= 1;
    if (phys + chunk > ISA_DMA_LIMIT || (phys & (chunk - 1)) != 0) wrong++;
    if (chunk <= 4096 && (phys >> 12) != ((phys + chunk - 1) >> 12)) wrong++;
    if (dmaPhysToVirt(pool, phys) != v || linearVirt(<u32>phys) != v) wrong++;   // the same memory
    store<u8>(v, <u8>i); store<u8>(v + size - 1, <u8>i);
    store<usize>(held + (count++) * 4, v);
    servedBytes += chunk;
  }
  checkEqual(wrong, 0, "every chunk below the limit, aligned, within a page if it fits, translating both ways");
  // (200 requests of up to 16 KiB overfill the 64 KiB pool; how many fit depends on the seed)
  check(servedBytes >= 8 * 4096, "the pool served requests until at least half of it was handed out");
  checkEqual(dmaPoolCheck(pool), 0, "the pool's checker");
  checkEqual(dmaPoolDestroy(pool), 0, "destroy refuses while chunks are in use");
  for (let i: u32 = 0; i < count; i++) if (dmaPoolFree(pool, load<usize>(held + i * 4)) != AllocError.Ok) wrong++;
  checkEqual(wrong, 0, "every chunk freed");
  checkEqual(dmaPoolAlloc(pool, 16 * 4096), pool.virtBase, "merged back: the whole run is one chunk again");
  dmaPoolFree(pool, pool.virtBase);
  kfree(held);
  check(dmaPoolDestroy(pool), "destroyed");
  checkEqual(framesNow(), freeBefore, "the frames went back to the PMM");
});
