// What the frame allocator (frames.ts) can say about itself: its counts, the state of a frame
// and the length of a run of one state (for pictures of memory), and the checker.
import { summaryTest } from "./summary";
import { Invariant } from "./invariant";
import { FULL, FrameAllocator, FrameState, reservedWord, usedWord } from "./frames";

/** Free frames, all zones. */
export function framesFree(pmm: FrameAllocator): u32 { return pmm.freeLow + pmm.freeHigh; }

/** Free frames in low memory (reachable through the linear map). */
export function framesFreeLow(pmm: FrameAllocator): u32 { return pmm.freeLow; }

/** Frames managed: every frame below the highest available address (below 4 GiB). */
export function framesTotal(pmm: FrameAllocator): u32 { return pmm.frameCount; }

/** Frames that can never be allocated: holes, non-RAM, the kernel, modules, the bitmap. */
export function framesReserved(pmm: FrameAllocator): u32 { return pmm.reservedFrames; }

/** Frames of available RAM in the memory map (whole frames below 4 GiB). */
export function framesUsable(pmm: FrameAllocator): u32 { return pmm.usableFrames; }

/** The state of frame `frame` (Reserved for frames beyond the managed range). */
export function frameState(pmm: FrameAllocator, frame: u32): FrameState {
  if (frame >= pmm.frameCount) return FrameState.Reserved;
  const w = frame >> 5, bit: u32 = 1 << (frame & 31);
  if ((reservedWord(pmm, w) & bit) != 0) return FrameState.Reserved;
  return (usedWord(pmm, w) & bit) != 0 ? FrameState.Allocated : FrameState.Free;
}

/**
 * How many frames from `frame` on share its state (at least 1 inside the managed range, 0
 * beyond it). Iterate the whole map with
 *   for (let f = 0; f < framesTotal(pmm); f += frameRunLength(pmm, f)) ... frameState(pmm, f) ...
 */
export function frameRunLength(pmm: FrameAllocator, frame: u32): u32 {
  if (frame >= pmm.frameCount) return 0;
  const state = frameState(pmm, frame);
  let f = frame + 1;
  while (f < pmm.frameCount) {
    const w = f >> 5;
    // A whole word in the same state is skipped at once.
    if ((f & 31) == 0 && ((w + 1) << 5) <= pmm.frameCount) {
      const used = usedWord(pmm, w), reserved = reservedWord(pmm, w);
      const same = state == FrameState.Free ? used == 0
        : state == FrameState.Reserved ? reserved == FULL
        : used == FULL && reserved == 0;
      if (same) { f += 32; continue; }
    }
    if (frameState(pmm, f) != state) break;
    f++;
  }
  return f - frame;
}

/**
 * Verifies the allocator's invariants: reserved frames are in use, the trees match the bitmap
 * word for word, the free counts match the bitmap, and the hints and the sentinel word are
 * right. Returns Invariant.Holds, or the first broken invariant (Frames*, invariant.ts), for a test or a panic message. O(frames / 32).
 */
export function frameAllocatorCheck(pmm: FrameAllocator): Invariant {
  let freeLow: u32 = 0, freeHigh: u32 = 0;
  for (let w: u32 = 0; w < pmm.wordCount; w++) {
    const used = usedWord(pmm, w), reserved = reservedWord(pmm, w);
    if ((reserved & ~used) != 0) return Invariant.FramesReservedInUse;
    // Exact, except the pending word, whose bits may still claim what it has lost.
    const hasFree = summaryTest(pmm.hasFree, w), allFree = summaryTest(pmm.allFree, w);
    if (w == pmm.pending ? !hasFree && used != FULL : hasFree != (used != FULL)) return Invariant.FramesHasFreeTree;
    if (w == pmm.pending ? !allFree && used == 0 : allFree != (used == 0)) return Invariant.FramesAllFreeTree;
    if (w < pmm.lowLimitWord) freeLow += 32 - popcnt(used); else freeHigh += 32 - popcnt(used);
  }
  if (freeLow != pmm.freeLow || freeHigh != pmm.freeHigh) return Invariant.FramesFreeCounts;
  // The hints: nothing free below them in their zones.
  for (let w: u32 = 0; w < pmm.hintLow && w < pmm.lowLimitWord; w++) if (usedWord(pmm, w) != FULL) return Invariant.FramesHints;
  for (let w = pmm.lowLimitWord; w < pmm.hintHigh && w < pmm.wordCount; w++) if (usedWord(pmm, w) != FULL) return Invariant.FramesHints;
  // The sentinel after the last word, where the high hint may rest (and never beyond).
  if (pmm.hintHigh > pmm.wordCount || usedWord(pmm, pmm.wordCount) != FULL || reservedWord(pmm, pmm.wordCount) != FULL) return Invariant.FramesHints;
  // The upper levels: l2 exact, top may hold stale bits but never misses one.
  for (let t = 0; t < 2; t++) {
    const tree = t == 0 ? pmm.hasFree : pmm.allFree;
    const l1Words = (pmm.wordCount + 31) >> 5;
    for (let j: u32 = 0; j < l1Words; j++) {
      const l2Word = load<u32>(tree.l2 + ((j >> 5) << 2));
      if ((load<u32>(tree.l1 + (j << 2)) != 0) != ((l2Word & (1 << (j & 31))) != 0)) return Invariant.FramesTreeLevels;
      if (l2Word != 0 && (tree.top & (1 << (j >> 5))) == 0) return Invariant.FramesTreeLevels;
    }
  }
  return Invariant.Holds;
}
