// Large blocks: a request above LARGE_THRESHOLD gets a run of pages of its own, which can grow
// in place when the provider can add the pages after it.
import { providerGet, providerGrow, PROVIDER_PAGE_SIZE } from "../pages";
import { LARGE_HEADER, LARGE_MAGIC, SPAN_PAGES, runHeader } from "./block";
import { CHUNK_LARGE, Heap, countAllocated, countFreed, countHeld } from "./control";
import { claimRun, releaseRun, largesAt } from "./span";
import { heapTrim } from "./front-cache";
import { usableSize } from "./heap";

/**
 * A large block: a run of pages of its own for `size` bytes at `align`, its header at the run's
 * start, the run aligned to SPAN_BYTES (the chunk map marks its first chunk). The rest of that
 * chunk stays free in the provider, for its other users: the heap puts no span or run there.
 * Its payload, or 0 if the provider has no pages even after a trim.
 */
export function largeAlloc(heap: Heap, size: u32, align: u32): usize {
  const offset = max<u32>(LARGE_HEADER, align);
  const pages = (offset + size + PROVIDER_PAGE_SIZE - 1) / PROVIDER_PAGE_SIZE;
  let run = providerGet(heap.provider, pages, SPAN_PAGES);   // chunk-aligned: see the chunk map
  if (run == 0) {
    // Out of pages: give back what the cache and the reserve hold, and try once more.
    if (heapTrim(heap) == 0) return 0;
    run = providerGet(heap.provider, pages, SPAN_PAGES);
    if (run == 0) return 0;
  }
  claimRun(heap, run, LARGE_MAGIC, CHUNK_LARGE, pages, largesAt(heap));
  runHeader(run).payload = offset;
  heap.largeCount++;
  countAllocated(heap, pages * PROVIDER_PAGE_SIZE - offset);
  return run + offset;
}

export function largeFree(heap: Heap, run: usize): void {
  countFreed(heap, usableSize(run + runHeader(run).payload, CHUNK_LARGE));
  releaseRun(heap, run, largesAt(heap));
  heap.largeCount--;
}

/**
 * Grows large block `run` in place to hold `size` bytes, if the provider can add the pages right
 * after it (PageProvider.growPages). Whether it did.
 */
export function growLarge(heap: Heap, run: usize, size: u32): bool {
  const pages = runHeader(run).pages, offset = runHeader(run).payload;
  const want = (offset + size + PROVIDER_PAGE_SIZE - 1) / PROVIDER_PAGE_SIZE;
  if (!providerGrow(heap.provider, run, pages, want - pages)) return false;
  countFreed(heap, pages * PROVIDER_PAGE_SIZE - offset);
  runHeader(run).pages = want;
  countHeld(heap, (want - pages) * PROVIDER_PAGE_SIZE);
  countAllocated(heap, want * PROVIDER_PAGE_SIZE - offset);
  return true;
}
