// The object caches' control blocks: a cache's fields and its CPUs' parts, laid out for the fast
// paths (slab/cache.ts holds what is done with them). Hardware-independent.
//
//   a control block (CACHE_BYTES, the caller's memory; cacheCreate is given its start):
//
//     [thread part 0] ... [thread part 15][interrupt part 0] ... [interrupt part 15][fields (SlabCache)]
//     ^ the block's start                  ^ + CACHE_IRQ_PART                        ^ where a SlabCache points
//
//   Each CPU has two parts: one for the code that runs in thread context on it, one for its
//   interrupt handlers (the kernel moves a CPU to the second while a handler runs: arch/context.ts
//   irqEnter). A handler then never finds the part it would use in the middle of an interrupted
//   fast path, so the fast paths need preemption off, not interrupts off. To the cache a part is a
//   part: what one frees, another may have allocated.
//
//   a CPU's part (CacheCpu, CACHE_CPU_BYTES):
//     +0 freelist  +4 activeStart  +8 activeObjects  +12 active  +16 stashed
//     +20 cache  +24 divInverse  +28 divShift  +32 divLimit
//     +36 stash: STASH_CAPACITY (23) object addresses, the newest last
//
// The parts come before the fields, so CPU i's thread part lies at the cache's address plus
// cacheCpuOffset(i), a u32 that wraps, and its interrupt part CACHE_IRQ_PART further; the kernel
// keeps the running context's offset in each CPU's record, and a fast path reaches its part with
// one `addl %gs:` (arch/percpu.ts cpuCachePart). A part carries
// the cache's address and divisibility test, so that the fast paths need the part alone: one
// register less live on i386. (They need no link offset: only a cache whose free objects hold
// their link at +0 has active slabs; slab/cache.ts.)
import { SlabRegions } from "./regions";
import { DivisorTest } from "../../../lib/bits";

/** Which list a slab is on. */
export const enum SlabList { Empty = 0, Partial = 1, Full = 2, Active = 3 }

// A cache's fields (what a SlabCache points at).
@unmanaged export class SlabCache {
  regions: SlabRegions;
  name: usize;            // a string (the caller keeps it alive: a literal)
  requestedSize: u32;     // the object size asked for
  objectSize: u32;        // the size an object takes: rounded up to its alignment, with the link
  align: u32;
  ctor: usize;            // a Constructor, or 0
  linkOffset: u32;        // where a free object holds the next one: 0, or after it (a ctor)
  slabPages: u32;
  capacity: u32;          // objects per slab
  activeSlabs: u32;       // slabs active on a CPU (on no list)
  remoteHeld: u32;        // objects other CPUs' stashes gave to active slabs, on those slabs'
                          // own lists until their CPUs deactivate them
  partial: usize;         // list heads (slab headers, linked through SlabEntry.next / prev)
  full: usize;
  empty: usize;
  emptySlabs: u32;
  maxEmpty: u32;          // empty slabs kept (config)
  slabCount: u32;
  next: usize;            // the regions' list of caches
  prev: usize;
  live: u32;              // 1 from create to destroy
  debug: u32;             // 1: slab_debug (slab/debug.ts): red zones, poison, exact double frees
  zone: u32;              // slab_debug: the red zone before each object (0 otherwise)
  debugErrors: u32;       // slab_debug: reports made
}

