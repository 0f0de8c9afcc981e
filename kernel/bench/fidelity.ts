// Fidelity benchmarks: each hot path in AssemblyScript (as the kernel runs it) and its C twin
// (twins/: the same algorithm over the same memory, built by the same clang with the kernel's
// flags), run on the same data in the same boot, as a loop of PAIRS pairs of calls timed as one
// lap (instructions under -icount shift=0; the loop's own two or three count on both sides). A
// lap per pair would measure the harness: the stamp kept across the calls takes two of i386's
// registers, and the spills that costs differ between the two compilers' loops. See docs/fidelity.md.
//
//   fidelity.NAME.as      instructions per pair (the loop's included), the AssemblyScript code
//   fidelity.NAME.c       the same, the C twin
//   fidelity.NAME.ratio   as / c
//
//   slab_pair      kmemCacheAlloc + kmemCacheFree on a cache of 64-byte objects, LIVE in use
//   kmalloc_pair   kmalloc(64) + kfree: the class selection, the sampling countdown and the
//                  object cache's fast paths
//   pmm_pair       allocFrame + freeFrame: the running CPU's list of frames
//   heap_pair      heapFree + heapAlloc in heap.alloc_free_pair's steady state (LIVE blocks of
//                  16 B - 64 KiB, log-uniform; free a random one, allocate a new size in its
//                  place): the front cache, the free lists, carving and merging. One plan of
//                  PAIRS steps, drawn first, run by each in turn on one heap instance.
//
// Before it measures anything, the benchmark checks the layouts the twins assume (twins/twins.h)
// against the AssemblyScript classes and constants: any that differs is logged and fails the boot.
import { registerBench, benchReport, benchReportRatio, benchFail } from "./bench";
import { puts, putDec } from "../console/console";
import { stopwatchStart, stopwatchStop, stamp, lapEnd } from "./stopwatch";
import { MEASURING_TLSF } from "./allocator";
import { panic } from "../diag/panic";
import { kmemCacheCreate, kmemCacheAlloc, kmemCacheFree, kmemCacheDestroy } from "../mm/alloc/caches";
import {
  kmalloc, kfree, kmallocSampleSlow, kmallocUnsampled, kmallocSampling, kmallocClassTable,
  kernelSlabRegions, kernelPageProvider, KMALLOC_SLAB_MAX,
} from "../mm/alloc/kmalloc";
import { CacheCpu, cacheAllocIn, cacheFreeIn } from "../mm/core/slab/cache";
import { SlabEntry, SLAB_ENTRY, SLAB_CHUNK_MAP_OFFSET, REGION_SHIFT, REGION_HEADER, REGION_PAGES } from "../mm/core/slab/regions";
import { FrameAllocator } from "../mm/core/frames";
import { CPU_PREEMPT_DEPTH, CPU_CACHE_OFFSET, CPU_FRAME_LIST } from "../arch/percpu";
import {
  allocFrame, freeFrame, allocFrameRefill, freeFrameSlow, pmmListedMap, pmmListedSpan, LIST_LIMIT,
} from "../mm/phys/frame-lists";
import { pmmStateAddress } from "../mm/phys/pmm";
import { Heap, HEAP_BYTES, heapCreate, heapAlloc, heapFree, heapCheck, heapTrim } from "../mm/core/heap/heap";
import { heapClassTable, heapFitTable } from "../mm/core/heap/classes";
import { FIRST_PAYLOAD, SPAN_BLOCK_BYTES } from "../mm/core/heap/block";
import { LARGE_THRESHOLD, LIST_COUNT } from "../mm/core/heap/control";
import { CACHE_SLACK, CACHE_SHARE_SHIFT } from "../mm/core/heap/front-cache";
import { mergeAndFile } from "../mm/core/heap/span";
import { Random, randomSeed, randomBelow } from "../lib/random";

// The twins (twins/*.c): each runs `pairs` timed pairs and returns their instructions.
@external("twins", "slabPairs") declare function twinSlabPairs(cache: usize, pairs: u32): u64;
@external("twins", "kmallocPairs") declare function twinKmallocPairs(table: usize, regions: usize, interval: u32, pairs: u32): u64;
@external("twins", "pmmPairs") declare function twinPmmPairs(state: usize, listedMap: usize, listedSpan: u32, pairs: u32): u64;
@external("twins", "heapPairs") declare function twinHeapPairs(heap: usize, classes: usize, fits: usize, slots: usize, plan: usize, pairs: u32): u64;
@external("twins", "layout") declare function twinLayout(index: u32): u32;

