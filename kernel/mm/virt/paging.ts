// Two-level i386 page tables: map, unmap, protect, translate, on an address space whose page
// directory and tables are reached through an offset (the kernel's linear map; a buffer in the
// host tests). Tables come from a caller-supplied source of zeroed-on-use frames (the PMM's
// low memory in the kernel), never from a heap, so paging can never recurse into itself.
//
// A page-directory or page-table entry:
//
//   31                    12 11   9  8   7   6   5   4    3    2   1   0
//  +------------------------+------+---+---+---+---+----+----+---+---+---+
//  | frame address (4 KiB)  | avail| G |PS | D | A | CD | WT | U | W | P |
//  +------------------------+------+---+---+---+---+----+----+---+---+---+
//
//   P present, W writable, U user-accessible, WT write-through, CD cache disable, A accessed,
//   D dirty (PTE), PS page size (PDE: 1 = this entry maps a 4 MiB page), G global (PTE).
//   With CR0.WP set (boot/entry.asm), W is enforced in ring 0 as well.
//
// The CPU ignores every other bit of an entry whose P is 0. A "parked" entry uses that: P = 0,
// bit 9 (the first "avail" bit) set, and the frame address in bits 31..12. It holds a frame
// promised to that page before it is used (the VMM's promised ranges); `map` refuses it and
// `takeEntry` hands the frame back.
//
//   virtual address:  31      22 21      12 11          0
//                    | directory |  table   | page offset |
import { tlbInvalidate } from "../../arch/tlb";
import { LogLevel, logBegin } from "../../console/log";
import { puts, putHex } from "../../console/console";

export const PAGE_SIZE: u32 = 4096;
export const LARGE_PAGE_SIZE: u32 = 4 << 20;
export const PAGE_PRESENT: u32 = 1 << 0;
export const PAGE_WRITABLE: u32 = 1 << 1;
export const PAGE_USER: u32 = 1 << 2;
export const PAGE_WRITE_THROUGH: u32 = 1 << 3;
export const PAGE_CACHE_DISABLE: u32 = 1 << 4;
export const PAGE_ACCESSED: u32 = 1 << 5;
export const PAGE_DIRTY: u32 = 1 << 6;
export const PDE_LARGE: u32 = 1 << 7;
export const PAGE_GLOBAL: u32 = 1 << 8;
/** In a not-present entry: the entry holds a parked frame. */
export const PTE_PARKED: u32 = 1 << 9;
export const ENTRY_FRAME_MASK: u32 = 0xFFFFF000;
export const LARGE_FRAME_MASK: u32 = 0xFFC00000;
/** The flags a caller may ask for (PRESENT is implied). */
export const MAP_FLAGS_ALLOWED: u32 = PAGE_WRITABLE | PAGE_USER | PAGE_WRITE_THROUGH | PAGE_CACHE_DISABLE | PAGE_GLOBAL;
/** translate's answer for an unmapped address. */
export const NOT_MAPPED: u64 = <u64>-1;

export const enum PagingError {
  Ok = 0,
  Unaligned = 1,      // virt or phys not a multiple of 4096
  AlreadyMapped = 2,  // map over a present entry
  NotMapped = 3,      // unmap/protect of a non-present entry
  LargePage = 4,      // the address lies in a 4 MiB page (the linear map): not changed page-wise
  NoMemory = 5,       // no frame for a new page table
  BadFlags = 6,       // flags outside MAP_FLAGS_ALLOWED, or frame 0
  Parked = 7,         // map over a not-present entry that holds a parked frame
}

/** Returns a free frame's physical address for a new page table, or 0. */
export type TableSource = () => u32;

// An address space:  +0 directory (virt)  +4 directoryPhys  +8 physOffset  +12 tableSource
//                    +16 tablesAllocated
@unmanaged export class AddressSpace {
  directory: usize;
  directoryPhys: u32;
  physOffset: usize;     // a table at physical p is at virtual p + physOffset
  tableSource: usize;    // a TableSource
  tablesAllocated: u32;
}

