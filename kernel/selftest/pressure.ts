// Self-tests of memory pressure (docs/pmm.md "Watermarks"): the watermarks each kind of request
// stops at, reclaim finding what an object cache could give back when frames are demanded, and
// the out-of-memory panic's report in a boot of its own.
import { framesNow } from "./frames";
import { registerTest, registerPanicTest, check, checkEqual, skipTest, testRng } from "./harness";
import { randomShuffleWords } from "../lib/random";
import { puts, putDec, newline } from "../console/console";
import { klockIrqSaveTo, klockIrqRestoreFrom } from "../arch/klock";
import { preemptDisable, preemptEnable } from "../arch/context";
import {
  pmmFreeFrames, pmmFreeLowFrames, pmmWatermarkMin, pmmWatermarkLow, pmmDirectReclaims, allocFrame, allocLowFrame, freeFrame,
} from "../mm/phys/pmm";
import { kmalloc, kmallocHeldFrames, kmallocReclaimable } from "../mm/alloc/kmalloc";
import { kmemCacheCreate, kmemCacheAlloc, kmemCacheFree, kmemCacheDestroy } from "../mm/alloc/caches";
import { reclaim, reclaimedPages, shrinkerTotal, shrinkerName, shrinkerLastFreed } from "../mm/alloc/shrink";
import { vmalloc, vfree } from "../mm/alloc/vmalloc";
import { reserveRange, RANGE_WRITABLE } from "../mm/virt/vmm";
import { memallocBegin, memallocEnd } from "../mm/pressure";
import { reclaimerSettle } from "../sched/reclaimd";
import { processDetach, processMemory } from "../proc/process";
import { threadSleep } from "../sched/clock";
import { start } from "./process";

let sink: usize = 0;
const lockCell = memory.data(4, 4);

/** Takes frames into `list` (from `at`) while `take` gives them: how many. */
function takeAll(list: usize, at: u32, limit: u32, low: bool): u32 {
  let n = at;
  while (n < limit) {
    const f = low ? allocLowFrame() : allocFrame();
    if (f == 0) break;
    store<u32>(list + (n << 2), f);
    n++;
  }
  return n - at;
}

// Thread requests stop at the low watermark (after reclaim has nothing to give), atomic ones at
// min, and none goes below min: each within one bitmap word (32 frames) of its mark, never past it.
registerTest("pressure.watermarks_per_context", () => {
  const min = pmmWatermarkMin(), low = pmmWatermarkLow();
  if (pmmFreeLowFrames() < low + 64) { skipTest("needs low memory above the low watermark"); return; }
  reclaim(0xFFFFFFFF);                         // (nothing left to reclaim: the marks alone decide)
  check(reclaimerSettle(), "the reclaimer settled");
  const before = framesNow();
  const list = vmalloc(pmmFreeLowFrames() << 2);
  if (!check(list != 0, "a list for the frames")) return;
  // empty low memory down to low + 40 (below the watermarks' reach, as a test may)
  const memalloc = memallocBegin();
  let n: u32 = 0;
  while (pmmFreeLowFrames() > low + 40) { const f = allocLowFrame(); if (f == 0) break; store<u32>(list + (n++ << 2), f); }
  memallocEnd(memalloc);
  const capacity = n + low + 64;
  const thread = takeAll(list, n, capacity, true);
  n += thread;
  const afterThread = pmmFreeLowFrames();
  check(afterThread >= low && afterThread < low + 32, "a thread's requests stop at the low watermark (within a word)");
  puts("# thread requests took "); putDec(thread); puts(" frames and stopped at "); putDec(afterThread);
  puts(" free (low "); putDec(low); puts(")\n");
  klockIrqSaveTo(lockCell);                          // (atomic: interrupts off)
  const atomic = takeAll(list, n, capacity, true);
  klockIrqRestoreFrom(lockCell);
  n += atomic;
  const afterAtomic = pmmFreeLowFrames();
  check(afterAtomic >= min && afterAtomic < min + 32, "atomic requests go on down to min (within a word), never below");
  puts("# atomic requests took "); putDec(atomic); puts(" more and stopped at "); putDec(afterAtomic);
  puts(" free (min "); putDec(min); puts(")\n");
  for (let i: u32 = 0; i < n; i++) freeFrame(load<u32>(list + (i << 2)));
  vfree(list);
  check(reclaimerSettle(), "the reclaimer settled");   // (woken below low: it finds nothing to give)
  checkEqual(framesNow(), before, "every frame back");
});

