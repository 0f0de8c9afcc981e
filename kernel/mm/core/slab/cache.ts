// Object caches: fixed-size objects carved from slabs, each slab one or more pages of a slab
// regions (slab/regions.ts). A cache keeps its slabs on three lists by how full they are, and at most
// `maxEmpty` empty slabs; free objects are linked through their first word. Hardware-independent.
//
//   cache ──active───> slab                      its free objects are the cache's `freelist`:
//                                                 the fast paths pop and push there
//         ──partial──> slab <-> slab <-> ...     some objects free: the next active slab
//         ──full─────> slab <-> ...              no object free
//         ──empty────> slab <-> ...              no object in use (kept for reuse, up to maxEmpty)
//
// The active slab counts as wholly in use while active (in the manner of SLUB's per-CPU slab):
// an allocation pops the cache's free list and a free of one of its objects (its address range
// alone proves that) pushes onto it, with no count and no list to touch. When the list runs dry,
// the slab is full and another becomes active; frees of other slabs' objects take the slow path,
// which finds the slab through the regions and keeps its count and its list.
//
//   a slab's pages:  [object 0][object 1] ... [object capacity-1][waste]
//   a free object:   [next free object (or 0)][ ... ]                 (no constructor)
//                    [ ... constructed state ... ][next free object]  (with one: the link
//                                                                      after the object)
//
// The slab of an object comes from slab/regions.ts's slabOf (its region's slab table), so a free
// checks that the object belongs to this cache, starts an object and is not the slab's newest
// free object (the cheapest double-free check) without searching or trusting the pointer.
import {
  ReportLevel, reportBegin, reportText, reportAddress, reportDec, reportLast,
} from "../report";
import {
  SlabRegions, slabOf, slabPagesTake, slabPagesGive, MAX_SLAB_PAGES, slabEntry, SlabEntry,
} from "./regions";
import { PROVIDER_PAGE_SIZE } from "../pages";
import {
  slabDebugWanted, debugZone, debugLinkOffset, debugSlotSize, debugFillSlot, debugCheckZones,
  debugCheckPoison, debugMarkRounding, RED, RED_ZONE, POISON, SLOT_FREE, SLOT_ALLOCATED,
} from "./debug";
import { AllocError, allocErrorText } from "../alloc-error";
import { listPush, listUnlink } from "../../../lib/list";
import { DivisorTest, divisorTestInit, exactQuotient } from "../../../lib/bits";

/** The smallest object: a free object holds a pointer (without a constructor). */
const MIN_OBJECT: u32 = 4;
/** The alignment of objects when the caller asks for none. */
export const DEFAULT_ALIGN: u32 = 8;
/** The largest object a cache takes (its slab: MAX_SLAB_PAGES pages). */
export const MAX_OBJECT: u32 = MAX_SLAB_PAGES * PROVIDER_PAGE_SIZE;
/** Empty slabs a cache keeps by default instead of giving their pages back. */
export const DEFAULT_MAX_EMPTY: u32 = 1;
/** Which list a slab is on. */
export const enum SlabList { Empty = 0, Partial = 1, Full = 2, Active = 3 }

/** Called on every object of a new slab, so that free objects are always constructed. */
export type Constructor = (object: usize) => void;

// A cache's control block (CACHE_BYTES, caller's memory).
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
  freelist: usize;        // the active slab's free objects (the fast paths' list), or 0
  activeStart: usize;     // the active slab's first object (0: none)
  activeObjects: u32;     // and its objects (capacity; 0: none)
  active: usize;          // the active slab: on no list, its free objects on `freelist`
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
  divInverse: u32;        // a DivisorTest in place (lib/bits.ts): whether an offset is a multiple
  divShift: u32;          // of objectSize, without a div on the fast path
  divLimit: u32;
}

/** Bytes of a cache's control block. */
export const CACHE_BYTES: u32 = (offsetof<SlabCache>() + 15) & ~15;

/**
 * Makes an empty cache of objects of `objectSize` bytes aligned to `align` (0: DEFAULT_ALIGN; a
 * power of two up to PROVIDER_PAGE_SIZE) in the control block at `at` (CACHE_BYTES), over
 * `regions`. `ctor` (or 0) runs on each object when its slab is made. Returns null (logged) for a
 * size of 0 or above MAX_OBJECT or a bad alignment. Slab pages are chosen so that at most an
 * eighth of a slab is waste.
 */
