// slab_debug: red zones, poison and exact double-free detection for chosen caches (slab/cache.ts asks
// here). Off by default and free when off: a debug cache never has an active slab, so its
// allocations and frees always miss the inline fast paths and come through the slow paths
// (slab/cache-debug.ts, cache-free.ts), which call these helpers; other caches never reach them.
//
// A debug cache's object slot (every field a multiple of 4; the slot a multiple of the alignment):
//
//   +0                 red zone before: RED_ZONE bytes of RED (or `align` bytes, if larger)
//   +zone              the object: the size asked for, rounded up to 4; POISON while free
//   +zone+own          red zone after: RED_ZONE bytes of RED (and the rounding before it)
//   +link              the next free slot of the slab (while free)
//   +link+4            the state: SLOT_FREE or SLOT_ALLOCATED
//
// Checked at free: both red zones, the state (a double free, wherever the object is on its free
// list) and the owner (a free into the wrong cache). Checked at allocation: the poison (a write
// after free; not for caches with a constructor, whose free objects keep their state, as in
// Linux) and the red zones. Every report names the cache, the object and what was found, is
// counted in cache.debugErrors and the arena's errors, and the cache keeps working.
import { ReportLevel, reportBegin, reportText, reportHex, reportAddress, reportDec, reportEnd } from "../report";
import { nameListContains } from "../../../lib/names";

export const RED_ZONE: u32 = 8;
export const RED: u8 = 0xBB;
export const POISON: u8 = 0x6B;
export const SLOT_FREE: u32 = 0x46524545;        // "FREE"
export const SLOT_ALLOCATED: u32 = 0x414C4C4F;   // "ALLO"

// Which caches are debug caches: none, all, or those named in a comma-separated list (the boot
// option's value, kept where the command line is).
let selectAll = false;
let selectNames: usize = 0;
let selectLength: u32 = 0;

/** Chooses the caches created from now on that get slab_debug: `all`, or those in the list. */
export function slabDebugSelect(all: bool, names: usize, namesLength: u32): void {
  selectAll = all; selectNames = names; selectLength = namesLength;
}

/** Whether a cache named `name` is to be a debug cache. */
export function slabDebugWanted(name: string): bool {
  return selectAll || (selectLength != 0 && nameListContains(selectNames, selectLength, name));
}

/** The layout of a debug slot for objects of `own` bytes (a multiple of 4) at `align`. */
export function debugZone(align: u32): u32 { return max<u32>(RED_ZONE, align); }
export function debugLinkOffset(align: u32, own: u32): u32 { return debugZone(align) + own + RED_ZONE; }
export function debugSlotSize(align: u32, own: u32): u32 {
  return (debugLinkOffset(align, own) + 8 + align - 1) & ~(align - 1);
}

/** Fills a new slot: red zones, poisoned object, state free (the link is the caller's). */
export function debugFillSlot(slot: usize, zone: u32, linkOffset: u32, poison: bool): void {
  memory.fill(slot, RED, zone);
  if (poison) memory.fill(slot + zone, POISON, linkOffset - RED_ZONE - zone);
  memory.fill(slot + linkOffset - RED_ZONE, RED, RED_ZONE);
  store<u32>(slot + linkOffset, SLOT_FREE, 4);
}

/** The first byte in [at, at + length) that is not `value`, as an offset, or -1. */
function firstDifferent(at: usize, length: u32, value: u8): i32 {
  for (let i: u32 = 0; i < length; i++) if (load<u8>(at + i) != value) return <i32>i;
  return -1;
}

/**
 * Checks the red zones of a slot: RED from `slot` for `zone` bytes (before the object at
 * `slot + zone`), and RED from `afterStart` up to `slot + linkOffset` (after it: from the end of
 * the size asked for while allocated, the fixed zone only while free). Reports each broken zone,
 * with the offset from the object and the byte found. Returns the number of reports.
 */
export function debugCheckZones(cacheName: string, slot: usize, zone: u32, afterStart: usize, linkOffset: u32): u32 {
  let reports: u32 = 0;
  const object = slot + zone;
  const before = firstDifferent(slot, zone, RED);
  if (before >= 0) { report(cacheName, object, "red zone before the object overwritten", before - <i32>zone, load<u8>(slot + before)); reports++; }
  const after = firstDifferent(afterStart, <u32>(slot + linkOffset - afterStart), RED);
  if (after >= 0) { report(cacheName, object, "red zone after the object overwritten", <i32>(afterStart - object) + after, load<u8>(afterStart + after)); reports++; }
  return reports;
}

/** Marks the bytes between the size asked for and the rounded size as red zone (at each allocation). */
export function debugMarkRounding(object: usize, requested: u32, own: u32): void {
  memory.fill(object + requested, RED, own - requested);
}

/** Checks that a free slot's object is still poisoned; reports a write after free. Returns the reports (0 or 1). */
export function debugCheckPoison(cacheName: string, object: usize, own: u32): u32 {
  const at = firstDifferent(object, own, POISON);
  if (at < 0) return 0;
  report(cacheName, object, "written after free", at, load<u8>(object + at));
  return 1;
}

function report(cacheName: string, object: usize, what: string, offset: i32, found: u8): void {
  if (!reportBegin(ReportLevel.Error, "slab_debug")) return;
  reportText(cacheName); reportText(": "); reportText(what); reportText(": object "); reportAddress(<u32>object); reportText(", byte ");
  if (offset < 0) { reportText("-"); reportDec(<u32>(-offset)); } else { reportText("+"); reportDec(<u32>offset); }
  reportText(" is "); reportHex(found, 2); reportEnd();
}
