// The PMM's per-CPU frame lists (docs/pmm.md, "Per-CPU frame lists"): allocFrame and freeFrame work on the
// running CPU's list of free high-memory frames with interrupts off and no lock, and go to the
// bitmap (under the lock) a batch at a time: a refill when the list is empty, a flush when it is
// full. A listed frame is "used" in the bitmap and has its bit set in `listedMap`, so that a
// second free of it is refused as exactly as a free of a frame the bitmap holds free (the bit is
// set and cleared with `lock bts` / `lock btr`: the map is shared by the CPUs). pmmFreeFrames
// counts listed frames as free; the shrinker "pmm (per-CPU frame lists)" gives them back on
// every CPU. Low-memory frames are never listed: the watermarks and the linear map's accounting
// stay the bitmap's.
import { saveFlagsAndCli, restoreFlags, cpuLoad, atomicBitSet, atomicBitClear, thisCpu } from "../../arch/x86";
import { klockIrqSaveTo, klockIrqRestoreFrom, klockStarted } from "../../arch/klock";
import { CPU_FRAME_LIST, MAX_CPUS } from "../../arch/percpu";
import { FrameZone, FrameError, allocFrameFrom, takeMoreOfWord, freeFrameTo, frameInUse, reportError, FRAME_SHIFT, FRAME_SIZE } from "../core/frames";
import { allocFramesFrom } from "../core/frame-runs";
import { lowMemoryEnd, linearVirt } from "../layout";
import { onEachCpu } from "../each-cpu";
import { pmm, pmmLock } from "./pmm-state";
import { LogLevel, logBegin } from "../../console/log";
import { puts, putDec, putSize } from "../../console/console";

//   a list (LIST_BYTES, one per CPU; the CPU record's frameList points at it):
//     +0 count   +4 .. frames, the newest last (LIST_LIMIT)
const LIST_BYTES: u32 = 256;
export const LIST_LIMIT: u32 = (LIST_BYTES >> 2) - 1;   // 63
/** Frames a refill takes from the bitmap, and a flush gives back. */
const LIST_BATCH: u32 = 32;
const lists = memory.data(MAX_CPUS * LIST_BYTES, 16);
// A bit per high-memory frame (from lowLimitFrame), set while the frame is on a list; 0: no map
// (then no frame is listed: listedSpan is 0).
let listedMap: usize = 0;
let listedSpan: u32 = 0;
let listedMapFrames: u32 = 0;

/** Makes the listed map (from the bitmap allocator itself) and gives the bootstrap processor its list. In pmmInit, once the bitmap is built. */
export function frameListsInit(): void {
  const span = pmm.frameCount > pmm.lowLimitFrame ? pmm.frameCount - pmm.lowLimitFrame : 0;
  const frames = (((span + 7) >> 3) + 4095) >> 12;
  const phys = span == 0 ? 0 : allocFramesFrom(pmm, frames, 1, lowMemoryEnd());
  if (phys != 0) {
    listedMap = linearVirt(phys);
    listedMapFrames = frames;
    memory.fill(listedMap, 0, frames << 12);
    listedSpan = span;
  }
  pmmCpuAttach(thisCpu(), 0);
}

/** Logs the lists' size and their map's (pmmInit's summary). Boot. */
export function frameListsReport(): void {
  if (!logBegin(LogLevel.Info, "pmm")) return;
  if (listedSpan == 0) { puts("no per-CPU frame lists (no high memory)\n"); return; }
  puts("per-CPU frame lists of up to "); putDec(LIST_LIMIT); puts(" high frames; their map "); putSize(<u64>listedMapFrames << 12);
  puts(" for "); putDec(listedSpan); puts(" frames\n");
}

/** Gives CPU record `cpu` (index `index`) its frame list, empty. Boot, or a CPU's bring-up before it runs. */
export function pmmCpuAttach(cpu: usize, index: u32): void {
  const list = lists + index * LIST_BYTES;
  store<u32>(list, 0);
  store<u32>(cpu, <u32>list, CPU_FRAME_LIST);
}

/** `phys`'s bit in the listed map (a high-memory frame's). */
@inline function listedBit(phys: u32): u32 { return (phys >> FRAME_SHIFT) - pmm.lowLimitFrame; }
/** Whether listable `phys` is on a CPU's list now. */
@inline function listed(phys: u32): bool { return (load<u32>(listedMap + ((listedBit(phys) >> 5) << 2)) & (1 << (listedBit(phys) & 31))) != 0; }

/**
 * Whether `phys`, whose bit is `bit` (listedBit), may go on a list: a high-memory frame (the map
 * covers it: below frameCount too) handed out now. Reads only.
 */