export function cacheCreate(at: usize, regions: SlabRegions, name: string, objectSize: u32, align: u32, ctor: usize, debug: bool = false): SlabCache | null {
  if (align == 0) align = DEFAULT_ALIGN;
  debug = debug || slabDebugWanted(name);
  // With a constructor, a free object keeps its constructed state: its link goes after it. With
  // slab_debug, a slot holds red zones, the object, the link and a state (slab/debug.ts).
  const own = max<u32>(objectSize, MIN_OBJECT);
  const rounded = (own + 3) & ~3;
  const linkOffset = debug ? debugLinkOffset(align, rounded) : ctor != 0 ? rounded : 0;
  const size = debug ? debugSlotSize(align, rounded) : (linkOffset + (ctor != 0 ? 4 : own) + align - 1) & ~(align - 1);
  if (objectSize == 0 || objectSize > MAX_OBJECT || size > MAX_OBJECT || align > PROVIDER_PAGE_SIZE || (align & (align - 1)) != 0) {
    regions.errors++;
    if (reportBegin(ReportLevel.Error, "slab")) {
      reportText("cacheCreate("); reportText(name); reportText(", "); reportDec(objectSize); reportText(", "); reportDec(align);
      reportText("): size must be 1.."); reportDec(MAX_OBJECT); reportText(" (with room for the link, given a constructor)");
      reportLast(" and alignment a power of two up to 4096");
    }
    return null;
  }
  let pages: u32 = 1;
  while (pages < MAX_SLAB_PAGES && (pages * PROVIDER_PAGE_SIZE < size || (pages * PROVIDER_PAGE_SIZE) % size > pages * PROVIDER_PAGE_SIZE / 8)) pages++;
  memory.fill(at, 0, CACHE_BYTES);
  const cache = changetype<SlabCache>(at);
  cache.regions = regions;
  cache.name = changetype<usize>(name);
  cache.requestedSize = objectSize;
  cache.objectSize = size;
  divisorTestInit(divisorOf(cache), size);
  cache.align = align;
  cache.ctor = ctor;
  cache.linkOffset = linkOffset;
  cache.slabPages = pages;
  cache.capacity = pages * PROVIDER_PAGE_SIZE / size;
  cache.maxEmpty = DEFAULT_MAX_EMPTY;
  cache.live = 1;
  cache.debug = debug ? 1 : 0;
  cache.zone = debug ? debugZone(align) : 0;
  cache.next = regions.caches;
  if (regions.caches != 0) changetype<SlabCache>(regions.caches).prev = at;
  regions.caches = at;
  return cache;
}

/** The cache's divisibility test for its object size (its words lie in the control block). */
@inline function divisorOf(cache: SlabCache): DivisorTest {
  return changetype<DivisorTest>(changetype<usize>(cache) + offsetof<SlabCache>("divInverse"));
}

// (the three words must lie as DivisorTest's)
if (offsetof<SlabCache>("divShift") - offsetof<SlabCache>("divInverse") != offsetof<DivisorTest>("shift")
    || offsetof<SlabCache>("divLimit") - offsetof<SlabCache>("divInverse") != offsetof<DivisorTest>("limit")) {
  ERROR("SlabCache's divInverse, divShift and divLimit must lie as a DivisorTest");
}

@inline export function listHeadAt(cache: SlabCache, list: u32): usize {
  return changetype<usize>(cache) + (list == SlabList.Empty ? offsetof<SlabCache>("empty") :
    list == SlabList.Partial ? offsetof<SlabCache>("partial") : offsetof<SlabCache>("full"));
}

/** Puts `slab` first on the cache's list `list` (SlabList) and records which. */
function fileSlab(cache: SlabCache, slab: usize, list: u32): void {
  listPush<SlabEntry>(slab, listHeadAt(cache, list));
  slabEntry(slab).list = <u16>list;
  if (list == SlabList.Empty) cache.emptySlabs++;
}

/** Takes `slab` off the cache's list it is on. */
function unfileSlab(cache: SlabCache, slab: usize): void {
  const list = <u32>slabEntry(slab).list;
  listUnlink<SlabEntry>(slab, listHeadAt(cache, list));
  if (list == SlabList.Empty) cache.emptySlabs--;
}

