// The kernel's heap: one instance of heap.ts over a page provider that takes runs of frames from
// the PMM's low memory and reaches them through the linear map; slab regions over the same
// provider with a cache per small size class; and the kmalloc family on top of both. Requests
// up to KMALLOC_SLAB_MAX bytes go to the class caches, larger ones to the heap; kfree and ksize
// tell the two apart by the regions' chunk map. A large block (above 64 KiB) the heap cannot
// serve because low memory has no contiguous run for it comes from vmalloc instead, in thread
// context (kmalloc-vmalloc.ts). See docs/heap.md and docs/slab.md.
//
// Sampling into the guard-page debug allocator (guard.ts, docs/guard.md): kmalloc counts a
// countdown down on every call and, when it reaches zero, serves that request from guard pages
// and starts the count again from the sampling interval: 1 sends everything there
// (`kmalloc=guard`), N one in N (`kfence=N`); off, the count starts from 2^32 - 1 and the call
// that reaches zero only restarts it. kfree, ksize and krealloc know guard objects by address
// (they lie in the range area, above the linear map where slabs and heap blocks are).
//
// Contexts (docs/threads.md): kmalloc, kzalloc, kcalloc, kmallocAligned, krealloc, kfree and
// ksize may be called from any context, thread or atomic (an interrupt handler, a lock held), on
// any CPU. A class object comes from the running context's part of its class cache (slab/cache.ts:
// its active slab or its stash) with preemption off on that CPU and no lock: a thread and the
// interrupt handlers on a CPU have parts of their own (cache-layout.ts), so a handler never finds
// its part in the middle of an interrupted call, and no other CPU touches them. What the CPUs
// share (the caches' slab lists, the slab regions, the heap) is under the kmalloc lock: a
// kernel-lock section (arch/klock.ts) whose saved flags live in `lock`, and which the caches take
// themselves on their slow paths (regionsSetLock). The heap takes new spans from
// the PMM inside it (the PMM's own section nests). In atomic context an allocation never
// sleeps: it succeeds or returns 0. Sampling into the guard allocator (which needs the VMM,
// thread context only) is skipped in atomic context, and a guard object freed there is freed
// later (guard.ts).
import { LogLevel, logBegin } from "../../console/log";
import { puts, putDec, newline } from "../../console/console";
import { allocFrames, freeFrames, claimFrames } from "../phys/pmm";
import { lowMemoryEnd, LINEAR_MAP_BASE, vrangeStart, linearVirt } from "../layout";
import { PageProvider } from "../core/pages";
import { Heap, HEAP_BYTES, heapCreate, heapAlloc, heapFree, heapSize, heapRealloc, heapCheck } from "../core/heap/heap";
import { SlabRegions, SLAB_REGIONS_BYTES, slabRegionsCreate, slabOf, slabRegionsLend, regionsSetLock } from "../core/slab/regions";
import { SlabCache, CACHE_BYTES, CACHE_IRQ_PART, cacheAllocIn, cacheFreeInSlab, cacheReleaseEmpty, cacheDrainCpu } from "../core/slab/cache";
import { heapTrim } from "../core/heap/front-cache";
import { SPAN_BYTES } from "../core/heap/block";
import { slabCheckAll } from "../core/slab/check";
import {
  KMALLOC_SLAB_MAX, KMALLOC_CLASS_COUNT, KMALLOC_TABLE_BYTES, kmallocCacheForSize, kmallocClassesInit,
  kmallocObjectCache, kmallocObjectSize,
} from "../core/kmalloc-classes";
import { guardAlloc, guardFree, guardSize, guardHeldFrames } from "./guard";
import { kmallocVmalloc, kmallocVmallocSize, kmallocVmallocFree, kmallocVmallocDrain } from "./kmalloc-vmalloc";
import { LARGE_THRESHOLD } from "../core/heap/control";
import { AllocError } from "../core/alloc-error";
import { klockIrqSaveTo, klockIrqRestoreFrom, klockEnter, klockLeave, klockStarted } from "../../arch/klock";
import { saveFlagsAndCli, restoreFlags } from "../../arch/x86";
import { cpuCacheOffset, cpuCachePart, cpuCachesReadable } from "../../arch/percpu";
import { onEachCpu } from "../each-cpu";
import { inThreadContext, inInterrupt, preemptDisableLocal, preemptEnableLocal } from "../../arch/context";
import { Invariant } from "../core/invariant";
import { registerShrinker } from "./shrink";

