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
