// Self-tests of the object caches (kernel/mm/core/slab/cache.ts) on the kernel's page provider, and of the
// kmalloc front end's class caches (kernel/mm/alloc/kmalloc.ts). The host tests check the caches
// against a model; these check them over the PMM, through kmalloc/kfree/ksize/krealloc.
import { registerTest, registerOnDemandTest, check, checkEqual, testRng } from "./harness";
import { slabPrintInfo } from "../mm/debug/slabinfo";
import { puts, putDec, newline } from "../console/console";
import { randomBelow } from "../lib/random";
import { pmmFreeFrames } from "../mm/phys/pmm";
import {
  kmalloc, kfree, ksize, krealloc, kzalloc, kernelPageProvider, kernelSlabRegions, kmallocHeldFrames, kmallocCheck,
  KMALLOC_SLAB_MAX, kmallocWithoutSampling,
} from "../mm/alloc/kmalloc";

import { SLAB_REGIONS_BYTES, slabRegionsCreate, slabRegionsCheck } from "../mm/core/slab/regions";
import { SlabCache, CACHE_BYTES, cacheCreate, cacheAlloc, cacheFree, cacheDestroy, cacheShrink, cacheInBlock } from "../mm/core/slab/cache";
import { slabCheckAll } from "../mm/core/slab/check";
import { rdtsc } from "../arch/x86";
import { AllocError } from "../mm/core/alloc-error";

// It checks what the slab and heap back ends do, so it runs with kmalloc's sampling off (it
// passes in a kmalloc=guard boot too).
registerTest("slab.kmalloc_classes", () => { kmallocWithoutSampling(kmallocClasses); });

function kmallocClasses(): void {
  // Each size lands in its class (16-aligned, ksize the class size); above 2 KiB, the heap.
  const sizes: StaticArray<u32> = [1, 16, 17, 64, 65, 100, 129, 200, 2000, 2048];
  const classes: StaticArray<u32> = [16, 16, 32, 64, 80, 112, 160, 224, 2048, 2048];
  for (let i = 0; i < sizes.length; i++) {
    const p = kmalloc(sizes[i]);
    if (!check(p != 0, "kmalloc of a small size")) return;
    checkEqual(p & 15, 0, "16-aligned");
    checkEqual(ksize(p), classes[i], "ksize is the class's size");
    checkEqual(kfree(p), AllocError.Ok, "kfree of a class object");
  }
  const big = kmalloc(KMALLOC_SLAB_MAX + 1);
  check(big != 0 && ksize(big) >= KMALLOC_SLAB_MAX + 1, "above 2 KiB: a heap block");
  checkEqual(kfree(big), AllocError.Ok, "kfree of a heap block");
  // Bad frees of class objects: refused with their reason, nothing changed.
  const a = kmalloc(100), b = kmalloc(100);
  checkEqual(kfree(a + 16), AllocError.Interior, "inside a class object");
  checkEqual(ksize(a + 16), 0, "ksize of an interior pointer");
  checkEqual(kfree(a), AllocError.Ok, "free");
  checkEqual(kfree(a), AllocError.DoubleFree, "a double free of the newest free object");
  // krealloc: stays while it fits the class, moves (contents kept) when it does not.
  memory.fill(b, 0x6B, 100);
  checkEqual(krealloc(b, 112), b, "krealloc within the class (kmalloc-112) keeps the object");
  const c = krealloc(b, 5000);
  if (!check(c != 0 && c != b && ksize(c) >= 5000, "krealloc past the class moves to the heap")) return;
  let wrong: u32 = 0;
  for (let i: u32 = 0; i < 100; i++) if (load<u8>(c + i) != 0x6B) wrong++;
  checkEqual(wrong, 0, "the contents moved too");
  checkEqual(kfree(c), AllocError.Ok, "free the moved block");
  const z = kzalloc(2000);
  let nonZero: u32 = 0;
  for (let i: u32 = 0; i < 2000; i++) if (load<u8>(z + i) != 0) nonZero++;
  checkEqual(nonZero, 0, "kzalloc of a class object zeroes it");
  kfree(z);
}

// --- chaos: several caches and the kmalloc classes at once -------------------------------------

