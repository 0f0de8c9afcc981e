// Self-tests of the kernel heap (kernel/mm/core/heap/heap.ts through kernel/mm/alloc/kmalloc.ts) on the real PMM,
// and of a second heap instance over a fixed buffer. The host tests check the algorithm against
// a model; these check the kernel's instance, its page provider and the kmalloc family.
import { framesNow } from "./frames";
import { registerTest, registerAfterTestCheck, check, checkEqual, testRng } from "./harness";
import { puts, putDec, newline } from "../console/console";
import { randomBelow } from "../lib/random";
import { allocFrames, freeFrames, allocLowFrame, freeFrame, pmmFreeFrames, pmmCheck, pmmFrameState } from "../mm/phys/pmm";
import { FrameState } from "../mm/core/frames";
import { lowMemoryEnd, LINEAR_MAP_BASE, linearVirt } from "../mm/layout";
import {
  kmalloc, kmallocAligned, kzalloc, kcalloc, krealloc, kfree, ksize, kmallocCheck, kernelHeapInstance,
  kernelPageProvider, KERNEL_HEAP_RESERVE_SPANS, kmallocWithoutSampling, kmallocHeldFrames, kmallocShrinkSlabs,
} from "../mm/alloc/kmalloc";
import { Heap, HEAP_BYTES, heapCreate, heapAlloc, heapFree, heapSize, heapRealloc, heapCheck, heapTrim, heapPrintStats, SPAN_BYTES, heapFlushCache } from "../mm/core/heap/heap";
import { rdtsc } from "../arch/x86";
import { PageProvider } from "../mm/core/pages";
import { AllocError } from "../mm/core/alloc-error";

registerAfterTestCheck("pmmCheck", pmmCheck);
registerAfterTestCheck("kmallocCheck", kmallocCheck);

// It checks what the slab and heap back ends do, so it runs with kmalloc's sampling off (it
// passes in a kmalloc=guard boot too).
registerTest("heap.kmalloc_api", () => { kmallocWithoutSampling(kmallocApi); });

function kmallocApi(): void {
  const heap = kernelHeapInstance();
  const errorsBefore = heap.errors;
  const a = kmalloc(100);
  if (!check(a != 0 && (a & 15) == 0, "kmalloc(100) is 16-aligned")) return;
  check(ksize(a) >= 100, "ksize is at least the request");
  const z = kzalloc(3000);
  let nonZero: u32 = 0;
  for (let i: u32 = 0; i < 3000; i++) if (load<u8>(z + i) != 0) nonZero++;
  checkEqual(nonZero, 0, "kzalloc zeroes");
  checkEqual(kcalloc(0x10000, 0x10001), 0, "kcalloc refuses a size that overflows");
  const c = kcalloc(10, 12);
  check(c != 0 && ksize(c) >= 120, "kcalloc(10, 12)");
  const p = kmallocAligned(200, 4096);
  checkEqual(p & 4095, 0, "4 KiB alignment");
  memory.fill(a, 0x5A, 100);
  const grown = krealloc(a, 5000);
  let kept: u32 = 0;
  for (let i: u32 = 0; i < 100; i++) if (load<u8>(grown + i) == 0x5A) kept++;
  checkEqual(kept, 100, "krealloc keeps the contents");
  const big = kmalloc(1 << 20);
  check(big != 0 && ksize(big) >= 1 << 20, "a 1 MiB block (its own pages)");
  // Bad pointers: refused with the reason, nothing changes.
  const liveBefore = heap.liveBlocks;
  const frame = allocLowFrame();
  checkEqual(kfree(linearVirt(frame) + 16), AllocError.Foreign, "a pointer from elsewhere");
  freeFrame(frame);
  checkEqual(kfree(grown + 16), AllocError.Interior, "an interior pointer");
  checkEqual(kfree(grown + 4), AllocError.Misaligned, "a misaligned pointer");
  checkEqual(ksize(grown + 16), 0, "ksize of an interior pointer");
  checkEqual(krealloc(grown + 16, 10), 0, "krealloc of an interior pointer");
  checkEqual(kmalloc(0), 0, "kmalloc(0)");
  checkEqual(heap.liveBlocks, liveBefore, "the bad calls changed nothing");
  checkEqual(kfree(grown), AllocError.Ok, "free");
  checkEqual(kfree(grown), AllocError.DoubleFree, "a double free");
  checkEqual(heap.errors - errorsBefore, 7, "seven errors reported (ksize answers 0 without one)");
  checkEqual(kfree(z), AllocError.Ok, "free");
  checkEqual(kfree(c), AllocError.Ok, "free");
  checkEqual(kfree(p), AllocError.Ok, "free");
  checkEqual(kfree(big), AllocError.Ok, "free the 1 MiB block");
  checkEqual(kfree(big), AllocError.Foreign, "its pages are gone: a second free is foreign");
  checkEqual(kfree(0), AllocError.Ok, "kfree(0) does nothing");
}

