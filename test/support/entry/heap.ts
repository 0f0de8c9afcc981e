// Host build of kernel/mm/core/heap/heap.ts over the buffer page provider (test/support/entry), exported for
// test/mm/core/heap.test.ts.
import {
  Heap, HEAP_BYTES, heapCreate, heapAlloc, heapFree, heapSize, heapRealloc, heapCheck, heapCheckPointer,
  heapClassCount, heapFlushCache, heapTrim,
} from "../../../kernel/mm/core/heap/heap";
import {
  bufferProviderReset, bufferPagesOut, bufferGrows, bufferSetGrows, bufferStart, bufferBytes,
} from "../host-lib/buffer-provider";

const heapBlock = memory.data(HEAP_BYTES, 16);
let heap: Heap = changetype<Heap>(heapBlock);

export function reset(reserveSpans: u32, limitPages: u32, useCache: bool): void {
  heap = heapCreate(heapBlock, bufferProviderReset(limitPages), reserveSpans, useCache);
}
export function alloc(size: u32, align: u32): usize { return heapAlloc(heap, size, align); }
export function free(ptr: usize): u32 { return heapFree(heap, ptr); }
export function size(ptr: usize): u32 { return heapSize(heap, ptr); }
export function realloc(ptr: usize, size: u32): usize { return heapRealloc(heap, ptr, size); }
export function check(): u32 { return heapCheck(heap); }
export function checkPointer(ptr: usize): u32 { return heapCheckPointer(heap, ptr); }
export function liveBytes(): usize { return heap.liveBytes; }
export function liveBlocks(): u32 { return heap.liveBlocks; }
export function heldBytes(): usize { return heap.heldBytes; }
export function peakLiveBytes(): usize { return heap.peakLiveBytes; }
export function errors(): u32 { return heap.errors; }
export function spanCount(): u32 { return heap.spanCount; }
export function freeSpans(): u32 { return heap.freeSpans; }
export function classCount(fl: u32): u32 { return heapClassCount(heap, fl); }
export function cachedBytes(): usize { return heap.cachedBytes; }
export function flushCache(): u32 { return heapFlushCache(heap); }
export function trim(): u32 { return heapTrim(heap); }
export function providerPagesOut(): u32 { return bufferPagesOut(); }
/** How many runs the provider grew in place since reset. */
export function providerGrows(): u32 { return bufferGrows(); }
/** Lets the provider grow runs in place (the default) or refuse every time. */
export function setProviderGrows(enabled: bool): void { bufferSetGrows(enabled); }
export function poolStart(): usize { return bufferStart(); }
export function poolBytes(): u32 { return bufferBytes(); }
export { fill, holds } from "../host-lib/buffer-provider";
export * from "../host-lib/alloc-errors";