/** Moves `slab` to the cache's list `list`. */
function refileSlab(cache: SlabCache, slab: usize, list: u32): void {
  unfileSlab(cache, slab);
  fileSlab(cache, slab, list);
}

/**
 * An object of `cache` (constructed, if the cache has a constructor), or 0 if the regions'
 * provider has no pages for a new slab. O(1) apart from making a slab. Free it with cacheFree on
 * the same cache.
 */
@inline export function cacheAlloc(cache: SlabCache): usize {
  const object = cache.freelist;
  if (object == 0) return allocSlow(cache);
  cache.freelist = load<usize>(object + cache.linkOffset);
  return object;
}

/** cacheAlloc when the active slab has no free object: another slab becomes active. Or 0. */
function allocSlow(cache: SlabCache): usize {
  if (cache.debug != 0) return debugAlloc(cache);   // (a debug cache never has an active slab)
  deactivate(cache);   // it is full
  const slab = takeSlab(cache);
  if (slab == 0) return 0;
  activate(cache, slab);
  const object = cache.freelist;
  cache.freelist = load<usize>(object + cache.linkOffset);
  return object;
}

/** A slab of `cache` with a free object, taken off its list: a partial one, else an empty one, else a new one. Or 0. */
function takeSlab(cache: SlabCache): usize {
  let slab = cache.partial;
  if (slab == 0) slab = cache.empty;
  if (slab == 0) {
    slab = slabPagesTake(cache.regions, cache.slabPages);
    if (slab == 0) return 0;
    fillSlab(cache, slab);
    cache.slabCount++;
  } else unfileSlab(cache, slab);
  return slab;
}

/** Makes `slab` (fresh pages, on no list) a slab of `cache`: its free list in address order, constructed. */
function fillSlab(cache: SlabCache, slab: usize): void {
  const start = slabEntry(slab).start, size = cache.objectSize, count = cache.capacity;
  slabEntry(slab).cache = changetype<usize>(cache);
  slabEntry(slab).inUse = 0;
  slabEntry(slab).free = start;
  const ctor = cache.ctor, zone = cache.zone, debug = cache.debug != 0;
  for (let i: u32 = 0; i < count; i++) {
    const slot = start + i * size;
    if (debug) debugFillSlot(slot, zone, cache.linkOffset, ctor == 0);
    if (ctor != 0) changetype<Constructor>(ctor)(slot + zone);
    store<usize>(slot + cache.linkOffset, i + 1 < count ? slot + size : 0);
  }
}

/**
 * Makes `slab` (on no list, with a free object) the active slab: its free list becomes the
 * cache's, and it counts as wholly in use until it is deactivated.
 */
function activate(cache: SlabCache, slab: usize): void {
  cache.freelist = slabEntry(slab).free;
  slabEntry(slab).free = 0;
  slabEntry(slab).inUse = cache.capacity;
  slabEntry(slab).list = <u16>SlabList.Active;
  cache.active = slab;
  cache.activeStart = slabEntry(slab).start;
  cache.activeObjects = cache.capacity;
}

/**
 * Gives the active slab (if any) its free objects back and files it by its use: full, partial,
 * or empty (kept or given back). O(its free objects).
 */
function deactivate(cache: SlabCache): void {
  const slab = cache.active;
  if (slab == 0) return;
  let free: u32 = 0;
  for (let object = cache.freelist; object != 0; object = load<usize>(object + cache.linkOffset)) free++;
  slabEntry(slab).free = cache.freelist;
  slabEntry(slab).inUse = cache.capacity - free;
  cache.freelist = 0;
  cache.active = 0;
  cache.activeStart = 0;
  cache.activeObjects = 0;
  if (free == cache.capacity) keepOrRelease(cache, slab);
  else fileSlab(cache, slab, free == 0 ? SlabList.Full : SlabList.Partial);
}

/**
 * Gives `object` back to `cache`. A pointer that is not an object of this cache handed out now
 * (foreign, of another cache, not an object's start, or the newest free object of its slab: a
 * double free) is logged with the cache, the address and the reason, returned as an error, and
 * changes nothing. O(1) apart from giving an empty slab's pages back.
 */
