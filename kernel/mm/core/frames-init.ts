// Building the frame allocator from a memory map, in two steps, because the bitmap has nowhere
// to live before there is an allocator:
//
//   1. frameAllocatorPlan: sizes the bitmap block from the highest available address and picks a
//      physical home for it: the highest run of whole frames, below the low-memory limit, that
//      lies inside one available entry and touches no reserved range and no non-RAM entry.
//   2. frameAllocatorBuild: the caller maps or translates that physical address (the kernel adds
//      its linear-map offset; the host tests point it into a buffer) and the bitmap is filled:
//
//        all frames used  ->  available entries cleared (rounded inwards)
//                         ->  non-RAM entries set again (rounded outwards; they win overlaps)
//                         ->  the reserved list, frame 0 and the bitmap block itself set
//                         ->  that picture copied as the `reserved` bitmap; trees and counts built
//
// Memory above 4 GiB cannot be reached with 32-bit paging: it is counted in `ignoredBytes`.
import {
  MemoryMap, memoryMapCheck, MapProblem, entryBase, entryLength, entryNext, entryIsRam, entryIsNonRam,
} from "./memory-map";
import { ReservedList, reservedOverlap, reservedStart, reservedEnd } from "./reserved";
import { FrameAllocator, FRAME_SHIFT, FRAME_SIZE, PHYS_LIMIT } from "./frames";
import { summaryInit, summaryRebuildUpper, summaryL1Bytes, summaryL2Bytes, SUMMARY_MAX_WORDS, SUMMARY_NONE } from "./summary";

export const enum InitError {
  Ok = 0,
  BadMap = 1,          // the map cannot be walked (memoryMapCheck)
  NoUsableMemory = 2,  // no available RAM below 4 GiB
  NoRoomForBitmap = 3, // no free run in low memory is large enough for the bitmap
}

export function initErrorText(error: InitError): string {
  switch (error) {
    case InitError.BadMap: return "the memory map cannot be walked";
    case InitError.NoUsableMemory: return "the memory map has no available RAM below 4 GiB";
    case InitError.NoRoomForBitmap: return "no free run of low memory can hold the bitmap";
    default: return "ok";
  }
}

@inline function frameDown(addr: u64): u64 { return addr >> FRAME_SHIFT; }
@inline function frameUp(addr: u64): u64 { return (addr >> FRAME_SHIFT) + <u64>((addr & (FRAME_SIZE - 1)) != 0); }   // no overflow near 2^64
/** End of an entry, saturated (a base + length that wraps is treated as reaching 2^64 - 1). */
@inline function entryEnd(e: usize): u64 {
  const end = entryBase(e) + entryLength(e);
  return end < entryBase(e) ? <u64>-1 : end;
}

/** The always-full word pair after the bitmaps (frames.ts). */
const SENTINEL_BYTES: u32 = 8;

/** Bytes of the bitmap block for `frameCount` frames. */
export function bitmapBlockBytes(frameCount: u32): u32 {
  const words = (frameCount + 31) >> 5;
  return 2 * (words << 2) + SENTINEL_BYTES + 2 * (summaryL1Bytes(words) + summaryL2Bytes(words));
}

/**
 * The lowest first frame of a non-RAM entry (rounded outwards) that touches frames
 * [first, end), or `end` if none does.
 */
function nonRamBlocker(map: MemoryMap, first: u64, end: u64): u64 {
  let lowest = end;
  const mapEnd = map.addr + map.bytes;
  for (let e = map.addr; e < mapEnd; e = entryNext(e)) {
    if (!entryIsNonRam(e)) continue;
    const s = frameDown(entryBase(e)), t = frameUp(entryEnd(e));
    if (s < end && first < t && s < lowest) lowest = s;
  }
  return lowest;
}

