// Object-cache benchmarks (instructions under -icount shift=0):
//   irq.kmalloc64_pair          kmalloc(64) + kfree inside an interrupt handler (int 0x81)
//   slab.alloc_free_pair        a hot kmemCacheAlloc + kmemCacheFree pair (the kernel's cache API, any
//                               context: under the kmalloc lock) on a cache of 64-byte objects with
//                               LIVE objects in use (mean of PAIRS)
//   slab.footprint_ratio_100k_64  memory that slab regions of the benchmark's own (over the kernel's page
//                               provider) take from the PMM for 100,000 live 64-byte objects, over their bytes
//   kmalloc64.alloc_free_pair   the same pair through kmalloc(64) + kfree (the class caches)
//   heap64.alloc_free_pair      ... through heapAlloc(64) + heapFree on a heap instance of its own
//   tlsf64.alloc_free_pair      ... through AssemblyScript's TLSF (the benchmark variant only)
import { registerBench, benchReport } from "./bench";
import { Stopwatch, stopwatchStart, stopwatchStop, stamp, lapEnd } from "./stopwatch";
import { MEASURING_TLSF, allocatorBegin, allocatorAlloc, allocatorFree } from "./allocator";
import { HEAP_BYTES, heapCreate, heapAlloc, heapFree, heapCheck, heapTrim } from "../mm/core/heap/heap";
import { kmalloc, kfree, kernelPageProvider } from "../mm/alloc/kmalloc";
import { SLAB_REGIONS_BYTES, slabRegionsCreate, slabRegionsCheck } from "../mm/core/slab/regions";
import { CACHE_BYTES, cacheCreate, cacheAlloc, cacheFree, cacheDestroy } from "../mm/core/slab/cache";
import { slabCheckAll } from "../mm/core/slab/check";
import { kmemCacheCreate, kmemCacheAlloc, kmemCacheFree, kmemCacheDestroy } from "../mm/alloc/caches";
import { panic } from "../diag/panic";
import { softInterruptBench } from "../arch/x86";
import { setInterruptHandler, emptyHandler, VECTOR_BENCH } from "../arch/idt";
import { InterruptFrame } from "../arch/frame";

const LIVE: u32 = 1000;
const PAIRS: u32 = 20000;
const FOOTPRINT_OBJECTS: u32 = 100000;
const OBJECT: u32 = 64;

// The three pair loops are written out, not shared through function references: an indirect
// call costs more than the pair being measured.
const held = memory.data(LIVE * 4, 4);

registerBench("slab.kmalloc64", () => {
  let watch: Stopwatch;
  if (MEASURING_TLSF) {
    if (!allocatorBegin()) panic("bench slab: no TLSF");
    for (let i: u32 = 0; i < LIVE; i++) store<usize>(held + i * 4, allocatorAlloc(OBJECT, 0));
    watch = stopwatchStart();
    for (let n: u32 = 0; n < PAIRS; n++) {
      const t0 = stamp();
      allocatorFree(allocatorAlloc(OBJECT, 0));
      lapEnd(watch, t0);
    }
    stopwatchStop();
    for (let i: u32 = 0; i < LIVE; i++) allocatorFree(load<usize>(held + i * 4));
    benchReport("tlsf64.alloc_free_pair", watch.total, PAIRS, "instr/pair");
    return;
  }
  for (let i: u32 = 0; i < LIVE; i++) store<usize>(held + i * 4, kmalloc(OBJECT));
  watch = stopwatchStart();
  for (let n: u32 = 0; n < PAIRS; n++) {
    const t0 = stamp();
    kfree(kmalloc(OBJECT));
    lapEnd(watch, t0);
  }
  stopwatchStop();
  for (let i: u32 = 0; i < LIVE; i++) kfree(load<usize>(held + i * 4));
  benchReport("kmalloc64.alloc_free_pair", watch.total, PAIRS, "instr/pair");
  const control = kmalloc(HEAP_BYTES);
  if (control == 0) panic("bench slab: no memory for a heap");
  const heap = heapCreate(control, kernelPageProvider(), 0, true);
  for (let i: u32 = 0; i < LIVE; i++) store<usize>(held + i * 4, heapAlloc(heap, OBJECT, 0));
  watch = stopwatchStart();
  for (let n: u32 = 0; n < PAIRS; n++) {
    const t0 = stamp();
    heapFree(heap, heapAlloc(heap, OBJECT, 0));
    lapEnd(watch, t0);
  }
  stopwatchStop();
  for (let i: u32 = 0; i < LIVE; i++) heapFree(heap, load<usize>(held + i * 4));
  if (heapCheck(heap) != 0) panic("bench slab: the heap checker failed");
  heapTrim(heap);
  kfree(control);
  benchReport("heap64.alloc_free_pair", watch.total, PAIRS, "instr/pair");
});