@inline function listableAt(phys: u32, bit: u32): bool {
  return (phys & (FRAME_SIZE - 1)) == 0 && bit < listedSpan && frameInUse(pmm, phys >> FRAME_SHIFT);
}
@inline function listable(phys: u32): bool { return listableAt(phys, listedBit(phys)); }

/** The listed map's address and the frames it spans (for the C twin of the fast paths: bench/fidelity.ts). Any context (reads). */
export function pmmListedMap(): usize { return listedMap; }
export function pmmListedSpan(): u32 { return listedSpan; }

/** Frames the listed map takes (from boot on). Any context. */
export function pmmListsMapFrames(): u32 { return listedMapFrames; }

/** Frames on every CPU's list now (free, for pmmFreeFrames). Any context; a snapshot. */
export function pmmListedFrames(): u32 {
  let listed: u32 = 0;
  for (let i: u32 = 0; i < MAX_CPUS; i++) listed += load<u32>(lists + i * LIST_BYTES);
  return listed;
}

/**
 * A free frame's physical address, high memory first (low memory when high is used up), or 0
 * when none is left. For pages that will be mapped somewhere anyway (lazily committed
 * memory), so that low memory stays free for the linear map. Never panics. O(1) while memory
 * lasts: from the running CPU's list (interrupts off, no lock), refilled from the bitmap a batch
 * at a time (under the PMM's lock). Any context, any CPU: when low memory reaches the
 * watermarks, a caller in thread context reclaims first (and so may sleep), an atomic one takes
 * from the reserve down to min.
 */
@inline export function allocFrame(): u32 {
  const flags = saveFlagsAndCli();
  const list = <usize>cpuLoad(CPU_FRAME_LIST);
  const count = load<u32>(list);
  if (count != 0) {
    const phys = load<u32>(list + (count << 2));
    store<u32>(list, count - 1);
    atomicBitClear(listedMap, listedBit(phys));
    restoreFlags(flags);
    return phys;
  }
  restoreFlags(flags);
  return refillPath();
}

// The slow paths below are called through variables, as runShortPath is: inlined, they would
// crowd the fast paths' registers (i386 has few) and cost them spills.
let refillPath: () => u32 = allocFrameRefill;
let freeSlowPath: (phys: u32) => FrameError = freeFrameSlow;

/**
 * allocFrame with the running CPU's list empty: a frame from the bitmap (the watermarks apply),
 * and, when high memory has them to spare, up to LIST_BATCH - 1 more high frames for the list.
 * Any context, any CPU (as allocFrame); takes the PMM's lock; never sleeps.
 */
export function allocFrameRefill(): u32 {
  klockIrqSaveTo(pmmLock);
  const phys = allocFrameFrom(pmm, FrameZone.HighFirst);
  if (phys != 0 && listedSpan != 0) {
    const list = <usize>cpuLoad(CPU_FRAME_LIST);
    // the rest of the first frame's bitmap word in one go, then a frame (and the rest of its
    // word) at a time: a frame by frame refill cost each page fault about 56 instructions
    let count = listWordRest(list, load<u32>(list), phys);
    while (count < LIST_BATCH - 1 && pmm.freeHigh > LIST_BATCH) {
      const more = allocFrameFrom(pmm, FrameZone.HighFirst);   // (high memory: no floor, no short path)
      if (more == 0) break;
      if (!listable(more)) { freeFrameTo(pmm, more); break; }  // (low after all: not for a list)
      count = listWordRest(list, listAppend(list, count, more), more);
    }
    store<u32>(list, count);
  }
  klockIrqRestoreFrom(pmmLock);
  return phys;
}

/**
 * Puts the free frames of `phys`'s bitmap word (a high word) on the list, which holds `count`,
 * while the batch and high memory's reserve allow (takeMoreOfWord); returns the new count.
 * Under the PMM's lock.
 */
function listWordRest(list: usize, count: u32, phys: u32): u32 {
  const room = count < LIST_BATCH - 1 ? LIST_BATCH - 1 - count : 0;   // (a refill starts empty; never past the batch)
  const spare = pmm.freeHigh > LIST_BATCH ? pmm.freeHigh - LIST_BATCH : 0;
  let taken = takeMoreOfWord(pmm, phys, min<u32>(room, spare));
  const base = (phys >> (FRAME_SHIFT + 5)) << 5;
  while (taken != 0) {
    count = listAppend(list, count, (base + ctz(taken)) << FRAME_SHIFT);
    taken &= taken - 1;
  }
  return count;
}

/** Puts high frame `phys` after the `count` frames of `list`, marked listed; the new count (not stored). Under the PMM's lock. */
@inline function listAppend(list: usize, count: u32, phys: u32): u32 {
  store<u32>(list + ((count + 1) << 2), phys);
  atomicBitSet(listedMap, listedBit(phys));
  return count + 1;
}

