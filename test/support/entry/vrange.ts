// Host build of kernel/mm/core/vrange.ts over a buffer, exported for test/mm/core/vrange.test.ts.
import {
  VRangeArea, vrangeInit, vrangeReserve, vrangeRelease, vrangeFind, vrangeSpan, vrangeIsFree,
  vrangeCheck, vrangeBookkeepingBytes, vrangeOwnerWord, vrangeSetOwnerWord, VRANGE_MAX_PAGES,
} from "../../../kernel/mm/core/vrange";

const block = memory.data(600 << 10, 16);
let area: VRangeArea = changetype<VRangeArea>(block);

/** A fresh area of `pages` pages at `base`; returns false if its bookkeeping does not fit. */
export function init(base: u32, pages: u32): bool {
  if (vrangeBookkeepingBytes(pages) > (600 << 10)) return false;
  memory.fill(block, 0xA5, 600 << 10);   // garbage: init must not rely on zeroed memory
  area = vrangeInit(block, base, pages);
  return true;
}
export function maxPages(): u32 { return VRANGE_MAX_PAGES; }
export function bookkeepingBytes(pages: u32): u32 { return vrangeBookkeepingBytes(pages); }
export function reserve(span: u32): u32 { return vrangeReserve(area, span); }
export function release(page: u32): u32 { return vrangeRelease(area, page); }
export function find(page: u32): u32 { return vrangeFind(area, page); }
export function span(page: u32): u32 { return vrangeSpan(area, page); }
export function isFree(page: u32): bool { return vrangeIsFree(area, page); }
export function check(): u32 { return vrangeCheck(area); }
export function owner(page: u32, index: u32): u32 { return vrangeOwnerWord(area, page, index); }
export function setOwner(page: u32, index: u32, value: u32): void { vrangeSetOwnerWord(area, page, index, value); }
export function freePages(): u32 { return area.freePages; }
export function freeBlocks(): u32 { return area.freeBlocks; }
export function liveBlocks(): u32 { return area.liveBlocks; }
