// A process's memory: its address space (mm/virt/space.ts), its regions (mm/core/regions.ts),
// the frames its pages map, and the commit accounting that decides whether it may have more.
// docs/processes.md has the policy; docs/memory-layout.md the user half's layout:
//
//   0x00000000 - 0x00000FFF   never mapped (null pointers)
//   0x00001000 - 0x3FFBEFFF   the program area: the executable's segments (from 0x00400000 by
//                             the user linker script), then the heap (brk), growing up from the
//                             page after the last segment towards the stack
//   0x3FFBF000 - 0x3FFBFFFF   the stack's guard page (a region no access is allowed to)
//   0x3FFC0000 - 0x3FFFEFFF   the stack (252 KiB, grows down; the arguments at its top)
//   0x3FFFF000 - 0x3FFFFFFF   never mapped
//   0x40000000 - 0xBFFFEFFF   mmap's area (the lowest gap that fits): above every other region,
//                             so mapping and unmapping there moves no entry of the region map
//   0xBFFFF000 - 0xBFFFFFFF   never mapped
//   0xC0000000 -              the kernel half (every space shares it; ring 3 may not touch it)
//
// Pages are committed on first touch (memoryResolve, from the page-fault handler and the
// copy-in/copy-out helpers): a read of untouched anonymous memory maps the one shared zero page,
// read-only; a write maps a zeroed frame of its own; a page of an executable's segment is loaded
// from the module. Fork shares every page read-only, counting the sharers per frame (mm/core/
// frame-refs.ts); a write to a shared page copies it, or takes it back when no one else has it.
//
// Commit accounting counts each process's writable pages (the pages that may each need a frame
// of their own): mmap, brk, fork and execve charge, munmap, brk and exit give back. In strict
// mode a charge that would exceed the limit fails (ENOMEM); in overcommit mode it always
// succeeds, and a fault that finds no frame runs the out-of-memory killer (proc/oom.ts). The
// memory system calls are proc/memory-calls.ts.
//
// Contexts: everything here runs in thread context, in a thread of the process, with its memory
// lock held (processLock, a mutex: checked on entry, a panic if not), except memoryInit (boot),
// memoryCreate and memoryAddRegion on a memory no thread runs in yet, and the counters (any).
// Frame reference counts change with interrupts off (one CPU).
import { tlbInvalidate, tlbBatchBegin, tlbBatchEnd, FLUSH_ALL } from "../arch/tlb";
import { AddressSpace, PAGE_PRESENT, PAGE_WRITABLE, PAGE_USER, PAGE_ACCESSED, PAGE_DIRTY, ENTRY_FRAME_MASK, pteSlot } from "../mm/virt/paging";
import { SPACE_BYTES, spaceCreate, spaceDestroy } from "../mm/virt/space";
import { reserveRange, RANGE_WRITABLE, RANGE_PROMISED } from "../mm/virt/vmm";
import { allocFrame, allocLowFrame, freeFrame, pmmFreeFrames, pmmTotalFrames } from "../mm/phys/pmm";
import { LINEAR_MAP_BASE, linearVirt } from "../mm/layout";
import {
  RegionMap, RegionKind, RegionError, regionMapBytes, regionMapInit, regionFind, regionInsert, regionFirstEndingAbove,
  regionStart, regionEnd, regionFlags, regionSource, regionSourceBytes, REGION_HEADER_BYTES, REGION_ENTRY_BYTES,
  REGION_READ, REGION_WRITE, NO_REGION,
} from "../mm/core/regions";
import { FrameRefs, frameRefsBytes, frameRefsInit, frameRefCount, frameRefFirst, frameRefShare, frameRefDrop, FRAME_REF_MAX } from "../mm/core/frame-refs";
import { invlpg, writeCr3 } from "../arch/x86";
import { klockIrqSave, klockIrqRestore } from "../arch/klock";
import { preemptDisable, preemptEnable } from "../arch/context";
import { windowFill } from "../mm/virt/window";
import { panic } from "../diag/panic";
import { Mutex, mutexOwner } from "../sched/sync";
import { currentThread } from "../sched/scheduler";

