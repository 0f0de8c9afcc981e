// The guard-page debug allocator: every allocation gets pages of its own from the virtual-range
// allocator, with the object against the range's unmapped guard page, so an overflow faults at
// the instruction that makes it; the panic names the allocation and its size. The slack in front
// of the object, and the alignment gap after it, hold a pattern (guard-layout.ts) that the free
// checks, so an underflow or a small overflow is caught there. A freed allocation's pages go back
// to the PMM at once, but its range is kept retired (vmm.ts retireRange) in a quarantine of the
// last GUARD_QUARANTINE frees, so a use after free faults too; the oldest is released when a new
// one comes. kmalloc sends every allocation here with `kmalloc=guard`, or one in N with
// `kfence=N` (kmalloc.ts). See docs/guard.md.
//
// Where an allocation's bookkeeping lives: a record of 8 bytes per page of the range area,
// indexed by the range's first page, in a promised range of its own taken on first use:
//
//   records[page]   +0 object address   +4 size in bytes (the request, so ksize gives it back)
//
// Contexts: guardAlloc is thread context only (it reserves a range and commits its pages);
// guardFree from atomic context (an interrupt handler, a lock held) only queues the pointer, and
// the next guard call in thread context frees it (DEFERRED_FREES may wait; more are logged and
// leaked). The quarantine, the queue and the counters are changed with interrupts off (`lock`);
// the VMM guards its own ranges.
import { LogLevel, logBegin } from "../../console/log";
import { puts, putHex, putDec, newline } from "../../console/console";
import { panicBegin, panicEnd } from "../../diag/panic";
import {
  reserveRange, releaseRange, retireRange, rangeContaining, rangeName, rangeFlags, rangeFaultAround, kernelRanges,
  RANGE_WRITABLE, RANGE_PROMISED, RANGE_RETIRED, RANGE_FAULT_AROUND_MAX, RangeError,
} from "../virt/vmm";
import { setFaultExplainer } from "../virt/fault";
import { registerShrinker } from "./shrink";
import { vrangeAreaStart, vrangeAreaPages } from "../layout";
import {
  GuardRing, GUARD_RING_BYTES, GUARD_MAX_ALIGN, guardPagesFor, guardObjectOffset, guardPatternByte, guardFillPattern,
  guardFirstBadByte, guardRingInit, guardRingPut, guardRingTake,
} from "../core/guard-layout";
import { AllocError } from "../core/alloc-error";
import { mightSleep } from "../../diag/context";
import { inThreadContext } from "../../arch/context";
import { klockIrqSaveTo, klockIrqRestoreFrom } from "../../arch/klock";
import { MmPart, mmBusy } from "../busy";

/** Freed allocations kept retired (unmapped, faulting) before their space is released. */
export const GUARD_QUARANTINE: u32 = 256;
/** Pages of the range area the guard allocator leaves free for everyone else (16 MiB). */
export const GUARD_AREA_SPARE_PAGES: u32 = 4096;

/** Counters, for statistics and tests. */
@unmanaged export class GuardStats {
  allocations: u32;    // handed out, ever
  frees: u32;          // freed, ever
  live: u32;           // allocated and not freed
  livePages: u32;      // frames the live allocations hold
  refused: u32;        // bad frees and bad requests, each logged
  full: u32;           // requests turned away because the area's spare pages were reached
}

// Every guard range has this name: the fault handler calls guardExplain for faults in them.
const RANGE_NAME = "guard allocation";
const RECORD_BYTES: u32 = 8;
const RECORD_OBJECT: u32 = 0;
const RECORD_SIZE: u32 = 4;
/** The record table: a record per page of the range area (whose size is a boot option). */
function recordTableBytes(): u32 { return vrangeAreaPages() * RECORD_BYTES; }
function recordFrames(): u32 { return (recordTableBytes() + 4095) >> 12; }

const statsBlock = memory.data(offsetof<GuardStats>(), 4);
const stats = changetype<GuardStats>(statsBlock);
const ringBlock = memory.data(GUARD_RING_BYTES, 4);
const ringSlots = memory.data(GUARD_QUARANTINE * 4, 4);
const quarantine = changetype<GuardRing>(ringBlock);
let records: usize = 0;   // 0 until the first use
let initializing = false;
const lock = memory.data(4, 4);
/** Frees from atomic context that may wait for thread context. */
export const DEFERRED_FREES: u32 = 64;
const deferredBlock = memory.data(GUARD_RING_BYTES, 4);
const deferredSlots = memory.data(DEFERRED_FREES * 4, 4);
const deferred = changetype<GuardRing>(deferredBlock);
let deferredLost: u32 = 0;

