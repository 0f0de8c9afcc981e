// Host build of the PMM's hardware-independent modules (memory map, reserved list, summary
// tree, frame allocator), exported for test/mm/core/frames.test.ts. Physical memory is simulated: the
// allocator never touches its frames, only its bitmap block, which lives in a buffer here.
import { MemoryMap, memoryMapCheck, memoryMapCount, memoryMapFromMemFields, memoryMapProblemOffset } from "../../../kernel/mm/core/memory-map";
import { ReservedList, reservedListInit, reservedAdd, RESERVED_LIST_HEADER, RESERVED_RECORD } from "../../../kernel/mm/core/reserved";
import {
  FrameAllocator, FRAME_ALLOCATOR_BYTES, frameAllocatorAt, allocFrameFrom, takeMoreOfWord, freeFrameTo, usedWordAddress,
} from "../../../kernel/mm/core/frames";
import { allocFramesFrom, freeFramesTo, claimFramesFrom } from "../../../kernel/mm/core/frame-runs";
import {
  framesFree, framesFreeLow, framesTotal, framesReserved, framesUsable, frameState, frameRunLength, frameAllocatorCheck,
} from "../../../kernel/mm/core/frames-check";
import { frameAllocatorPlan, frameAllocatorBuild, bitmapBlockBytes, MAX_FRAMES } from "../../../kernel/mm/core/frames-init";
import {
  SummaryTree, summaryInit, summarySet, summaryClear, summaryFindFrom, summaryFirst, summaryL1Bytes, summaryL2Bytes,
} from "../../../kernel/mm/core/summary";

const MAP_BYTES: u32 = 64 << 10;
const RESERVED_CAPACITY: u32 = 64;
const mapBuffer = memory.data(MAP_BYTES, 8);
const map = changetype<MemoryMap>(memory.data(8, 8));
const reservedBuffer = memory.data(RESERVED_LIST_HEADER + RESERVED_CAPACITY * RESERVED_RECORD, 8);
let reserved: ReservedList = reservedListInit(reservedBuffer, RESERVED_CAPACITY);
const pmmBuffer = memory.data(FRAME_ALLOCATOR_BYTES, 8);
let pmm: FrameAllocator = frameAllocatorAt(pmmBuffer);
const BLOCK_BYTES: u32 = 512 << 10;
const block = memory.data(BLOCK_BYTES, 4096);
const treeBuffer = memory.data(16 + 4096 + 128, 8);

/** Where the test writes multiboot-format entries. */
export function mapAddress(): usize { return mapBuffer; }
export function mapCapacity(): u32 { return MAP_BYTES; }
export function mapSet(bytes: u32): void { map.addr = mapBuffer; map.bytes = bytes; }
export function mapCheck(): u32 { return memoryMapCheck(map); }
export function mapProblemOffset(): u32 { return memoryMapProblemOffset(); }
export function mapCount(): u32 { return memoryMapCount(map); }
export function mapFromMemFields(lowerKiB: u32, upperKiB: u32): u32 { return memoryMapFromMemFields(lowerKiB, upperKiB, mapBuffer); }

export function reservedClear(): void { reserved = reservedListInit(reservedBuffer, RESERVED_CAPACITY); }
export function reservedPush(start: u64, end: u64): bool { return reservedAdd(reserved, start, end, "test range"); }

export function blockMaxFrames(): u32 { return MAX_FRAMES; }
export function blockBytesFor(frames: u32): u32 { return bitmapBlockBytes(frames); }

/** Plans a fresh allocator over the current map and reserved list. */
export function plan(lowLimitFrame: u32): u32 {
  pmm = frameAllocatorAt(pmmBuffer);
  return frameAllocatorPlan(pmm, map, reserved, lowLimitFrame);
}
export function bitmapPhys(): u32 { return pmm.bitmapPhys; }
export function bitmapBytes(): u32 { return pmm.bitmapBytes; }
export function ignoredBytes(): u64 { return pmm.ignoredBytes; }
export function lowLimitFrame(): u32 { return pmm.lowLimitFrame; }
/** Builds the planned allocator with its block in this module's buffer (false if it does not fit). */
export function build(): bool {
  if (pmm.bitmapBytes > BLOCK_BYTES) return false;
  memory.fill(block, 0xA5, BLOCK_BYTES);   // garbage: build must not rely on zeroed memory
  frameAllocatorBuild(pmm, map, reserved, block);
  return true;
}

export function alloc(zone: u32): u32 { return allocFrameFrom(pmm, zone); }
export function takeMore(phys: u32, most: u32): u32 { return takeMoreOfWord(pmm, phys, most); }
/** Keeps `frames` low frames free from every search (the watermark floor; no short hook here). */
export function setFloor(frames: u32): void { pmm.floor = frames; }
export function free(phys: u32): u32 { return freeFrameTo(pmm, phys); }
export function allocRun(count: u32, align: u32, maxPhys: u64): u32 { return allocFramesFrom(pmm, count, align, maxPhys); }
export function freeRun(phys: u32, count: u32): u32 { return freeFramesTo(pmm, phys, count); }
export function claimRun(phys: u32, count: u32): bool { return claimFramesFrom(pmm, phys, count); }
export function total(): u32 { return framesTotal(pmm); }
export function freeCount(): u32 { return framesFree(pmm); }
export function freeLowCount(): u32 { return framesFreeLow(pmm); }
export function reservedCount(): u32 { return framesReserved(pmm); }
export function usableCount(): u32 { return framesUsable(pmm); }
export function state(frame: u32): u32 { return frameState(pmm, frame); }
export function runLength(frame: u32): u32 { return frameRunLength(pmm, frame); }
export function check(): u32 { return frameAllocatorCheck(pmm); }
/** Corrupts the allocator on purpose (flips one used bit) so the checker can be tested. */
export function corrupt(frame: u32): void {
  const at = usedWordAddress(pmm, frame >> 5);
  store<u32>(at, load<u32>(at) ^ (1 << (frame & 31)));
}

// The summary tree on its own, over up to 32768 words.
const tree = changetype<SummaryTree>(treeBuffer);
export function treeInit(words: u32): void {
  summaryInit(tree, treeBuffer + 16, treeBuffer + 16 + summaryL1Bytes(32768), words);
  assert(summaryL2Bytes(32768) <= 128);
}
export function treeSet(word: u32): void { summarySet(tree, word); }
export function treeClear(word: u32): void { summaryClear(tree, word); }
export function treeFind(from: u32): u32 { return summaryFindFrom(tree, from); }
export function treeFirst(): u32 { return summaryFirst(tree); }