/** The stack: [STACK_BOTTOM, STACK_TOP), its guard page right below. */
export const STACK_TOP: u32 = 0x3FFFF000;
export const STACK_BOTTOM: u32 = 0x3FFC0000;
export const STACK_GUARD: u32 = STACK_BOTTOM - 4096;
/** The program area: the executable's segments and the heap, below the stack's guard. */
export const PROGRAM_LOW: u32 = 0x00001000;
export const PROGRAM_HIGH: u32 = STACK_GUARD;
/** mmap's area, where it places the mappings it chooses. */
export const MMAP_BASE: u32 = 0x40000000;
export const MMAP_END: u32 = 0xBFFFF000;
/** The first address of the kernel half. */
export const USER_END: u32 = <u32>LINEAR_MAP_BASE;
/** The most regions a process holds (mmap fails with ENOMEM beyond). */
export const REGIONS_MAX: u32 = 64;
/** Bytes of a process's memory block: its address space's control block, then its region map. */
export const MEMORY_BLOCK_BYTES: u32 = SPACE_BYTES + REGION_HEADER_BYTES + REGIONS_MAX * REGION_ENTRY_BYTES;

const PAGE: u32 = 4096;
const PAGE_MASK: u32 = 0xFFF;

/**
 * What a process's memory is: the control block the caller keeps (proc/process.ts embeds it in
 * the Process record). Counters are in pages.
 */
@unmanaged export class UserMemory {
  lock: usize;           // its owner's memory lock (a Mutex), checked on every entry; 0: a memory no thread uses yet (execve's new image)
  space: usize;          // its AddressSpace (in `block`)
  regions: usize;        // its RegionMap (in `block`)
  brkStart: u32;         // the heap: [brkStart, brk) (brk unaligned; its region ends at the page above)
  brk: u32;
  committed: u32;        // writable pages charged to it
  resident: u32;         // pages mapped to a frame (own or shared; the zero page not counted)
  faults: u32;           // faults served
  cowCopies: u32;        // write faults that copied a shared page
  zeroMaps: u32;         // read faults that mapped the zero page
}

/** How memoryResolve ended: the page is usable, or why not. */
export const enum Access { Ok = 0, NoRegion = 1, Denied = 2, NoMemory = 3, KernelHalf = 4 }

// --- the system's part: the zero page, the frames' reference counts, the commit limit -----------

let zeroFrame: u32 = 0;
const refsControl = memory.data(offsetof<FrameRefs>(), 8);
let refs = changetype<FrameRefs>(refsControl);
let strictCommit = false;
let commitLimit: u32 = 0;
let committedTotal: u32 = 0;

/**
 * Sets up user memory: the zero page, a reference count for every frame (committed now: they
 * change with interrupts off, where a fault may not happen), and the commit limit: the frames
 * free now less an eighth kept for the kernel. Once, at boot, after the PMM and the VMM.
 */
export function memoryInit(strict: bool): void {
  zeroFrame = allocLowFrame();
  if (zeroFrame == 0) panic("processes: no frame for the zero page");
  memory.fill(linearVirt(zeroFrame), 0, PAGE);
  const frames = pmmTotalFrames();
  const bytes = (frameRefsBytes(frames) + PAGE_MASK) & ~PAGE_MASK;
  const counts = reserveRange(bytes, RANGE_WRITABLE | RANGE_PROMISED, "frame refcounts");
  if (counts == 0) panic("processes: no memory for the frames' reference counts");
  for (let at = counts; at < counts + bytes; at += PAGE) store<u32>(at, 0);   // (commit every page now)
  refs = frameRefsInit(refsControl, counts, frames);
  strictCommit = strict;
  const free = pmmFreeFrames();
  commitLimit = free - (free >> 3);
}