const CHAOS_OPS: u32 = 300000;
const CHAOS_SLOTS: u32 = 4096;
const CHAOS_CHECK_EVERY: u32 = 30000;
const CHAOS_CACHES: u32 = 4;
const CACHE_SIZES: StaticArray<u32> = [24, 200, 1500, 6000];
const CACHE_ALIGNS: StaticArray<u32> = [8, 64, 16, 4096];


/** Stamps the first and last byte of an object of `size` bytes. */
function stamp(ptr: usize, size: u32): void { store<u8>(ptr, <u8>(size * 7)); store<u8>(ptr + size - 1, <u8>(size >> 2)); }
function stamped(ptr: usize, size: u32): bool { return load<u8>(ptr) == <u8>(size * 7) && load<u8>(ptr + size - 1) == <u8>(size >> 2); }

registerTest("slab.chaos", () => {
  // Random allocations and frees over four caches of fresh slab regions and the kmalloc classes, a few
  // bad frees, shrinks; the slab checker and kmalloc's (the heap and the class caches) every
  // CHAOS_CHECK_EVERY operations. At the end everything is
  // freed and the caches destroyed: the PMM must have exactly as many free frames as before.
  const rng = testRng();
  const table = kzalloc(CHAOS_SLOTS * 12);   // { ptr, size, cache index or CHAOS_CACHES for kmalloc }
  const regionsAt = kmalloc(SLAB_REGIONS_BYTES), cachesAt = kmalloc(CHAOS_CACHES * CACHE_BYTES);
  if (!check(table != 0 && regionsAt != 0 && cachesAt != 0, "tables")) return;
  const freeBefore = pmmFreeFrames(), kmallocHeldFramesBefore = kmallocHeldFrames();
  const regions = slabRegionsCreate(regionsAt, kernelPageProvider());
  for (let i: u32 = 0; i < CHAOS_CACHES; i++) {
    if (!check(cacheCreate(cachesAt + i * CACHE_BYTES, regions, "chaos", CACHE_SIZES[i], CACHE_ALIGNS[i], 0) != null, "a cache")) return;
  }
  // With little RAM (16 MiB, most of it the heap tests' and the kernel's) an eighth of the slots.
  const slots: u32 = freeBefore > 16384 ? CHAOS_SLOTS : CHAOS_SLOTS / 8;
  let broken: u32 = 0, lost: u32 = 0, wrong: u32 = 0, bad: u32 = 0, checks: u32 = 0;
  const t0 = rdtsc();
  for (let n: u32 = 0; n < CHAOS_OPS; n++) {
    const slot = table + randomBelow(rng, slots) * 12;
    const ptr = load<usize>(slot), size = load<u32>(slot, 4), which = load<u32>(slot, 8);
    if (ptr != 0) {
      if (!stamped(ptr, size)) broken++;
      const misuse = randomBelow(rng, 4096) == 0;
      if (which < CHAOS_CACHES) {
        const cache = cacheInBlock(cachesAt + which * CACHE_BYTES);
        if (misuse) {   // another cache's free of it: refused, nothing changed
          const other = cacheInBlock(cachesAt + ((which + 1) % CHAOS_CACHES) * CACHE_BYTES);
          if (cacheFree(other, ptr) != AllocError.WrongCache) wrong++;
          bad++;
        }
        if (cacheFree(cache, ptr) != AllocError.Ok) wrong++;
      } else {
        if (misuse) { if (kfree(ptr + 8) == AllocError.Ok) wrong++; bad++; }   // inside it
        if (kfree(ptr) != AllocError.Ok) wrong++;
      }
      store<usize>(slot, 0);
    } else {
      const pick = randomBelow(rng, CHAOS_CACHES + 1);
      let q: usize = 0, qsize: u32 = 0;
      if (pick < CHAOS_CACHES) {
        qsize = CACHE_SIZES[pick];
        q = cacheAlloc(cacheInBlock(cachesAt + pick * CACHE_BYTES));
        if (q != 0 && (q & (CACHE_ALIGNS[pick] - 1)) != 0) wrong++;
      } else {
        qsize = 16 + randomBelow(rng, KMALLOC_SLAB_MAX - 15);
        q = kmalloc(qsize);
      }
      if (q == 0) { lost++; continue; }
      stamp(q, qsize);
      store<usize>(slot, q); store<u32>(slot, qsize, 4); store<u32>(slot, pick, 8);
    }
    if (n % CHAOS_CHECK_EVERY == 0) {
      checks++;
      if (randomBelow(rng, 2) == 0) cacheShrink(cacheInBlock(cachesAt + randomBelow(rng, CHAOS_CACHES) * CACHE_BYTES));
      const failed = slabCheckAll(regions), kmallocFailed = kmallocCheck();
      if (failed != 0 || kmallocFailed != 0) {
        checkEqual(failed, 0, "the slab checker during the chaos");
        checkEqual(kmallocFailed, 0, "the heap's and the class caches' checkers during the chaos");
        puts("# at operation "); putDec(n); newline();
        return;
      }
    }
  }
  const instructions = rdtsc() - t0;
  checkEqual(broken, 0, "every object kept its stamps");
  checkEqual(lost, 0, "no allocation failed");
  checkEqual(wrong, 0, "every free answered as expected (bad ones refused), every object aligned");
  for (let i: u32 = 0; i < CHAOS_SLOTS; i++) {
    const ptr = load<usize>(table + i * 12), which = load<u32>(table + i * 12, 8);
    if (ptr == 0) continue;
    if (which < CHAOS_CACHES) cacheFree(cacheInBlock(cachesAt + which * CACHE_BYTES), ptr);
    else kfree(ptr);
  }
  checkEqual(slabCheckAll(regions), 0, "the checkers after freeing everything");
  let destroyed: u32 = 0;
  for (let i: u32 = 0; i < CHAOS_CACHES; i++) if (cacheDestroy(cacheInBlock(cachesAt + i * CACHE_BYTES))) destroyed++;
  checkEqual(destroyed, CHAOS_CACHES, "every cache destroyed");
  checkEqual(regions.heldBytes, 0, "the regions hold nothing");
  checkEqual(slabRegionsCheck(regions), 0, "the regions' checker");
  // The kmalloc side may keep some of what it took (an empty slab per class, spans in reserve):
  // every other frame must be back.
  checkEqual(pmmFreeFrames() + kmallocHeldFrames(), freeBefore + kmallocHeldFramesBefore, "the PMM got every frame back");
  puts("# "); putDec(CHAOS_OPS); puts(" operations ("); putDec(bad); puts(" bad frees), the checkers run ");
  putDec(checks); puts(" times; rdtsc delta "); putDec(instructions); puts(" (instructions under -icount)\n");
  kfree(cachesAt); kfree(regionsAt); kfree(table);
});

