// The kernel's address space: the boot page directory (boot/entry.asm), reached through the
// linear map, with new page tables from the PMM's low memory. Also makes the kernel's code and
// read-only data read-only (CR0.WP enforces it in ring 0). See docs/memory-layout.md.
import { linkerAddress, LinkerSymbol } from "../arch/x86";
import { LogLevel, logBegin } from "../console/log";
import { puts, putHex, putDec, newline } from "../console/console";
import { panic } from "../diag/panic";
import {
  AddressSpace, map, unmap, protect, translate, entryFor, PagingError, PAGE_SIZE, PAGE_GLOBAL,
} from "./paging";
import { allocLowFrame } from "./pmm";
import { LINEAR_MAP_BASE } from "./layout";

const kernelSpace = changetype<AddressSpace>(memory.data(offsetof<AddressSpace>(), 8));

/** Page tables for the kernel come from low memory, so the linear map reaches them. */
function kernelTableSource(): u32 { return allocLowFrame(); }

/**
 * Takes over the boot page directory as the kernel's address space and write-protects the
 * kernel image from its first page through the end of .rodata. Call once, after pmmInit.
 */
export function vmmInit(): void {
  const directory = linkerAddress(LinkerSymbol.BootPageDirectory);
  kernelSpace.directory = directory;
  kernelSpace.directoryPhys = <u32>(directory - LINEAR_MAP_BASE);
  kernelSpace.physOffset = LINEAR_MAP_BASE;
  kernelSpace.tableSource = changetype<usize>(kernelTableSource);
  kernelSpace.tablesAllocated = 0;
  const first = <u32>linkerAddress(LinkerSymbol.KernelStart), end = <u32>linkerAddress(LinkerSymbol.RodataEnd);
  let pages: u32 = 0;
  for (let page = first; page < end; page += PAGE_SIZE) {
    if (protect(kernelSpace, page, PAGE_GLOBAL) != PagingError.Ok) panic("vmm: cannot write-protect the kernel image");
    pages++;
  }
  if (logBegin(LogLevel.Info, "vmm")) {
    puts("kernel code and read-only data "); putHex(first); puts("-"); putHex(end); puts(" read-only ("); putDec(pages);
    puts(" pages)"); newline();
  }
}

/** The kernel's address space (for the VMM's own modules and tests). */
export function kernelAddressSpace(): AddressSpace { return kernelSpace; }

/**
 * Maps kernel page `virt` to frame `phys` (paging.ts `map`: PagingError, logged, on refusal).
 * For addresses outside the linear map (VRANGE_START..VRANGE_END).
 */
export function kernelMap(virt: u32, phys: u32, flags: u32): PagingError { return map(kernelSpace, virt, phys, flags); }
/** Unmaps kernel page `virt`, returning its frame (0, logged, if none). The caller frees it. */
export function kernelUnmap(virt: u32): u32 { return unmap(kernelSpace, virt); }
/** Changes a kernel page's flags. */
export function kernelProtect(virt: u32, flags: u32): PagingError { return protect(kernelSpace, virt, flags); }
/** The physical address of kernel virtual `virt`, or NOT_MAPPED. */
export function kernelTranslate(virt: u32): u64 { return translate(kernelSpace, virt); }
/** The raw page-table entry (or large-page directory entry) for `virt`. */
export function kernelEntry(virt: u32): u32 { return entryFor(kernelSpace, virt); }
