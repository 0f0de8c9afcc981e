// The segregated-fit class scheme of TLSF, shared by the heap (block sizes in units of 16 bytes)
// and the virtual-range allocator (spans in pages). Sizes are sorted into classes: below
// 2^slBits units, one class per unit; above, 2^slBits classes per power of two. Each class has
// a free list, and a two-level bitmap says which lists are non-empty, so that the first
// non-empty list at or above any class is found with two count-trailing-zeros:
//
//   first level   one u32:           bit fl <=> second-level word fl is non-zero
//   second level  one u32 per fl:    bit sl of word fl <=> list (fl << slBits) + sl is non-empty
//
//   class of n units:   n < 2^slBits:  n
//                       otherwise:     with h = highestBit(n),
//                                      ((h - slBits + 1) << slBits) + (the slBits bits below h)
//
// An allocation rounds its size up with segRoundUp, so that every block of the first class it
// looks in fits: segFindList(segClass(segRoundUp(n))) is a good fit in O(1).
//
// Every function is @inline with slBits a constant at its call sites, so each user compiles to
// its own straight-line code, as if written for it.
import { highestBit } from "../../lib/bits";

/** The class (list index) of a size of `units` units (at least 1). */
@inline export function segClass(units: u32, slBits: u32): u32 {
  if (units < (<u32>1 << slBits)) return units;
  const high = highestBit(units);
  // ((high - slBits + 1) << slBits) + the bits below the top, written so that the constant part
  // comes last: for the ranges' 3 bits this is their old expression to the instruction
  return ((high - 1) << slBits) + ((units >> (high - slBits)) & ((<u32>1 << slBits) - 1)) - ((slBits - 2) << slBits);
}

/** `units` rounded up to the first size of the next class (unless it starts a class itself). */
@inline export function segRoundUp(units: u32, slBits: u32): u32 {
  if (units < (<u32>1 << slBits)) return units;
  const step = (<u32>1 << (highestBit(units) - slBits)) - 1;
  return (units + step) & ~step;
}

// The bitmaps live in the allocator's own control block, which has the two fields
//   flBitmap: u32      the first-level word
//   slBitmaps: usize   the address of the second-level words
// (T is Heap or VRangeArea: AssemblyScript compiles a generic once per type, with field offsets.)

/** Records that list `index` of `owner` became non-empty. */
@inline export function segMarkList<T>(owner: T, index: u32, slBits: u32): void {
  const fl = index >> slBits;
  const slAt = owner.slBitmaps + (fl << 2);
  store<u32>(slAt, load<u32>(slAt) | (1 << (index & ((<u32>1 << slBits) - 1))));
  owner.flBitmap |= 1 << fl;
}

/** Records that list `index` of `owner` became empty. */
@inline export function segUnmarkList<T>(owner: T, index: u32, slBits: u32): void {
  const fl = index >> slBits;
  const slAt = owner.slBitmaps + (fl << 2);
  const sl = load<u32>(slAt) & ~(1 << (index & ((<u32>1 << slBits) - 1)));
  store<u32>(slAt, sl);
  if (sl == 0) owner.flBitmap &= ~(1 << fl);
}

/**
 * The first non-empty list of `owner` at or above class `index`, or `flCount << slBits` when
 * there is none (also for an index at or above that).
 */
@inline export function segFindList<T>(owner: T, index: u32, slBits: u32, flCount: u32): u32 {
  let fl = index >> slBits;
  if (fl >= flCount) return flCount << slBits;
  let sl = load<u32>(owner.slBitmaps + (fl << 2)) & (0xFFFFFFFF << (index & ((<u32>1 << slBits) - 1)));
  if (sl == 0) {
    const above = owner.flBitmap & (0xFFFFFFFF << (fl + 1));
    if (above == 0) return flCount << slBits;
    fl = ctz(above);
    sl = load<u32>(owner.slBitmaps + (fl << 2));
  }
  return (fl << slBits) + ctz(sl);
}