// On demand (test/scripts/gdb.qemu.test.ts): the slabinfo table while class objects are live, in
// partial and full slabs as well as the active ones, for the gdb command to be compared with.
registerOnDemandTest("slab.info_live", () => {
  const sizes: StaticArray<u32> = [16, 64, 100, 500, 2048];
  const counts: StaticArray<u32> = [300, 130, 70, 9, 5];   // more than a slab of each: full slabs too
  const held = kmalloc(600 * 4);
  let n: u32 = 0;
  for (let i = 0; i < sizes.length; i++) {
    for (let k: u32 = 0; k < counts[i]; k++) store<usize>(held + (n++) * 4, kmalloc(sizes[i]));
  }
  for (let k: u32 = 0; k < n; k += 3) kfree(load<usize>(held + k * 4));   // partial slabs, and free objects on the lists
  checkEqual(kmallocCheck(), 0, "the checkers, with objects live in full and partial slabs");
  slabPrintInfo(kernelSlabRegions());
  for (let k: u32 = 0; k < n; k++) if (k % 3 != 0) kfree(load<usize>(held + k * 4));
  kfree(held);
});

// --- slab_debug, in the manner of Linux's slub_kunit: each misuse once, the exact count ----------

registerTest("slab.debug_reports", () => {
  const regionsAt = kmalloc(SLAB_REGIONS_BYTES), aAt = kmalloc(CACHE_BYTES), bAt = kmalloc(CACHE_BYTES);
  if (!check(regionsAt != 0 && aAt != 0 && bAt != 0, "control blocks")) return;
  const regions = slabRegionsCreate(regionsAt, kernelPageProvider());
  const madeA = cacheCreate(aAt, regions, "debug-a", 40, 0, 0, true), madeB = cacheCreate(bAt, regions, "debug-b", 40, 0, 0, true);
  if (!check(madeA != null && madeB != null, "two debug caches")) return;
  const a = madeA!, b = madeB!;
  // a one-byte overflow, caught when the object is freed
  let p = cacheAlloc(a);
  store<u8>(p + 40, 0x41);
  checkEqual(cacheFree(a, p), AllocError.Ok, "the overflowed object is still freed");
  checkEqual(a.debugErrors, 1, "a one-byte overflow: one report");
  // a one-byte underflow
  p = cacheAlloc(a);
  store<u8>(p - 1, 0x41);
  cacheFree(a, p);
  checkEqual(a.debugErrors, 2, "a one-byte underflow: one report");
  // a write after free, caught when the object is handed out again
  p = cacheAlloc(a);
  cacheFree(a, p);
  store<u8>(p + 3, 0x41);
  const q = cacheAlloc(a);
  checkEqual(q, p, "the freed object comes back first");
  checkEqual(a.debugErrors, 3, "a write after free: one report");
  // a double free of an object that is not the newest free one
  const r = cacheAlloc(a);
  cacheFree(a, q);
  cacheFree(a, r);
  checkEqual(cacheFree(a, q), AllocError.DoubleFree, "a double free is refused");
  checkEqual(a.debugErrors, 4, "a double free: one report");
  // a free into the wrong cache
  const other = cacheAlloc(b);
  checkEqual(cacheFree(a, other), AllocError.WrongCache, "a free into the wrong cache is refused");
  checkEqual(a.debugErrors, 5, "a free into the wrong cache: one report");
  checkEqual(b.debugErrors, 0, "nothing reported against the other cache");
  cacheFree(b, other);
  // the caches keep working, with no more reports
  const held = kmalloc(300 * 4);
  for (let i: u32 = 0; i < 300; i++) store<usize>(held + i * 4, cacheAlloc(a));
  for (let i: u32 = 0; i < 300; i++) if (cacheFree(a, load<usize>(held + i * 4)) != AllocError.Ok) checkEqual(i, 300, "a clean free");
  kfree(held);
  checkEqual(a.debugErrors, 5, "no report for clean use");
  checkEqual(slabCheckAll(regions), 0, "the checkers");
  check(cacheDestroy(a) && cacheDestroy(b), "both caches destroyed");
  checkEqual(regions.heldBytes, 0, "the regions hold nothing");
  kfree(bAt); kfree(aAt); kfree(regionsAt);
});