/** Marks a block's first and last bytes with values derived from its size. */
function mark(ptr: usize, size: u32): void { store<u8>(ptr + size - 1, <u8>(size >> 3)); store<u8>(ptr, <u8>size); }
function marked(ptr: usize, size: u32): bool {
  return load<u8>(ptr) == <u8>size && (size < 2 || load<u8>(ptr + size - 1) == <u8>(size >> 3));
}

registerTest("heap.stress", () => {
  // A seeded mix of sizes and lifetimes; contents checked; the checker every 2,000 operations.
  const rng = testRng();
  const SLOTS: u32 = 2048, OPS: u32 = 30000;
  const table = kzalloc(SLOTS * 8);   // { ptr, size }
  if (!check(table != 0, "a table")) return;
  const freeBefore = pmmFreeFrames();
  // With little RAM (16 MiB) the big blocks are kept smaller, so that nothing runs out.
  const bigMax: u32 = freeBefore > 16384 ? 200000 : 20000;
  let broken: u32 = 0, lost: u32 = 0, badFrees: u32 = 0, peak: u32 = 0, live: u32 = 0;
  for (let n: u32 = 0; n < OPS; n++) {
    const slot = table + randomBelow(rng, SLOTS) * 8;
    const ptr = load<usize>(slot), size = load<u32>(slot, 4);
    if (ptr != 0) {
      if (!marked(ptr, size)) broken++;
      if (randomBelow(rng, 4) == 0) {
        const to = 1 + randomBelow(rng, randomBelow(rng, 8) == 0 ? bigMax / 2 : 600);
        const q = krealloc(ptr, to);
        if (q == 0) { lost++; continue; }
        if (load<u8>(q) != <u8>size) broken++;
        mark(q, to);
        store<usize>(slot, q); store<u32>(slot, to, 4);
      } else {
        if (kfree(ptr) != AllocError.Ok) badFrees++;
        store<usize>(slot, 0); live--;
      }
    } else {
      const sizeClass = randomBelow(rng, 16);
      const size2 = 1 + (sizeClass < 12 ? randomBelow(rng, 128) : sizeClass < 15 ? randomBelow(rng, 8000) : randomBelow(rng, bigMax));
      const q = randomBelow(rng, 8) == 0 ? kmallocAligned(size2, 1 << randomBelow(rng, 13)) : kmalloc(size2);
      if (q == 0) { lost++; continue; }
      mark(q, size2);
      store<usize>(slot, q); store<u32>(slot, size2, 4);
      live++; if (live > peak) peak = live;
    }
    if (n % 2000 == 0 && kmallocCheck() != 0) { check(false, "heap checker during the stress"); return; }
  }
  checkEqual(broken, 0, "every block kept its contents");
  checkEqual(lost, 0, "no allocation failed");
  for (let i: u32 = 0; i < SLOTS; i++) {
    const ptr = load<usize>(table + i * 8);
    if (ptr != 0 && kfree(ptr) != AllocError.Ok) badFrees++;
  }
  checkEqual(badFrees, 0, "every block freed");
  const heap = kernelHeapInstance();
  puts("# peak "); putDec(peak); puts(" live blocks, peak live "); putDec(heap.peakLiveBytes); puts(" B, peak held ");
  putDec(heap.peakHeldBytes); puts(" B; now held "); putDec(heap.heldBytes); puts(" B\n");
  kfree(table);
  heapFlushCache(heap);   // blocks waiting in the front cache hold their spans
  kmallocShrinkSlabs();   // (and the class caches keep empty slabs: their pages are not the heap's)
  // Only the kept reserve of entirely free spans (and the table's span) may stay.
  check(pmmFreeFrames() + (heap.reserveSpans + 1) * (SPAN_BYTES >> 12) >= freeBefore, "the PMM got its frames back, but for the reserve");
});

