// A summary tree over the words of a bitmap: one bit per bitmap word that has some property
// ("has a free frame", "is entirely free"), summarised twice more, so that the first word with
// the property at or after any index (or the last at or before it) is found with at most three
// masked loads and three bit scans, never by scanning the bitmap. The PMM keeps two over its
// frame bitmap; the range allocator keeps one whose "words" are pages (property: a block
// starts here), so that l1 is its starts bitmap itself.
//
//   top      one u32 (in the tree header)       bit k  = l2 word k is non-zero
//   l2       up to 32 u32                       bit j of word k  = l1 word 32k+j is non-zero
//   l1       ceil(words / 32) u32               bit i of word j  = bitmap word 32j+i has the property
//
//   l1 bit  covers   1 bitmap word =    32 frames = 128 KiB
//   l2 bit  covers  32 bitmap words =  1024 frames =   4 MiB
//   top bit covers 1024 bitmap words = 32768 frames = 128 MiB
//
// So one tree indexes at most 32 * 32 * 32 = 32768 bitmap words: 2^20 frames, all of 4 GiB.
// The caller owns the l1/l2 arrays (they live in the PMM's bitmap block) and calls
// `summarySet`/`summaryClear` whenever a word gains or loses the property. l1 and l2 are always
// exact; `top` may hold stale bits (set over an all-zero l2 word), because clearing it eagerly
// costs every allocation that fills the last free word of a 128 MiB group one more level. A
// search clears the stale top bits it meets; there are at most 32.
// So: l1 bit <=> the word has the property; l2 bit <=> the l1 word is non-zero;
// l2 word non-zero => its top bit is set.
import { bitsFrom, bitsBelow, bitsUpTo, highestBit } from "../../lib/bits";

/** The most bitmap words one tree can index. */
export const SUMMARY_MAX_WORDS: u32 = 32 * 32 * 32;
/** What `summaryFindFrom` returns when no word has the property. */
export const SUMMARY_NONE: u32 = 0xFFFFFFFF;

// Header (16 bytes):
//   +0 top: u32   +4 l1: usize (address of the l1 words)   +8 l2: usize   +12 words: u32 (indexed)
@unmanaged export class SummaryTree {
  top: u32;
  l1: usize;
  l2: usize;
  words: u32;
}

/** Bytes of l1 words needed for `words` bitmap words. */
export function summaryL1Bytes(words: u32): u32 { return ((words + 31) >> 5) << 2; }
/** Bytes of l2 words needed for `words` bitmap words. */
export function summaryL2Bytes(words: u32): u32 { return ((words + 1023) >> 10) << 2; }

/** Points `tree` at its arrays for `words` (at most SUMMARY_MAX_WORDS) words and clears it. */
export function summaryInit(tree: SummaryTree, l1: usize, l2: usize, words: u32): void {
  tree.top = 0;
  tree.l1 = l1;
  tree.l2 = l2;
  tree.words = words;
  memory.fill(l1, 0, summaryL1Bytes(words));
  memory.fill(l2, 0, summaryL2Bytes(words));
}

/**
 * Rebuilds l2 and top from l1 (after the caller filled l1 word by word, which is cheaper at
 * boot than one summarySet per bitmap word).
 */
export function summaryRebuildUpper(tree: SummaryTree): void {
  const words = tree.words;
  const l1Words = (words + 31) >> 5;
  const l2Words = (l1Words + 31) >> 5;
  memory.fill(tree.l2, 0, l2Words << 2);
  let top: u32 = 0;
  for (let j: u32 = 0; j < l1Words; j++) {
    if (load<u32>(tree.l1 + (j << 2)) != 0) {
      const at = tree.l2 + ((j >> 5) << 2);
      store<u32>(at, load<u32>(at) | (1 << (j & 31)));
      top |= 1 << (j >> 5);
    }
  }
  tree.top = top;
}

/** Marks bitmap word `word` as having the property (and, unconditionally, its ancestors). */
@inline export function summarySet(tree: SummaryTree, word: u32): void {
  const j = word >> 5;
  const at1 = tree.l1 + (j << 2);
  const old1 = load<u32>(at1);
  store<u32>(at1, old1 | (1 << (word & 31)));
  if (old1 == 0) {
    const at2 = tree.l2 + ((j >> 5) << 2);
    store<u32>(at2, load<u32>(at2) | (1 << (j & 31)));
    tree.top |= 1 << (j >> 5);
  }
}

/**
 * Marks bitmap word `word` as no longer having the property. l1 and l2 stay exact; a top bit
 * is cleared lazily, by the first search that finds it standing over an empty l2 word.
 */