@inline export function cacheFree(cache: SlabCache, object: usize): AllocError {
  // The fast path: an object of the active slab (its range alone proves it ours).
  // Its index in the active slab: exactQuotient is above every index unless the offset is a
  // multiple of the object size, so one compare also refuses a pointer inside an object.
  // (nested, each field read where it is needed: fewer registers live at once on i386)
  const index = exactQuotient(divisorOf(cache), <u32>(object - cache.activeStart));
  if (index < cache.activeObjects) {
    const free = cache.freelist;
    if (object != free) {
      store<usize>(object + cache.linkOffset, free);
      cache.freelist = object;
      return AllocError.Ok;
    }
  }
  return freeSlow(cache, object);
}

/**
 * cacheFree of an object outside the active slab, of any object of a debug cache, or of a bad
 * pointer: the checks, then the object back onto its slab's free list.
 */
function freeSlow(cache: SlabCache, object: usize): AllocError {
  const slab = slabOf(cache.regions, object);
  if (slab == 0) return refuseFree(cache, object, AllocError.Foreign);
  if (slabEntry(slab).cache != changetype<usize>(cache)) return refuseFree(cache, object, AllocError.WrongCache);
  if (!isObjectStart(cache, slab, object)) return refuseFree(cache, object, AllocError.Interior);
  const slot = object - cache.zone;
  if (cache.debug != 0) {
    // exact: the slot's state says whether it is handed out
    if (load<u32>(slot + cache.linkOffset, 4) != SLOT_ALLOCATED) return refuseFree(cache, object, AllocError.DoubleFree);
    debugRetire(cache, slot);
  } else if (slab == cache.active || slabEntry(slab).free == object) {
    // the active slab's objects only come here when they are its newest free one (see cacheFree)
    return refuseFree(cache, object, AllocError.DoubleFree);
  }
  const free = slabEntry(slab).free;
  store<usize>(slot + cache.linkOffset, free);
  slabEntry(slab).free = slot;
  const inUse = slabEntry(slab).inUse - 1;
  slabEntry(slab).inUse = inUse;
  if (inUse == 0) { unfileSlab(cache, slab); keepOrRelease(cache, slab); }
  else if (free == 0) refileSlab(cache, slab, SlabList.Partial);   // it was full
  return AllocError.Ok;
}

/** Whether `pointer` starts an object (of a debug cache: the object in a slot) in `slab` of `cache`. */
@inline function isObjectStart(cache: SlabCache, slab: usize, pointer: usize): bool {
  const offset = <u32>(pointer - cache.zone - slabEntry(slab).start);
  return pointer >= cache.zone && offset % cache.objectSize == 0 && offset < cache.capacity * cache.objectSize;
}

/** The size of a debug slot's object part: the size asked for, rounded up to 4. */
@inline function debugOwn(cache: SlabCache): u32 { return cache.linkOffset - cache.zone - RED_ZONE; }
/** Counts `reports` slab_debug reports for `cache` (refused frees are counted by refuseFree). */
function countDebug(cache: SlabCache, reports: u32): void {
  cache.debugErrors += reports;
  cache.regions.errors += reports;
}

/** cacheAlloc for a debug cache: a slot from a partial slab, checked (poison, red zones). Or 0. */
function debugAlloc(cache: SlabCache): usize {
  let slab = cache.partial;
  if (slab == 0) {
    slab = takeSlab(cache);
    if (slab == 0) return 0;
    fileSlab(cache, slab, SlabList.Partial);
  }
  const slot = slabEntry(slab).free, link = cache.linkOffset, object = slot + cache.zone;
  const next = load<usize>(slot + link);
  slabEntry(slab).free = next;
  slabEntry(slab).inUse = slabEntry(slab).inUse + 1;
  if (next == 0) refileSlab(cache, slab, SlabList.Full);
  const name = changetype<string>(cache.name), own = debugOwn(cache);
  let reports = debugCheckZones(name, slot, cache.zone, slot + link - RED_ZONE, link);
  if (cache.ctor == 0) reports += debugCheckPoison(name, object, own);
  countDebug(cache, reports);
  store<u32>(slot + link, SLOT_ALLOCATED, 4);
  debugMarkRounding(object, cache.requestedSize, own);
  return object;
}

