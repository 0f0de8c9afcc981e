// DMA pools in the kernel: a pool's run of pages comes from the PMM, physically contiguous, below
// the caller's physical limit and in low memory (so that the linear map reaches it), aligned to
// its largest power-of-two part as buddy.ts requires; its control block and unit map come
// from kmalloc. See docs/dma.md.
//
// Contexts (docs/threads.md): dmaPoolAlloc, dmaPoolFree and dmaPoolChunkSize may be called from
// any context (a driver's interrupt handler): they work with interrupts off (the saved flags in
// `lock`). Creating and destroying a pool is thread context only (refused and reported otherwise).
import { mightSleep } from "../../diag/context";
import { LogLevel, logBegin } from "../../console/log";
import { puts, putDec, putHex, newline } from "../../console/console";
import { allocFrames, freeFrames } from "../phys/pmm";
import { lowMemoryEnd, linearVirt, LINEAR_MAP_BASE } from "../layout";
import { kmalloc, kfree } from "./kmalloc";
import { DmaPool, DMA_POOL_BYTES, MAX_ORDER, dmaMapBytes, dmaPoolInit, dmaAlloc, dmaFree, dmaChunkSize } from "../core/buddy";
import { AllocError } from "../core/alloc-error";
import { klockIrqSaveTo, klockIrqRestoreFrom } from "../../arch/klock";

// The pools' lock on one CPU: interrupts off, the caller's EFLAGS saved here meanwhile.
const lock = memory.data(4, 4);

/** The most pages one pool may have (a run the pool's orders can describe: 64 MiB). */
export const DMA_POOL_MAX_PAGES: u32 = 16384;

/**
 * A pool of `pages` (1..DMA_POOL_MAX_PAGES) physically contiguous pages all below `maxPhysAddr`
 * (ISA_DMA_LIMIT for ISA DMA, say) and below lowMemoryEnd(); null, logged, when the PMM has no
 * such run or kmalloc no memory for the bookkeeping. Destroy it with dmaPoolDestroy. Thread
 * context (refused and reported otherwise).
 */
export function dmaPoolCreate(pages: u32, maxPhysAddr: u64): DmaPool | null {
  if (!mightSleep("dmaPoolCreate")) return null;
  if (pages == 0 || pages > DMA_POOL_MAX_PAGES) {
    if (logBegin(LogLevel.Error, "dma")) { puts("dmaPoolCreate("); putDec(pages); puts("): 1 to "); putDec(DMA_POOL_MAX_PAGES); puts(" pages; returns null"); newline(); }
    return null;
  }
  const alignPages = min<u32>(1 << (31 - clz(pages)), 1 << (MAX_ORDER - 12));
  const limit = min<u64>(maxPhysAddr, <u64>lowMemoryEnd());
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
 * while any chunk is in use. Thread context (refused and reported otherwise).
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

/**
 * A chunk of at least `size` bytes from `pool` (buddy.ts dmaAlloc: a power of two aligned to its
 * size; its physical address is dmaVirtToPhys of it), or 0. Any context; never sleeps. O(orders).
 */
export function dmaPoolAlloc(pool: DmaPool, size: u32): usize {
  klockIrqSaveTo(lock);
  const chunk = dmaAlloc(pool, size);
  klockIrqRestoreFrom(lock);
  return chunk;
}

/** Frees a chunk of `pool` (a bad pointer is logged and refused, nothing changed). Any context. */
export function dmaPoolFree(pool: DmaPool, virt: usize): AllocError {
  klockIrqSaveTo(lock);
  const error = dmaFree(pool, virt);
  klockIrqRestoreFrom(lock);
  return error;
}

/** The size of the chunk of `pool` handed out at `virt`, or 0. Any context. */
export function dmaPoolChunkSize(pool: DmaPool, virt: usize): u32 {
  klockIrqSaveTo(lock);
  const size = dmaChunkSize(pool, virt);
  klockIrqRestoreFrom(lock);
  return size;
}
