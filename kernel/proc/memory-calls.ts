// The memory system calls' part of a process's memory (proc/memory.ts has the memory itself):
// mmap, munmap, mprotect and brk on the region map, with their commit charged or given back and
// the pages a removal or a protection change touches updated. Each answers as the system call
// does (an address or -errno; brk the break). Thread context, a thread of the process, its
// memory lock held (checked).
import { RegionKind, RegionError, regionFind, regionRemove, regionProtect, regionFindGap, regionInsertInGap, regionDrop, regionStart, regionEnd, regionFlags, REGION_READ, REGION_WRITE, REGION_FLAGS, NO_REGION } from "../mm/core/regions";
import { PAGE_PRESENT, PAGE_WRITABLE, PAGE_USER, pteSlot } from "../mm/virt/paging";
import { tlbInvalidate } from "../arch/tlb";
import {
  UserMemory, mustHoldLock, regionsOf, spaceOf, charge, uncharge, writablePagesIn, releasePages, memoryAddRegion,
  PROGRAM_LOW, PROGRAM_HIGH, MMAP_BASE, MMAP_END, USER_END,
} from "./memory";

const PAGE: u32 = 4096;
const PAGE_MASK: u32 = 0xFFF;

/** Region flags from mmap/mprotect's PROT_ bits (the same values); x86 reads what it may write or run. */
@inline function flagsOfProt(prot: u32): u32 { return prot != 0 ? prot | REGION_READ : 0; }

/** mmap's answer: an address, or -errno. */
export function memoryMap(m: UserMemory, address: u32, length: u32, prot: u32): i32 {
  mustHoldLock(m);
  if (length == 0 || (prot & ~REGION_FLAGS) != 0 || (address & PAGE_MASK) != 0) return -22;   // EINVAL
  if (length > MMAP_END - MMAP_BASE) return -12;                                              // ENOMEM
  const bytes = (length + PAGE_MASK) & ~PAGE_MASK;
  if (address != 0 && (<u64>address + bytes > <u64>USER_END || address < PROGRAM_LOW)) return -22;
  const map = regionsOf(m);
  const flags = flagsOfProt(prot);
  if (address != 0) {
    const error = memoryAddRegion(m, address, address + bytes, flags, RegionKind.Anonymous, 0, 0);
    if (error == <u32>RegionError.Overlap) return -17;   // EEXIST
    return error == <u32>RegionError.Ok ? <i32>address : -12;   // (the commit limit, or no region left)
  }
  const at = regionFindGap(map, MMAP_BASE, MMAP_END, bytes);
  if (at == 0) return -12;
  const pages = (flags & REGION_WRITE) != 0 ? bytes >> 12 : 0;
  if (!charge(m, pages)) return -12;
  if (regionInsertInGap(map, at, at + bytes, flags, RegionKind.Anonymous) != RegionError.Ok) { uncharge(m, pages); return -12; }
  return <i32>at;
}

/** munmap's answer: 0 or -errno. Unmapping a range with nothing in it is not an error. */
export function memoryUnmap(m: UserMemory, address: u32, length: u32): i32 {
  mustHoldLock(m);
  if (length == 0 || (address & PAGE_MASK) != 0 || <u64>address + length > <u64>USER_END) return -22;
  const end = (address + length + PAGE_MASK) & ~PAGE_MASK;
  const map = regionsOf(m);
  const i = regionFind(map, address);
  let writable: u32;
  if (i != NO_REGION && regionStart(map, i) == address && regionEnd(map, i) == end) {
    // the common case, a whole region: no search for what the range covers, no split
    writable = (regionFlags(map, i) & REGION_WRITE) != 0 ? (end - address) >> 12 : 0;
    regionDrop(map, i);
  } else {
    writable = writablePagesIn(map, address, end);
    if (regionRemove(map, address, end) != RegionError.Ok) return -12;   // a split with no entry left
  }
  releasePages(m, address, end);
  uncharge(m, writable);
  return 0;
}

/** mprotect's answer: 0 or -errno (-ENOMEM for a range not wholly in regions, as Linux). */
export function memoryProtect(m: UserMemory, address: u32, length: u32, prot: u32): i32 {
  mustHoldLock(m);
  if ((prot & ~REGION_FLAGS) != 0 || (address & PAGE_MASK) != 0 || <u64>address + length > <u64>USER_END) return -22;
  if (length == 0) return 0;
  const end = (address + length + PAGE_MASK) & ~PAGE_MASK;
  const map = regionsOf(m);
  const flags = flagsOfProt(prot);
  const before = writablePagesIn(map, address, end);
  const after = (flags & REGION_WRITE) != 0 ? (end - address) >> 12 : 0;
  if (after > before && !charge(m, after - before)) return -12;
  const error = regionProtect(map, address, end, flags);
  if (error != RegionError.Ok) { if (after > before) uncharge(m, after - before); return -12; }
  if (before > after) uncharge(m, before - after);
  // present pages: no W unless they keep it (a write fault gives it back), no U without READ
  const space = spaceOf(m);
  for (let page = address; page < end; page += PAGE) {
    const slot = pteSlot(space, page, false);
    if (slot == 0) continue;
    const entry = load<u32>(slot);
    if ((entry & PAGE_PRESENT) == 0) continue;
    let next = entry & ~(PAGE_USER | (((flags & REGION_WRITE) == 0) ? PAGE_WRITABLE : 0));
    if ((flags & REGION_READ) != 0) next |= PAGE_USER;
    if (next != entry) { store<u32>(slot, next); tlbInvalidate(space.directoryPhys, page); }
  }
  return 0;
}

/** Sets the heap's first address (after execve's segments). */
export function memorySetBrkStart(m: UserMemory, start: u32): void { m.brkStart = start; m.brk = start; }

/** brk's answer: the break after the call (unchanged when it could not move: below its start, into another region, or past the commit limit). */
export function memoryBrk(m: UserMemory, requested: u32): u32 {
  mustHoldLock(m);
  if (requested == 0 || requested < m.brkStart || requested > PROGRAM_HIGH) return m.brk;
  const map = regionsOf(m);
  const oldTop = (m.brk + PAGE_MASK) & ~PAGE_MASK, newTop = (requested + PAGE_MASK) & ~PAGE_MASK;
  if (newTop > oldTop) {
    const error = memoryAddRegion(m, oldTop, newTop, REGION_READ | REGION_WRITE, RegionKind.Heap, 0, 0);
    if (error != <u32>RegionError.Ok) return m.brk;
  } else if (newTop < oldTop) {
    if (regionRemove(map, newTop, oldTop) != RegionError.Ok) return m.brk;
    releasePages(m, newTop, oldTop);
    uncharge(m, (oldTop - newTop) >> 12);
  }
  m.brk = requested;
  return requested;
}
