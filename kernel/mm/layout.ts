// The kernel's physical and virtual address map, in one place (docs/memory-layout.md draws it).
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
/** The end of low memory (exclusive), and so the size of the linear map: 896 MiB. */
export const LOW_MEMORY_END: u32 = 896 << 20;
/** The same, in 4 KiB frames (229376, a multiple of 32 as the PMM's zones need). */
export const LOW_MEMORY_END_FRAME: u32 = LOW_MEMORY_END >> 12;

/** The linear-map address of low physical address `phys` (caller checks phys < LOW_MEMORY_END). */
@inline export function linearVirt(phys: u32): usize { return <usize>phys + LINEAR_MAP_BASE; }

/** The kernel virtual-range area: above the linear map, below the fixed mappings. */
export const VRANGE_START: u32 = 0xF8000000;
export const VRANGE_END: u32 = 0xFFC00000;
/** Pages at VRANGE_START never handed out: the gap between the linear map and the first range. */
export const VRANGE_GUARD_GAP_PAGES: u32 = 1;
/** The first page ranges are carved from. */
export const VRANGE_AREA_START: u32 = VRANGE_START + (VRANGE_GUARD_GAP_PAGES << 12);
/** Pages the range allocator manages: 31743. */
export const VRANGE_AREA_PAGES: u32 = (VRANGE_END - VRANGE_AREA_START) >> 12;
/** The last 4 MiB, for fixed mappings (one page table's worth). */
export const FIXMAP_START: u32 = 0xFFC00000;

/** Fixed one-page mapping slots, each at FIXMAP_START + slot * 4096. */
export const enum FixmapSlot {
  TestScratch = 0,    // kernel/tests: map a frame somewhere known
  BenchScratch = 1,   // kernel/bench: the same, for map/unmap timing
  UserCopy = 2,       // proc/memory.ts: a high frame being filled by a copy-on-write fault
}
/** The virtual address of a fixed mapping slot. */
@inline export function fixmapAddress(slot: FixmapSlot): u32 { return FIXMAP_START + (<u32>slot << 12); }
