// DMA pools in the kernel: a pool's run of pages comes from the PMM, physically contiguous, below
// the caller's physical limit and in low memory (so that the linear map reaches it), aligned to
// its largest power-of-two part as buddy.ts requires; its control block and unit map come
// from kmalloc. See docs/dma.md. Not re-entrant (thread context only, like kmalloc).
import { mightSleep } from "../../diag/context";
import { LogLevel, logBegin } from "../../console/log";
import { puts, putDec, putHex, newline } from "../../console/console";
import { allocFrames, freeFrames } from "../phys/pmm";
import { LOW_MEMORY_END, linearVirt, LINEAR_MAP_BASE } from "../layout";
import { kmalloc, kfree } from "./kmalloc";
import { DmaPool, DMA_POOL_BYTES, MAX_ORDER, dmaMapBytes, dmaPoolInit } from "../core/buddy";

/** The most pages one pool may have (a run the pool's orders can describe: 64 MiB). */
export const DMA_POOL_MAX_PAGES: u32 = 16384;

/**
 * A pool of `pages` (1..DMA_POOL_MAX_PAGES) physically contiguous pages all below `maxPhysAddr`
 * (ISA_DMA_LIMIT for ISA DMA, say) and below LOW_MEMORY_END; null, logged, when the PMM has no
 * such run or kmalloc no memory for the bookkeeping. Destroy it with dmaPoolDestroy.
 */
export function dmaPoolCreate(pages: u32, maxPhysAddr: u64): DmaPool | null {
  if (!mightSleep("dmaPoolCreate")) return null;
  if (pages == 0 || pages > DMA_POOL_MAX_PAGES) {
    if (logBegin(LogLevel.Error, "dma")) { puts("dmaPoolCreate("); putDec(pages); puts("): 1 to "); putDec(DMA_POOL_MAX_PAGES); puts(" pages; returns null"); newline(); }
    return null;
  }
  const alignPages = min<u32>(1 << (31 - clz(pages)), 1 << (MAX_ORDER - 12));
  const limit = min<u64>(maxPhysAddr, <u64>LOW_MEMORY_END);
  const phys = allocFrames(pages, alignPages, limit);
  const control = phys != 0 ? kmalloc(DMA_POOL_BYTES) : 0;
  const map = control != 0 ? kmalloc(dmaMapBytes(pages)) : 0;
  if (map == 0) {
    if (control != 0) kfree(control);
    if (phys != 0) freeFrames(phys, pages);
    if (logBegin(LogLevel.Error, "dma")) {
      puts("dmaPoolCreate("); putDec(pages); puts(", "); putHex(maxPhysAddr); puts("): ");
      puts(phys == 0 ? "no run of free frames that fits below the limit" : "no memory for its bookkeeping"); puts("; returns null"); newline();
    }
    return null;
  }
  return dmaPoolInit(control, map, linearVirt(phys), <u64>phys, pages);
}

/**
 * Gives a pool's pages back to the PMM and its bookkeeping to kmalloc. Refuses (logged, false)
 * while any chunk is in use.
 */
export function dmaPoolDestroy(pool: DmaPool): bool {
  if (!mightSleep("dmaPoolDestroy")) return false;
  if (pool.usedChunks != 0) {
    if (logBegin(LogLevel.Error, "dma")) { puts("dmaPoolDestroy: "); putDec(pool.usedChunks); puts(" chunks still in use; pool kept"); newline(); }
    return false;
  }
  freeFrames(<u32>(pool.virtBase - LINEAR_MAP_BASE), pool.bytes >> 12);
  kfree(pool.map);
  kfree(changetype<usize>(pool));
  return true;
}
