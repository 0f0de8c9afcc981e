// The kernel's address space and its virtual ranges. vmmInit takes over the boot page
// directory, trims the linear map to the memory that exists, write-protects the kernel image
// (CR0.WP enforces it in ring 0), makes the page tables of everything above the linear map, and
// sets up the range allocator. Ranges are committed page by page on first touch by the
// page-fault handler (fault.ts). See docs/vmm.md and docs/memory-layout.md.
//
// Thread context only. On one CPU the VMM's lock is preemption off: each entry point that
// changes ranges or page tables runs with preemption off (so no other thread, and no other
// thread's page fault, sees a range or a page table half-changed) and marks itself busy
// (busy.ts) for the fault handler's recursion guard. The fault handler runs with interrupts off,
// so it needs no more.
import { windowInit } from "./window";
import { tlbBatchBegin, tlbBatchEnd } from "../../arch/tlb";
import { mightSleep } from "../../diag/context";
import { preemptDisable, preemptEnable } from "../../arch/context";
import { linkerAddress, LinkerSymbol } from "../../arch/x86";
import { LogLevel, logBegin } from "../../console/log";
import { puts, putHex, putDec, putSize, newline } from "../../console/console";
import { panic } from "../../diag/panic";
import {
  AddressSpace, map, unmap, protect, translate, entryFor, ensureTable, park, takeEntry, tablePresent, unmapLargePage,
  PagingError, PAGE_SIZE, PAGE_GLOBAL, PAGE_PRESENT, PAGE_WRITABLE, PAGE_WRITE_THROUGH, PAGE_CACHE_DISABLE,
  ENTRY_FRAME_MASK, LARGE_PAGE_SIZE, PDE_LARGE,
} from "./paging";
import { allocFrame, allocLowFrame, allocFrames, freeFrame, pmmMemoryMap } from "../phys/pmm";
import { entryBase, entryLength, entryNext } from "../core/memory-map";
import {
  LINEAR_MAP_BASE, BOOT_LINEAR_MAP_END, lowMemoryEnd, vrangeStart, vrangeAreaStart, vrangeAreaPages, linearVirt,
} from "../layout";
import {
  VRangeArea, vrangeInit, vrangeReserve, vrangeRelease, vrangeReleaseChecked, vrangeCheckRelease, vrangeSpan, vrangeBookkeepingBytes,
  vrangeOwnerWord, vrangeSetOwnerWord, vrangeAddress, vrangeFind, VRangeError, NONE,
} from "../core/vrange";
import { MmPart, mmEnter, mmLeave } from "../busy";

/** The VMM's critical section begins: preemption off, and the fault handler's guard up (vmm.ts and commit.ts). Thread context. */
@inline export function vmmEnter(): void { preemptDisable(); mmEnter(MmPart.Vmm); }
/** ... and ends. */
@inline export function vmmLeave(): void { mmLeave(MmPart.Vmm); preemptEnable(); }

// --- reserveRange flags ---------------------------------------------------------------------
//
//   31       21 20       16 15    11  10   9   8     5   4    3    2   1   0
//  +-----------+-----------+--------+---+---+-------+----+----+---+---+---+
//  |     0     |fault-around|   0    | R | P |   0   | CD | WT | 0 | W | 0 |
//  +-----------+-----------+--------+---+---+-------+----+----+---+---+---+
//
//   W, WT, CD   the pages' permissions and caching (the page-table bits of the same names)
//   P           promised: every frame is taken at reservation, so touching the range can never
//               fail; otherwise the range is overcommitted and frames are taken on first touch
//   R           retired (set by retireRange, never by the caller): the pages are gone and any
//               touch panics as a use after free; the virtual space stays taken until released
//   D (bit 11)  device (set by reserveDeviceRange, never by the caller): every page maps a device
//               frame from the start; releasing unmaps them and gives no frame to the PMM
//   fault-around  on a fault, also commit up to this many following pages (0..31)

