// The slab regions: where object caches (slab/cache.ts) get their slabs. They take regions of
// REGION_BYTES from a page provider (pages.ts) and hand out runs of whole pages inside them;
// every slab's header lives in its region's slab table, not in the slab, so a slab's pages hold
// objects only, and the slab of any object is found by arithmetic. Hardware-independent: they
// run on the host over a buffer and in the kernel over the PMM.
//
// A region: REGION_BYTES, aligned to REGION_BYTES, so the region of any address is
// `address & ~REGION_MASK`.
//
//   +0      region header (REGION_HEADER bytes)
//             +0 magic "SLAR"  +4 regions  +8 next region  +12 previous region
//             +16 next roomy region  +20 previous roomy region  +24 free-page mask  +28 on roomy list
//             +32 lent-page mask
//   +64     slab table: one SLAB_ENTRY (32 bytes) per page of the region, 32 entries
//   ...     (the rest of page 0: unused)
//   +4096   page 1 .. page 31: slab pages
//
// A slab table entry, for page p (the entry of a slab's first page is the slab's header):
//
//   +0  head    the slab's header (this entry, for the first page; the first page's entry, for the
//               others); 0 for a free page and for page 0
//   +4  cache   the cache the slab belongs to
//   +8  free    the first free object (each free object holds the next in its first word), or 0
//   +12 inUse   objects handed out
//   +16 next    next slab on the cache's list   +20 prev  previous slab on it
//   +24 pages   pages in the slab (u16)          +26 list  which list it is on (u16, SlabList)
//   +28 start   the address of the slab's first page (its first object)
//
// The chunk map (in the regions' control block): a byte per REGION_BYTES of the address space,
// 1 where a region of these regions starts, so that a pointer is validated without reading memory
// the regions do not own. Regions with a free page are also on the "roomy" list.
//
// Lent pages: reclaim (slabRegionsLend) gives every free page of every region back to the
// provider, so that memory freed in scattered slabs returns although no region empties. A lent
// page is neither free nor a slab's (its bit moves from the free mask to the lent mask, its
// entry stays 0, and its frame may be anyone's now). A region whose other pages are all free
// goes back to the provider without its lent pages; when no region has room and the provider
// has no new region, lent pages are claimed back one by one (providerClaim) where still free.
import { PageProvider, RunVisitor, providerGet, providerPut, providerClaim, PROVIDER_PAGE_SIZE } from "../pages";
import { Invariant } from "../invariant";
import { listPush, listUnlink } from "../../../lib/list";

export const REGION_SHIFT: u32 = 17;
export const REGION_BYTES: u32 = 1 << REGION_SHIFT;   // 128 KiB
const REGION_MASK: u32 = REGION_BYTES - 1;
export const REGION_PAGES: u32 = REGION_BYTES / PROVIDER_PAGE_SIZE;   // 32
const REGION_MAGIC: u32 = 0x52414C53;                 // "SLAR"
/** A region's header, at its start (the first REGION_HEADER bytes; the box above). */
@unmanaged class RegionHeader {
  magic: u32;          // REGION_MAGIC
  owner: usize;        // the SlabRegions it belongs to
  next: usize;         // every region of the owner, doubly linked
  prev: usize;
  roomyNext: usize;    // the regions with a free page, doubly linked
  roomyPrev: usize;
  freeMask: u32;       // bit p: page p is free (page 0, the header's, never)
  onRoomy: u32;        // 1 while on the roomy list
  lentMask: u32;       // bit p: page p was free and is lent to the provider (never in freeMask)
}
@inline function regionHeader(region: usize): RegionHeader { return changetype<RegionHeader>(region); }
/** The same header as the roomy list sees it (lib/list.ts links through `next` and `prev`). */
@unmanaged class RoomyNode {
  magic: u32;
  owner: usize;
  allNext: usize;
  allPrev: usize;
  next: usize;         // RegionHeader.roomyNext
  prev: usize;         // RegionHeader.roomyPrev
}
// (the two views of one header must agree, or the roomy list would corrupt the other fields)
if (offsetof<RoomyNode>("next") != offsetof<RegionHeader>("roomyNext") || offsetof<RoomyNode>("prev") != offsetof<RegionHeader>("roomyPrev")) {
  ERROR("RoomyNode's next and prev must lie where RegionHeader's roomyNext and roomyPrev do");
}
@inline function allAt(regions: SlabRegions): usize { return changetype<usize>(regions) + offsetof<SlabRegions>("all"); }
@inline function roomyAt(regions: SlabRegions): usize { return changetype<usize>(regions) + offsetof<SlabRegions>("roomy"); }
export const REGION_HEADER: u32 = 64;
/** Every page of a region but page 0 (the header and the slab table) is free. */
const ALL_FREE: u32 = 0xFFFFFFFE;
/** The most pages one slab may have. */
export const MAX_SLAB_PAGES: u32 = 8;