/**
 * Makes the guard allocator ready: takes its record table (a promised range: 62 frames) and
 * registers its fault explainer. False (logged by the VMM) if the table cannot be had. Called at
 * boot when kmalloc samples into it; otherwise the first guardAlloc calls it.
 */
export function guardInit(): bool {
  if (records != 0) return true;
  klockIrqSaveTo(lock);
  const first = !initializing;   // (another thread may be half-way through: this call fails then)
  initializing = true;
  klockIrqRestoreFrom(lock);
  if (!first) return false;
  const table = reserveRange(recordTableBytes(), RANGE_WRITABLE | RANGE_PROMISED | rangeFaultAround(RANGE_FAULT_AROUND_MAX), "guard allocator records");
  if (table == 0) { initializing = false; return false; }
  guardRingInit(ringBlock, ringSlots, GUARD_QUARANTINE);
  guardRingInit(deferredBlock, deferredSlots, DEFERRED_FREES);
  setFaultExplainer(RANGE_NAME, guardExplain);
  registerShrinker("guard allocator (frees deferred from atomic context)", guardReclaimable, guardShrink);
  records = table;
  if (logBegin(LogLevel.Info, "guard")) {
    puts("guard allocator ready: records at "); putHex(table); puts(" ("); putDec(recordFrames()); puts(" frames), quarantine of ");
    putDec(GUARD_QUARANTINE); puts(" frees\n");
  }
  return true;
}

// Giving memory back (mm/alloc/shrink.ts). The quarantine holds no frames: a freed allocation's
// pages go back at once and only its range stays retired. What does hold frames is a free made
// in atomic context, queued until thread context: the shrinker runs those frees.

/** Frees waiting in the deferred queue (a page each at least: an estimate). Any context. */
function guardReclaimable(): u32 { return records == 0 ? 0 : deferred.count; }
/** Runs the deferred frees. Thread context. */
function guardShrink(pages: u32): void { guardFreeDeferred(); }

/** The range allocator's page number of the range at `first`. */
@inline function pageOf(first: u32): u32 { return (first - vrangeAreaStart()) >> 12; }
@inline function recordAt(first: u32): usize { return records + pageOf(first) * RECORD_BYTES; }

/**
 * `size` bytes aligned to `align` (a power of two up to 4096) on pages of their own, ending
 * against an unmapped guard page (exactly, when `size` is a multiple of `align`), contents zero.
 * Returns 0 for size 0 or a bad alignment (logged), when the range area is down to its spare
 * pages with nothing left in quarantine to release (counted in `full`), or when the PMM has no
 * frames for it (logged by the VMM). O(pages) plus a page fault per 32 pages. Thread context
 * only (refused and reported otherwise, diag/context.ts).
 */
export function guardAlloc(size: u32, align: u32): usize {
  if (!mightSleep("guardAlloc") || !guardInit()) return 0;
  guardFreeDeferred();
  const pages = guardPagesFor(size, align);
  if (pages == 0 || align == 0 || (align & (align - 1)) != 0 || align > GUARD_MAX_ALIGN) {
    stats.refused++;
    if (logBegin(LogLevel.Error, "guard")) {
      puts("guardAlloc("); putDec(size); puts(", "); putDec(align); puts("): size 0 or too large, or a bad alignment; returns 0\n");
    }
    return 0;
  }
  const area = kernelRanges();
  while (area.freePages < pages + 1 + GUARD_AREA_SPARE_PAGES && quarantine.count > 0) releaseRange(quarantineTake());
  if (area.freePages < pages + 1 + GUARD_AREA_SPARE_PAGES) { stats.full++; return 0; }
  const flags = RANGE_WRITABLE | RANGE_PROMISED | rangeFaultAround(pages - 1);
  const first = reserveRange(pages << 12, flags, RANGE_NAME);
  if (first == 0) return 0;
  const end = first + (pages << 12);
  const object = first + guardObjectOffset(size, align, pages);
  guardFillPattern(first, object);   // the first touch: every page (up to 32) is mapped, zeroed
  guardFillPattern(object + size, end);
  store<u32>(recordAt(first), object, RECORD_OBJECT);
  store<u32>(recordAt(first), size, RECORD_SIZE);
  klockIrqSaveTo(lock);
  stats.allocations++;
  stats.live++;
  stats.livePages += pages;
  klockIrqRestoreFrom(lock);
  return object;
}