/**
 * Returns a frame. Returns FrameError.Ok, or logs and returns an error for an address that is
 * unaligned, outside managed memory, reserved or already free (on a CPU's list too); the PMM is
 * then unchanged. A high-memory frame goes on the running CPU's list (interrupts off, no lock),
 * a full list back to the bitmap a batch at a time; a low one to the bitmap. Any context, any CPU.
 */
@inline export function freeFrame(phys: u32): FrameError {
  const flags = saveFlagsAndCli();
  const bit = listedBit(phys);
  if (listableAt(phys, bit)) {
    const list = <usize>cpuLoad(CPU_FRAME_LIST);
    const count = load<u32>(list);
    // (a frame already listed keeps its bit: the slow path refuses it)
    if (count < LIST_LIMIT && atomicBitSet(listedMap, bit) == 0) {
      store<u32>(list + ((count + 1) << 2), phys);
      store<u32>(list, count + 1);
      restoreFlags(flags);
      return FrameError.Ok;
    }
  }
  restoreFlags(flags);
  return freeSlowPath(phys);
}

/**
 * freeFrame of a frame that does not go on the list as it is: already listed (a double free),
 * the list full (LIST_BATCH frames go back to the bitmap first), or not listable (low memory, or
 * a bad address, which freeFrameTo refuses). Any context, any CPU (as freeFrame); takes the PMM's
 * lock; never sleeps.
 */
export function freeFrameSlow(phys: u32): FrameError {
  klockIrqSaveTo(pmmLock);
  let error = FrameError.Ok;
  if (!listable(phys)) error = freeFrameTo(pmm, phys);
  else if (listed(phys)) {
    error = FrameError.DoubleFree;
    reportError(pmm, "freeFrame", phys, 1, error);
  } else {
    const list = <usize>cpuLoad(CPU_FRAME_LIST);
    listFlush(list, LIST_BATCH);
    const count = load<u32>(list) + 1;
    store<u32>(list + (count << 2), phys);
    store<u32>(list, count);
    atomicBitSet(listedMap, listedBit(phys));
  }
  klockIrqRestoreFrom(pmmLock);
  return error;
}

/** Gives the newest `most` frames of `list` (all, if fewer) back to the bitmap. Under the PMM's lock, on the list's CPU. */
function listFlush(list: usize, most: u32): void {
  let count = load<u32>(list);
  const keep = count > most ? count - most : 0;
  while (count > keep) {
    const phys = load<u32>(list + (count << 2));
    count--;
    atomicBitClear(listedMap, listedBit(phys));
    freeFrameTo(pmm, phys);
  }
  store<u32>(list, count);
}

/** Gives the running CPU's whole list back to the bitmap: for a request short of memory. Under the PMM's lock. */
export function frameListFlushHere(): void { listFlush(<usize>cpuLoad(CPU_FRAME_LIST), LIST_LIMIT); }

/** frameListFlushHere, taking the PMM's lock (onEachCpu's work, and allocFrames' slow path). Interrupts as they are. */
export function frameListDrainHere(): void {
  klockIrqSaveTo(pmmLock);
  frameListFlushHere();
  klockIrqRestoreFrom(pmmLock);
}

/**
 * Gives every CPU's list back to the bitmap, on that CPU (onEachCpu): the shrinker's scan, and
 * what a test calls before it reads the bitmap itself. Thread context (it moves to each CPU).
 */
export function pmmListsDrain(pages: u32 = 0): void { onEachCpu(frameListDrainHere); }

/**
 * The frame lists: each within its limit, every listed frame a high frame handed out in the
 * bitmap with its bit set in the listed map; and, when no other CPU can change its list meanwhile
 * (without smp=on), as many bits set as frames listed (no frame twice, none lost). Under the lock.
 */
export function frameListsHold(): bool {
  const all = !klockStarted();
  let listedCount: u32 = 0;
  for (let i: u32 = 0; i < MAX_CPUS; i++) {
    const list = lists + i * LIST_BYTES;
    if (!all && list != <usize>cpuLoad(CPU_FRAME_LIST)) continue;
    const count = load<u32>(list);
    if (count > LIST_LIMIT) return false;
    for (let k: u32 = 1; k <= count; k++) {
      const phys = load<u32>(list + (k << 2));
      if (!listable(phys) || !listed(phys)) return false;
    }
    listedCount += count;
  }
  if (!all) return true;
  let bits: u32 = 0;
  for (let w: u32 = 0; w < (listedSpan + 31) >> 5; w++) bits += popcnt(load<u32>(listedMap + (w << 2)));
  return bits == listedCount;
}