export const RANGE_WRITABLE: u32 = PAGE_WRITABLE;
export const RANGE_WRITE_THROUGH: u32 = PAGE_WRITE_THROUGH;
export const RANGE_CACHE_DISABLE: u32 = PAGE_CACHE_DISABLE;
export const RANGE_PROMISED: u32 = 1 << 9;
export const RANGE_RETIRED: u32 = 1 << 10;
export const RANGE_DEVICE: u32 = 1 << 11;
const FAULT_AROUND_SHIFT: u32 = 16;
export const RANGE_FAULT_AROUND_MAX: u32 = 31;
const RANGE_PAGE_FLAGS: u32 = RANGE_WRITABLE | RANGE_WRITE_THROUGH | RANGE_CACHE_DISABLE;
const RANGE_FLAGS_ALLOWED: u32 = RANGE_PAGE_FLAGS | RANGE_PROMISED | (RANGE_FAULT_AROUND_MAX << FAULT_AROUND_SHIFT);

/** The flag bits asking for `pages` pages of fault-around (0..RANGE_FAULT_AROUND_MAX). */
export function rangeFaultAround(pages: u32): u32 { return min<u32>(pages, RANGE_FAULT_AROUND_MAX) << FAULT_AROUND_SHIFT; }
/** The fault-around page count in range flags. */
@inline export function faultAroundOf(flags: u32): u32 { return (flags >> FAULT_AROUND_SHIFT) & RANGE_FAULT_AROUND_MAX; }
/** The page-table flags for a range's pages. */
@inline export function pageFlagsOf(flags: u32): u32 { return (flags & RANGE_PAGE_FLAGS) | PAGE_GLOBAL; }

// A live range's owner words in the range allocator's record (vrange.ts):
const OWNER_FLAGS: u32 = 0;       // the reserveRange flags
const OWNER_COMMITTED: u32 = 1;   // pages mapped so far
const OWNER_NAME: u32 = 2;        // a string (usize), for messages

/** Why reserveRange or releaseRange refused. */
export const enum RangeError {
  Ok = 0,
  BadSize = 1,        // 0 bytes, or more than the area
  BadFlags = 2,       // bits outside RANGE_FLAGS_ALLOWED
  NoSpace = 3,        // no free run of virtual pages that long
  NoFrames = 4,       // promised: the PMM cannot supply that many frames now
  NotARange = 5,      // release: the address is not the start of a live range
  Retired = 6,        // retire: the range is retired already
  WrongContext = 7,   // called in an interrupt handler or with preemption off (reported by diag/context.ts)
}

const kernelSpace = changetype<AddressSpace>(memory.data(offsetof<AddressSpace>(), 8));
let ranges: VRangeArea = changetype<VRangeArea>(0);
let committedPages: u32 = 0;   // mapped range pages, all ranges
let parkedPages: u32 = 0;      // frames held for promised ranges, not yet mapped
let linearMapEnd: u32 = 0;     // physical end of the linear map
let bootFrames: u32 = 0;       // frames vmmInit took for good: page tables and bookkeeping

/** Page tables for the kernel come from low memory, so the linear map reaches them. */
function kernelTableSource(): u32 { return allocLowFrame(); }

/**
 * Takes over the boot page directory as the kernel's address space, trims the linear map to
 * the end of the memory map (below lowMemoryEnd(): 896 MiB, or less with vmalloc=), unmaps physical page 0 from it, write-protects
 * the kernel image from its first page through the end of .rodata, makes every page table
 * from vrangeStart() up, and sets up the range allocator with its bookkeeping from the PMM.
 * Call once, after pmmInit. Panics if low memory cannot hold the tables and bookkeeping.
 */