/** The oldest range in quarantine, taken out (0 if none). */
function quarantineTake(): u32 {
  klockIrqSaveTo(lock);
  const first = quarantine.count > 0 ? guardRingTake(quarantine) : 0;
  klockIrqRestoreFrom(lock);
  return first;
}

/** Queues a free made in atomic context for guardFreeDeferred; logs and leaks it when the queue is full. */
function guardFreeLater(ptr: usize): AllocError {
  klockIrqSaveTo(lock);
  const queued = deferred.count < DEFERRED_FREES;
  if (queued) guardRingPut(deferred, <u32>ptr); else deferredLost++;
  klockIrqRestoreFrom(lock);
  if (!queued && logBegin(LogLevel.Error, "guard")) {
    puts("guardFree("); putHex(ptr); puts(") in atomic context: "); putDec(DEFERRED_FREES); puts(" frees wait already; leaked\n");
  }
  return AllocError.Ok;
}

/** Frees what guardFreeLater queued. Thread context (guardAlloc and guardFree call it). */
export function guardFreeDeferred(): void {
  if (records == 0) return;
  for (;;) {
    klockIrqSaveTo(lock);
    const ptr = deferred.count > 0 ? guardRingTake(deferred) : 0;
    klockIrqRestoreFrom(lock);
    if (ptr == 0) return;
    guardFreeNow(ptr);
  }
}


/** The first address of the guard allocation (live or in quarantine) holding `address`, or 0. */
function guardRangeOf(address: usize): u32 {
  if (records == 0 || address < vrangeAreaStart()) return 0;
  const first = rangeContaining(<u32>address);
  return first != 0 && changetype<usize>(rangeName(pageOf(first))) == changetype<usize>(RANGE_NAME) ? first : 0;
}

@inline function isRetired(first: u32): bool { return (rangeFlags(pageOf(first)) & RANGE_RETIRED) != 0; }

/** Whether `address` lies in a guard allocation, live or in quarantine (its slack and guard page too). */
export function guardOwns(address: usize): bool { return guardRangeOf(address) != 0; }

/**
 * The size asked for of the live guard allocation whose object starts at `ptr`, or 0. Any
 * context (in atomic context, 0 while the VMM is half-way through a change).
 */
export function guardSize(ptr: usize): u32 {
  // (in atomic context the VMM may be half-way through changing the ranges: no answer then)
  if (mmBusy(MmPart.Vmm) && !inThreadContext()) return 0;
  const first = guardRangeOf(ptr);
  if (first == 0 || isRetired(first) || load<u32>(recordAt(first), RECORD_OBJECT) != <u32>ptr) return 0;
  return load<u32>(recordAt(first), RECORD_SIZE);
}

/**
 * Frees the guard allocation whose object starts at `ptr`: checks the slack in front and the gap
 * after the object (an overwritten byte panics, naming the allocation and the byte: memory was
 * corrupted), returns its pages to the PMM and keeps its range retired in the quarantine, so a
 * later touch panics as a use after free; the oldest quarantined range is released when the
 * quarantine is full. A pointer that is not a live guard object is logged and refused
 * (AllocError), nothing changed. In atomic context the free only queues `ptr` (guardFreeLater):
 * the next guard call in thread context checks and frees it.
 */
export function guardFree(ptr: usize): AllocError {
  if (!inThreadContext()) return guardFreeLater(ptr);
  guardFreeDeferred();
  return guardFreeNow(ptr);
}

function guardFreeNow(ptr: usize): AllocError {
  const first = guardRangeOf(ptr);
  let error = AllocError.Ok;
  if (first == 0) error = AllocError.Foreign;
  else if (isRetired(first)) error = AllocError.DoubleFree;
  else if (load<u32>(recordAt(first), RECORD_OBJECT) != <u32>ptr) error = AllocError.Interior;
  if (error != AllocError.Ok) { refuseFree(ptr, first, error); return error; }
  const size = load<u32>(recordAt(first), RECORD_SIZE);
  const pages = guardPagesOf(first), end = first + (pages << 12);
  const front = guardFirstBadByte(first, ptr);
  if (front != 0) slackPanic("guard allocator: the slack before an object was overwritten (an underflow)", first, <u32>front);
  const gap = guardFirstBadByte(ptr + size, end);
  if (gap != 0) slackPanic("guard allocator: the gap after an object was overwritten (an overflow)", first, <u32>gap);
  if (retireRange(first) != RangeError.Ok) brokenInvariant(first);
  klockIrqSaveTo(lock);
  const evicted = guardRingPut(quarantine, first);
  stats.frees++;
  stats.live--;
  stats.livePages -= pages;
  klockIrqRestoreFrom(lock);
  if (evicted != 0 && releaseRange(evicted) != RangeError.Ok) brokenInvariant(evicted);
  return AllocError.Ok;
}

