// Address spaces for ring 3: a page directory of its own whose kernel half (entries 768-1023,
// from 0xC0000000) is a copy of the kernel's, so that every space reaches the same kernel page
// tables, and whose user half starts empty. The kernel half's entries do not change after boot
// (vmmInit makes every kernel page table: the linear map's large pages and the range area's
// tables), so a copy taken now stays true. The user half's tables and pages belong to the
// space: spaceDestroy gives every one back. Thread context. See docs/processes.md.
//
//   directory  [0 .. 767]   user half: tables made on demand (PAGE_USER), owned by the space
//              [768 .. 1023] kernel half: the kernel directory's entries, shared
import { AddressSpace, ENTRY_FRAME_MASK, PAGE_PRESENT, PDE_LARGE } from "./paging";
import { kernelAddressSpace } from "./vmm";
import { allocLowFrame, freeFrame } from "../phys/pmm";
import { LINEAR_MAP_BASE, linearVirt } from "../layout";

/** Bytes of an AddressSpace's control block (the caller's memory). */
export const SPACE_BYTES: u32 = offsetof<AddressSpace>();
const KERNEL_FIRST_ENTRY: u32 = 768;   // 0xC0000000 >> 22

/**
 * A new address space in the control block at `at`: a directory with an empty user half and the
 * kernel's half. Null when no low frame is left. Thread context.
 */
export function spaceCreate(at: usize): AddressSpace | null {
  const phys = allocLowFrame();
  if (phys == 0) return null;
  const directory = linearVirt(phys);
  const kernel = kernelAddressSpace();
  memory.fill(directory, 0, KERNEL_FIRST_ENTRY * 4);
  memory.copy(directory + KERNEL_FIRST_ENTRY * 4, kernel.directory + KERNEL_FIRST_ENTRY * 4, (1024 - KERNEL_FIRST_ENTRY) * 4);
  const space = changetype<AddressSpace>(at);
  space.directory = directory;
  space.directoryPhys = phys;
  space.physOffset = LINEAR_MAP_BASE;
  space.tableSource = kernel.tableSource;
  space.tablesAllocated = 0;
  return space;
}

/** What spaceDestroy does with each present user page's entry (the frame is the caller's). */
export type PageRelease = (entry: u32) => void;

/**
 * Gives back everything `space` holds in its user half: every present page's entry goes to
 * `release` (which owns the frame; 0: the caller has dealt with the pages already), then every
 * page table and the directory go back to the PMM. The space must not be the running one (its
 * CR3 must not be loaded). Thread context.
 */
export function spaceDestroy(space: AddressSpace, release: usize): void {
  for (let i: u32 = 0; i < KERNEL_FIRST_ENTRY; i++) {
    const pde = load<u32>(space.directory + i * 4);
    if ((pde & PAGE_PRESENT) == 0 || (pde & PDE_LARGE) != 0) continue;
    const table = pde & ENTRY_FRAME_MASK;
    if (release != 0) for (let j: u32 = 0; j < 1024; j++) {
      const pte = load<u32>(linearVirt(table) + j * 4);
      if ((pte & PAGE_PRESENT) != 0) changetype<PageRelease>(release)(pte);
    }
    freeFrame(table);
  }
  freeFrame(space.directoryPhys);
  space.directory = 0;
  space.directoryPhys = 0;
}