// The lock of the class caches, the slab regions and the heap (the saved EFLAGS while held).
const lock = memory.data(4, 4);

/** Takes the kmalloc lock (interrupts off). Any context; for code that works on the kernel's caches or heap directly. */
@inline export function kmallocLock(): void { klockIrqSaveTo(lock); }
/** Releases it (the interrupt flag as it was). */
@inline export function kmallocUnlock(): void { klockIrqRestoreFrom(lock); }

// The slab regions' lock (regionsSetLock), which the caches' slow paths take: interrupts off and
// a kernel-lock section, nesting in kmallocLock and in itself. The flags are the outermost
// section's, kept here (read and written with interrupts off and the kernel lock held).
let slabDepth: u32 = 0, slabFlags: u32 = 0;
function slabLock(): void {
  const flags = saveFlagsAndCli();
  klockEnter();
  if (slabDepth++ == 0) slabFlags = flags;
}
function slabUnlock(): void {
  const outermost = --slabDepth == 0, flags = slabFlags;
  klockLeave();
  if (outermost) restoreFlags(flags);
}

/** Entirely free spans the kernel heap keeps rather than giving back (128 KiB each). */
export const KERNEL_HEAP_RESERVE_SPANS: u32 = 2;

const kernelProvider = changetype<PageProvider>(memory.data(offsetof<PageProvider>(), 4));
const kernelHeapBlock = memory.data(HEAP_BYTES, 16);
const kernelHeap = changetype<Heap>(kernelHeapBlock);

function pmmGetPages(context: usize, pages: u32, alignPages: u32): usize {
  const phys = allocFrames(pages, alignPages, lowMemoryEnd());
  return phys == 0 ? 0 : linearVirt(phys);
}

function pmmPutPages(context: usize, address: usize, pages: u32): void {
  freeFrames(<u32>(address - LINEAR_MAP_BASE), pages);
}

function pmmClaimPages(context: usize, address: usize, pages: u32): bool {
  return claimFrames(<u32>(address - LINEAR_MAP_BASE), pages);
}

function pmmGrowPages(context: usize, address: usize, pages: u32, morePages: u32): bool {
  const end = <u64>(address - LINEAR_MAP_BASE) + (<u64>pages << 12);
  if (end + (<u64>morePages << 12) > lowMemoryEnd()) return false;   // past the linear map
  return claimFrames(<u32>end, morePages);
}

// --- the size classes served by slab caches (kmalloc-classes.ts) ----------------------------------

export { KMALLOC_SLAB_MAX };
const slabRegionsBlock = memory.data(SLAB_REGIONS_BYTES, 16);
const slabRegions = changetype<SlabRegions>(slabRegionsBlock);
const classCaches = memory.data(KMALLOC_CLASS_COUNT * CACHE_BYTES, 16);
const classOfSize = memory.data(KMALLOC_TABLE_BYTES, 4);

/** The class cache for a request of `size` bytes (1..KMALLOC_SLAB_MAX). */
@inline function cacheForSize(size: u32): SlabCache { return kmallocCacheForSize(classOfSize, size); }

/**
 * Sets up the kernel heap and the class caches (empty: spans and slabs come on first use). Call
 * once, after pmmInit.
 */
export function kmallocInit(): void {
  registerShrinker("kmalloc (slab caches, heap spans)", kmallocReclaimable, kmallocShrink);
  kernelProvider.context = 0;
  kernelProvider.getPages = changetype<usize>(pmmGetPages);
  kernelProvider.putPages = changetype<usize>(pmmPutPages);
  kernelProvider.growPages = changetype<usize>(pmmGrowPages);
  kernelProvider.claimPages = changetype<usize>(pmmClaimPages);
  heapCreate(kernelHeapBlock, kernelProvider, KERNEL_HEAP_RESERVE_SPANS, true);
  slabRegionsCreate(slabRegionsBlock, kernelProvider);
  regionsSetLock(slabRegions, changetype<usize>(slabLock), changetype<usize>(slabUnlock), klockStarted());   // (smp=on: stashes)
  kmallocClassesInit(slabRegions, classCaches, classOfSize);
}

/**
 * Frames the kmalloc side holds from the PMM now: the kernel heap, the class caches' regions, and
 * the guard allocator (its live allocations and, once used, its record table).
 */
