// Host build of kernel/mm/core/seg-fit.ts's class arithmetic and kernel/lib/bits.ts, exported for
// test/mm/core/seg-fit.test.ts (the heap's and the ranges' tests drive the list bitmaps).
import { segClass, segRoundUp } from "../../../kernel/mm/core/seg-fit";
import { alignUp, alignUp64, bitsFrom, bitsBelow, bitsUpTo, highestBit, wordsFor, DivisorTest, divisorTestInit, isMultiple } from "../../../kernel/lib/bits";

export function classOf3(units: u32): u32 { return segClass(units, 3); }
export function classOf4(units: u32): u32 { return segClass(units, 4); }
export function roundUp3(units: u32): u32 { return segRoundUp(units, 3); }
export function roundUp4(units: u32): u32 { return segRoundUp(units, 4); }

export function align(value: u32, to: u32): u32 { return alignUp(value, to); }
export function align64(value: u32, to: u32): u64 { return alignUp64(value, to); }
export function from(b: u32): u32 { return bitsFrom(b); }
export function below(b: u32): u32 { return bitsBelow(b); }
export function upTo(b: u32): u32 { return bitsUpTo(b); }
export function highest(word: u32): u32 { return highestBit(word); }
export function words(bits: u32): u32 { return wordsFor(bits); }

const divisorBlock = memory.data(offsetof<DivisorTest>(), 4);
/** isMultiple(x) for divisor d, through a DivisorTest made for d. */
export function multipleOf(x: u32, d: u32): bool {
  const test = changetype<DivisorTest>(divisorBlock);
  divisorTestInit(test, d);
  return isMultiple(test, x);
}