// kmalloc(64) and kfree inside an interrupt handler (int 0x81): the pair alone is timed, in the
// handler; the class cache holds LIVE objects as for kmalloc64.alloc_free_pair.
let handlerWatch: Stopwatch = changetype<Stopwatch>(0);
function kmallocInHandler(frame: InterruptFrame): void {
  const t0 = stamp();
  kfree(kmalloc(OBJECT));
  lapEnd(handlerWatch, t0);
}
registerBench("irq.kmalloc64", () => {
  if (MEASURING_TLSF) return;
  for (let i: u32 = 0; i < LIVE; i++) store<usize>(held + i * 4, kmalloc(OBJECT));
  setInterruptHandler(VECTOR_BENCH, kmallocInHandler);
  handlerWatch = stopwatchStart();
  for (let n: u32 = 0; n < PAIRS; n++) softInterruptBench();
  stopwatchStop();
  setInterruptHandler(VECTOR_BENCH, emptyHandler);
  for (let i: u32 = 0; i < LIVE; i++) kfree(load<usize>(held + i * 4));
  benchReport("irq.kmalloc64_pair", handlerWatch.total, PAIRS, "instr/pair");
});

registerBench("slab.pair", () => {
  if (MEASURING_TLSF) return;
  const regionsAt = kmalloc(SLAB_REGIONS_BYTES), cacheAt = kmalloc(CACHE_BYTES), table = kmalloc(FOOTPRINT_OBJECTS * 4);
  if (regionsAt == 0 || cacheAt == 0 || table == 0) panic("bench slab: no memory for the regions, the cache or the table");
  const regions = slabRegionsCreate(regionsAt, kernelPageProvider());
  const made = cacheCreate(cacheAt, regions, "bench64", OBJECT, 0, 0);
  if (made == null) panic("bench slab: cacheCreate refused");
  const cache = made!;
  // The pair through the kernel's API (any context: the kmalloc lock around each call).
  const kernelCache = kmemCacheCreate("bench64", OBJECT, 0, 0);
  if (kernelCache == null) panic("bench slab: kmemCacheCreate refused");
  const live = kernelCache!;
  for (let i: u32 = 0; i < LIVE; i++) store<usize>(table + i * 4, kmemCacheAlloc(live));
  const watch = stopwatchStart();
  for (let n: u32 = 0; n < PAIRS; n++) {
    const t0 = stamp();
    const object = kmemCacheAlloc(live);
    kmemCacheFree(live, object);
    lapEnd(watch, t0);
  }
  stopwatchStop();
  benchReport("slab.alloc_free_pair", watch.total, PAIRS, "instr/pair");
  for (let i: u32 = 0; i < LIVE; i++) kmemCacheFree(live, load<usize>(table + i * 4));
  if (!kmemCacheDestroy(live)) panic("bench slab: kmemCacheDestroy refused");
  // Footprint: 100,000 live objects, in regions of the benchmark's own.
  for (let i: u32 = 0; i < FOOTPRINT_OBJECTS; i++) {
    const object = cacheAlloc(cache);
    if (object == 0) panic("bench slab: out of memory for 100,000 objects");
    store<usize>(table + i * 4, object);
  }
  const held = regions.heldBytes;
  benchReport("slab.footprint_ratio_100k_64", held, <u64>FOOTPRINT_OBJECTS * OBJECT, "ratio");
  if (slabCheckAll(regions) != 0) panic("bench slab: the slab checker failed");
  for (let i: u32 = 0; i < FOOTPRINT_OBJECTS; i++) cacheFree(cache, load<usize>(table + i * 4));
  if (!cacheDestroy(cache) || regions.heldBytes != 0 || slabRegionsCheck(regions) != 0) panic("bench slab: the slab regions kept memory");
  kfree(table); kfree(cacheAt); kfree(regionsAt);
});