/**
 * A slab table entry (the box above): the entry of a slab's first page is the slab's header,
 * which the caches work with; the entries of its other pages only point to it (`head`).
 */
@unmanaged export class SlabEntry {
  head: usize;     // the slab's header: this entry for the first page, 0 for a free page
  cache: usize;    // the cache the slab belongs to
  free: usize;     // the first free object, or 0
  inUse: u32;      // objects handed out
  next: usize;     // the next and previous slab on the cache's list
  prev: usize;
  pages: u16;      // pages in the slab
  list: u16;       // which list it is on (SlabList)
  start: usize;    // the address of the slab's first page (its first object)
}
export const SLAB_ENTRY: u32 = offsetof<SlabEntry>();   // 32
/** The slab table entry (or slab header) at `at`. */
@inline export function slabEntry(at: usize): SlabEntry { return changetype<SlabEntry>(at); }

const CHUNKS: u32 = <u32>((<u64>1 << 32) >> REGION_SHIFT);   // 32768: a byte each

// The regions' control block (SLAB_REGIONS_BYTES, caller's memory): these fields, then the chunk map.
@unmanaged export class SlabRegions {
  provider: PageProvider;
  all: usize;            // every region (doubly linked through RegionHeader.next / prev)
  roomy: usize;          // regions with a free page (through RegionHeader.roomyNext / roomyPrev)
  regionCount: u32;
  freePages: u32;        // free slab pages in all regions
  heldBytes: usize;      // bytes held from the provider (lent pages not counted)
  peakHeldBytes: usize;
  caches: usize;         // the caches created over these regions (slab/cache.ts links them)
  errors: u32;           // bad pointers and bad requests reported by the caches
  lentPages: u32;        // pages lent to the provider now (see "Lent pages")
  lentEver: u32;         // pages lent, ever
  recalled: u32;         // lent pages claimed back, ever
  lock: usize;           // a () => void that takes the lock of what the CPUs share (0: none, one CPU)
  unlock: usize;         // and one that gives it back (see regionsSetLock)
  stashFrees: u32;       // 1: the caches batch frees outside a CPU's active slab in its stash (several CPUs; regionsSetLock)
}

const FIELDS_BYTES: u32 = (offsetof<SlabRegions>() + 15) & ~15;
/** Bytes of a set of slab regions' control block. */
export const SLAB_REGIONS_BYTES: u32 = FIELDS_BYTES + CHUNKS;
/** Where the chunk map of `regions` lies in its control block (FIELDS_BYTES in: an add, no load). Any context. */
@inline export function chunkMapOf(regions: SlabRegions): usize { return changetype<usize>(regions) + FIELDS_BYTES; }
/** The chunk map's offset in the control block (for the C twins' layout check). */
export const SLAB_CHUNK_MAP_OFFSET: u32 = FIELDS_BYTES;

/** Makes empty slab regions whose control block (SLAB_REGIONS_BYTES) is at `at`, over `provider`. */
export function slabRegionsCreate(at: usize, provider: PageProvider): SlabRegions {
  memory.fill(at, 0, SLAB_REGIONS_BYTES);
  const regions = changetype<SlabRegions>(at);
  regions.provider = provider;
  return regions;
}

/**
 * The lock the caches over `regions` take around what their CPUs share (their slab lists and
 * counts, the regions themselves): `lock` and `unlock` are () => void (0, 0 for none: one CPU,
 * the host). The caches take it on their slow paths only (slab/cache.ts); whoever calls the
 * regions' own functions holds it. The kernel's are its kernel lock (mm/alloc/kmalloc.ts).
 * `severalCpus` says whether more than one CPU will use the caches: then a free outside a CPU's
 * active slab waits in that CPU's stash and goes to its slab with others, under one taking of
 * the lock. On one CPU (the default) it goes to its slab at once, in the cores' one-CPU section
 * (section.ts) instead of the lock: that keeps out the CPU's own interrupt handlers, not other
 * CPUs, so false is right only while no other CPU uses the caches. Boot, before the caches are
 * first used.
 */