@inline function directoryIndex(virt: u32): u32 { return virt >> 22; }
@inline function tableIndex(virt: u32): u32 { return (virt >> 12) & 1023; }
@inline function pdeAddress(space: AddressSpace, virt: u32): usize { return space.directory + (directoryIndex(virt) << 2); }

/** Address of the PTE for `virt`, or 0 if its table is absent or it lies in a large page. */
function pteAddress(space: AddressSpace, virt: u32): usize {
  const pde = load<u32>(pdeAddress(space, virt));
  if ((pde & PAGE_PRESENT) == 0 || (pde & PDE_LARGE) != 0) return 0;
  return <usize>(pde & ENTRY_FRAME_MASK) + space.physOffset + (tableIndex(virt) << 2);
}

function report(what: string, virt: u32, error: PagingError): void {
  if (!logBegin(LogLevel.Error, "paging")) return;
  puts(what); puts("("); putHex(virt); puts("): "); puts(pagingErrorText(error)); puts("; nothing changed\n");
}

export function pagingErrorText(error: PagingError): string {
  switch (error) {
    case PagingError.Ok: return "ok";
    case PagingError.Unaligned: return "address not page-aligned";
    case PagingError.AlreadyMapped: return "already mapped";
    case PagingError.NotMapped: return "not mapped";
    case PagingError.LargePage: return "inside a 4 MiB page";
    case PagingError.NoMemory: return "no frame for a page table";
    case PagingError.Parked: return "holds a parked frame";
    default: return "bad flags or frame 0";
  }
}

/**
 * Maps the page at `virt` to the frame at `phys` with `flags` (MAP_FLAGS_ALLOWED; PRESENT is
 * implied), creating the page table if needed (zeroed, from the space's table source). Refuses
 * (PagingError, logged, nothing changed) unaligned addresses, frame 0, other flags, a present
 * or parked entry, and addresses inside a 4 MiB page. Needs no TLB flush: a not-present entry is never
 * cached. Not re-entrant.
 */
export function map(space: AddressSpace, virt: u32, phys: u32, flags: u32): PagingError {
  let error = PagingError.Ok;
  if (((virt | phys) & (PAGE_SIZE - 1)) != 0) error = PagingError.Unaligned;
  else if ((flags & ~MAP_FLAGS_ALLOWED) != 0 || phys == 0) error = PagingError.BadFlags;
  else {
    error = entrySlot(space, virt, flags & PAGE_USER);
    if (error == PagingError.Ok) {
      const old = load<u32>(slot);
      if (old == 0) {
        store<u32>(slot, phys | flags | PAGE_PRESENT);
        return PagingError.Ok;
      }
      error = (old & PAGE_PRESENT) != 0 ? PagingError.AlreadyMapped : PagingError.Parked;
    }
  }
  report("map", virt, error);
  return error;
}

/**
 * map for a caller that walked to `virt`'s entry already (`at`, from pteSlot: 0 when no table
 * covers it) and whose arguments are known good (`virt` and `phys` page-aligned, `phys` not 0,
 * `flags` allowed: the lazy commit's): an empty entry is written without map's checks or a
 * second walk; anything else goes to map itself (which makes the table, or reports the entry in
 * use). As map: not re-entrant (under the caller's section), any context; the fast path takes
 * no lock and never sleeps.
 */
@inline export function mapAt(space: AddressSpace, at: usize, virt: u32, phys: u32, flags: u32): PagingError {
  if (at == 0 || load<u32>(at) != 0) return map(space, virt, phys, flags);
  store<u32>(at, phys | flags | PAGE_PRESENT);
  return PagingError.Ok;
}

/** Set by entrySlot: the address of the entry it found or made room for. */
let slot: usize = 0;

/**
 * Finds the page-table entry for `virt` (its address in `slot`), creating the table (zeroed,
 * from the space's table source; the directory entry gets `userFlag`) if there is none.
 * Returns LargePage or NoMemory when there is no such entry.
 */