/** Strict commit accounting (true) or overcommit. Any context. */
export function commitStrict(): bool { return strictCommit; }
/** Chooses the mode (the boot option's, or a test's). Thread context. */
export function commitSetStrict(strict: bool): void { strictCommit = strict; }
/** Pages every process together may commit in strict mode. */
export function commitLimitPages(): u32 { return commitLimit; }
/** Pages committed by every process now. */
export function commitTotalPages(): u32 { return committedTotal; }

/**
 * Charges `pages` to `m`; false (nothing charged) in strict mode past the limit. Under `m`'s
 * lock; the total, which every process shares, changes in a kernel-lock section (a lone `add`
 * was atomic on one CPU, not on several: multi-threaded TCG lost charges).
 */
export function charge(m: UserMemory, pages: u32): bool {
  const flags = klockIrqSave();
  const refused = strictCommit && <u64>committedTotal + pages > <u64>commitLimit;
  if (!refused) committedTotal += pages;
  klockIrqRestore(flags);
  if (refused) return false;
  m.committed += pages;
  return true;
}
/** Gives `pages` of `m`'s charge back. Under `m`'s lock. */
export function uncharge(m: UserMemory, pages: u32): void {
  const flags = klockIrqSave();
  committedTotal -= pages;
  klockIrqRestore(flags);
  m.committed -= pages;
}

// --- creating and tearing down ----------------------------------------------------------------

@inline export function spaceOf(m: UserMemory): AddressSpace { return changetype<AddressSpace>(m.space); }
@inline export function regionsOf(m: UserMemory): RegionMap { return changetype<RegionMap>(m.regions); }

/**
 * An empty memory in `m`, its space and regions in `block` (MEMORY_BLOCK_BYTES), guarded by
 * `lock` (a Mutex; 0 for one no thread uses yet); false when no low frame is left for the
 * directory. Thread context.
 */
export function memoryCreate(m: UserMemory, block: usize, lock: usize): bool {
  memory.fill(changetype<usize>(m), 0, offsetof<UserMemory>());
  m.lock = lock;
  if (spaceCreate(block) == null) return false;
  m.space = block;
  m.regions = changetype<usize>(regionMapInit(block + SPACE_BYTES, REGIONS_MAX));
  return true;
}

/**
 * The rule of this file, checked where it is cheap: a memory a thread may use is changed only
 * under its lock (a missing lock would let a fault and a munmap in two threads of a process tear
 * a page table between them).
 */
@inline export function mustHoldLock(m: UserMemory): void {
  if (m.lock != 0 && mutexOwner(changetype<Mutex>(m.lock)) != changetype<usize>(currentThread())) lockNotHeld();
}
function lockNotHeld(): void {
  panic("proc/memory: a process's memory changed without its memory lock held (the caller must take processLock)");
}

/** A present user entry goes: the frame loses a reference, and goes back to the PMM at the last. */
function releaseEntry(entry: u32): void {
  const frame = entry & ENTRY_FRAME_MASK;
  if (frame == zeroFrame) return;
  const flags = klockIrqSave();
  const left = frameRefDrop(refs, frame);
  klockIrqRestore(flags);
  if (left == 0) freeFrame(frame);
  else if (left > FRAME_REF_MAX) brokenCount(frame);
}
/** releaseEntry with interrupts already off (a teardown's walk). */
@inline function dropEntry(entry: u32): void {
  const frame = entry & ENTRY_FRAME_MASK;
  if (frame == zeroFrame) return;
  const left = frameRefDrop(refs, frame);
  if (left == 0) freeFrame(frame);
  else if (left > FRAME_REF_MAX) brokenCount(frame);
}
function brokenCount(frame: u32): void {
  panic("processes: a user frame's reference count was already 0 (a frame mapped without a count, or released twice)");
}