// On demand (test/mm/core/slab-debug.qemu.test.ts, with slab_debug=kmalloc-64): a one-byte overflow of
// kmalloc(64), caught by kfree, counted once on kmalloc-64 and on no other class.
registerOnDemandTest("slab.debug_kmalloc", () => {
  let kmalloc64: usize = 0, others: u32 = 0;
  for (let at = kernelSlabRegions().caches; at != 0; at = changetype<SlabCache>(at).next) {
    const cache = changetype<SlabCache>(at);
    if (changetype<string>(cache.name) == "kmalloc-64") kmalloc64 = at; else others += cache.debug;
  }
  if (!check(kmalloc64 != 0 && changetype<SlabCache>(kmalloc64).debug == 1, "kmalloc-64 is a debug cache")) return;
  checkEqual(others, 0, "no other class is");
  const p = kmalloc(64);
  store<u8>(p + 64, 0x41);
  checkEqual(kfree(p), AllocError.Ok, "kfree of the overflowed object");
  checkEqual(changetype<SlabCache>(kmalloc64).debugErrors, 1, "one report on kmalloc-64");
  const q = kmalloc(64);
  memory.fill(q, 0x42, 64);   // all of it, and no more
  kfree(q);
  checkEqual(changetype<SlabCache>(kmalloc64).debugErrors, 1, "clean use adds none");
});