function entrySlot(space: AddressSpace, virt: u32, userFlag: u32): PagingError {
  const pdeAt = pdeAddress(space, virt);
  let pde = load<u32>(pdeAt);
  if ((pde & PAGE_PRESENT) != 0) {
    if ((pde & PDE_LARGE) != 0) return PagingError.LargePage;
  } else {
    const table = changetype<TableSource>(space.tableSource)();
    if (table == 0) return PagingError.NoMemory;
    memory.fill(<usize>table + space.physOffset, 0, PAGE_SIZE);
    // The directory entry allows everything; the page entries decide.
    pde = table | PAGE_PRESENT | PAGE_WRITABLE | userFlag;
    store<u32>(pdeAt, pde);
    space.tablesAllocated++;
  }
  slot = <usize>(pde & ENTRY_FRAME_MASK) + space.physOffset + (tableIndex(virt) << 2);
  return PagingError.Ok;
}

/**
 * Makes sure the page table that covers `virt` exists (creating it as `map` would), so later
 * maps there never need a frame. Returns Ok, LargePage or NoMemory.
 */
export function ensureTable(space: AddressSpace, virt: u32): PagingError {
  return entrySlot(space, virt, 0);
}

/**
 * Parks frame `phys` in the empty entry of page `virt`: a not-present entry that remembers
 * the frame (PTE_PARKED). The page still faults; `takeEntry` gives the frame back. Refuses (as
 * `map`, logged) unaligned addresses, frame 0, a used entry, a large page, no table memory.
 */
export function park(space: AddressSpace, virt: u32, phys: u32): PagingError {
  let error = PagingError.Ok;
  if (((virt | phys) & (PAGE_SIZE - 1)) != 0) error = PagingError.Unaligned;
  else if (phys == 0) error = PagingError.BadFlags;
  else {
    error = entrySlot(space, virt, 0);
    if (error == PagingError.Ok) {
      const old = load<u32>(slot);
      if (old == 0) {
        store<u32>(slot, phys | PTE_PARKED);
        return PagingError.Ok;
      }
      error = (old & PAGE_PRESENT) != 0 ? PagingError.AlreadyMapped : PagingError.Parked;
    }
  }
  report("park", virt, error);
  return error;
}

/**
 * Empties the entry of page `virt`, whatever it holds, and returns what it held: a present
 * entry (flushed from the TLB), a parked entry, or 0 (no entry, no table, or a large page,
 * which is left alone). The caller owns the frame in a returned entry. Never logs: for
 * releasing ranges, where most pages may never have been touched.
 */
export function takeEntry(space: AddressSpace, virt: u32): u32 {
  const pteAt = pteAddress(space, virt & ~(PAGE_SIZE - 1));
  if (pteAt == 0) return 0;
  const pte = load<u32>(pteAt);
  if (pte == 0) return 0;
  store<u32>(pteAt, 0);
  if ((pte & PAGE_PRESENT) != 0) tlbInvalidate(space.directoryPhys, virt);
  return pte;
}

/**
 * Removes the 4 MiB page that maps `virt` (a directory entry with PS set) and flushes it.
 * Returns false, changing nothing, if `virt` is not in a present large page.
 */
export function unmapLargePage(space: AddressSpace, virt: u32): bool {
  const pdeAt = pdeAddress(space, virt);
  const pde = load<u32>(pdeAt);
  if ((pde & PAGE_PRESENT) == 0 || (pde & PDE_LARGE) == 0) return false;
  store<u32>(pdeAt, 0);
  tlbInvalidate(space.directoryPhys, virt & LARGE_FRAME_MASK);
  return true;
}

/** Whether the page table covering `virt` exists (false for a large page or an empty slot). */
export function tablePresent(space: AddressSpace, virt: u32): bool {
  const pde = load<u32>(pdeAddress(space, virt));
  return (pde & PAGE_PRESENT) != 0 && (pde & PDE_LARGE) == 0;
}