registerTest("heap.large_grows_in_place", () => {
  const freeBefore = pmmFreeFrames();
  const p = kmalloc(100000);
  if (!check(p != 0, "a large block")) return;
  memory.fill(p, 0x3C, 100000);
  // The run ends at the page after the payload's usable end; growing to 200000 needs the frames
  // from there up to the page holding payload + 200000.
  const end = (p + ksize(p) + 4095) & ~(<usize>4095);
  const want = (p + 200000 + 4095) & ~(<usize>4095);
  let allFree = true;
  for (let a = end; a < want; a += 4096) if (pmmFrameState(<u32>((a - LINEAR_MAP_BASE) >> 12)) != FrameState.Free) allFree = false;
  const q = krealloc(p, 200000);
  if (!check(q != 0, "krealloc to 200000")) return;
  if (allFree) checkEqual(q, p, "the frames after it were free: it grew in place");
  puts("# the frames after the block were "); puts(allFree ? "free: grown in place\n" : "taken: moved\n");
  check(ksize(q) >= 200000, "ksize covers the new size");
  let wrong: u32 = 0;
  for (let i: u32 = 0; i < 100000; i++) if (load<u8>(q + i) != 0x3C) wrong++;
  checkEqual(wrong, 0, "the contents survived");
  kfree(q);
  checkEqual(pmmFreeFrames(), freeBefore, "the grown run went back to the PMM whole");
});

// --- a second instance over a fixed buffer ------------------------------------------------------

const BUFFER_SPANS: u32 = 4;
let bufferBase: usize = 0;
let bufferUsed: u32 = 0;   // bit i: span i handed out

function bufferGetPages(context: usize, pages: u32, alignPages: u32): usize {
  if (pages > SPAN_BYTES >> 12) return 0;   // this provider hands out whole spans only
  for (let i: u32 = 0; i < BUFFER_SPANS; i++) {
    if ((bufferUsed & (1 << i)) == 0) { bufferUsed |= 1 << i; return bufferBase + i * SPAN_BYTES; }
  }
  return 0;
}
function bufferPutPages(context: usize, address: usize, pages: u32): void {
  bufferUsed &= ~(1 << <u32>((address - bufferBase) / SPAN_BYTES));
}

registerTest("heap.second_instance", () => {
  const frames = BUFFER_SPANS * (SPAN_BYTES >> 12);
  const phys = allocFrames(frames, SPAN_BYTES >> 12, lowMemoryEnd());
  const control = kmalloc(HEAP_BYTES);
  const provider = changetype<PageProvider>(kmalloc(offsetof<PageProvider>()));
  if (!check(phys != 0 && control != 0, "a buffer and a control block")) return;
  bufferBase = linearVirt(phys); bufferUsed = 0;
  provider.context = 0;
  provider.getPages = changetype<usize>(bufferGetPages);
  provider.putPages = changetype<usize>(bufferPutPages);
  provider.growPages = 0; provider.claimPages = 0;
  const heap = heapCreate(control, provider, 0, true);
  let count: u32 = 0;
  while (heapAlloc(heap, 1000, 0) != 0) count++;
  check(count > 400, "it filled the buffer");
  puts("# "); putDec(count); puts(" blocks of 1000 B in "); putDec(BUFFER_SPANS); puts(" spans of 128 KiB\n");
  checkEqual(heapAlloc(heap, 100000, 0), 0, "a large block does not fit this provider: 0, no panic");
  checkEqual(heapCheck(heap), 0, "the instance's invariants");
  check(heapSize(kernelHeapInstance(), bufferBase + SPAN_BYTES + 1072) == 0, "the kernel heap does not own its blocks");
  checkEqual(heapFree(heap, control), AllocError.Foreign, "nor does it own the kernel heap's");
  freeFrames(phys, frames);
  kfree(changetype<usize>(provider));
  kfree(control);
});

// --- chaos: a million seeded operations on a fresh instance over the PMM -----------------------

const CHAOS_OPS: u32 = 1000000;
const CHAOS_SLOTS: u32 = 4096;
const CHAOS_CHECK_EVERY: u32 = 50000;
const CHAOS_MISUSE_ONE_IN: u32 = 2048;   // bad frees are logged: keep them to a few hundred