// The test: an object cache fills low memory, nine objects in ten are freed at random,
// then frames are demanded beyond what is free: reclaim must find the cache's empty slabs, and
// the free pages they left scattered in the slab regions (lent back to the PMM).
registerTest("pressure.demand_finds_the_caches", () => {
  reclaim(0xFFFFFFFF);
  check(reclaimerSettle(), "the reclaimer settled");
  const before = framesNow(), low = pmmWatermarkLow(), reclaimedAtStart = reclaimedPages();
  const room = pmmFreeLowFrames();
  const cache = kmemCacheCreate("pressure test", 256, 0, 0);
  const objects = vmalloc(room << 6);           // (16 objects of 256 B a page: a word each)
  const frames = vmalloc(pmmFreeFrames() << 2);
  if (cache == null || objects == 0 || frames == 0) { check(false, "a cache and two lists"); return; }
  let made: u32 = 0;
  const capacity = room << 4;
  for (; made < capacity; made++) { const o = kmemCacheAlloc(cache); if (o == 0) break; store<usize>(objects + (made << 2), o); }
  check(made < capacity, "the cache filled low memory: a refill failed");
  const rng = testRng();
  randomShuffleWords(rng, objects, made);
  const kept = made / 10;
  for (let i = kept; i < made; i++) kmemCacheFree(cache, load<usize>(objects + (i << 2)));
  // Demand what is free above the low watermark and half of what the cache holds in empty slabs
  // besides. (The reclaimer, woken while the cache filled memory, may give some back first: the
  // two figures are read together, so that what it moves from one to the other counts once.)
  preemptDisable();
  const freeNow = pmmFreeFrames(), empty = kmallocReclaimable();
  const reclaimedBefore = reclaimedPages(), directBefore = pmmDirectReclaims();
  preemptEnable();
  // (16 objects a page, nine in ten freed at random: 0.9^16, about 18% of the pages, are empty;
  // with another CPU, the reclaimer may have given some back already while the frees went on)
  check(empty + (reclaimedBefore - reclaimedAtStart) > (made >> 4) / 10, "a tenth of the cache's pages or more are empty, counted reclaimable or reclaimed already");
  const want = freeNow + (empty >> 1) - low;
  const got = takeAll(frames, 0, want, false);
  checkEqual(got, want, "every frame demanded was had: reclaim gave the empty slabs back");
  check(reclaimedPages() - reclaimedBefore >= <u64>(want - (freeNow - low)), "reclaim (the demand's own, or the reclaimer's) gave at least the difference");
  puts("# "); putDec(made); puts(" objects, "); putDec(made - kept); puts(" freed; "); putDec(empty);
  puts(" pages reclaimable; demanded "); putDec(want); puts(" frames with "); putDec(freeNow);
  puts(" free: reclaim gave "); putDec(<u64>(reclaimedPages() - reclaimedBefore)); puts(" pages (");
  for (let i: u32 = 0; i < shrinkerTotal(); i++) { puts(shrinkerName(i)); puts(" "); putDec(shrinkerLastFreed(i)); puts(" in the last round; "); }
  putDec(pmmDirectReclaims() - directBefore); puts(" direct reclaims)\n");
  for (let i: u32 = 0; i < got; i++) freeFrame(load<u32>(frames + (i << 2)));
  for (let i: u32 = 0; i < kept; i++) kmemCacheFree(cache, load<usize>(objects + (i << 2)));
  reclaim(0xFFFFFFFF);
  checkEqual(cache.slabCount, 0, "the cache is back to its minimum: no slab");
  check(kmemCacheDestroy(cache), "and it can be destroyed");
  vfree(objects); vfree(frames);
  check(reclaimerSettle(), "the reclaimer settled");
  reclaim(0xFFFFFFFF);
  checkEqual(framesNow(), before, "every frame back: the PMM's count is exact");
});

// The out-of-memory path to its end, in a boot of its own: a process holds memory, and the
// kernel touches an overcommitted range larger than all that is free. Reclaim comes first, then
// the killer ends the process; when nothing more can be had, the panic prints the report.
registerPanicTest("panic.oom_report",
  "page fault: out of memory|rounds of reclaim and the killer|memory report|watermarks (low memory): min|; 1 killed for memory|kmalloc (slab caches, heap spans):", () => {
  // a quarter of free memory in kmalloc blocks (held in a list through their first word), so the
  // report has a subsystem to show and the range below fits the range area
  let held: usize = 0;
  for (let n = pmmFreeFrames() >> 1; n > 0; n--) { const b = kmalloc(2048); if (b == 0) break; store<usize>(b, held); held = b; }
  const mib = pmmFreeFrames() >> 9;             // (half of what is free now)
  const p = start("memhog", mib, "hold");
  if (p == null) return;                        // (no panic: the test fails, as it should)
  processDetach(p);                             // (the reaper frees it once it is killed)
  for (let i = 0; i < 300 && processMemory(p).resident < <u32>(mib << 8) * 9 / 10; i++) threadSleep(10);
  // more pages than the PMM could give even with the process gone
  const pages = pmmFreeFrames() + (mib << 8) + 1024;
  const range = reserveRange(pages << 12, RANGE_WRITABLE, "test.oom_report");
  if (range == 0) return;
  for (let i: u32 = 0; i < pages; i++) store<u32>(range + (i << 12), i);
  sink = held;
});