/**
 * Gives back everything `m` holds: every page (a frame at its last reference), every table, the
 * directory, and its commit. The space must not be loaded (the caller switched to the kernel's).
 */
export function memoryRelease(m: UserMemory): void {
  if (m.space == 0) return;
  mustHoldLock(m);
  // every mapped page lies in a region: walking the regions' entries is exact, and skips the
  // empty parts of each table (a full table is 1,024 entries)
  const map = regionsOf(m), space = spaceOf(m);
  const flags = klockIrqSave();   // (the counts change: interrupts off over the walk)
  for (let i: u32 = 0; i < map.count; i++) {
    const end = regionEnd(map, i);
    let page = regionStart(map, i);
    while (page < end) {
      const table = pteSlot(space, page, false);
      const tableEnd = min<u32>(end, (page & 0xFFC00000) + 0x400000);
      if (table == 0) { page = tableEnd; continue; }
      for (let at = table; page < tableEnd; page += PAGE, at += 4) {
        const entry = load<u32>(at);
        if ((entry & PAGE_PRESENT) != 0) dropEntry(entry);
      }
    }
  }
  klockIrqRestore(flags);
  spaceDestroy(space, 0);
  uncharge(m, m.committed);
  m.resident = 0;
  regionsOf(m).count = 0;
  m.space = 0;
}

// --- regions with their commit ----------------------------------------------------------------

/** Pages of [start, end) in writable regions. Under `map`'s owner's lock. */
export function writablePagesIn(map: RegionMap, start: u32, end: u32): u32 {
  let pages: u32 = 0;
  for (let i = regionFirstEndingAbove(map, start); i < map.count; i++) {
    const s = max<u32>(regionStart(map, i), start), e = min<u32>(regionEnd(map, i), end);
    if (s >= end) break;
    if ((regionFlags(map, i) & REGION_WRITE) != 0) pages += (e - s) >> 12;
  }
  return pages;
}

/** memoryAddRegion's answer when strict accounting refuses the region's pages. */
export const REGION_NO_COMMIT: u32 = 100;

/**
 * Adds the region [start, end) to `m`, charging its pages if it is writable: a RegionError
 * (Ok, Overlap, Full, BadRange), or REGION_NO_COMMIT when strict accounting refuses.
 */
export function memoryAddRegion(m: UserMemory, start: u32, end: u32, flags: u32, kind: RegionKind, source: u32, sourceBytes: u32): u32 {
  const pages = (flags & REGION_WRITE) != 0 ? (end - start) >> 12 : 0;
  if (!charge(m, pages)) return REGION_NO_COMMIT;
  const error = regionInsert(regionsOf(m), start, end, flags, kind, source, sourceBytes);
  if (error != RegionError.Ok) uncharge(m, pages);
  return <u32>error;
}

/** Unmaps every page of [start, end) (aligned) that is mapped, whatever the regions say. Under `m`'s lock. */
export function releasePages(m: UserMemory, start: u32, end: u32): void {
  const space = spaceOf(m);
  const batch = tlbBatchBegin();   // (one shootdown at the end, to the CPUs that run this space: arch/tlb.ts)
  let page = start;
  while (page < end) {
    const slot = pteSlot(space, page, false);
    if (slot == 0) { page = (page & 0xFFC00000) + 0x400000; if (page == 0) break; continue; }   // no table: its 4 MiB are empty
    const entry = load<u32>(slot);
    if ((entry & PAGE_PRESENT) != 0) {
      store<u32>(slot, 0);
      tlbInvalidate(space.directoryPhys, page);
      if ((entry & ENTRY_FRAME_MASK) != zeroFrame) m.resident--;
      releaseEntry(entry);
    }
    page += PAGE;
  }
  tlbBatchEnd(batch);
}

// --- resolving a fault ------------------------------------------------------------------------

