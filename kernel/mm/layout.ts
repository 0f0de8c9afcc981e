// The kernel's physical and virtual address map, in one place (docs/memory-layout.md draws it).
// With the default split (no vmalloc= boot option):
//
//   virtual                         physical           what
//   0x00000000 - 0x00000FFF         -                  page 0: never mapped (null dereferences fault)
//   0xC0000000 - 0xF7FFFFFF         0 - 896 MiB        the linear map: low memory, virt = phys + LINEAR_MAP_BASE
//                                                      (4 MiB pages; trimmed to the memory map's end if
//                                                      that is lower, and its page 0 left unmapped)
//   0xF8000000 - 0xF8000FFF         -                  guard gap: never mapped (the linear map's end
//                                                      and the first range never touch)
//   0xF8001000 - 0xFFBFFFFF         -                  the kernel's virtual ranges (reserveRange), each
//                                                      followed by an unmapped guard page
//   0xFFC00000 - 0xFFFFFFFF         -                  fixed mappings: one page per FixmapSlot
//
// The split between the linear map and the ranges is a boot option, as Linux's vmalloc=:
// vmalloc=N (MiB, a multiple of 4 from 32 to 128) gives the ranges N MiB below the fixed
// mappings, and low memory ends 1020 - N MiB into physical memory: 896 MiB by default (124 MiB
// of ranges), 988 MiB at vmalloc=32, 892 MiB at vmalloc=128. (128 MiB is what the range
// allocator indexes: 32,768 pages, vrange.ts.) layoutSetRangeArea sets it once, from the
// command line, before the PMM is built; every reader goes through the functions below, which
// read the two numbers it sets.
//
// The page tables for everything from 0xF8000000 up are made at boot (vmmInit) and never
// freed, so committing a page never needs a frame for a table, and every future address space
// can share the kernel's directory entries as they are.
//
// Physical memory below LOW_MEMORY_END is "low memory": the kernel reaches it through the
// linear map without mapping anything. Frames above it ("high memory") must be mapped to be
// touched; the PMM hands them out first for pages that get mapped anyway.
import { KERNEL_VMA_OFFSET } from "../arch/x86";

/** Where the linear map starts: virtual = physical + LINEAR_MAP_BASE. */
export const LINEAR_MAP_BASE: usize = KERNEL_VMA_OFFSET;
/** What boot/entry.asm maps as the early linear map: 896 MiB (0xC0000000-0xF7FFFFFF). */
export const BOOT_LINEAR_MAP_END: u32 = 896 << 20;
/** The kernel virtual-range area ends where the fixed mappings begin. */
export const VRANGE_END: u32 = 0xFFC00000;
/** The range area's default size, and the bounds of vmalloc= (MiB). */
export const RANGE_AREA_DEFAULT_MIB: u32 = (VRANGE_END - (<u32>LINEAR_MAP_BASE + BOOT_LINEAR_MAP_END)) >> 20;   // 124
export const RANGE_AREA_MIN_MIB: u32 = 32;
export const RANGE_AREA_MAX_MIB: u32 = 128;
/** Pages at the range area's start never handed out: the gap between the linear map and the first range. */
export const VRANGE_GUARD_GAP_PAGES: u32 = 1;

// The split, set once at boot (layoutSetRangeArea), each reader's number kept ready. The readers
// below may be called from any context (they read two numbers that never change after boot).
let lowEnd: u32 = BOOT_LINEAR_MAP_END;
let rangeBase: u32 = <u32>LINEAR_MAP_BASE + BOOT_LINEAR_MAP_END;
let areaStart: u32 = rangeBase + (VRANGE_GUARD_GAP_PAGES << 12);
let areaPages: u32 = (VRANGE_END - areaStart) >> 12;

/**
 * Gives the range area `mib` MiB (RANGE_AREA_MIN_MIB to RANGE_AREA_MAX_MIB, a multiple of 4:
 * the boot option vmalloc=), the linear map the rest. Boot, once, before the PMM (and, when low
 * memory grows past the early map, before anything touches it: vmmEarlyLinearMap); false
 * (nothing changed) for a size outside those bounds.
 */
export function layoutSetRangeArea(mib: u32): bool {
  if (mib < RANGE_AREA_MIN_MIB || mib > RANGE_AREA_MAX_MIB || (mib & 3) != 0) return false;
  rangeBase = VRANGE_END - (mib << 20);
  lowEnd = rangeBase - <u32>LINEAR_MAP_BASE;
  areaStart = rangeBase + (VRANGE_GUARD_GAP_PAGES << 12);
  areaPages = (VRANGE_END - areaStart) >> 12;
  return true;
}

/** The end of low memory (exclusive), and so the size of the linear map: 896 MiB by default. */
@inline export function lowMemoryEnd(): u32 { return lowEnd; }
/** The same, in 4 KiB frames (a multiple of 1024, as the PMM's zones need 32). */
@inline export function lowMemoryEndFrame(): u32 { return lowEnd >> 12; }
/** The range area's first address (where the linear map ends): 0xF8000000 by default. */
@inline export function vrangeStart(): u32 { return rangeBase; }
/** The first page ranges are carved from. */
@inline export function vrangeAreaStart(): u32 { return areaStart; }
/** Pages the range allocator manages: 31743 by default. */
@inline export function vrangeAreaPages(): u32 { return areaPages; }

/** The linear-map address of low physical address `phys` (caller checks phys < lowMemoryEnd()). */
@inline export function linearVirt(phys: u32): usize { return <usize>phys + LINEAR_MAP_BASE; }

/** The last 4 MiB, for fixed mappings (one page table's worth). */
export const FIXMAP_START: u32 = 0xFFC00000;

/** Fixed one-page mapping slots, each at FIXMAP_START + slot * 4096. */
export const enum FixmapSlot {
  TestScratch = 0,    // kernel/tests: map a frame somewhere known
  BenchScratch = 1,   // kernel/bench: the same, for map/unmap timing
  TlbProbe = 3,       // selftest smp.stale_tlb: a page another CPU reads while it is unmapped
  UserFill = 4,       // mm/virt/window.ts: a high frame being filled before it is mapped (a user
                      // page, a range page), one slot per CPU: UserFill + its index, MAX_CPUS slots
}
/** The virtual address of a fixed mapping slot. */
@inline export function fixmapAddress(slot: FixmapSlot): u32 { return FIXMAP_START + (<u32>slot << 12); }
