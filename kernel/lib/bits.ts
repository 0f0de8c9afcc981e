// Bit and alignment helpers for 32-bit words, shared by every allocator. All @inline: each
// compiles to the few instructions it names.

/** `value` rounded up to a multiple of `align` (a power of two); wraps past 2^32 - 1. */
@inline export function alignUp(value: u32, align: u32): u32 { return (value + align - 1) & ~(align - 1); }

/** `value` rounded up to a multiple of `align` (a power of two), in 64 bits so nothing wraps. */
@inline export function alignUp64(value: u32, align: u32): u64 { return (<u64>value + align - 1) & ~(<u64>align - 1); }

/** Bits at positions >= `b` (b in 0..32; 32 gives none). */
@inline export function bitsFrom(b: u32): u32 { return b >= 32 ? 0 : <u32>0xFFFFFFFF << b; }

/** Bits at positions < `b` (b in 0..32; 32 gives all). */
@inline export function bitsBelow(b: u32): u32 { return b >= 32 ? 0xFFFFFFFF : (<u32>1 << b) - 1; }

/** Bits at positions <= `b` (b in 0..31). */
@inline export function bitsUpTo(b: u32): u32 { return b == 31 ? 0xFFFFFFFF : (<u32>2 << b) - 1; }

/** The position of the highest set bit of `word` (not 0): floor(log2(word)). */
@inline export function highestBit(word: u32): u32 { return 31 - clz(word); }

/** 32-bit words needed for `bits` bits. */
@inline export function wordsFor(bits: u32): u32 { return (bits + 31) >> 5; }

// Divisibility by a constant without a division (Granlund and Montgomery; Hacker's Delight
// 10-17): for d = d0 * 2^k with d0 odd, x is a multiple of d exactly when
// rotr(x * inverse(d0), k) <= floor((2^32 - 1) / d), where inverse(d0) is d0's inverse modulo
// 2^32. Three words, computed once per divisor (DivisorTest); the test is a multiply, a rotate
// and a compare. Under -icount a `div` counts as one instruction but costs tens of cycles, so
// fast paths use this instead of `%`.

/** d0's inverse modulo 2^32 (d0 odd): Newton's iteration, 3 correct bits doubling 4 times. */
export function oddInverse(d0: u32): u32 {
  let x = d0;   // (d0 * d0 == 1 modulo 8 for every odd d0)
  for (let i = 0; i < 4; i++) x *= 2 - d0 * x;
  return x;
}

/** The three words of the divisibility test for `d` (not 0), written at `at` (12 bytes). */
@unmanaged export class DivisorTest {
  inverse: u32;   // the inverse of d's odd part
  shift: u32;     // d's trailing zero bits
  limit: u32;     // floor((2^32 - 1) / d)
}

/** Fills `test` for divisor `d` (not 0). */
export function divisorTestInit(test: DivisorTest, d: u32): void {
  const k = ctz(d);
  test.inverse = oddInverse(d >> k);
  test.shift = k;
  test.limit = 0xFFFFFFFF / d;
}

/**
 * x / d when `x` is a multiple of the divisor d `test` was made for; otherwise a number above
 * test.limit (floor((2^32 - 1) / d)). So `exactQuotient(test, x) < n` (n <= test.limit) says in
 * one compare that x is one of 0, d, ..., (n - 1) * d.
 */
@inline export function exactQuotient(test: DivisorTest, x: u32): u32 { return rotr<u32>(x * test.inverse, test.shift); }

/** Whether `x` is a multiple of the divisor `test` was made for. */
@inline export function isMultiple(test: DivisorTest, x: u32): bool { return exactQuotient(test, x) <= test.limit; }