@inline export function summaryClear(tree: SummaryTree, word: u32): void {
  const j = word >> 5;
  const at1 = tree.l1 + (j << 2);
  const now1 = load<u32>(at1) & ~(1 << (word & 31));
  store<u32>(at1, now1);
  if (now1 == 0) {
    const at2 = tree.l2 + ((j >> 5) << 2);
    store<u32>(at2, load<u32>(at2) & ~(1 << (j & 31)));
  }
}

/** Whether bitmap word `word` has the property (exact). */
@inline export function summaryTest(tree: SummaryTree, word: u32): bool {
  return (load<u32>(tree.l1 + ((word >> 5) << 2)) & (1 << (word & 31))) != 0;
}


/**
 * The lowest bitmap word at or after `from` that has the property, or SUMMARY_NONE.
 * Cost: at most three levels up and three down, plus a few instructions for each stale top
 * bit it meets and clears (there are at most 32, and each is cleared once).
 */
export function summaryFindFrom(tree: SummaryTree, from: u32): u32 {
  if (from >= tree.words) return SUMMARY_NONE;
  const l1 = tree.l1, l2 = tree.l2;
  const j = from >> 5;
  const here = load<u32>(l1 + (j << 2)) & bitsFrom(from & 31);
  if (here != 0) return (j << 5) | ctz(here);
  // The l1 words after j in its group of 32, then the following groups through `top`.
  let k = j >> 5;
  let near = load<u32>(l2 + (k << 2)) & bitsFrom((j & 31) + 1);
  while (near == 0) {
    const far = tree.top & bitsFrom(k + 1);
    if (far == 0) return SUMMARY_NONE;
    k = ctz(far);
    near = load<u32>(l2 + (k << 2));
    if (near == 0) tree.top &= ~(1 << k);   // a stale top bit: clear it and look further
  }
  const j1 = (k << 5) | ctz(near);
  return (j1 << 5) | ctz(load<u32>(l1 + (j1 << 2)));
}

/**
 * The lowest bitmap word that has the property, or SUMMARY_NONE: summaryFindFrom(tree, 0), top
 * down (one masked load and count-trailing-zeros per level, about half the cost).
 */
export function summaryFirst(tree: SummaryTree): u32 {
  let top = tree.top;
  while (top != 0) {
    const k = ctz(top);
    const near = load<u32>(tree.l2 + (k << 2));
    if (near != 0) {
      const j = (k << 5) | ctz(near);
      return (j << 5) | ctz(load<u32>(tree.l1 + (j << 2)));
    }
    top &= ~(1 << k);   // a stale top bit: clear it and look further
    tree.top = top;
  }
  return SUMMARY_NONE;
}

/**
 * The highest bitmap word at or before `from` (below tree.words) that has the property, or
 * SUMMARY_NONE: summaryFindFrom mirrored, at the same cost.
 */
export function summaryFindAtOrBefore(tree: SummaryTree, from: u32): u32 {
  // (one return, after the branches meet: with an early return clang folds `j << 5` into
  // `from & ~31` and highestBit into bsr and two xors, five instructions more on the fast path)
  let j = from >> 5;
  let word = load<u32>(tree.l1 + (j << 2)) & bitsUpTo(from & 31);
  if (word == 0) {
    // The l1 words before j in its group of 32, then the groups before it through `top`.
    let k = j >> 5;
    let near = load<u32>(tree.l2 + (k << 2)) & bitsBelow(j & 31);
    while (near == 0) {
      const far = tree.top & bitsBelow(k);
      if (far == 0) return SUMMARY_NONE;
      k = highestBit(far);
      near = load<u32>(tree.l2 + (k << 2));
      if (near == 0) tree.top &= ~(1 << k);   // a stale top bit: clear it and look further
    }
    j = (k << 5) + highestBit(near);
    word = load<u32>(tree.l1 + (j << 2));
  }
  return (j << 5) + highestBit(word);
}

/**
 * Whether the upper levels agree with l1: l2 exactly, and top over every non-zero l2 word (a
 * stale top bit is allowed). O(words / 32): for checkers.
 */
export function summaryUpperHolds(tree: SummaryTree): bool {
  const l1Words = (tree.words + 31) >> 5;
  const l2Words = (l1Words + 31) >> 5;
  for (let k: u32 = 0; k < l2Words; k++) {
    let expect: u32 = 0;
    for (let b: u32 = 0; b < 32 && (k << 5) + b < l1Words; b++) {
      if (load<u32>(tree.l1 + (((k << 5) + b) << 2)) != 0) expect |= 1 << b;
    }
    if (load<u32>(tree.l2 + (k << 2)) != expect) return false;
    if (expect != 0 && (tree.top & (1 << k)) == 0) return false;
  }
  return true;
}