export function vmmInit(): void {
  const directory = linkerAddress(LinkerSymbol.BootPageDirectory);
  kernelSpace.directory = directory;
  kernelSpace.directoryPhys = <u32>(directory - LINEAR_MAP_BASE);
  kernelSpace.physOffset = LINEAR_MAP_BASE;
  kernelSpace.tableSource = changetype<usize>(kernelTableSource);
  kernelSpace.tablesAllocated = 0;
  trimLinearMap();
  // (unmap would return frame 0, which reads as "nothing mapped"; takeEntry returns the entry)
  if ((takeEntry(kernelSpace, <u32>LINEAR_MAP_BASE) & PAGE_PRESENT) == 0) panic("vmm: physical page 0 was not in the linear map");
  const first = <u32>linkerAddress(LinkerSymbol.KernelStart), end = <u32>linkerAddress(LinkerSymbol.RodataEnd);
  let pages: u32 = 0;
  for (let page = first; page < end; page += PAGE_SIZE) {
    if (protect(kernelSpace, page, PAGE_GLOBAL) != PagingError.Ok) panic("vmm: cannot write-protect the kernel image");
    pages++;
  }
  for (let table: u64 = vrangeStart(); table < (<u64>1 << 32); table += LARGE_PAGE_SIZE) {
    if (ensureTable(kernelSpace, <u32>table) != PagingError.Ok) panic("vmm: no low memory for the kernel's page tables");
  }
  windowInit();
  const bookkeeping = vrangeBookkeepingBytes(vrangeAreaPages());
  const bookkeepingFrames = (bookkeeping + PAGE_SIZE - 1) / PAGE_SIZE;
  const bookkeepingPhys = allocFrames(bookkeepingFrames, 1, lowMemoryEnd());
  if (bookkeepingPhys == 0) panic("vmm: no low memory for the range allocator's bookkeeping");
  bootFrames = kernelSpace.tablesAllocated + bookkeepingFrames;
  ranges = vrangeInit(linearVirt(bookkeepingPhys), vrangeAreaStart(), vrangeAreaPages());
  if (logBegin(LogLevel.Info, "vmm")) {
    puts("linear map 0xc0000000-"); putHex(<u32>LINEAR_MAP_BASE + linearMapEnd - 1); puts(" ("); putSize(linearMapEnd);
    puts("), page 0 unmapped; kernel code and read-only data "); putHex(first); puts("-"); putHex(end);
    puts(" read-only ("); putDec(pages); puts(" pages)"); newline();
  }
  if (logBegin(LogLevel.Info, "vmm")) {
    puts("ranges "); putHex(vrangeAreaStart()); puts("-"); putHex(vrangeAreaStart() + (vrangeAreaPages() << 12) - 1);
    puts(" ("); putDec(vrangeAreaPages()); puts(" pages); "); putDec(kernelSpace.tablesAllocated);
    puts(" page tables and "); putSize(bookkeeping); puts(" of bookkeeping at "); putHex(bookkeepingPhys); newline();
  }
}

/**
 * The boot stub maps 896 MiB (BOOT_LINEAR_MAP_END). Keeps only low memory (below
 * lowMemoryEnd(): less with vmalloc=) that the memory map describes (any type: firmware tables
 * live in "reserved" entries), rounded up to 4 MiB, so that a stray pointer past the end of RAM
 * faults instead of reading nothing, and the range area never overlaps a boot mapping.
 */
function trimLinearMap(): void {
  const memoryMap = pmmMemoryMap();
  let end: u64 = 0;
  const mapEnd = memoryMap.addr + memoryMap.bytes;
  for (let e = memoryMap.addr; e < mapEnd; e = entryNext(e)) {
    if (entryBase(e) < <u64>lowMemoryEnd() && entryLength(e) != 0) end = max<u64>(end, entryBase(e) + entryLength(e));
  }
  end = min<u64>((end + LARGE_PAGE_SIZE - 1) & ~(<u64>LARGE_PAGE_SIZE - 1), <u64>lowMemoryEnd());
  linearMapEnd = <u32>end;
  for (let phys = linearMapEnd; phys < max<u32>(BOOT_LINEAR_MAP_END, lowMemoryEnd()); phys += LARGE_PAGE_SIZE) {
    unmapLargePage(kernelSpace, <u32>linearVirt(phys));
  }
}

