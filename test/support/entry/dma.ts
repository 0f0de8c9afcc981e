// Host build of kernel/mm/core/buddy.ts over a buffer that stands for a physically contiguous run
// (its "physical" base is a chosen address, aligned as the kernel's would be), exported for
// test/mm/core/buddy.test.ts.
import {
  DmaPool, DMA_POOL_BYTES, dmaMapBytes, dmaPoolInit, dmaAlloc, dmaFree, dmaChunkSize, dmaVirtToPhys, dmaPhysToVirt,
  dmaPoolCheck,
} from "../../../kernel/mm/core/buddy";
export { fill, holds } from "../host-lib/buffer-provider";

const MAX_PAGES: u32 = 64;
const run = memory.data(MAX_PAGES * 4096 + 4096, 16);
const runBase = (run + 4095) & ~(<usize>4095);
const control = memory.data(DMA_POOL_BYTES, 8);
const map = memory.data((MAX_PAGES * 4096) >> 4, 4);
let pool = changetype<DmaPool>(control);

/** A pool over `pages` pages (up to MAX_PAGES) whose physical base is `physBase`. */
export function init(pages: u32, physBase: u64): void {
  memory.fill(runBase, 0xCD, pages << 12);
  pool = dmaPoolInit(control, map, runBase, physBase, pages);
}
export function alloc(size: u32): usize { return dmaAlloc(pool, size); }
export function free(virt: usize): u32 { return dmaFree(pool, virt); }
export function chunkSize(virt: usize): u32 { return dmaChunkSize(pool, virt); }
export function toPhys(virt: usize): u64 { return dmaVirtToPhys(pool, virt); }
export function toVirt(phys: u64): usize { return dmaPhysToVirt(pool, phys); }
export function check(): u32 { return dmaPoolCheck(pool); }
export function usedBytes(): u32 { return pool.usedBytes; }
export function usedChunks(): u32 { return pool.usedChunks; }
export function errors(): u32 { return pool.errors; }
export function base(): usize { return runBase; }
export function mapBytes(pages: u32): u32 { return dmaMapBytes(pages); }
export * from "../host-lib/alloc-errors";
