// Host build of kernel/mm/virt/paging.ts over simulated physical memory: frame f lives at
// physBase + f * 4096 in this module's memory; frame 1 is the page directory, tables come from
// a bump source over frames 2.. that can be limited to test running out.
import {
  AddressSpace, map, unmap, protect, translate, entryFor, park, takeEntry, ensureTable, unmapLargePage, PDE_LARGE, PAGE_PRESENT, PAGE_WRITABLE,
} from "../../../kernel/mm/virt/paging";

const FRAMES: u32 = 128;
const physBase = memory.data(FRAMES * 4096, 4096);
const space = changetype<AddressSpace>(memory.data(offsetof<AddressSpace>(), 8));
let nextTable: u32 = 2;
let tableLimit: u32 = FRAMES;

/** Resets: an empty directory at frame 1, tables from frame 2 up to (not including) `limit`. */
export function reset(limit: u32): void {
  memory.fill(physBase, 0xCC, FRAMES * 4096);   // garbage: tables must be zeroed when created
  memory.fill(physBase + 4096, 0, 4096);
  space.directory = physBase + 4096;
  space.directoryPhys = 4096;
  space.physOffset = physBase;
  space.tablesAllocated = 0;
  nextTable = 2;
  tableLimit = min<u32>(limit, FRAMES);
  space.tableSource = changetype<usize>((): u32 => {
    if (nextTable >= tableLimit) return 0;
    return (nextTable++) << 12;
  });
}
/** Makes directory entry `index` a present 4 MiB page (like the kernel's linear map). */
export function setLargePage(index: u32, phys: u32): void {
  store<u32>(space.directory + (index << 2), phys | PDE_LARGE | PAGE_PRESENT | PAGE_WRITABLE);
}
export function doMap(virt: u32, phys: u32, flags: u32): u32 { return map(space, virt, phys, flags); }
export function doUnmap(virt: u32): u32 { return unmap(space, virt); }
export function doProtect(virt: u32, flags: u32): u32 { return protect(space, virt, flags); }
export function doTranslate(virt: u32): u64 { return translate(space, virt); }
export function entry(virt: u32): u32 { return entryFor(space, virt); }
export function tables(): u32 { return space.tablesAllocated; }
export function doPark(virt: u32, phys: u32): u32 { return park(space, virt, phys); }
export function doTakeEntry(virt: u32): u32 { return takeEntry(space, virt); }
export function doEnsureTable(virt: u32): u32 { return ensureTable(space, virt); }
export function doUnmapLargePage(virt: u32): bool { return unmapLargePage(space, virt); }