/** Pages of the guard allocation at `first` (its range's pages, without the guard page). */
function guardPagesOf(first: u32): u32 {
  const object = load<u32>(recordAt(first), RECORD_OBJECT), size = load<u32>(recordAt(first), RECORD_SIZE);
  return ((object + size + 4095) >> 12) - (first >> 12);
}

/** Releases every quarantined range (tests, and anyone who needs the address space back). */
export function guardDrainQuarantine(): void {
  if (records == 0) return;
  guardFreeDeferred();
  for (let first = quarantineTake(); first != 0; first = quarantineTake()) releaseRange(first);
}

/** The guard allocator's counters. */
export function guardStats(): GuardStats { return stats; }
/** Allocations in quarantine now. */
export function guardQuarantined(): u32 { return records == 0 ? 0 : quarantine.count; }
/** Frames the guard allocator holds from the PMM: the live allocations' and the record table's. */
export function guardHeldFrames(): u32 { return stats.livePages + (records != 0 ? recordFrames() : 0); }

/**
 * Prints the counters as one `# guard allocator:` line (after test=all, like the heap's and the
 * slab caches' statistics).
 */
export function guardPrintStats(): void {
  puts("# guard allocator: "); putDec(stats.allocations); puts(" allocations, "); putDec(stats.frees); puts(" frees, ");
  putDec(stats.live); puts(" live ("); putDec(stats.livePages); puts(" pages), "); putDec(guardQuarantined());
  puts(" in quarantine, "); putDec(stats.refused); puts(" refused, "); putDec(stats.full); puts(" turned away (area full)");
  if (deferredLost != 0) { puts(", "); putDec(deferredLost); puts(" atomic frees leaked (queue full)"); }
  newline();
}

function refuseFree(ptr: usize, first: u32, error: AllocError): void {
  stats.refused++;
  if (!logBegin(LogLevel.Error, "guard")) return;
  puts("guardFree("); putHex(ptr); puts("): ");
  if (error == AllocError.Foreign) puts("no guard allocation holds it");
  else {
    puts(error == AllocError.DoubleFree ? "freed already (in quarantine): a double free" : "not the start of the object");
    putObject(first);
  }
  puts("; nothing changed\n");
}

/** ", object 0x... of N bytes (pages 0x...-0x...)" for the allocation at `first`. */
function putObject(first: u32): void {
  const object = load<u32>(recordAt(first), RECORD_OBJECT);
  puts(": object "); putHex(object); puts(" of "); putDec(load<u32>(recordAt(first), RECORD_SIZE)); puts(" bytes (pages ");
  putHex(first); puts("-"); putHex(first + (guardPagesOf(first) << 12) - 1); puts(")");
}

function slackPanic(headline: string, first: u32, bad: u32): void {
  panicBegin(headline);
  puts("guard allocation"); putObject(first); newline();
  const object = load<u32>(recordAt(first), RECORD_OBJECT), size = load<u32>(recordAt(first), RECORD_SIZE);
  puts("the byte at "); putHex(bad);
  if (bad < object) { puts(" (object - "); putDec(object - bad); puts(")"); }
  else { puts(" (object + "); putDec(bad - object); puts(", "); putDec(bad - object - size + 1); puts(" bytes past its end)"); }
  puts(" is "); putHex(load<u8>(bad), 2); puts(", the pattern there is "); putHex(guardPatternByte(bad), 2);
  puts("; caught at free\n");
  panicEnd(null);
}

function brokenInvariant(first: u32): void {
  panicBegin("guard allocator: broken invariant: the VMM refused a guard range");
  puts("range "); putHex(first); newline();
  panicEnd(null);
}

/** The fault handler's lines for a fault in a guard allocation's range (see fault.ts). */
function guardExplain(first: u32, address: u32): void {
  const object = load<u32>(recordAt(first), RECORD_OBJECT), size = load<u32>(recordAt(first), RECORD_SIZE);
  puts("guard allocation"); putObject(first);
  puts(isRetired(first) ? ", freed (in quarantine)" : ", live"); newline();
  puts("the address is ");
  if (address < object) { puts("object - "); putDec(object - address); puts(" (in the slack before it)\n"); }
  else if (address < object + size) { puts("object + "); putDec(address - object); puts(" (inside it)\n"); }
  else { puts("object + "); putDec(address - object); puts(": "); putDec(address - object - size + 1); puts(" bytes past its end\n"); }
}