// The slow paths the twins call when their fast path misses: the kernel's own (each re-checks its
// fast path, which misses again, and goes on to the slow one). Thread context (the benchmark's),
// with the contexts and locks of the kernel functions they call.
export function twinCacheAllocSlow(part: usize): usize { return cacheAllocIn(changetype<CacheCpu>(part)); }
export function twinCacheFreeSlow(part: usize, object: usize): u32 { return cacheFreeIn(changetype<CacheCpu>(part), object); }
export function twinKmallocSampled(size: u32): usize { return kmallocSampleSlow(size, 16); }
export function twinKmallocLarge(size: u32): usize { return kmallocUnsampled(size); }
export function twinKfreeNotSlab(ptr: usize): u32 { return kfree(ptr); }
export function twinAllocFrameRefill(): u32 { return allocFrameRefill(); }
export function twinFreeFrameSlow(phys: u32): u32 { return freeFrameSlow(phys); }
export function twinHeapAlloc(heap: usize, size: u32): usize { return heapAlloc(changetype<Heap>(heap), size, 0); }
export function twinHeapFree(heap: usize, ptr: usize): u32 { return heapFree(changetype<Heap>(heap), ptr); }
export function twinHeapMergeAndFile(heap: usize, block: usize): void { mergeAndFile(changetype<Heap>(heap), block); }

const LIVE: u32 = 1000;
const PAIRS: u32 = 20000;
const held = memory.data(LIVE * 4, 4);
const SEED: u64 = 0x4649444C48454150;   // "FIDLHEAP"
const rng = changetype<Random>(memory.data(8, 8));

/** A size from 16 B to 64 KiB, log-uniform (an octave, then a size in it), as bench/heap.ts draws them. */
function randomSize(): u32 {
  const octave = 4 + randomBelow(rng, 12);
  return min<u32>((1 << octave) + randomBelow(rng, (1 << octave) + 1), 64 << 10);
}

/**
 * Whether every layout the twins assume (twins/twins.h, listed in twins/common.c's order) is the
 * AssemblyScript one; each that differs is logged, and the boot fails (benchFail).
 */
function layoutsAgree(): bool {
  const expected: StaticArray<u32> = [
    offsetof<CacheCpu>("freelist"), offsetof<CacheCpu>("activeStart"), offsetof<CacheCpu>("activeObjects"),
    offsetof<CacheCpu>("divInverse"), offsetof<CacheCpu>("divShift"),
    SLAB_CHUNK_MAP_OFFSET, offsetof<SlabEntry>("cache"), SLAB_ENTRY,
    offsetof<FrameAllocator>("bitmap"), offsetof<FrameAllocator>("lowLimitFrame"),
    CPU_PREEMPT_DEPTH, CPU_CACHE_OFFSET, CPU_FRAME_LIST, REGION_SHIFT, REGION_HEADER, REGION_PAGES,
    KMALLOC_SLAB_MAX, LIST_LIMIT,
    offsetof<Heap>("flBitmap"), offsetof<Heap>("slBitmaps"), offsetof<Heap>("lists"), offsetof<Heap>("cache"),
    offsetof<Heap>("chunkMap"), offsetof<Heap>("reserveSpans"), offsetof<Heap>("useCache"), offsetof<Heap>("freeSpans"),
    offsetof<Heap>("liveBytes"), offsetof<Heap>("peakLiveBytes"), offsetof<Heap>("cachedBytes"), offsetof<Heap>("liveBlocks"),
    FIRST_PAYLOAD, SPAN_BLOCK_BYTES, LARGE_THRESHOLD, LIST_COUNT, CACHE_SLACK, CACHE_SHARE_SHIFT,
  ];
  let agree = true;
  for (let i = 0; i < expected.length; i++) {
    const twin = twinLayout(i);
    if (twin == expected[i]) continue;
    puts("bench fidelity: twins/common.c layout entry "); putDec(i); puts(" is "); putDec(twin);
    puts(", the AssemblyScript one "); putDec(expected[i]); puts(": update twins/twins.h\n");
    agree = false;
  }
  if (twinLayout(expected.length) != 0xFFFFFFFF) {
    puts("bench fidelity: twins/common.c lists more layout entries than fidelity.ts checks\n");
    agree = false;
  }
  if (!agree) benchFail();
  return agree;
}

/** Reports a hot path's three records (fidelity.NAME.as, .c, .ratio: literals) from the two totals. */
function report(asName: string, cName: string, ratioName: string, asTotal: u64, cTotal: u64, pairs: u32): void {
  benchReport(asName, asTotal, pairs, "instr/pair");
  benchReport(cName, cTotal, pairs, "instr/pair");
  benchReportRatio(ratioName, asTotal, cTotal);
}