/**
 * Extends the early linear map from BOOT_LINEAR_MAP_END to lowMemoryEnd() with 4 MiB pages, as
 * boot/entry.asm maps the rest, when vmalloc= made low memory larger than what it maps (vmmInit
 * trims what no RAM backs). Boot, right after layoutSetRangeArea, before the PMM.
 */
export function vmmEarlyLinearMap(): void {
  const directory = linkerAddress(LinkerSymbol.BootPageDirectory);
  for (let phys = BOOT_LINEAR_MAP_END; phys < lowMemoryEnd(); phys += LARGE_PAGE_SIZE) {
    store<u32>(directory + (<usize>(linearVirt(phys) >> 22) << 2), phys | PDE_LARGE | PAGE_WRITABLE | PAGE_PRESENT);
  }
}

/** Frames vmmInit took from the PMM and keeps: page tables and the range bookkeeping. */
export function vmmBootFrames(): u32 { return bootFrames; }
/** The physical end of the linear map (the linear map is 0 .. this, at LINEAR_MAP_BASE). */
export function vmmLinearMapEnd(): u32 { return linearMapEnd; }
/** The kernel's address space (for the VMM's own modules and tests). */
export function kernelAddressSpace(): AddressSpace { return kernelSpace; }
/** The kernel's range allocator (for the fault handler and tests). */
export function kernelRanges(): VRangeArea { return ranges; }

/**
 * Maps kernel page `virt` to frame `phys` (paging.ts `map`: PagingError, logged, on refusal).
 * For the fixed-mapping area; range pages are mapped by the fault handler.
 */
export function kernelMap(virt: u32, phys: u32, flags: u32): PagingError {
  vmmEnter();
  const error = map(kernelSpace, virt, phys, flags);
  vmmLeave();
  return error;
}
/** Unmaps kernel page `virt`, returning its frame (0, logged, if none). The caller frees it. */
export function kernelUnmap(virt: u32): u32 {
  vmmEnter();
  const phys = unmap(kernelSpace, virt);
  vmmLeave();
  return phys;
}
/** Changes a kernel page's flags. */
export function kernelProtect(virt: u32, flags: u32): PagingError {
  vmmEnter();
  const error = protect(kernelSpace, virt, flags);
  vmmLeave();
  return error;
}
/** The physical address of kernel virtual `virt`, or NOT_MAPPED. */
export function kernelTranslate(virt: u32): u64 { return translate(kernelSpace, virt); }
/** The raw page-table entry (or large-page directory entry) for `virt`. */
export function kernelEntry(virt: u32): u32 { return entryFor(kernelSpace, virt); }

// --- ranges ---------------------------------------------------------------------------------

/**
 * Reserves `bytes` (rounded up to whole pages) of kernel virtual space, followed by an unmapped
 * guard page, and returns its first address, or 0 (logged with the reason) if `bytes` is 0 or
 * larger than the area, `flags` has unknown bits, no run of pages is free, or, for a
 * RANGE_PROMISED range, the PMM cannot supply every frame now (nothing is kept then). Nothing is
 * mapped: the fault handler commits each page, zeroed, on first touch. `name` (a literal) names
 * the range in messages. O(1) in the number of ranges (plus O(pages) when promised).
 * Thread context only: in an interrupt handler or with preemption off it is refused and
 * reported (diag/context.ts), and returns 0.
 */