export function regionsSetLock(regions: SlabRegions, lock: usize, unlock: usize, severalCpus: bool = false): void {
  regions.lock = lock;
  regions.unlock = unlock;
  regions.stashFrees = severalCpus ? 1 : 0;
}
/** Takes the regions' lock (regionsSetLock), if they have one. */
@inline export function regionsLock(regions: SlabRegions): void {
  const lock = regions.lock;
  if (lock != 0) changetype<() => void>(lock)();
}
/** Gives it back. */
@inline export function regionsUnlock(regions: SlabRegions): void {
  const unlock = regions.unlock;
  if (unlock != 0) changetype<() => void>(unlock)();
}

@inline function regionOf(address: usize): usize { return address & ~(<usize>REGION_MASK); }
@inline function entryAt(region: usize, page: u32): usize { return region + REGION_HEADER + page * SLAB_ENTRY; }
/** The address of page `page` of `region`. */
@inline export function pageAddress(region: usize, page: u32): usize { return region + (<usize>page << 12); }

/**
 * The header of the slab that `address` lies in, or 0 if it is not in a slab page of these regions
 * (a foreign pointer, page 0 of a region, a free page). Reads only memory the regions owns. O(1).
 */
@inline export function slabOf(regions: SlabRegions, address: usize): usize {
  if (load<u8>(chunkMapOf(regions) + <u32>(address >> REGION_SHIFT)) == 0) return 0;
  return load<usize>(entryAt(regionOf(address), <u32>(address >> 12) & (REGION_PAGES - 1)));
}

/** The first run of `pages` set bits in `mask` (its lowest bit's index), or 32. */
function firstRun(mask: u32, pages: u32): u32 {
  let run = mask;
  for (let i: u32 = 1; i < pages; i++) run &= mask >> i;
  return run == 0 ? 32 : ctz(run);
}

/**
 * A run of `pages` (1..MAX_SLAB_PAGES) contiguous slab pages: the header of the slab they make
 * (its entries point at it; the caller fills in the rest), or 0 if the provider has no region.
 * Looks in the first roomy region only, then takes a new one: O(1) apart from the provider.
 */
export function slabPagesTake(regions: SlabRegions, pages: u32): usize {
  let region = regions.roomy;
  let first: u32 = region != 0 ? firstRun(regionHeader(region).freeMask, pages) : 32;
  if (first == 32) {
    region = regionAdd(regions);
    if (region != 0) first = 1;
    else {
      region = recall(regions, pages);
      if (region == 0) return 0;
      first = firstRun(regionHeader(region).freeMask, pages);
    }
  }
  const mask = regionHeader(region).freeMask & ~(((<u32>1 << pages) - 1) << first);
  regionHeader(region).freeMask = mask;
  if (mask == 0) roomyRemove(regions, region);
  regions.freePages -= pages;
  const head = entryAt(region, first);
  for (let p: u32 = 0; p < pages; p++) slabEntry(entryAt(region, first + p)).head = head;
  slabEntry(head).pages = <u16>pages;
  slabEntry(head).start = pageAddress(region, first);
  return head;
}

/**
 * Gives the pages of slab `slab` back to its region; a region left with no slab goes back to
 * the provider. The caller has taken the slab off its cache's lists.
 */
export function slabPagesGive(regions: SlabRegions, slab: usize): void {
  const region = regionOf(slab);
  const first = <u32>(slab - region - REGION_HEADER) / SLAB_ENTRY, pages = <u32>slabEntry(slab).pages;
  for (let p: u32 = 0; p < pages; p++) slabEntry(entryAt(region, first + p)).head = 0;
  const mask = regionHeader(region).freeMask | (((<u32>1 << pages) - 1) << first);
  regionHeader(region).freeMask = mask;
  regions.freePages += pages;
  if ((mask | regionHeader(region).lentMask) == ALL_FREE) { regionRelease(regions, region); return; }
  if (regionHeader(region).onRoomy == 0) roomyPush(regions, region);
}