/** The entry bits a page of a region with `flags` gets, but W (only where the page is its own to write). */
@inline function entryFlags(flags: u32): u32 { return (flags & REGION_READ) != 0 ? PAGE_PRESENT | PAGE_USER : PAGE_PRESENT; }

/**
 * A new frame holding the `bytes` bytes at `from` (kernel-readable: a mapped user page, a
 * program's module) and zeros after them, or 0 when the PMM has none: filled before any page
 * table maps it (windowFill), since every thread of the process may use the page the moment
 * its entry is present.
 */
function filledFrame(from: usize, bytes: u32): u32 {
  const frame = allocFrame();
  if (frame == 0) return 0;
  preemptDisable();   // (a high frame goes through this CPU's window)
  windowFill(frame, from, bytes);
  preemptEnable();
  return frame;
}

/**
 * Makes the page holding `address` usable by `m`'s program for a read (or a write, with
 * `write`), as the page-fault handler does for ring 3: Ok once it is, or why not: no region,
 * the region forbids it, no frame, the kernel half. `m` must be the memory loaded now (a shared
 * page is copied through its user address).
 */
export function memoryResolve(m: UserMemory, address: u32, write: bool): Access {
  mustHoldLock(m);
  if (address >= USER_END) return Access.KernelHalf;
  const map = regionsOf(m);
  const i = regionFind(map, address);
  if (i == NO_REGION) return Access.NoRegion;
  const flags = regionFlags(map, i);
  if ((flags & REGION_READ) == 0 || (write && (flags & REGION_WRITE) == 0)) return Access.Denied;
  const page = address & ~PAGE_MASK;
  const slot = pteSlot(spaceOf(m), page, true);
  if (slot == 0) return Access.NoMemory;
  const entry = load<u32>(slot);
  if ((entry & PAGE_PRESENT) != 0) {
    if (!write || (entry & PAGE_WRITABLE) != 0) return Access.Ok;   // (served already: another path got here first)
    return writeShared(m, slot, entry, page);
  }
  m.faults++;
  const source = regionSource(map, i);
  if (source == 0 && !write) {
    store<u32>(slot, zeroFrame | PAGE_PRESENT | PAGE_USER);
    m.zeroMaps++;
    return Access.Ok;
  }
  let frame: u32 = 0;
  if (source == 0) frame = filledFrame(0, 0);
  else {
    const offset = page - regionStart(map, i), bytes = regionSourceBytes(map, i);
    frame = filledFrame(source + offset, offset < bytes ? min<u32>(PAGE, bytes - offset) : 0);
  }
  if (frame == 0) return Access.NoMemory;
  // (not present before: no TLB holds it)
  store<u32>(slot, frame | entryFlags(flags) | ((flags & REGION_WRITE) != 0 ? PAGE_WRITABLE : 0));
  frameRefFirst(refs, frame);
  m.resident++;
  return Access.Ok;
}

/** A write to the present read-only page `page` of a writable region: the zero page, a shared frame, or one taken back. */
function writeShared(m: UserMemory, slot: usize, entry: u32, page: u32): Access {
  const old = entry & ENTRY_FRAME_MASK;
  const space = spaceOf(m);
  m.faults++;
  if (old == zeroFrame) {
    const frame = filledFrame(0, 0);
    if (frame == 0) return Access.NoMemory;
    store<u32>(slot, frame | PAGE_PRESENT | PAGE_USER | PAGE_WRITABLE);
    tlbInvalidate(space.directoryPhys, page);   // (the zero page's read-only entry may be cached)
    frameRefFirst(refs, frame);
    m.resident++;
    return Access.Ok;
  }
  const flags = klockIrqSave();
  const count = frameRefCount(refs, old);
  klockIrqRestore(flags);
  if (count == 1) {   // no one else maps it: it is this page's own again
    store<u32>(slot, entry | PAGE_WRITABLE);
    tlbInvalidate(space.directoryPhys, page);
    return Access.Ok;
  }
  const frame = filledFrame(page, PAGE);
  if (frame == 0) return Access.NoMemory;
  frameRefFirst(refs, frame);
  store<u32>(slot, frame | PAGE_PRESENT | PAGE_USER | PAGE_WRITABLE);
  tlbInvalidate(space.directoryPhys, page);
  releaseEntry(old);   // (its last sharer may have gone meanwhile: then the frame goes back)
  m.cowCopies++;
  return Access.Ok;
}