export function kmallocHeldFrames(): u32 {
  return <u32>((kernelHeap.heldBytes + slabRegions.heldBytes) >> 12) + guardHeldFrames();
}

// --- giving memory back (mm/alloc/shrink.ts) --------------------------------------------------

/**
 * Pages the kmalloc side could give back now: every object cache's empty slabs (the kmalloc
 * classes and the kernel's own caches), the free pages of the slab regions, and the heap's
 * entirely free spans. Any context.
 */
export function kmallocReclaimable(): u32 {
  let pages: u32 = kernelHeap.freeSpans * (SPAN_BYTES >> 12) + slabRegions.freePages;
  for (let at = slabRegions.caches; at != 0; at = changetype<SlabCache>(at).next) {
    const cache = changetype<SlabCache>(at);
    pages += cache.emptySlabs * cache.slabPages;
  }
  return pages;
}

/**
 * Gives back what kmallocReclaimable counts: every CPU's parts of every cache are drained (on
 * that CPU: onEachCpu), each cache's empty slabs go back to their regions, whose free pages are
 * then lent to the PMM (regions.ts "Lent pages"); the heap's front cache is merged and its
 * entirely free spans go, reserve included. The kmalloc lock is taken per cache, for the regions
 * and for the heap, so an interrupt waits for one of them at most. Thread context (it may move
 * to each CPU in turn).
 */
export function kmallocShrink(pages: u32): void {
  kmallocShrinkSlabs();
  kmallocVmallocDrain();
  kmallocLock();
  heapTrim(kernelHeap);
  kmallocUnlock();
}

/**
 * kmallocShrink's first half: every CPU's parts drained, every cache's empty slabs given back and
 * the regions' free pages lent to the PMM (the heap left as it is). Thread context; takes the
 * kmalloc lock per cache.
 */
export function kmallocShrinkSlabs(): void {
  onEachCpu(kmallocDrainHere);
  for (let at = slabRegions.caches; at != 0; ) {
    kmallocLock();
    const cache = changetype<SlabCache>(at);
    cacheReleaseEmpty(cache);   // (the parts were drained on their CPUs)
    at = cache.next;
    kmallocUnlock();
  }
  kmallocLock();
  slabRegionsLend(slabRegions);
  kmallocUnlock();
}

/**
 * Gives the running CPU's parts of every cache over the kernel's slab regions (the class caches
 * and kmemCacheCreate's) back to their slabs: its interrupt part, and outside a handler its
 * thread part (a handler may have interrupted a fast path working on it). Interrupts off; takes
 * the kmalloc lock per cache.
 */
export function kmallocDrainHere(): void {
  const threadPart = cpuCacheOffset(), inHandler = inInterrupt();
  for (let at = slabRegions.caches; at != 0; at = changetype<SlabCache>(at).next) {
    kmallocLock();
    if (!inHandler) cacheDrainCpu(changetype<SlabCache>(at), threadPart);
    cacheDrainCpu(changetype<SlabCache>(at), threadPart + CACHE_IRQ_PART);
    kmallocUnlock();
  }
}

// --- sampling into the guard allocator -------------------------------------------------------

const SAMPLING_OFF: u32 = 0xFFFFFFFF;
// A wasm global, which the compiled fast path decrements in place (`dec [instance+n]; je`). (A
// word in linear memory costs four: load, decrement, store, branch.)
let sampleCountdown: u32 = SAMPLING_OFF;
let sampleInterval: u32 = 0;
let sampledCount: u32 = 0;

/**
 * Sends one kmalloc in `interval` to the guard allocator from now on: 0 turns sampling off, 1
 * sends every allocation (`kmalloc=guard`), N one in N (`kfence=N`). The next sample is the
 * `interval`th call from now.
 */
export function kmallocSetSampling(interval: u32): void {
  sampleInterval = interval;
  restartCountdown();
}
@inline function restartCountdown(): void { sampleCountdown = sampleInterval == 0 ? SAMPLING_OFF : sampleInterval; }

/**
 * Runs `body` with sampling off and then as it was: for code that must see the class caches and
 * the heap themselves (their self-tests, which then pass in a kmalloc=guard boot too).
 */
export function kmallocWithoutSampling(body: () => void): void {
  const interval = sampleInterval;
  kmallocSetSampling(0);
  body();
  kmallocSetSampling(interval);
}
/** The sampling interval now (0: off). */
export function kmallocSampling(): u32 { return sampleInterval; }
/** Allocations served by the guard allocator through sampling, ever. */
export function kmallocSampled(): u32 { return sampledCount; }