/** A CPU's part of a cache (the box above). */
@unmanaged export class CacheCpu {
  freelist: usize;        // its active slab's free objects (its fast paths' list), or 0
  activeStart: usize;     // its active slab's first object (0: none)
  activeObjects: u32;     // and its objects (capacity; 0: none)
  active: usize;          // its active slab: on no list, its free objects on `freelist`
  stashed: u32;           // objects in the stash, which follows these fields
  cache: usize;           // the cache, and a copy of its divisibility test (set when it is made)
  divInverse: u32;        // a DivisorTest in place (lib/bits.ts): whether an offset is a multiple
  divShift: u32;          // of objectSize, without a div on the fast path
  divLimit: u32;
}
/** Bytes of a CPU's part: its fields and its stash. */
export const CACHE_CPU_BYTES: u32 = 128;
/** Objects a CPU's stash holds. */
export const STASH_CAPACITY: u32 = (CACHE_CPU_BYTES - offsetof<CacheCpu>()) >> 2;
/** CPUs a cache has parts for (the kernel's MAX_CPUS must not be larger: arch/percpu.ts). */
export const CACHE_MAX_CPUS: u32 = 16;
/** Parts of a cache: a thread part and an interrupt part for each CPU. */
export const CACHE_PARTS: u32 = 2 * CACHE_MAX_CPUS;
/** How far a CPU's interrupt part lies after its thread part. */
export const CACHE_IRQ_PART: u32 = CACHE_MAX_CPUS * CACHE_CPU_BYTES;
const PARTS_BYTES: u32 = CACHE_PARTS * CACHE_CPU_BYTES;
/** Bytes of a cache's control block: CACHE_PARTS parts, then its fields. */
export const CACHE_BYTES: u32 = PARTS_BYTES + ((offsetof<SlabCache>() + 15) & ~15);
/** What the functions that take a CPU are given to mean every CPU's part. */
export const ALL_CPUS: u32 = 0xFFFFFFFF;

/** The cache whose control block starts at `block` (what cacheCreate was given). */
@inline export function cacheInBlock(block: usize): SlabCache { return changetype<SlabCache>(block + PARTS_BYTES); }
/** The start of `cache`'s control block (to free it). */
@inline export function cacheBlock(cache: SlabCache): usize { return changetype<usize>(cache) - PARTS_BYTES; }

/**
 * Where CPU `index`'s thread part of any cache lies from the cache's address: what the caches'
 * functions take as `cpu`, meaning that CPU (both its parts) where they walk parts.
 */
@inline export function cacheCpuOffset(index: u32): u32 { return index * CACHE_CPU_BYTES - PARTS_BYTES; }
/** Where part `index` (0 to CACHE_PARTS - 1: the thread parts, then the interrupt parts) lies from the cache's address. */
@inline export function cachePartOffset(index: u32): u32 { return index * CACHE_CPU_BYTES - PARTS_BYTES; }
/** Whether the part at `offset` is one of CPU `cpu`'s (a cacheCpuOffset), or `cpu` is ALL_CPUS. */
@inline export function cachePartOf(offset: u32, cpu: u32): bool {
  return cpu == ALL_CPUS || offset == cpu || offset == cpu + CACHE_IRQ_PART;
}
/** CPU 0's offset: the functions' default, for one CPU. */
export const CPU0: u32 = 0 - PARTS_BYTES;
/** The part of `cache` at offset `cpu` (cacheCpuOffset). */
@inline export function cacheCpu(cache: SlabCache, cpu: u32): CacheCpu {
  return changetype<CacheCpu>(changetype<usize>(cache) + cpu);
}
/** The address of stash slot `i` of `part`. */
@inline export function cacheStashSlot(part: CacheCpu, i: u32): usize { return changetype<usize>(part) + offsetof<CacheCpu>() + (i << 2); }

/** The head of `cache`'s list `list` (SlabList: Empty, Partial or Full). */
@inline export function listHeadAt(cache: SlabCache, list: u32): usize {
  return changetype<usize>(cache) + (list == SlabList.Empty ? offsetof<SlabCache>("empty") :
    list == SlabList.Partial ? offsetof<SlabCache>("partial") : offsetof<SlabCache>("full"));
}

/** A part's divisibility test for its cache's object size (its words lie in the part). Any context. */
@inline export function partDivisor(part: CacheCpu): DivisorTest {
  return changetype<DivisorTest>(changetype<usize>(part) + offsetof<CacheCpu>("divInverse"));
}
// (the three words must lie as DivisorTest's)
if (offsetof<CacheCpu>("divShift") - offsetof<CacheCpu>("divInverse") != offsetof<DivisorTest>("shift")
    || offsetof<CacheCpu>("divLimit") - offsetof<CacheCpu>("divInverse") != offsetof<DivisorTest>("limit")) {
  ERROR("CacheCpu's divInverse, divShift and divLimit must lie as a DivisorTest");
}