export function reserveRange(bytes: u32, flags: u32, name: string = "range"): u32 {
  if (!mightSleep("reserveRange")) return 0;
  let error = RangeError.Ok;
  const pages = (<u64>bytes + PAGE_SIZE - 1) >> 12;
  let start: u32 = NONE;
  vmmEnter();
  if (bytes == 0 || pages >= <u64>vrangeAreaPages()) error = RangeError.BadSize;
  else if ((flags & ~RANGE_FLAGS_ALLOWED) != 0) error = RangeError.BadFlags;
  else {
    start = vrangeReserve(ranges, <u32>pages + 1);   // + the guard page
    if (start == NONE) error = RangeError.NoSpace;
    else {
      vrangeSetOwnerWord(ranges, start, OWNER_FLAGS, flags);
      vrangeSetOwnerWord(ranges, start, OWNER_NAME, <u32>changetype<usize>(name));
      if ((flags & RANGE_PROMISED) != 0 && !parkFrames(vrangeAddress(ranges, start), <u32>pages)) {
        vrangeRelease(ranges, start);
        error = RangeError.NoFrames;
      }
    }
  }
  vmmLeave();
  if (error == RangeError.Ok) return vrangeAddress(ranges, start);
  if (logBegin(LogLevel.Error, "vmm")) {
    puts("reserveRange("); putDec(bytes); puts(", "); putHex(flags); puts(", '"); puts(name); puts("'): ");
    puts(rangeErrorText(error)); newline();
  }
  return 0;
}

/**
 * Maps the `pages` device frames from `phys` (not RAM: ioremap.ts checks) into a new range, with
 * `pageFlags` (PAGE_WRITABLE, PAGE_WRITE_THROUGH, PAGE_CACHE_DISABLE), followed by an unmapped
 * guard page: its first address, or 0 (logged) when no virtual run that long is free. The frames
 * never belong to the PMM: releaseRange unmaps them and gives nothing back. Thread context only
 * (refused and reported otherwise).
 */
export function reserveDeviceRange(phys: u32, pages: u32, pageFlags: u32, name: string): u32 {
  if (!mightSleep("reserveDeviceRange")) return 0;
  if (pages == 0 || pages >= vrangeAreaPages() || (pageFlags & ~RANGE_PAGE_FLAGS) != 0) return 0;
  vmmEnter();
  const start = vrangeReserve(ranges, pages + 1);
  let virt: u32 = 0;
  if (start != NONE) {
    virt = vrangeAddress(ranges, start);
    vrangeSetOwnerWord(ranges, start, OWNER_FLAGS, pageFlags | RANGE_DEVICE);
    vrangeSetOwnerWord(ranges, start, OWNER_NAME, <u32>changetype<usize>(name));
    vrangeSetOwnerWord(ranges, start, OWNER_COMMITTED, pages);
    for (let i: u32 = 0; i < pages; i++) {
      if (map(kernelSpace, virt + (i << 12), phys + (i << 12), pageFlagsOf(pageFlags)) != PagingError.Ok) panic("vmm: a device page cannot be mapped in a fresh range (its table is made at boot)");
    }
  }
  vmmLeave();
  if (virt == 0 && logBegin(LogLevel.Error, "vmm")) { puts("reserveDeviceRange('"); puts(name); puts("', "); putDec(pages); puts(" pages): "); puts(rangeErrorText(RangeError.NoSpace)); newline(); }
  return virt;
}

/** Takes a frame for each of `pages` pages from `virt` and parks it there; all or nothing. */
function parkFrames(virt: u32, pages: u32): bool {
  for (let i: u32 = 0; i < pages; i++) {
    const frame = allocFrame();
    if (frame == 0 || park(kernelSpace, virt + (i << 12), frame) != PagingError.Ok) {
      if (frame != 0) freeFrame(frame);
      for (let j: u32 = 0; j < i; j++) freeFrame(takeEntry(kernelSpace, virt + (j << 12)) & ENTRY_FRAME_MASK);
      return false;
    }
  }
  parkedPages += pages;
  return true;
}

