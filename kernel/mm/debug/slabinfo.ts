// The slabinfo table: one line per cache of a set of slab regions, in the manner of Linux's /proc/slabinfo,
// printed as `# ` lines (TAP comments) at the end of `test=all` and with the boot option
// `slabinfo`.
//
//   # slabinfo: name              objsize   active    total  slabs  pages     wasted cpuslabs cpufree
//   # slabinfo: kmalloc-64             64     1000     1024     16     16       1024        1      24
//   # slabinfo: 2 slab regions, 52 slab pages free in them, 0 lent to the PMM, 256 KiB held
//
// objsize is the size objects take (the request rounded to the alignment, with the
// constructor's link); active the objects in use; total the objects the slabs hold; wasted the
// bytes of the cache's pages not in live objects as asked for (free objects, slab tails,
// rounding); cpuslabs the slabs active on a CPU, cpufree the free objects the CPUs' parts hold
// (their active slabs' free lists and their stashes: slab/cache.ts). With smp=on another CPU's
// active slab cannot be walked while it runs: its free objects count as active, as Linux's
// slabinfo counts its per-CPU slabs, and only its stash is in cpufree. The regions' own region
// header pages (one per region) are in the last line.
import { puts, putDec, putSize, padTo, newline } from "../../console/console";
import { SlabRegions, REGION_BYTES, regionsLock, regionsUnlock } from "../core/slab/regions";
import {
  SlabCache, cacheSlabsInUse, cacheCpuFree,
} from "../core/slab/cache";
import { saveFlagsAndCli, restoreFlags } from "../../arch/x86";
import { cpuCachesReadable } from "../../arch/percpu";
import { PROVIDER_PAGE_SIZE } from "../core/pages";

/** Decimal digits of `value`. */
function digits(value: u64): u32 {
  let n: u32 = 1;
  while (value >= 10) { value /= 10; n++; }
  return n;
}

/** `value` right-aligned in `width` columns after one space. */
function column(value: u64, width: u32): void {
  padTo(digits(value), width + 1);
  putDec(value);
}

let cpuFree: u32 = 0;   // activeObjects' second answer

/**
 * Objects of `cache` in use (cacheActiveObjects, the parts this CPU may read), under the regions'
 * lock; cpuFree becomes the free objects the CPUs' parts hold (cacheCpuFree). Interrupts off
 * meanwhile (the running CPU's part is its own).
 */
function activeObjects(cache: SlabCache): u32 {
  const flags = saveFlagsAndCli();
  regionsLock(cache.regions);
  const readable = cpuCachesReadable();
  cpuFree = cacheCpuFree(cache, readable);
  const active = cacheSlabsInUse(cache) - cpuFree;
  regionsUnlock(cache.regions);
  restoreFlags(flags);
  return active;
}

/** Prints the slabinfo table of `regions` (its caches, then the regions). O(slabs). Thread context or a handler. */
export function slabPrintInfo(regions: SlabRegions): void {
  puts("# slabinfo: name              objsize   active    total  slabs  pages     wasted cpuslabs cpufree\n");
  for (let at = regions.caches; at != 0; at = changetype<SlabCache>(at).next) {
    const cache = changetype<SlabCache>(at);
    const active = activeObjects(cache), free = cpuFree, pages = cache.slabCount * cache.slabPages;
    const name = changetype<string>(cache.name);
    puts("# slabinfo: "); puts(name); padTo(name.length, 17);
    column(cache.objectSize, 7);
    column(active, 8);
    column(<u64>cache.slabCount * cache.capacity, 8);
    column(cache.slabCount, 6);
    column(pages, 6);
    column(<u64>pages * PROVIDER_PAGE_SIZE - <u64>active * cache.requestedSize, 10);
    column(cache.activeSlabs, 8);
    column(free, 7);
    newline();
  }
  puts("# slabinfo: "); putDec(regions.regionCount); puts(" slab regions, "); putDec(regions.freePages);
  puts(" slab pages free in them, "); putDec(regions.lentPages); puts(" lent to the PMM, "); putSize(<u64>regions.heldBytes); puts(" held\n");
}