function regionAdd(regions: SlabRegions): usize {
  const region = providerGet(regions.provider, REGION_PAGES, REGION_PAGES);
  if (region == 0) return 0;
  regionHeader(region).magic = REGION_MAGIC;
  regionHeader(region).owner = changetype<usize>(regions);
  listPush<RegionHeader>(region, allAt(regions));
  regionHeader(region).freeMask = ALL_FREE;
  regionHeader(region).onRoomy = 0;
  regionHeader(region).lentMask = 0;
  memory.fill(region + REGION_HEADER, 0, REGION_PAGES * SLAB_ENTRY);   // every page free
  roomyPush(regions, region);
  store<u8>(chunkMapOf(regions) + <u32>(region >> REGION_SHIFT), 1);
  regions.regionCount++;
  regions.freePages += REGION_PAGES - 1;
  regions.heldBytes += REGION_BYTES;
  if (regions.heldBytes > regions.peakHeldBytes) regions.peakHeldBytes = regions.heldBytes;
  return region;
}

/** Gives a region whose pages are all free or lent back to the provider (its lent pages are the provider's already). */
function regionRelease(regions: SlabRegions, region: usize): void {
  if (regionHeader(region).onRoomy != 0) roomyRemove(regions, region);
  listUnlink<RegionHeader>(region, allAt(regions));
  store<u8>(chunkMapOf(regions) + <u32>(region >> REGION_SHIFT), 0);
  regionHeader(region).magic = 0;
  const lent = regionHeader(region).lentMask;
  regions.regionCount--;
  regions.freePages -= popcnt(regionHeader(region).freeMask);
  regions.lentPages -= popcnt(lent);
  regions.heldBytes -= <usize>(REGION_PAGES - popcnt(lent)) * PROVIDER_PAGE_SIZE;
  if (lent == 0) { providerPut(regions.provider, region, REGION_PAGES); return; }
  putRuns(regions, region, ~lent);   // (page 0 and the free pages: the header last, with the rest)
}

/**
 * Calls `visit(context, address, pages)` (a RunVisitor, or a PutPages: the same shape) for each
 * run of the pages of `region` whose bits are set in `mask`, lowest first.
 */
function visitRuns(region: usize, mask: u32, visit: usize, context: usize): void {
  while (mask != 0) {
    const first = ctz(mask);
    const run = ctz(~(mask >> first));   // (32 when every bit from `first` up is set)
    changetype<RunVisitor>(visit)(context, pageAddress(region, first), run);
    mask = run + first >= 32 ? 0 : mask & ~(((<u32>1 << run) - 1) << first);
  }
}

/** Gives the provider each run of the pages of `region` whose bits are set in `mask`. */
@inline function putRuns(regions: SlabRegions, region: usize, mask: u32): void {
  visitRuns(region, mask, regions.provider.putPages, regions.provider.context);
}

/**
 * Lends every free page of every region to the provider (reclaim: see "Lent pages"): the pages
 * lent. O(regions). One caller at a time (the kernel's: under the kmalloc lock, any context).
 */
export function slabRegionsLend(regions: SlabRegions): u32 {
  let lent: u32 = 0;
  for (let region = regions.all; region != 0; region = regionHeader(region).next) {
    const free = regionHeader(region).freeMask;
    if (free == 0) continue;
    roomyRemove(regions, region);
    regionHeader(region).freeMask = 0;
    regionHeader(region).lentMask |= free;
    putRuns(regions, region, free);
    const n = popcnt(free);
    lent += n;
    regions.freePages -= n;
    regions.heldBytes -= <usize>n * PROVIDER_PAGE_SIZE;
  }
  regions.lentPages += lent;
  regions.lentEver += lent;
  return lent;
}

/**
 * Claims lent pages back, page by page where the provider still has them free, until some
 * region has a run of `pages` free pages: that region, or 0. O(regions) claims at most.
 */