/**
 * Releases the range that starts at `virt`: unmaps every committed page (with invlpg), returns
 * its frames, and any still parked for a promised range, to the PMM, and frees the virtual
 * space (merging with free neighbours). A retired range has no pages left: only its space goes.
 * Returns RangeError.Ok, or NotARange (logged with the reason: outside the area, not reserved
 * or already released, inside a range) and changes nothing. O(pages of the range), skipping
 * 4 MiB at a time where nothing was ever committed. Thread context only: otherwise refused,
 * reported, RangeError.WrongContext.
 */
export function releaseRange(virt: u32): RangeError {
  if (!mightSleep("releaseRange")) return RangeError.WrongContext;
  vmmEnter();
  const why = rangeStartCheck(virt);
  if (why == VRangeError.Ok) {
    const page = (virt - vrangeAreaStart()) >> 12;
    emptyRange(virt, page);
    vrangeReleaseChecked(ranges, page);   // (rangeStartCheck passed, in this section)
  }
  vmmLeave();
  if (why == VRangeError.Ok) return RangeError.Ok;
  logNotARange("releaseRange", virt, why);
  return RangeError.NotARange;
}

/**
 * Retires the range that starts at `virt`: its pages go as releaseRange's do, but its virtual
 * space stays taken and marked RANGE_RETIRED, so any later touch of it panics as a use after
 * free (the guard allocator's quarantine). releaseRange frees the space later. Returns
 * RangeError.Ok; NotARange as releaseRange (logged); Retired (logged) if it is already retired.
 * Nothing changes on a refusal. O(pages of the range).
 */
export function retireRange(virt: u32): RangeError {
  vmmEnter();
  const why = rangeStartCheck(virt);
  const page = (virt - vrangeAreaStart()) >> 12;
  const retired = why == VRangeError.Ok && (vrangeOwnerWord(ranges, page, OWNER_FLAGS) & RANGE_RETIRED) != 0;
  if (why == VRangeError.Ok && !retired) {
    emptyRange(virt, page);
    const flags = vrangeOwnerWord(ranges, page, OWNER_FLAGS);
    vrangeSetOwnerWord(ranges, page, OWNER_FLAGS, (flags & ~(RANGE_PROMISED | RANGE_DEVICE)) | RANGE_RETIRED);   // nothing parked or mapped any more
    vrangeSetOwnerWord(ranges, page, OWNER_COMMITTED, 0);
  }
  vmmLeave();
  if (why != VRangeError.Ok) { logNotARange("retireRange", virt, why); return RangeError.NotARange; }
  if (!retired) return RangeError.Ok;
  if (logBegin(LogLevel.Error, "vmm")) { puts("retireRange("); putHex(virt); puts("): retired already; nothing changed\n"); }
  return RangeError.Retired;
}

/** Whether `virt` is a live range's first page (VRangeError.Ok) or why not. */
@inline function rangeStartCheck(virt: u32): VRangeError {
  if ((virt & (PAGE_SIZE - 1)) != 0 || virt < vrangeAreaStart()) return VRangeError.OutsideArea;
  return vrangeCheckRelease(ranges, (virt - vrangeAreaStart()) >> 12);
}

/**
 * Frees every page the live range at `virt` (first page `page`) holds, mapped or parked (its
 * owner words still say what it had: the caller updates or discards them).
 */
@inline function emptyRange(virt: u32, page: u32): void {
  const flags = vrangeOwnerWord(ranges, page, OWNER_FLAGS);
  if ((flags & (RANGE_PROMISED | RANGE_DEVICE)) != 0 || vrangeOwnerWord(ranges, page, OWNER_COMMITTED) != 0) {
    if ((flags & RANGE_DEVICE) != 0) unmapDevicePages(virt, vrangeSpan(ranges, page) - 1);
    else freeRangePages(virt, vrangeSpan(ranges, page) - 1);
  }
}

function logNotARange(operation: string, virt: u32, why: VRangeError): void {
  if (!logBegin(LogLevel.Error, "vmm")) return;
  puts(operation); puts("("); putHex(virt); puts("): not a range: ");
  puts(why == VRangeError.OutsideArea ? "outside the range area or unaligned"
    : why == VRangeError.InsideFree ? "not reserved (released twice?)" : "inside a range, not its first page");
  puts("; nothing changed\n");
}