/**
 * Counts the countdown down; true when it reaches zero (this request is the sample). Outside the
 * lock: an interrupt that allocates between the load and the store of the decrement can only
 * move the next sample by one request.
 */
@inline function countDown(): bool { return --sampleCountdown == 0; }

/**
 * The request whose countdown reached zero: from the guard allocator when sampling is on (or,
 * if it has no room, the usual way), and the countdown starts again. Out of line: the fast path
 * pays only the decrement and the branch. Any context, as kmalloc (the guard allocator only in
 * thread context); never sleeps. (Exported for kmalloc's C twin: bench/fidelity.ts.)
 */
export function kmallocSampleSlow(size: u32, align: u32): usize {
  restartCountdown();
  if (sampleInterval != 0 && size != 0 && inThreadContext()) {   // (the guard allocator needs the VMM)
    const ptr = guardAlloc(size, max<u32>(align, 16));
    if (ptr != 0) { sampledCount++; return ptr; }
  }
  return align <= 16 ? kmallocUnsampled(size) : kmallocHeap(size, align);
}

/**
 * The heap's allocation under the lock, and when the heap has no contiguous low memory for a
 * large block, vmalloc's (kmalloc-vmalloc.ts: thread context only, alignment up to a page).
 */
function kmallocHeap(size: u32, align: u32): usize {
  kmallocLock();
  const ptr = heapAlloc(kernelHeap, size, align);
  kmallocUnlock();
  if (ptr != 0 || size <= LARGE_THRESHOLD || align > 4096 || !inThreadContext()) return ptr;
  return kmallocVmalloc(size);
}

/** The kernel's slab regions (the class caches' pages; more caches may be created over it). */
export function kernelSlabRegions(): SlabRegions { return slabRegions; }

/** The size-to-cache table (kmalloc-classes.ts), for kmalloc's C twin (bench/fidelity.ts). Any context. */
export function kmallocClassTable(): usize { return classOfSize; }

/** The kernel's page provider (PMM low memory through the linear map), for more heap instances. */
export function kernelPageProvider(): PageProvider { return kernelProvider; }

/** The kernel heap instance (for statistics, the checker and tests). */
export function kernelHeapInstance(): Heap { return kernelHeap; }

/**
 * `size` bytes, 16-aligned, contents undefined; 0 for size 0 (logged) or no memory. Up to
 * KMALLOC_SLAB_MAX bytes from a class cache, above from the heap; a sampled request from the
 * guard allocator. Free with kfree.
 */
@inline export function kmalloc(size: u32): usize {
  if (countDown()) return kmallocSampleSlow(size, 16);
  return kmallocUnsampled(size);
}

/** kmalloc without the sampling countdown (its slow path, and the benchmark's control). */
@inline export function kmallocUnsampled(size: u32): usize {
  if (size - 1 >= KMALLOC_SLAB_MAX) return kmallocHeap(size, 0);   // (size 0 too: the heap logs it)
  preemptDisableLocal();   // (the context's part is its own; slow paths lock)
  const ptr = cacheAllocIn(cpuCachePart(cacheForSize(size)));
  preemptEnableLocal();
  return ptr;
}

/** As kmalloc, aligned to `align` (a power of two up to 4096). */
export function kmallocAligned(size: u32, align: u32): usize {
  if (align <= 16) return kmalloc(size);
  if (countDown()) return kmallocSampleSlow(size, align);
  return kmallocHeap(size, align);
}

/** `size` zeroed bytes, or 0 as kmalloc. */
export function kzalloc(size: u32): usize {
  const ptr = kmalloc(size);
  if (ptr != 0) memory.fill(ptr, 0, size);
  return ptr;
}

/** `count` zeroed elements of `size` bytes, or 0 (logged) if count * size overflows 32 bits. */
export function kcalloc(count: u32, size: u32): usize {
  const bytes = <u64>count * size;
  if (bytes > 0xFFFFFFFF) {
    kernelHeap.errors++;
    if (logBegin(LogLevel.Error, "heap")) {
      puts("kcalloc("); putDec(count); puts(", "); putDec(size); puts("): the size overflows; returns 0"); newline();
    }
    return 0;
  }
  return kzalloc(<u32>bytes);
}

