// Object-cache benchmarks (instructions under -icount shift=0):
//   slab.alloc_free_pair        a hot cacheAlloc + cacheFree pair on a cache of 64-byte objects
//                               with LIVE objects in use (mean of PAIRS), on a set of slab regions of its own
//                               over the kernel's page provider
//   slab.footprint_ratio_100k_64  memory that the regions take from the PMM for 100,000 live 64-byte
//                               objects, over their bytes
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
import { panic } from "../diag/panic";

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

registerBench("slab.pair", () => {
  if (MEASURING_TLSF) return;
  const regionsAt = kmalloc(SLAB_REGIONS_BYTES), cacheAt = kmalloc(CACHE_BYTES), table = kmalloc(FOOTPRINT_OBJECTS * 4);
  if (regionsAt == 0 || cacheAt == 0 || table == 0) panic("bench slab: no memory for the regions, the cache or the table");
  const regions = slabRegionsCreate(regionsAt, kernelPageProvider());
  const made = cacheCreate(cacheAt, regions, "bench64", OBJECT, 0, 0);
  if (made == null) panic("bench slab: cacheCreate refused");
  const cache = made!;
  for (let i: u32 = 0; i < LIVE; i++) store<usize>(table + i * 4, cacheAlloc(cache));
  const watch = stopwatchStart();
  for (let n: u32 = 0; n < PAIRS; n++) {
    const t0 = stamp();
    const object = cacheAlloc(cache);
    cacheFree(cache, object);
    lapEnd(watch, t0);
  }
  stopwatchStop();
  benchReport("slab.alloc_free_pair", watch.total, PAIRS, "instr/pair");
  // Footprint: 100,000 live objects.
  for (let i: u32 = LIVE; i < FOOTPRINT_OBJECTS; i++) {
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
