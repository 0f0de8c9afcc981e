// The kernel's physical and virtual address map, in one place (docs/memory-layout.md draws it).
//
//   virtual                         physical           what
//   0x00000000 - 0x00000FFF         -                  page 0: never mapped (null dereferences fault)
//   0xC0000000 - 0xF7FFFFFF         0 - 896 MiB        the linear map: low memory, virt = phys + LINEAR_MAP_BASE
//   0xF8000000 - 0xFFBFFFFF         -                  the kernel's virtual ranges (mapped page by page)
//   0xFFC00000 - 0xFFFFFFFF         -                  reserved for fixed mappings (not used yet)
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
/** The last 4 MiB, kept for fixed mappings (one page table's worth). */
export const FIXMAP_START: u32 = 0xFFC00000;
