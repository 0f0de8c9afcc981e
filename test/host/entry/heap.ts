// Host build of kernel/mm/heap.ts over a page provider backed by a buffer (a bitmap of pages,
// first fit, aligned as asked), exported for test/host/heap.test.ts. The provider can be capped
// to test running out of memory, and counts what it hands out.
import {
  Heap, HEAP_BYTES, heapCreate, heapAlloc, heapFree, heapSize, heapRealloc, heapCheck, heapCheckPointer,
  heapClassCount, heapFlushCache, heapTrim, SPAN_BYTES,
} from "../../../kernel/mm/heap";
import { PageProvider } from "../../../kernel/mm/pages";

const POOL_PAGES: u32 = 2048;                       // 8 MiB
const pool = memory.data(POOL_PAGES * 4096 + SPAN_BYTES, 16);
const poolBase = (pool + SPAN_BYTES - 1) & ~(<usize>SPAN_BYTES - 1);
const used = memory.data(POOL_PAGES, 4);            // one byte per page
let pagesOut: u32 = 0;
let pageLimit: u32 = POOL_PAGES;
let gets: u32 = 0, puts_: u32 = 0, grows: u32 = 0;
let growEnabled = true;

function getPages(context: usize, pages: u32, alignPages: u32): usize {
  if (pagesOut + pages > pageLimit) return 0;
  for (let first: u32 = 0; first + pages <= POOL_PAGES; first += alignPages) {
    let free = true;
    for (let i: u32 = 0; i < pages; i++) if (load<u8>(used + first + i) != 0) { free = false; break; }
    if (!free) continue;
    for (let i: u32 = 0; i < pages; i++) store<u8>(used + first + i, 1);
    pagesOut += pages; gets++;
    const at = poolBase + (<usize>first << 12);
    memory.fill(at, 0xCD, pages << 12);             // garbage: the heap must not rely on zeroes
    return at;
  }
  return 0;
}

function putPages(context: usize, address: usize, pages: u32): void {
  const first = <u32>((address - poolBase) >> 12);
  for (let i: u32 = 0; i < pages; i++) {
    if (load<u8>(used + first + i) == 0) unreachable();   // the heap gave back a page it did not get
    store<u8>(used + first + i, 0);
  }
  pagesOut -= pages; puts_++;
  memory.fill(address, 0xEF, pages << 12);          // a later use of freed pages shows up
}

/** Grows a run in place when the pages after it are free (and the cap allows). */
function growPages(context: usize, address: usize, pages: u32, morePages: u32): bool {
  const first = <u32>((address - poolBase) >> 12) + pages;
  if (!growEnabled || first + morePages > POOL_PAGES || pagesOut + morePages > pageLimit) return false;
  for (let i: u32 = 0; i < morePages; i++) if (load<u8>(used + first + i) != 0) return false;
  for (let i: u32 = 0; i < morePages; i++) store<u8>(used + first + i, 1);
  pagesOut += morePages; grows++;
  memory.fill(poolBase + (<usize>first << 12), 0xCD, morePages << 12);
  return true;
}

const provider = changetype<PageProvider>(memory.data(offsetof<PageProvider>(), 4));
const heapBlock = memory.data(HEAP_BYTES, 16);
let heap: Heap = changetype<Heap>(heapBlock);

export function reset(reserveSpans: u32, limitPages: u32, useCache: bool): void {
  memory.fill(used, 0, POOL_PAGES);
  pagesOut = 0; gets = 0; puts_ = 0; grows = 0; growEnabled = true;
  pageLimit = limitPages;
  provider.context = 0;
  provider.getPages = changetype<usize>(getPages);
  provider.putPages = changetype<usize>(putPages);
  provider.growPages = changetype<usize>(growPages);
  heap = heapCreate(heapBlock, provider, reserveSpans, useCache);
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
export function providerPagesOut(): u32 { return pagesOut; }
/** How many runs the provider grew in place since reset. */
export function providerGrows(): u32 { return grows; }
/** Lets the provider grow runs in place (the default) or refuse every time. */
export function setProviderGrows(enabled: bool): void { growEnabled = enabled; }
export function poolStart(): usize { return poolBase; }
export function poolBytes(): u32 { return POOL_PAGES << 12; }
export function fill(ptr: usize, value: u8, bytes: u32): void { memory.fill(ptr, value, bytes); }
/** True if `bytes` bytes at ptr all equal `value`. */
export function holds(ptr: usize, value: u8, bytes: u32): bool {
  for (let i: u32 = 0; i < bytes; i++) if (load<u8>(ptr + i) != value) return false;
  return true;
}