/**
 * Sizes the allocator for `map` and picks the bitmap's physical address, avoiding `reserved`.
 * `lowLimitFrame` is the end of low memory (the kernel's linear map), rounded down to a
 * multiple of 32 frames here. On InitError.Ok, `pmm.bitmapPhys`/`bitmapBytes` say where the
 * caller must provide the block for frameAllocatorBuild. Reads only; nothing is reserved yet.
 */
export function frameAllocatorPlan(pmm: FrameAllocator, map: MemoryMap, reserved: ReservedList, lowLimitFrame: u32): InitError {
  if (memoryMapCheck(map) != MapProblem.None) return InitError.BadMap;
  const mapEnd = map.addr + map.bytes;
  let topFrame: u64 = 0, ignored: u64 = 0;
  for (let e = map.addr; e < mapEnd; e = entryNext(e)) {
    if (!entryIsRam(e)) continue;
    const base = entryBase(e), end = entryEnd(e);
    if (end > PHYS_LIMIT) ignored += end - max<u64>(base, PHYS_LIMIT);
    const top = frameDown(min<u64>(end, PHYS_LIMIT));
    if (top > frameUp(base) && top > topFrame) topFrame = top;
  }
  pmm.ignoredBytes = ignored;
  if (topFrame == 0) return InitError.NoUsableMemory;
  const frameCount = <u32>topFrame;   // at most 2^20: SUMMARY_MAX_WORDS words
  pmm.frameCount = frameCount;
  pmm.wordCount = (frameCount + 31) >> 5;
  const low = min<u32>(lowLimitFrame & ~31, frameCount);
  pmm.lowLimitFrame = low;
  pmm.lowLimitWord = (low + 31) >> 5;
  const bytes = bitmapBlockBytes(frameCount);
  pmm.bitmapBytes = bytes;
  const frames: u64 = frameUp(bytes);

  // Highest fit, top-down through each available entry below the low limit. In frames, so
  // that nothing overflows for entries near 2^64.
  let best: u64 = 0;
  for (let e = map.addr; e < mapEnd; e = entryNext(e)) {
    if (!entryIsRam(e)) continue;
    const floor = max<u64>(frameUp(entryBase(e)), 1);   // never frame 0
    let ceiling = min<u64>(frameDown(entryEnd(e)), <u64>low);
    while (ceiling > floor && ceiling - floor >= frames) {
      const start = ceiling - frames;
      if (start <= best) break;
      // Lower the ceiling below whatever blocks [start, ceiling), or accept.
      let blocked = nonRamBlocker(map, start, ceiling);
      const r = reservedOverlap(reserved, start << FRAME_SHIFT, ceiling << FRAME_SHIFT);
      if (r >= 0) blocked = min<u64>(blocked, frameDown(reservedStart(reserved, r)));
      if (blocked >= ceiling) { best = start; break; }
      ceiling = blocked;
    }
  }
  if (best == 0) return InitError.NoRoomForBitmap;
  pmm.bitmapPhys = <u32>(best << FRAME_SHIFT);
  return InitError.Ok;
}

/** Sets (used = true) or clears the used bits of frames [first, end), word by word (stride 8). */
function fillFrames(bitmap: usize, first: u64, end: u64, used: bool): void {
  if (first >= end) return;   // (and so first fits in u32, as end does)
  let f = <u32>first;
  const stop = <u32>end;
  while (f < stop) {
    const w = f >> 5;
    let mask: u32 = <u32>0xFFFFFFFF << (f & 31);
    if ((stop >> 5) == w && (stop & 31) != 0) mask &= (<u32>1 << (stop & 31)) - 1;
    const at = bitmap + (w << 3);
    store<u32>(at, used ? load<u32>(at) | mask : load<u32>(at) & ~mask);
    f = (w + 1) << 5;
  }
}

function countClear(bitmap: usize, fromWord: u32, toWord: u32): u32 {
  let n: u32 = 0;
  for (let w = fromWord; w < toWord; w++) n += 32 - popcnt(load<u32>(bitmap + (w << 3)));
  return n;
}