function recall(regions: SlabRegions, pages: u32): usize {
  for (let region = regions.all; region != 0; region = regionHeader(region).next) {
    let lent = regionHeader(region).lentMask;
    if (lent == 0) continue;
    let got: u32 = 0;
    while (lent != 0) {
      const p = ctz(lent);
      lent &= lent - 1;
      if (!providerClaim(regions.provider, pageAddress(region, p), 1)) continue;
      regionHeader(region).lentMask &= ~(<u32>1 << p);
      regionHeader(region).freeMask |= <u32>1 << p;
      got++;
    }
    if (got == 0) continue;
    regions.lentPages -= got;
    regions.recalled += got;
    regions.freePages += got;
    regions.heldBytes += <usize>got * PROVIDER_PAGE_SIZE;
    if (regionHeader(region).onRoomy == 0) roomyPush(regions, region);
    if (firstRun(regionHeader(region).freeMask, pages) != 32) return region;
  }
  return 0;
}

function roomyPush(regions: SlabRegions, region: usize): void {
  listPush<RoomyNode>(region, roomyAt(regions));
  regionHeader(region).onRoomy = 1;
}

function roomyRemove(regions: SlabRegions, region: usize): void {
  listUnlink<RoomyNode>(region, roomyAt(regions));
  regionHeader(region).onRoomy = 0;
}

/** Calls `visit(context, address, pages)` for every region the regions hold. O(regions). */
export function slabRegionsEach(regions: SlabRegions, visit: RunVisitor, context: usize): void {
  for (let region = regions.all; region != 0; region = regionHeader(region).next) {
    visitRuns(region, ~regionHeader(region).lentMask, changetype<usize>(visit), context);   // (a lent page is the provider's)
  }
}

/**
 * Checks every region: magic, owner, links, chunk map, free-page masks against the slab
 * table, the roomy list and the counts. Returns Invariant.Holds, or the first broken invariant
 * (SlabRegionHeader, SlabTable, SlabRoomyList, SlabRegionCounts; invariant.ts). O(regions); for
 * tests and debugging.
 */
export function slabRegionsCheck(regions: SlabRegions): Invariant {
  let seen: u32 = 0, freePages: u32 = 0, lentPages: u32 = 0, roomy: u32 = 0, prev: usize = 0;
  for (let region = regions.all; region != 0; region = regionHeader(region).next) {
    if (regionHeader(region).magic != REGION_MAGIC || regionHeader(region).owner != changetype<usize>(regions)) return Invariant.SlabRegionHeader;
    if (regionHeader(region).prev != prev || (region & REGION_MASK) != 0) return Invariant.SlabRegionHeader;
    if (load<u8>(chunkMapOf(regions) + <u32>(region >> REGION_SHIFT)) != 1) return Invariant.SlabRegionHeader;
    prev = region; seen++;
    const mask = regionHeader(region).freeMask, lent = regionHeader(region).lentMask;
    if (((mask | lent) & 1) != 0 || (mask & lent) != 0 || slabEntry(entryAt(region, 0)).head != 0) return Invariant.SlabTable;
    if ((mask | lent) == ALL_FREE) return Invariant.SlabTable;   // (such a region goes back at once)
    for (let p: u32 = 1; p < REGION_PAGES; p++) {
      const head = slabEntry(entryAt(region, p)).head;
      if ((((mask | lent) >> p) & 1) != (head == 0 ? 1 : 0)) return Invariant.SlabTable;
      if (head != 0) {
        // The head is an entry of this region at or before p, whose slab covers p.
        if (regionOf(head) != region || head > entryAt(region, p) || head < entryAt(region, 1)) return Invariant.SlabTable;
        const first = <u32>(head - region - REGION_HEADER) / SLAB_ENTRY;
        if (p >= first + <u32>slabEntry(head).pages || slabEntry(head).start != pageAddress(region, first)) return Invariant.SlabTable;
      }
    }
    freePages += popcnt(mask);
    lentPages += popcnt(lent);
    if ((regionHeader(region).onRoomy != 0) != (mask != 0)) return Invariant.SlabRoomyList;
  }
  prev = 0;
  for (let region = regions.roomy; region != 0; region = regionHeader(region).roomyNext) {
    if (regionHeader(region).roomyPrev != prev || regionHeader(region).onRoomy == 0) return Invariant.SlabRoomyList;
    prev = region;
    if (++roomy > seen) return Invariant.SlabRoomyList;
  }
  if (seen != regions.regionCount || freePages != regions.freePages || lentPages != regions.lentPages) return Invariant.SlabRegionCounts;
  if (regions.heldBytes != <usize>(seen * REGION_PAGES - lentPages) * PROVIDER_PAGE_SIZE) return Invariant.SlabRegionCounts;
  return Invariant.Holds;
}