registerBench("fidelity", () => {
  if (MEASURING_TLSF || !layoutsAgree()) return;

  // the object cache: both on one cache, with LIVE objects in use
  const cache = kmemCacheCreate("fidelity-64", 64, 0, 0);
  if (cache == null) panic("bench fidelity: no cache");
  for (let i: u32 = 0; i < LIVE; i++) store<usize>(held + i * 4, kmemCacheAlloc(cache!));
  let watch = stopwatchStart();
  let t0 = stamp();
  for (let n: u32 = 0; n < PAIRS; n++) kmemCacheFree(cache!, kmemCacheAlloc(cache!));
  lapEnd(watch, t0);
  const slabAs = watch.total;
  const slabC = twinSlabPairs(changetype<usize>(cache), PAIRS);
  stopwatchStop();
  for (let i: u32 = 0; i < LIVE; i++) kmemCacheFree(cache!, load<usize>(held + i * 4));
  if (!kmemCacheDestroy(cache!)) panic("bench fidelity: the cache kept objects");
  report("fidelity.slab_pair.as", "fidelity.slab_pair.c", "fidelity.slab_pair.ratio", slabAs, slabC, PAIRS);

  // kmalloc(64) + kfree over the kernel's class caches
  for (let i: u32 = 0; i < LIVE; i++) store<usize>(held + i * 4, kmalloc(64));
  watch = stopwatchStart();
  t0 = stamp();
  for (let n: u32 = 0; n < PAIRS; n++) kfree(kmalloc(64));
  lapEnd(watch, t0);
  const kmallocAs = watch.total;
  const interval = kmallocSampling();
  const kmallocC = twinKmallocPairs(kmallocClassTable(), changetype<usize>(kernelSlabRegions()),
    interval == 0 ? 0xFFFFFFFF : interval, PAIRS);
  stopwatchStop();
  for (let i: u32 = 0; i < LIVE; i++) kfree(load<usize>(held + i * 4));
  report("fidelity.kmalloc_pair.as", "fidelity.kmalloc_pair.c", "fidelity.kmalloc_pair.ratio", kmallocAs, kmallocC, PAIRS);

  // allocFrame + freeFrame over the kernel's PMM
  watch = stopwatchStart();
  t0 = stamp();
  for (let n: u32 = 0; n < PAIRS; n++) freeFrame(allocFrame());
  lapEnd(watch, t0);
  const pmmAs = watch.total;
  const pmmC = twinPmmPairs(pmmStateAddress(), pmmListedMap(), pmmListedSpan(), PAIRS);
  stopwatchStop();
  report("fidelity.pmm_pair.as", "fidelity.pmm_pair.c", "fidelity.pmm_pair.ratio", pmmAs, pmmC, PAIRS);

  // heapFree + heapAlloc in the heap's steady state, on one heap instance
  const control = kmalloc(HEAP_BYTES), slots = kmalloc(LIVE * 4), plan = kmalloc(PAIRS * 8);
  if (control == 0 || slots == 0 || plan == 0) panic("bench fidelity: no memory for the heap's tables");
  const heap = heapCreate(control, kernelPageProvider(), 0, true);
  randomSeed(rng, SEED);
  for (let i: u32 = 0; i < LIVE; i++) store<usize>(slots + i * 4, heapAlloc(heap, randomSize(), 0));
  for (let n: u32 = 0; n < PAIRS; n++) {   // (the warm-up)
    const at = slots + randomBelow(rng, LIVE) * 4;
    heapFree(heap, load<usize>(at));
    store<usize>(at, heapAlloc(heap, randomSize(), 0));
  }
  for (let n: u32 = 0; n < PAIRS; n++) {
    store<u32>(plan + n * 8, randomBelow(rng, LIVE));
    store<u32>(plan + n * 8, randomSize(), 4);
  }
  watch = stopwatchStart();
  t0 = stamp();
  for (let n: u32 = 0; n < PAIRS; n++) {
    const at = slots + load<u32>(plan + n * 8) * 4;
    heapFree(heap, load<usize>(at));
    store<usize>(at, heapAlloc(heap, load<u32>(plan + n * 8, 4), 0));
  }
  lapEnd(watch, t0);
  const heapAs = watch.total;
  const heapC = twinHeapPairs(changetype<usize>(heap), heapClassTable(), heapFitTable(), slots, plan, PAIRS);
  stopwatchStop();
  for (let i: u32 = 0; i < LIVE; i++) {
    if (load<usize>(slots + i * 4) == 0) panic("bench fidelity: the heap ran out of memory");
    heapFree(heap, load<usize>(slots + i * 4));
  }
  if (heapCheck(heap) != 0) panic("bench fidelity: the heap checker failed after the twins");
  heapTrim(heap);
  kfree(plan);
  kfree(slots);
  kfree(control);
  report("fidelity.heap_pair.as", "fidelity.heap_pair.c", "fidelity.heap_pair.ratio", heapAs, heapC, PAIRS);
});