// --- fork -------------------------------------------------------------------------------------

/**
 * Makes `child` (empty, from memoryCreate) a copy-on-write copy of `parent` (the memory loaded
 * now): the same regions, every present page shared read-only by both, the same heap; charged
 * as much as the parent. False (the child partly filled: the caller releases it) when strict
 * accounting refuses, a page table finds no frame, or a count would overflow.
 */
export function memoryFork(parent: UserMemory, child: UserMemory): bool {
  mustHoldLock(parent);
  if (!charge(child, parent.committed)) return false;
  const from = regionsOf(parent), to = regionsOf(child);
  memory.copy(changetype<usize>(to), changetype<usize>(from), regionMapBytes(from.count));
  child.brkStart = parent.brkStart;
  child.brk = parent.brk;
  const parentSpace = spaceOf(parent), childSpace = spaceOf(child);
  let ok = true;
  for (let i: u32 = 0; i < from.count && ok; i++) {
    const end = regionEnd(from, i);
    let page = regionStart(from, i);
    while (page < end && ok) {
      const table = pteSlot(parentSpace, page, false);
      const tableEnd = min<u32>(end, (page & 0xFFC00000) + 0x400000);
      if (table == 0) { page = tableEnd; continue; }   // (no table: nothing mapped in these 4 MiB)
      // the entries of this table inside the region, one after another; the child's table is
      // made at the first present one. Interrupts off over the table: the counts change.
      let childTable: usize = 0;
      const flags = klockIrqSave();
      for (let at = table; page < tableEnd; page += PAGE, at += 4) {
        const entry = load<u32>(at);
        if ((entry & PAGE_PRESENT) == 0) continue;
        if (childTable == 0) {
          const first = pteSlot(childSpace, page, true);
          if (first == 0) { ok = false; break; }
          childTable = first - (at - table);
        }
        const frame = entry & ENTRY_FRAME_MASK;
        if (frame != zeroFrame) {
          if (!frameRefShare(refs, frame)) { ok = false; break; }
          child.resident++;
        }
        store<u32>(at, entry & ~PAGE_WRITABLE);
        store<u32>(childTable + (at - table), entry & ~(PAGE_WRITABLE | PAGE_ACCESSED | PAGE_DIRTY));
      }
      klockIrqRestore(flags);
    }
  }
  tlbInvalidate(parentSpace.directoryPhys, FLUSH_ALL);   // the parent's pages lost W: flush its whole TLB at once (on every CPU it runs on)
  return ok;
}

/** `m`'s regions, for walks (maps, exec, tests). */
export function memoryRegions(m: UserMemory): RegionMap { return regionsOf(m); }

/** Pages of [start, end) present in `m`'s space, and how many of them map the zero page (high half of the answer). */
export function memoryPresentPages(m: UserMemory, start: u32, end: u32): u64 {
  let present: u32 = 0, zero: u32 = 0;
  for (let page = start; page < end; page += PAGE) {
    const slot = pteSlot(spaceOf(m), page, false);
    if (slot == 0) { const next = (page & 0xFFC00000) + 0x400000; if (next == 0 || next >= end) break; page = next - PAGE; continue; }
    const entry = load<u32>(slot);
    if ((entry & PAGE_PRESENT) == 0) continue;
    present++;
    if ((entry & ENTRY_FRAME_MASK) == zeroFrame) zero++;
  }
  return (<u64>zero << 32) | present;
}
