// Host build of kernel/mm/core/summary.ts over a buffer, exported for test/mm/core/summary.test.ts.
import {
  SummaryTree, SUMMARY_MAX_WORDS, summaryInit, summarySet, summaryClear, summaryTest, summaryFindFrom,
  summaryFindAtOrBefore, summaryFirst, summaryUpperHolds, summaryL1Bytes,
} from "../../../kernel/mm/core/summary";

const tree = changetype<SummaryTree>(memory.data(offsetof<SummaryTree>(), 4));
const arrays = memory.data((1024 + 32) * 4, 4);   // l1 and l2 for SUMMARY_MAX_WORDS words

/** A cleared tree over `words` bitmap words (at most maxWords()). */
export function init(words: u32): void {
  summaryInit(tree, arrays, arrays + summaryL1Bytes(words), words);
}
export function maxWords(): u32 { return SUMMARY_MAX_WORDS; }
export function set(word: u32): void { summarySet(tree, word); }
export function clear(word: u32): void { summaryClear(tree, word); }
export function test(word: u32): bool { return summaryTest(tree, word); }
export function findFrom(from: u32): u32 { return summaryFindFrom(tree, from); }
export function findAtOrBefore(from: u32): u32 { return summaryFindAtOrBefore(tree, from); }
export function first(): u32 { return summaryFirst(tree); }
export function upperHolds(): bool { return summaryUpperHolds(tree); }
/** Breaks the tree for the checker's test: flips bit `bit` of l2 word `k`, or of top when k is -1. */
export function corrupt(k: i32, bit: u32): void {
  if (k < 0) tree.top ^= 1 << bit;
  else store<u32>(tree.l2 + (<u32>k << 2), load<u32>(tree.l2 + (<u32>k << 2)) ^ (1 << bit));
}
