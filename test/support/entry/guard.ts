// Host build of kernel/mm/core/guard-layout.ts (placement, slack pattern, quarantine ring) over a
// buffer, exported for test/mm/core/guard-layout.test.ts.
import {
  GuardRing, GUARD_RING_BYTES, guardPagesFor, guardObjectOffset, guardPatternByte, guardFillPattern, guardFirstBadByte,
  guardRingInit, guardRingPut, guardRingTake, guardRingHolds,
} from "../../../kernel/mm/core/guard-layout";
export { fill, holds } from "../host-lib/buffer-provider";

const BYTES: u32 = 64 << 10;
const buffer = memory.data(BYTES, 16);
const ringHeader = memory.data(GUARD_RING_BYTES, 4);
const ringSlots = memory.data(4 * 1024, 4);
let ring = changetype<GuardRing>(ringHeader);

export function bufferBase(): usize { return buffer; }
export function bufferBytes(): u32 { return BYTES; }
export function pagesFor(size: u32, align: u32): u32 { return guardPagesFor(size, align); }
export function objectOffset(size: u32, align: u32, pages: u32): u32 { return guardObjectOffset(size, align, pages); }
export function patternByte(address: usize): u32 { return guardPatternByte(address); }
export function fillPattern(from: usize, to: usize): void { guardFillPattern(from, to); }
export function firstBadByte(from: usize, to: usize): usize { return guardFirstBadByte(from, to); }
export function peek(address: usize): u32 { return load<u8>(address); }
export function poke(address: usize, value: u32): void { store<u8>(address, <u8>value); }
export function ringInit(capacity: u32): void { ring = guardRingInit(ringHeader, ringSlots, min<u32>(capacity, 1024)); }
export function ringPut(value: u32): u32 { return guardRingPut(ring, value); }
export function ringTake(): u32 { return guardRingTake(ring); }
export function ringHolds(value: u32): bool { return guardRingHolds(ring, value); }
export function ringCount(): u32 { return ring.count; }