/**
 * Resizes a kmalloc'd block to `size` bytes, keeping its contents up to the smaller size: a
 * class object that already holds `size` stays; a heap block goes through heapRealloc; anything
 * else moves (kmalloc, copy, kfree), and a guard object always does. `ptr` 0 allocates; `size`
 * 0 frees and returns 0. A bad `ptr` is logged and returns 0, nothing changed; no memory
 * returns 0 with the old block kept.
 */
export function krealloc(ptr: usize, size: u32): usize {
  if (ptr == 0) return kmalloc(size);
  let guarded = ptr >= vrangeStart();   // (above the linear map: a guard object or a block from vmalloc, as in kfree)
  let have: u32 = 0, slab: usize = 0;
  if (!guarded) {
    kmallocLock();
    slab = slabOf(slabRegions, ptr);
    if (slab == 0) {                     // a heap block, or refused there
      const moved = heapRealloc(kernelHeap, ptr, size);
      kmallocUnlock();
      return moved;
    }
    have = kmallocObjectSize(slab, ptr);
    kmallocUnlock();
  } else {
    have = kmallocVmallocSize(ptr);
    if (have == 0) have = guardSize(ptr); else guarded = false;
  }
  if (have == 0 || size == 0) { kfree(ptr); return 0; }     // (not an object: kfree logs it)
  if (size <= have && !guarded) return ptr;   // (a guard object always moves: a stale pointer then faults)
  const moved = kmalloc(size);
  if (moved == 0) return 0;
  memory.copy(moved, ptr, min<u32>(have, size));
  if (slab != 0) kfreeClassObject(slab, ptr); else kfree(ptr);
  return moved;
}

/**
 * Frees a kmalloc'd block: a class object goes back to its cache, a guard object to the guard
 * allocator, anything else to the heap. A pointer none of them handed out is logged and refused,
 * and the reason (AllocError) is the refusing allocator's own. kfree(0) is a no-op.
 */
@inline export function kfree(ptr: usize): AllocError {
  const slab = slabOf(slabRegions, ptr);   // (a class object's slab stays while it is in use: no lock)
  if (slab == 0) return kfreeSlow(ptr);
  return kfreeClassObject(slab, ptr);
}

/** kfree of `ptr` in slab `slab` of the class caches (slabOf's answer, not 0): to its cache, with its verdict. */
@inline function kfreeClassObject(slab: usize, ptr: usize): AllocError {
  preemptDisableLocal();   // (as kmallocUnsampled)
  const error = cacheFreeInSlab(cpuCachePart(kmallocObjectCache(slab)), slab, ptr);
  preemptEnableLocal();
  return error;
}

/** kfree of anything but a class object: 0, a heap block (or refused there) under the kmalloc lock, or a guard object. */
function kfreeSlow(ptr: usize): AllocError {
  if (ptr < vrangeStart()) {
    if (ptr == 0) return AllocError.Ok;
    kmallocLock();
    const error = heapFree(kernelHeap, ptr);
    kmallocUnlock();
    return error;
  }
  if (kmallocVmallocFree(ptr)) return AllocError.Ok;   // (a large block vmalloc served)
  return guardFree(ptr);   // (the only other kmalloc memory above the linear map; it logs a refusal)
}

/**
 * The usable size of a kmalloc'd block (its class's size for a class object, the size asked for
 * for a guard object), or 0 for a pointer none of them handed out or a freed guard object. (A
 * class object already freed still reports its size: only slab_debug can tell.)
 */
export function ksize(ptr: usize): u32 {
  if (ptr >= vrangeStart()) { const large = kmallocVmallocSize(ptr); return large != 0 ? large : guardSize(ptr); }
  kmallocLock();
  const slab = slabOf(slabRegions, ptr);
  const size = slab == 0 ? heapSize(kernelHeap, ptr) : kmallocObjectSize(slab, ptr);
  kmallocUnlock();
  return size;
}

/**
 * The kernel heap's and the slab regions' checkers: Invariant.Holds, or the first broken
 * invariant. Runs under the lock (interrupts off throughout: for tests and debugging). With
 * smp=on the caches' parts of other CPUs, which they use without the lock, are only counted.
 * Any context.
 */
export function kmallocCheck(): Invariant {
  kmallocLock();
  const heap = heapCheck(kernelHeap);
  const result = heap != Invariant.Holds ? heap : slabCheckAll(slabRegions, cpuCachesReadable());
  kmallocUnlock();
  return result;
}