registerTest("heap.chaos", () => {
  // Random allocs (any size class, some aligned, some large), frees, reallocs and bad frees
  // (interior, misaligned, double) through a heap of its own; the checker every 50,000
  // operations; contents stamped and verified; at the end everything is freed and trimmed, and
  // the PMM must have exactly as many free frames as before.
  const rng = testRng();
  const table = kzalloc(CHAOS_SLOTS * 8);   // { ptr, size }
  const control = kmalloc(HEAP_BYTES);
  if (!check(table != 0 && control != 0, "tables")) return;
  const freeBefore = pmmFreeFrames(), framesBefore = framesNow();
  const heap = heapCreate(control, kernelPageProvider(), KERNEL_HEAP_RESERVE_SPANS, true);
  // With little RAM (below 64 MiB of free frames) the big blocks are smaller and the slots in
  // use fewer, in proportion to the free frames, so that nothing runs out: about two fifths of
  // the free frames are live at the peak (16 MiB: 1,794 slots; 8 MiB: about 600).
  const bigMax: u32 = freeBefore > 16384 ? 300000 : 20000;
  const slots: u32 = freeBefore > 16384 ? CHAOS_SLOTS : min<u32>(CHAOS_SLOTS / 2, CHAOS_SLOTS * freeBefore / 8192);
  let broken: u32 = 0, lost: u32 = 0, wrongErrors: u32 = 0, badCalls: u32 = 0, checks: u32 = 0;
  const t0 = rdtsc();
  for (let n: u32 = 0; n < CHAOS_OPS; n++) {
    const slot = table + randomBelow(rng, slots) * 8;
    const ptr = load<usize>(slot), size = load<u32>(slot, 4);
    const roll = randomBelow(rng, 64);
    const misuse = randomBelow(rng, CHAOS_MISUSE_ONE_IN) == 0;
    if (ptr != 0) {
      if (!marked(ptr, size)) broken++;
      if (misuse && roll < 32) {
        // a bad free: interior or misaligned; nothing may change
        const bad = size > 32 ? ptr + 16 : ptr + 4;
        const expected = size > 32 ? AllocError.Interior : AllocError.Misaligned;
        if (heapFree(heap, bad) != expected) wrongErrors++;   // large blocks too: both are inside their first chunk
        badCalls++;
      } else if (roll < 16) {
        const to = 1 + (roll < 2 ? randomBelow(rng, bigMax) : randomBelow(rng, 2000));
        const q = heapRealloc(heap, ptr, to);
        if (q == 0) { lost++; continue; }
        if (load<u8>(q) != <u8>size) broken++;
        mark(q, to);
        store<usize>(slot, q); store<u32>(slot, to, 4);
      } else {
        if (heapFree(heap, ptr) != AllocError.Ok) wrongErrors++;
        if (misuse) { if (heapFree(heap, ptr) == AllocError.Ok) wrongErrors++; badCalls++; }   // a double free
        store<usize>(slot, 0);
      }
    } else {
      const size2 = 1 + (roll < 40 ? randomBelow(rng, 256) : roll < 60 ? randomBelow(rng, 16000) : randomBelow(rng, bigMax));
      const q = heapAlloc(heap, size2, roll & 1 ? 0 : 1 << randomBelow(rng, 13));
      if (q == 0) { lost++; continue; }
      mark(q, size2);
      store<usize>(slot, q); store<u32>(slot, size2, 4);
    }
    if (n % CHAOS_CHECK_EVERY == 0) {
      checks++;
      const failed = heapCheck(heap);
      if (failed != 0) { checkEqual(failed, 0, "the heap checker during the chaos"); puts("# at operation "); putDec(n); newline(); return; }
    }
  }
  const instructions = rdtsc() - t0;
  checkEqual(broken, 0, "every block kept its contents");
  checkEqual(lost, 0, "no allocation failed");
  checkEqual(wrongErrors, 0, "every free answered as expected (bad ones refused)");
  checkEqual(heap.errors, badCalls, "each bad call counted once");
  heapPrintStats(heap, "chaos heap");
  for (let i: u32 = 0; i < CHAOS_SLOTS; i++) {
    const ptr = load<usize>(table + i * 8);
    if (ptr != 0 && heapFree(heap, ptr) != AllocError.Ok) wrongErrors++;
  }
  checkEqual(heapCheck(heap), 0, "the checker after freeing everything");
  heapTrim(heap);
  checkEqual(heap.heldBytes, 0, "the trimmed heap holds nothing");
  // (free frames plus kmalloc's: with little RAM, the heap's growth may run reclaim, which empties kmalloc's caches)
  checkEqual(framesNow(), framesBefore, "the PMM has every frame back");
  puts("# "); putDec(CHAOS_OPS); puts(" operations ("); putDec(badCalls); puts(" bad frees), the checker run ");
  putDec(checks); puts(" times; rdtsc delta "); putDec(instructions); puts(" (instructions under -icount)\n");
  kfree(control);
  kfree(table);
});
