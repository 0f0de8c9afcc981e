// The hardware-independent part of the guard-page debug allocator (guard.ts): where an object
// goes in its pages, the byte pattern that fills the slack around it, and the quarantine, a FIFO
// of freed allocations kept unmapped for a while. The host tests drive it over a buffer.
//
// An allocation of `size` bytes aligned to `align` gets `pages` pages of its own, followed by the
// range's unmapped guard page. The object ends as close to the guard page as its alignment lets
// it, so reading or writing even one byte past a size that is a multiple of `align` faults at
// that instruction:
//
//   first page                                                 end   guard page
//   +----------------------------+----------------------+------+ +-----------+
//   | front slack: pattern       | object: size bytes   | gap  | | unmapped  |
//   +----------------------------+----------------------+------+ +-----------+
//   ^ page-aligned               ^ end - round(size, align)    ^ pages * 4096
//                                                     gap = round(size, align) - size: pattern
//
// Both the front slack and the gap hold a pattern that depends on each byte's address (so a
// stray copy of pattern bytes from elsewhere is still caught); the free checks them both.
import { alignUp64 } from "../../lib/bits";

/** Bytes in a page. */
export const GUARD_PAGE_BYTES: u32 = 4096;
/** The largest alignment the guard allocator gives (an object never starts before its first page). */
export const GUARD_MAX_ALIGN: u32 = 4096;
/** The pattern's base byte: the byte at address a is GUARD_PATTERN ^ (a & 15). */
export const GUARD_PATTERN: u32 = 0xD3;


/**
 * Pages an allocation of `size` bytes aligned to `align` needs, or 0 if `size` is 0 or the
 * pages would not fit below 4 GiB.
 */
export function guardPagesFor(size: u32, align: u32): u32 {
  const pages = (alignUp64(size, align) + GUARD_PAGE_BYTES - 1) / GUARD_PAGE_BYTES;
  return pages > 0xFFFFF ? 0 : <u32>pages;
}

/** Where the object starts, as an offset from its first page, given guardPagesFor's `pages`. */
export function guardObjectOffset(size: u32, align: u32, pages: u32): u32 {
  return <u32>(<u64>pages * GUARD_PAGE_BYTES - alignUp64(size, align));
}

/** The pattern byte for `address`. */
@inline export function guardPatternByte(address: usize): u32 { return (GUARD_PATTERN ^ <u32>(address & 15)) & 0xFF; }

/** The four bytes of the pattern at a 4-aligned `address`, as a little-endian word. */
@inline function patternWord(address: usize): u32 {
  return guardPatternByte(address) | (guardPatternByte(address + 1) << 8) | (guardPatternByte(address + 2) << 16) |
    (guardPatternByte(address + 3) << 24);
}

/** Fills [from, to) with the pattern: bytes up to a 4-aligned address, then words, then bytes. */
export function guardFillPattern(from: usize, to: usize): void {
  let at = from;
  while (at < to && (at & 3) != 0) { store<u8>(at, <u8>guardPatternByte(at)); at++; }
  const w0 = patternWord(at & ~15), w1 = patternWord((at & ~15) + 4), w2 = patternWord((at & ~15) + 8), w3 = patternWord((at & ~15) + 12);
  while (at + 4 <= to) {
    const phase = (at >> 2) & 3;
    store<u32>(at, phase == 0 ? w0 : phase == 1 ? w1 : phase == 2 ? w2 : w3);
    at += 4;
  }
  while (at < to) { store<u8>(at, <u8>guardPatternByte(at)); at++; }
}

/**
 * The address of the first byte in [from, to) that no longer holds the pattern, or 0 if they
 * all do. Compares a word at a time where it can.
 */
export function guardFirstBadByte(from: usize, to: usize): usize {
  let at = from;
  while (at < to && (at & 3) != 0) { if (<u32>load<u8>(at) != guardPatternByte(at)) return at; at++; }
  const w0 = patternWord(at & ~15), w1 = patternWord((at & ~15) + 4), w2 = patternWord((at & ~15) + 8), w3 = patternWord((at & ~15) + 12);
  while (at + 4 <= to) {
    const phase = (at >> 2) & 3;
    if (load<u32>(at) != (phase == 0 ? w0 : phase == 1 ? w1 : phase == 2 ? w2 : w3)) break;   // the bytes say which
    at += 4;
  }
  while (at < to) { if (<u32>load<u8>(at) != guardPatternByte(at)) return at; at++; }
  return 0;
}

// --- the quarantine: a FIFO ring of freed allocations --------------------------------------------
//
//   +0 slots (address of `capacity` u32)   +4 capacity   +8 oldest (index)   +12 count

@unmanaged export class GuardRing {
  slots: usize;
  capacity: u32;
  oldest: u32;
  count: u32;
}

/** Bytes a GuardRing's header needs (its slots are separate: capacity x 4 bytes). */
export const GUARD_RING_BYTES: u32 = offsetof<GuardRing>();

/** Makes an empty ring at `at` over `capacity` (at least 1) u32 slots at `slots`. */
export function guardRingInit(at: usize, slots: usize, capacity: u32): GuardRing {
  const ring = changetype<GuardRing>(at);
  ring.slots = slots;
  ring.capacity = max<u32>(capacity, 1);
  ring.oldest = 0;
  ring.count = 0;
  return ring;
}

/** Removes and returns the oldest value, or 0 if the ring is empty. */
export function guardRingTake(ring: GuardRing): u32 {
  if (ring.count == 0) return 0;
  const value = load<u32>(ring.slots + (ring.oldest << 2));
  ring.oldest = ring.oldest + 1 == ring.capacity ? 0 : ring.oldest + 1;
  ring.count--;
  return value;
}

/**
 * Adds `value` (not 0) as the newest. If the ring was full, the oldest value is taken out to make
 * room and returned; otherwise 0.
 */
export function guardRingPut(ring: GuardRing, value: u32): u32 {
  const evicted = ring.count == ring.capacity ? guardRingTake(ring) : 0;
  let slot = ring.oldest + ring.count;
  if (slot >= ring.capacity) slot -= ring.capacity;
  store<u32>(ring.slots + (slot << 2), value);
  ring.count++;
  return evicted;
}

/** Whether `value` is in the ring (O(count): for checks and tests). */
export function guardRingHolds(ring: GuardRing, value: u32): bool {
  for (let i: u32 = 0; i < ring.count; i++) {
    let slot = ring.oldest + i;
    if (slot >= ring.capacity) slot -= ring.capacity;
    if (load<u32>(ring.slots + (slot << 2)) == value) return true;
  }
  return false;
}