/**
 * Fills the allocator planned by frameAllocatorPlan, with its bitmap block at virtual address
 * `blockVirt` (pmm.bitmapBytes writable bytes). Afterwards every frame is free except: frames
 * the map does not call available, frames touched by a non-RAM entry, frame 0, every range in
 * `reserved` (rounded outwards) and the block itself. O(frames / 32 + entries * ranges).
 */
export function frameAllocatorBuild(pmm: FrameAllocator, map: MemoryMap, reserved: ReservedList, blockVirt: usize): void {
  const words = pmm.wordCount, count = <u64>pmm.frameCount;
  const bitmap = blockVirt;   // used word w at +8w, reserved word w at +8w+4
  pmm.bitmap = bitmap;
  memory.fill(bitmap, 0xFF, words << 3);
  const mapEnd = map.addr + map.bytes;
  for (let e = map.addr; e < mapEnd; e = entryNext(e)) {
    if (!entryIsRam(e)) continue;
    fillFrames(bitmap, frameUp(entryBase(e)), min<u64>(frameDown(entryEnd(e)), count), false);
  }
  for (let e = map.addr; e < mapEnd; e = entryNext(e)) {
    if (!entryIsNonRam(e)) continue;
    fillFrames(bitmap, frameDown(entryBase(e)), min<u64>(frameUp(entryEnd(e)), count), true);
  }
  pmm.usableFrames = countClear(bitmap, 0, words);
  fillFrames(bitmap, 0, 1, true);   // frame 0: its address is the allocator's "none"
  for (let i: u32 = 0; i < reserved.count; i++) {
    const start = frameDown(reservedStart(reserved, i));
    if (start >= count) continue;
    fillFrames(bitmap, start, min<u64>(frameUp(reservedEnd(reserved, i)), count), true);
  }
  fillFrames(bitmap, pmm.bitmapPhys >> FRAME_SHIFT, frameUp(<u64>pmm.bitmapPhys + pmm.bitmapBytes), true);
  // Everything in use now is reserved for good.
  for (let w: u32 = 0; w < words; w++) store<u32>(bitmap + (w << 3), load<u32>(bitmap + (w << 3)), 4);
  // The sentinel word pair after the last word: all used, all reserved (see frames.ts).
  store<u64>(bitmap + (words << 3), <u64>-1);

  // Summary trees: l1 straight from the words, then the upper levels.
  const l1Bytes = summaryL1Bytes(words), l2Bytes = summaryL2Bytes(words);
  let at = bitmap + (words << 3) + SENTINEL_BYTES;
  summaryInit(pmm.hasFree, at, at + l1Bytes, words);
  at += l1Bytes + l2Bytes;
  summaryInit(pmm.allFree, at, at + l1Bytes, words);
  for (let w: u32 = 0; w < words; w++) {
    const word = load<u32>(bitmap + (w << 3));
    const bit: u32 = 1 << (w & 31);
    if (word != 0xFFFFFFFF) { const a = pmm.hasFree.l1 + ((w >> 5) << 2); store<u32>(a, load<u32>(a) | bit); }
    if (word == 0) { const a = pmm.allFree.l1 + ((w >> 5) << 2); store<u32>(a, load<u32>(a) | bit); }
  }
  summaryRebuildUpper(pmm.hasFree);
  summaryRebuildUpper(pmm.allFree);
  pmm.freeLow = countClear(bitmap, 0, pmm.lowLimitWord);
  pmm.freeHigh = countClear(bitmap, pmm.lowLimitWord, words);
  pmm.reservedFrames = pmm.frameCount - pmm.freeLow - pmm.freeHigh;
  pmm.hintLow = 0;
  pmm.hintHigh = pmm.lowLimitWord;
  pmm.pending = SUMMARY_NONE;
}

/** The most frames one allocator can manage (4 GiB). */
export const MAX_FRAMES: u32 = SUMMARY_MAX_WORDS << 5;