/**
 * The first address of the live range (retired or not) that holds `virt`, its guard page
 * included, or 0 if none does. O(1).
 */
export function rangeContaining(virt: u32): u32 {
  if (virt < vrangeAreaStart()) return 0;
  const start = vrangeFind(ranges, (virt - vrangeAreaStart()) >> 12);
  return start == NONE ? 0 : vrangeAddress(ranges, start);
}

/** Empties the entries of a device range's `pages` pages from `virt`: the frames are the device's, never freed. */
function unmapDevicePages(virt: u32, pages: u32): void {
  const batch = tlbBatchBegin();
  for (let i: u32 = 0; i < pages; i++) takeEntry(kernelSpace, virt + (i << 12));
  tlbBatchEnd(batch);
}

/** Empties the entries of `pages` pages from `virt`, freeing every frame they hold. */
function freeRangePages(virt: u32, pages: u32): void {
  const end = virt + (pages << 12);
  const batch = tlbBatchBegin();   // (one shootdown for the range; the frames wait in the PMM, which hands out nothing until it ends)
  let at = virt;
  while (at < end) {
    if (!tablePresent(kernelSpace, at)) { at = (at | (LARGE_PAGE_SIZE - 1)) + 1; continue; }
    const entry = takeEntry(kernelSpace, at);
    if (entry != 0) {
      if ((entry & PAGE_PRESENT) != 0) committedPages--; else parkedPages--;
      freeFrame(entry & ENTRY_FRAME_MASK);
    }
    at += PAGE_SIZE;
  }
  tlbBatchEnd(batch);
}

export function rangeErrorText(error: RangeError): string {
  switch (error) {
    case RangeError.Ok: return "ok";
    case RangeError.BadSize: return "size 0 or larger than the range area";
    case RangeError.BadFlags: return "unknown flag bits";
    case RangeError.NoSpace: return "no free virtual run that long";
    case RangeError.NoFrames: return "not enough free frames to promise";
    case RangeError.Retired: return "retired already";
    case RangeError.WrongContext: return "called in atomic context";
    default: return "not the start of a live range";
  }
}

/** Pages mapped in all ranges now / frames parked for promised ranges and not yet mapped. */
export function vmmCommittedPages(): u32 { return committedPages; }
export function vmmParkedPages(): u32 { return parkedPages; }

/** Called by the fault handler for each page it commits (`parked`: with a promised frame). */
@inline export function countCommitted(start: u32, parked: bool): void {
  vrangeSetOwnerWord(ranges, start, OWNER_COMMITTED, vrangeOwnerWord(ranges, start, OWNER_COMMITTED) + 1);
  committedPages++;
  if (parked) parkedPages--;
}

/** Called by rangeDecommit for each page it gives back (`parked`: the frame stays parked in its promised range). */
export function countDecommitted(start: u32, parked: bool): void {
  vrangeSetOwnerWord(ranges, start, OWNER_COMMITTED, vrangeOwnerWord(ranges, start, OWNER_COMMITTED) - 1);
  committedPages--;
  if (parked) parkedPages++;
}

/**
 * A live range's flags, committed page count, name and usable pages, by its first page. Any
 * context; the range must stay live meanwhile (the VMM's section, or the fault handler).
 */
@inline export function rangeFlags(start: u32): u32 { return vrangeOwnerWord(ranges, start, OWNER_FLAGS); }
export function rangeCommitted(start: u32): u32 { return vrangeOwnerWord(ranges, start, OWNER_COMMITTED); }
export function rangeName(start: u32): string { return changetype<string>(<usize>vrangeOwnerWord(ranges, start, OWNER_NAME)); }
@inline export function rangePages(start: u32): u32 { return vrangeSpan(ranges, start) - 1; }