/**
 * Retires the handed-out slot at `slot` of a debug cache before freeSlow files it: its red zones
 * checked (reported, then repaired, so that a broken zone is reported once), its object poisoned
 * (unless the cache has a constructor) and its state set free.
 */
function debugRetire(cache: SlabCache, slot: usize): void {
  const link = cache.linkOffset, object = slot + cache.zone, own = debugOwn(cache);
  countDebug(cache, debugCheckZones(changetype<string>(cache.name), slot, cache.zone, object + cache.requestedSize, link));
  memory.fill(slot, RED, cache.zone);
  memory.fill(object + own, RED, RED_ZONE);
  if (cache.ctor == 0) memory.fill(object, POISON, own);
  store<u32>(slot + link, SLOT_FREE, 4);
}

/**
 * The usable size of `pointer` if it is the start of an object of `cache` in `slab` (the size
 * asked for, under slab_debug; the object's size otherwise), else 0. (Free objects count too:
 * only slab_debug's state tells them apart.)
 */
export function cacheUsableSize(cache: SlabCache, slab: usize, pointer: usize): u32 {
  if (!isObjectStart(cache, slab, pointer)) return 0;
  return cache.debug != 0 ? cache.requestedSize : cache.objectSize;
}

/** `slab` (on no list) has no object in use: keep it on the empty list, or give its pages back. */
function keepOrRelease(cache: SlabCache, slab: usize): void {
  if (cache.emptySlabs < cache.maxEmpty) { fileSlab(cache, slab, SlabList.Empty); return; }
  cache.slabCount--;
  slabPagesGive(cache.regions, slab);
}

/** Logs a refused free (the cache, the address, the reason), counts it (as a slab_debug report too, in a debug cache) and returns `error`. */
function refuseFree(cache: SlabCache, object: usize, error: AllocError): AllocError {
  cache.regions.errors++;
  cache.debugErrors += cache.debug;
  if (reportBegin(ReportLevel.Error, "slab")) {
    reportText("cacheFree("); reportText(changetype<string>(cache.name)); reportText(", "); reportAddress(<u32>object); reportText("): ");
    reportText(allocErrorText(error)); reportLast("; cache unchanged");
  }
  return error;
}

/**
 * Objects of `cache` in use now: the sum over its partial and full slabs, and the active slab's
 * objects not on the cache's free list. O(slabs + the active slab's free objects), for statistics.
 */
export function cacheActiveObjects(cache: SlabCache): u32 {
  let active: u32 = 0;
  for (let slab = cache.partial; slab != 0; slab = slabEntry(slab).next) active += slabEntry(slab).inUse;
  for (let slab = cache.full; slab != 0; slab = slabEntry(slab).next) active += slabEntry(slab).inUse;
  if (cache.active != 0) {
    active += cache.capacity;
    for (let object = cache.freelist; object != 0; object = load<usize>(object + cache.linkOffset)) active--;
  }
  return active;
}

/**
 * Gives the pages of every empty slab of `cache` back (the active slab too, when it has no
 * object in use). Returns how many slabs went. O(empty slabs + the active slab's free objects).
 */
export function cacheShrink(cache: SlabCache): u32 {
  deactivate(cache);
  let released: u32 = 0;
  for (let slab = cache.empty; slab != 0; slab = cache.empty) {
    unfileSlab(cache, slab);
    cache.slabCount--;
    slabPagesGive(cache.regions, slab);
    released++;
  }
  return released;
}

/**
 * Destroys `cache`: gives all its slabs back and takes it off its regions' list. Refuses, with a
 * message naming the cache and its live objects, while any object is in use: returns false and
 * changes nothing.
 */
export function cacheDestroy(cache: SlabCache): bool {
  const active = cacheActiveObjects(cache);
  if (active != 0) {
    cache.regions.errors++;
    if (reportBegin(ReportLevel.Error, "slab")) {
      reportText("cacheDestroy("); reportText(changetype<string>(cache.name)); reportText("): "); reportDec(active);
      reportLast(" objects still in use; cache kept");
    }
    return false;
  }
  cacheShrink(cache);
  const regions = cache.regions;
  if (cache.next != 0) changetype<SlabCache>(cache.next).prev = cache.prev;
  if (cache.prev != 0) changetype<SlabCache>(cache.prev).next = cache.next; else regions.caches = cache.next;
  cache.live = 0;
  return true;
}