/** Set by presentEntry: the address of the PTE it found. */
let foundPte: usize = 0;

/**
 * Finds the present 4 KiB entry for `virt` (its address in `foundPte`), or says why there is
 * none: Unaligned, LargePage or NotMapped. Shared by unmap and protect.
 */
function presentEntry(space: AddressSpace, virt: u32): PagingError {
  if ((virt & (PAGE_SIZE - 1)) != 0) return PagingError.Unaligned;
  const pde = load<u32>(pdeAddress(space, virt));
  if ((pde & PDE_LARGE) != 0 && (pde & PAGE_PRESENT) != 0) return PagingError.LargePage;
  foundPte = pteAddress(space, virt);
  if (foundPte == 0 || (load<u32>(foundPte) & PAGE_PRESENT) == 0) return PagingError.NotMapped;
  return PagingError.Ok;
}

/**
 * Unmaps the page at `virt` and flushes it from the TLB. Returns the frame it mapped, or 0
 * (logged, nothing changed) if nothing was mapped there, `virt` is unaligned or lies in a
 * 4 MiB page. The caller owns the frame. Page tables are kept (kernel tables are shared).
 */
export function unmap(space: AddressSpace, virt: u32): u32 {
  const error = presentEntry(space, virt);
  if (error != PagingError.Ok) { report("unmap", virt, error); return 0; }
  const pte = load<u32>(foundPte);
  store<u32>(foundPte, 0);
  tlbInvalidate(space.directoryPhys, virt);
  return pte & ENTRY_FRAME_MASK;
}

/** Changes the flags of the page mapped at `virt` (as for map) and flushes it from the TLB. */
export function protect(space: AddressSpace, virt: u32, flags: u32): PagingError {
  const error = (flags & ~MAP_FLAGS_ALLOWED) != 0 ? PagingError.BadFlags : presentEntry(space, virt);
  if (error != PagingError.Ok) { report("protect", virt, error); return error; }
  const pte = load<u32>(foundPte);
  store<u32>(foundPte, (pte & (ENTRY_FRAME_MASK | PAGE_ACCESSED | PAGE_DIRTY)) | flags | PAGE_PRESENT);
  tlbInvalidate(space.directoryPhys, virt);
  return PagingError.Ok;
}

/** The physical address `virt` maps to (4 KiB or 4 MiB pages), or NOT_MAPPED. */
export function translate(space: AddressSpace, virt: u32): u64 {
  const pde = load<u32>(pdeAddress(space, virt));
  if ((pde & PAGE_PRESENT) == 0) return NOT_MAPPED;
  if ((pde & PDE_LARGE) != 0) return <u64>((pde & LARGE_FRAME_MASK) | (virt & (LARGE_PAGE_SIZE - 1)));
  const pte = load<u32>(<usize>(pde & ENTRY_FRAME_MASK) + space.physOffset + (tableIndex(virt) << 2));
  if ((pte & PAGE_PRESENT) == 0) return NOT_MAPPED;
  return <u64>((pte & ENTRY_FRAME_MASK) | (virt & (PAGE_SIZE - 1)));
}

/**
 * The address of the page-table entry for `virt`, for code that manages a user space's entries
 * itself (proc/memory.ts); 0 when its table is absent (and `make` is false), no frame is left
 * for the table, or `virt` lies in a large page. With `make`, a missing table is made (zeroed,
 * its directory entry open to ring 3). The caller flushes what it changes (invlpg).
 */
export function pteSlot(space: AddressSpace, virt: u32, make: bool): usize {
  if (!make) return pteAddress(space, virt);
  return entrySlot(space, virt, PAGE_USER) == PagingError.Ok ? slot : 0;
}

/** The raw entry for `virt` (the PDE if it maps a large page or no table), for tests and dumps. */
export function entryFor(space: AddressSpace, virt: u32): u32 {
  const pteAt = pteAddress(space, virt);
  return pteAt == 0 ? load<u32>(pdeAddress(space, virt)) : load<u32>(pteAt);
}
