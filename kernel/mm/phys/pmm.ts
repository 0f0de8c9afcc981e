// The kernel's physical memory manager: one FrameAllocator (frames.ts) built at boot from the
// multiboot information, and the public API the rest of the kernel calls. See docs/pmm.md.
//
// Any context: each entry point is a critical section with interrupts off (saved and restored,
// so they nest) and, but for the per-CPU frame lists' fast paths (frame-lists.ts), a section of
// the PMM's lock: an interrupt handler that allocates a
// frame waits for the interrupted call to finish, and none ever sees the bitmaps half-updated.
// The PMM never faults (its bitmap lives in the linear map); if it did, the fault would come
// with interrupts off, and the fault handler reports a fault in atomic context rather than
// re-enter it (mm/virt/fault.ts).
//
// Watermarks (mm/core/watermarks.ts, docs/pmm.md): low memory keeps `low` frames free from
// ordinary requests (the allocator's floor, checked on its slow paths only). A request the floor
// refuses, or that finds its zone empty, comes to `short`: in thread context it reclaims (the
// PMM's lock dropped meanwhile) and tries again, still above low; in atomic context it may go
// down to min, and wakes the reclaimer thread instead; the thread running reclaim may take
// everything. Either way, once low memory is below low the reclaimer is woken.
import { rdtsc, readEflags, linkerAddress, LinkerSymbol } from "../../arch/x86";
import { klockIrqSaveTo, klockIrqRestoreFrom } from "../../arch/klock";
import { LogLevel, logBegin, logLine } from "../../console/log";
import { puts, putHex, putDec, putSize, padTo, newline } from "../../console/console";
import { panic } from "../../diag/panic";
import {
  MultibootInfo, MB_INFO_CMDLINE, MB_INFO_MEMORY, MB_INFO_MEMORY_MAP, MB_INFO_LOADER_NAME, MB_INFO_BYTES,
  MB_INFO_FULL_BYTES,
} from "../../boot/multiboot";
import { LoaderProblem, loaderRangeProblem, loaderRangeUsable, loaderStringLength } from "../../boot/loader-data";
import { MAX_MODULES, bootModuleCount, bootModuleStartPhys, bootModuleEndPhys, bootModuleNamePhys, bootModuleNameLength } from "../../boot/modules";
import {
  MemoryMap, memoryMapCheck, memoryMapFromMemFields, mapProblemText, memoryMapProblemOffset, MapProblem,
} from "../core/memory-map";
import { printMemoryMap } from "../../boot/memmap";
import {
  ReservedList, reservedListInit, reservedAdd, reservedStart, reservedEnd, reservedName,
  RESERVED_LIST_HEADER, RESERVED_RECORD,
} from "../core/reserved";
import { FrameAllocator, FrameZone, FrameError, FrameState, allocFrameFrom, FRAME_SHIFT } from "../core/frames";
import { pmm, pmmState, pmmLock } from "./pmm-state";
import {
  frameListsInit, frameListsReport, frameListFlushHere, frameListDrainHere, frameListsHold, pmmListedFrames,
} from "./frame-lists";
export { allocFrame, freeFrame, pmmCpuAttach, pmmListedFrames, pmmListsDrain, pmmListsMapFrames } from "./frame-lists";
import { allocFramesFrom, freeFramesTo, claimFramesFrom } from "../core/frame-runs";
import {
  framesFree, framesFreeLow, framesTotal, framesReserved, framesUsable, frameState, frameRunLength, frameAllocatorCheck,
} from "../core/frames-check";
import { frameAllocatorPlan, frameAllocatorBuild, InitError, initErrorText } from "../core/frames-init";
import { lowMemoryEnd, lowMemoryEndFrame, linearVirt } from "../layout";
import { Invariant } from "../core/invariant";
import { Watermarks, watermarksFor } from "../core/watermarks";
import { inThreadContextWith } from "../../arch/context";
import { pressureReclaim, pressureWake, inMemalloc } from "../pressure";

const RESERVED_CAPACITY: u32 = 16 + 2 * MAX_MODULES;

const reservedStorage = memory.data(RESERVED_LIST_HEADER + RESERVED_CAPACITY * RESERVED_RECORD, 8);
let reserved: ReservedList = changetype<ReservedList>(reservedStorage);
const map = changetype<MemoryMap>(memory.data(8, 4));
const fallbackMap = memory.data(48, 8);
let initInstructions: u64 = 0;
let ready = false;
const marks = changetype<Watermarks>(memory.data(offsetof<Watermarks>(), 4));
let retrying = false;     // short's own second search runs: a refusal there is final
let atomicDips: u32 = 0, directReclaims: u32 = 0, shortFailures: u32 = 0;

function reserveOrPanic(start: u64, end: u64, name: string): void {
  if (!reservedAdd(reserved, start, end, name)) panic("pmm: too many reserved ranges (raise RESERVED_CAPACITY)");
}

/** Physical range [phys, phys + bytes) if the linear map reaches all of it, else false. */
function reachable(phys: u32, bytes: u32): bool { return <u64>phys + bytes <= <u64>lowMemoryEnd(); }

/** Physical address of a kernel-image virtual address. */
function imagePhys(virt: usize): u64 { return <u64>(virt - linearVirt(0)); }

/** Everything the loader and the linker placed in RAM that must survive. */
function collectReserved(info: MultibootInfo, infoPhys: u32): void {
  reserved = reservedListInit(reservedStorage, RESERVED_CAPACITY);
  reserveOrPanic(0, 1 << FRAME_SHIFT, "frame 0 (null)");
  reserveOrPanic(imagePhys(linkerAddress(LinkerSymbol.KernelStart)), imagePhys(linkerAddress(LinkerSymbol.KernelEnd)), "kernel image");
  reserveOrPanic(imagePhys(linkerAddress(LinkerSymbol.AsDataStart)), imagePhys(linkerAddress(LinkerSymbol.AsDataEnd)), "AssemblyScript data");
  reserveOrPanic(infoPhys, <u64>infoPhys + MB_INFO_FULL_BYTES, "multiboot info");
  // The loader's strings and lists, where they lie in RAM (main.ts and boot/modules.ts have
  // reported and dropped those that do not).
  if ((info.flags & MB_INFO_CMDLINE) != 0) reserveLoaderString(info, info.cmdlinePhys, CMDLINE_RESERVE_LIMIT, "command line");
  if ((info.flags & MB_INFO_LOADER_NAME) != 0) reserveLoaderString(info, info.loaderNamePhys, 256, "loader name");
  if ((info.flags & MB_INFO_MEMORY_MAP) != 0) {
    const end = <u64>info.memoryMapPhys + info.memoryMapBytes;
    if (loaderRangeProblem(info, info.memoryMapPhys, end) == LoaderProblem.None) reserveOrPanic(info.memoryMapPhys, end, "memory map");
  }
  const modules = bootModuleCount();
  if (modules != 0) {
    reserveOrPanic(info.modulesPhys, <u64>info.modulesPhys + <u64>info.moduleCount * 16, "module list");
    for (let i: u32 = 0; i < modules; i++) {
      reserveOrPanic(bootModuleStartPhys(i), bootModuleEndPhys(i), "module");
      const name = bootModuleNamePhys(i);
      if (name != 0) reserveOrPanic(name, <u64>name + bootModuleNameLength(i) + 1, "module name");
    }
  }
}

/** The longest command line reserved (the kernel refuses longer ones: main.ts). */
const CMDLINE_RESERVE_LIMIT: u32 = 4096;

/** Reserves the loader's NUL-terminated string at `phys` (at most `limit` bytes) if it lies in RAM. */
function reserveLoaderString(info: MultibootInfo, phys: u32, limit: u32, name: string): void {
  const length = loaderStringLength(info, phys, limit);
  if (length >= 0) reserveOrPanic(phys, <u64>phys + length + 1, name);
}

/**
 * Picks the map: the loader's if it has one that can be walked (and `ignoreLoaderMap` is
 * false: boot option memmap=memfields), else mem_lower/mem_upper.
 */
function chooseMap(info: MultibootInfo, ignoreLoaderMap: bool): string {
  if (ignoreLoaderMap) {
    logLine(LogLevel.Warn, "pmm", "memmap=memfields: the loader's memory map is not used");
  } else if ((info.flags & MB_INFO_MEMORY_MAP) != 0) {
    if (!loaderRangeUsable(info, "the memory map", info.memoryMapPhys, <u64>info.memoryMapPhys + info.memoryMapBytes)) {
      logLine(LogLevel.Warn, "pmm", "the loader's memory map is not used");
    } else {
      map.addr = linearVirt(info.memoryMapPhys);
      map.bytes = info.memoryMapBytes;
      const problem = memoryMapCheck(map);
      if (problem == MapProblem.None) return "the multiboot loader";
      if (logBegin(LogLevel.Warn, "pmm")) {
        puts("the loader's memory map at "); putHex(info.memoryMapPhys); puts(" is corrupt: ");
        puts(mapProblemText(problem)); puts(" (byte "); putDec(memoryMapProblemOffset()); puts("): ignored\n");
      }
    }
  }
  if ((info.flags & MB_INFO_MEMORY) == 0) panic("pmm: the loader gave neither a usable memory map nor mem_lower/mem_upper");
  if (logBegin(LogLevel.Warn, "pmm")) {
    puts("no usable memory map: using mem_lower "); putDec(info.memLowerKiB); puts(" KiB and mem_upper ");
    putDec(info.memUpperKiB); puts(" KiB, which miss any RAM above the first hole\n");
  }
  map.addr = fallbackMap;
  map.bytes = memoryMapFromMemFields(info.memLowerKiB, info.memUpperKiB, fallbackMap);
  return "mem_lower/mem_upper";
}

function frameMiB(frames: u64): u64 { return frames >> (20 - FRAME_SHIFT); }

/** Range i of the reserved list, with the PMM's bitmap as one more range at i == count. */
function rangeStart(i: u32): u64 { return i == reserved.count ? <u64>pmm.bitmapPhys : reservedStart(reserved, i); }
function rangeEnd(i: u32): u64 { return i == reserved.count ? <u64>pmm.bitmapPhys + pmm.bitmapBytes : reservedEnd(reserved, i); }

/** Prints the reserved ranges in address order (a selection sort: there are at most 81). */
function printReserved(): void {
  const n = reserved.count + 1;
  if (logBegin(LogLevel.Info, "pmm")) { puts("reserved for the kernel, "); putDec(n); puts(" ranges:\n"); }
  let lastStart: u64 = 0, lastIndex: i32 = -1;
  for (let printed: u32 = 0; printed < n; printed++) {
    let best: i32 = -1;
    for (let i: u32 = 0; i < n; i++) {
      const start = rangeStart(i);
      const after = start > lastStart || (start == lastStart && <i32>i > lastIndex);
      if (after && (best < 0 || start < rangeStart(<u32>best))) best = <i32>i;
    }
    lastStart = rangeStart(<u32>best); lastIndex = best;
    if (!logBegin(LogLevel.Info, "pmm")) return;
    const end = rangeEnd(<u32>best);
    puts("  [mem "); putHex(lastStart, 16); puts("-"); putHex(end - 1, 16); puts("] ");
    padTo(putSize(end - lastStart), 10);
    puts("  "); puts(<u32>best == reserved.count ? "PMM bitmap" : reservedName(reserved, <u32>best)); newline();
  }
}

function printSummary(): void {
  const total = <u64>framesTotal(pmm), usable = <u64>framesUsable(pmm), rsv = <u64>framesReserved(pmm), free = <u64>framesFree(pmm);
  if (logBegin(LogLevel.Info, "pmm")) {
    puts("total "); putDec(total); puts(" frames ("); putDec(frameMiB(total)); puts(" MiB), usable ");
    putDec(usable); puts(" ("); putDec(frameMiB(usable)); puts(" MiB), reserved "); putDec(rsv); puts(" (");
    putDec(frameMiB(rsv)); puts(" MiB), free "); putDec(free); puts(" ("); putDec(frameMiB(free)); puts(" MiB)\n");
  }
  if (logBegin(LogLevel.Info, "pmm")) {
    puts("low memory (below "); putHex(<u64>pmm.lowLimitFrame << FRAME_SHIFT); puts(") "); putDec(framesFreeLow(pmm));
    puts(" frames free, high memory "); putDec(framesFree(pmm) - framesFreeLow(pmm)); puts(" free; bitmap ");
    putSize(pmm.bitmapBytes); puts(" at "); putHex(pmm.bitmapPhys); puts("; init took "); putDec(initInstructions);
    puts(" rdtsc ticks (instructions under -icount)\n");
  }
  if (logBegin(LogLevel.Info, "pmm")) {
    puts("watermarks (frames of low memory): min "); putDec(marks.min); puts(", low "); putDec(marks.low);
    puts(", high "); putDec(marks.high); newline();
  }
  frameListsReport();
  if (pmm.ignoredBytes != 0 && logBegin(LogLevel.Warn, "pmm")) {
    putSize(pmm.ignoredBytes); puts(" of RAM above 4 GiB is not used (32-bit paging without PAE)\n");
  }
}

/**
 * Builds the PMM from the multiboot information at physical `infoPhys` and prints the memory
 * map, the reserved ranges and a summary. `ignoreLoaderMap` (boot option memmap=memfields)
 * builds it from mem_lower/mem_upper alone, as for a loader without a map. Call once, early in kmain, with the boot page tables
 * (which map all of low memory). Panics if there is no usable memory or no room for the
 * bitmap: the kernel cannot run without a PMM.
 */
export function pmmInit(infoPhys: u32, ignoreLoaderMap: bool): void {
  const start = rdtsc();
  if (!reachable(infoPhys, MB_INFO_BYTES)) panic("pmm: the multiboot information is out of reach");
  const info = changetype<MultibootInfo>(linearVirt(infoPhys));
  collectReserved(info, infoPhys);
  const source = chooseMap(info, ignoreLoaderMap);
  const error = frameAllocatorPlan(pmm, map, reserved, lowMemoryEndFrame());
  if (error != InitError.Ok) {
    printMemoryMap(map, source);
    panic(initErrorText(error));
  }
  frameAllocatorBuild(pmm, map, reserved, linearVirt(pmm.bitmapPhys));
  watermarksFor(marks, framesFreeLow(pmm));
  pmm.floor = marks.low;
  pmm.short = changetype<usize>(short);
  frameListsInit();
  initInstructions = rdtsc() - start;
  ready = true;
  printMemoryMap(map, source);
  printReserved();
  printSummary();
}

// --- short of memory --------------------------------------------------------------------------

/** What reclaim is asked for: enough to bring low memory back to high (at least a bitmap word). */
function reclaimTarget(): u32 { return max<u32>(marks.high > pmm.freeLow ? marks.high - pmm.freeLow : 0, 32); }

/** One more search of `zone` with the floor at `floor` (under the lock): a frame, or 0. */
function searchWithFloor(zone: FrameZone, floor: u32): u32 {
  const kept = pmm.floor;
  pmm.floor = floor;
  retrying = true;
  const phys = allocFrameFrom(pmm, zone);
  retrying = false;
  pmm.floor = kept;
  return phys;
}

/**
 * What a request short of memory may do, by the context it was made in (`eflags`: the caller's
 * flags): memalloc may go down to 0; thread context first reclaims (`pages` at least, so the
 * PMM's lock must not be held) and stays above low; atomic context may go down to min. The floor.
 */
function shortFloor(eflags: u32, pages: u32): u32 {
  if (inMemalloc()) return 0;   // (reclaim itself, or a test emptying memory on purpose)
  if (!inThreadContextWith(eflags)) return marks.min;
  directReclaims++;
  pressureReclaim(max<u32>(reclaimTarget(), pages));
  return marks.low;
}

/** Counts a short request's outcome and wakes the reclaimer below low (not for memalloc). Under the lock. */
function shortDone(phys: u32, floor: u32): void {
  if (floor == 0) return;
  if (phys == 0) shortFailures++;
  else if (floor == marks.min) atomicDips++;
  if (pmm.freeLow < marks.low) pressureWake();
}

/**
 * The frame allocator's slow path (FrameAllocator.short), under the PMM's lock: a single-frame
 * search found nothing it may take. The lock is dropped while shortFloor decides (and may
 * reclaim): the allocator's state is whole here, the search having finished.
 */
function short(state: FrameAllocator, zone: FrameZone): u32 {
  if (retrying) return 0;
  frameListFlushHere();   // (this CPU's listed frames first: the retry finds them)
  const eflags = load<u32>(pmmLock);
  klockIrqRestoreFrom(pmmLock);
  const floor = shortFloor(eflags, 0);
  klockIrqSaveTo(pmmLock);
  const phys = searchWithFloor(zone, floor);
  shortDone(phys, floor);
  return phys;
}

/** allocFramesFrom with the floor at `floor` (under the lock). */
function allocFramesBelow(floor: u32, count: u32, alignFrames: u32, maxPhysAddr: u64): u32 {
  const kept = pmm.floor;
  pmm.floor = floor;
  const phys = allocFramesFrom(pmm, count, alignFrames, maxPhysAddr);
  pmm.floor = kept;
  return phys;
}

// Called through a variable, so that neither Binaryen nor clang inlines it into allocFrames,
// which then stays small enough to be inlined into its callers (the heap's span take).
let runShortPath: (count: u32, alignFrames: u32, maxPhysAddr: u64) => u32 = runShort;

/** allocFrames' slow path, outside the lock: the run the floor refused, as `short` handles one frame. */
function runShort(count: u32, alignFrames: u32, maxPhysAddr: u64): u32 {
  if (count > pmm.frameCount || (alignFrames & (alignFrames - 1)) != 0) return 0;   // (refused and logged already)
  frameListDrainHere();   // (this CPU's listed frames may complete a run)
  const floor = shortFloor(readEflags(), count);
  klockIrqSaveTo(pmmLock);
  const phys = allocFramesBelow(floor, count, alignFrames, maxPhysAddr);
  shortDone(phys, floor);
  klockIrqRestoreFrom(pmmLock);
  return phys;
}

/** Whether pmmInit has run. */
export function pmmReady(): bool { return ready; }
/** Instructions (rdtsc ticks) pmmInit took, printing excluded. */
export function pmmInitInstructions(): u64 { return initInstructions; }

/**
 * A free frame in low memory (below lowMemoryEnd(), so reachable at linearVirt(phys) without
 * mapping anything), or 0 when low memory is used up. For page tables, heap and slab pages.
 * Contexts and watermarks as allocFrame.
 */
export function allocLowFrame(): u32 {
  klockIrqSaveTo(pmmLock);
  const phys = allocFrameFrom(pmm, FrameZone.Low);
  klockIrqRestoreFrom(pmmLock);
  return phys;
}

/**
 * `count` physically contiguous frames, the first aligned to `alignFrames` frames (a power of
 * two; 0 or 1 for none), all below `maxPhysAddr` (ISA_DMA_LIMIT for ISA DMA; lowMemoryEnd() for
 * linear-mapped memory; PHYS_LIMIT for anywhere). The first frame's address, or 0. Contexts
 * and watermarks as allocFrame.
 */
export function allocFrames(count: u32, alignFrames: u32, maxPhysAddr: u64): u32 {
  klockIrqSaveTo(pmmLock);
  const phys = allocFramesFrom(pmm, count, alignFrames, maxPhysAddr);
  klockIrqRestoreFrom(pmmLock);
  return phys != 0 || count == 0 ? phys : runShortPath(count, alignFrames, maxPhysAddr);
}

/**
 * Takes the `count` frames from `phys` if all of them are free, all or nothing: true if it did
 * (to grow a run that allocFrames handed out in place). Refuses, without a log, what is not, and
 * what would take low memory below the low watermark (growing in place is never worth reclaim).
 * Any context.
 */
export function claimFrames(phys: u32, count: u32): bool {
  klockIrqSaveTo(pmmLock);
  const done = claimFramesFrom(pmm, phys, count);
  klockIrqRestoreFrom(pmmLock);
  return done;
}

/** Frees `count` frames from `phys`; all or nothing (errors as freeFrame, for the first bad frame). */
export function freeFrames(phys: u32, count: u32): FrameError {
  klockIrqSaveTo(pmmLock);
  const error = freeFramesTo(pmm, phys, count);
  klockIrqRestoreFrom(pmmLock);
  return error;
}

/** The address of the PMM's state (a FrameAllocator), for the debugger's roots. */
export function pmmStateAddress(): usize { return pmmState; }

/**
 * Prints the PMM's totals as one `# ` line (a TAP comment), the same line the gdb command
 * `askern-pmm` prints: frames managed, free (and free in low memory), reserved, usable.
 */
export function pmmPrintTotals(): void {   // (the bitmap's counts: frames on CPU lists count as used there)
  puts("# pmm: "); putDec(framesTotal(pmm)); puts(" frames, "); putDec(framesFree(pmm)); puts(" free (");
  putDec(framesFreeLow(pmm)); puts(" low), "); putDec(framesReserved(pmm)); puts(" reserved, ");
  putDec(framesUsable(pmm)); puts(" usable\n");
}

/** Frames managed (up to the highest available address below 4 GiB). */
export function pmmTotalFrames(): u32 { return framesTotal(pmm); }
/** Frames free now, in all memory / in low memory. */
export function pmmFreeFrames(): u32 { return framesFree(pmm) + pmmListedFrames(); }
export function pmmFreeLowFrames(): u32 { return framesFreeLow(pmm); }
/** Frames never allocatable (holes, non-RAM, kernel, multiboot data, modules, bitmap). */
export function pmmReservedFrames(): u32 { return framesReserved(pmm); }
/** Frames of RAM the memory map offers. */
export function pmmUsableFrames(): u32 { return framesUsable(pmm); }
/** The frame that ends low memory (frames below it are in the linear map). */
export function pmmLowLimitFrame(): u32 { return pmm.lowLimitFrame; }
/** State of a frame, and the length of the run of frames sharing it: iterate the map with these. */
export function pmmFrameState(frame: u32): FrameState { return frameState(pmm, frame); }
export function pmmFrameRunLength(frame: u32): u32 { return frameRunLength(pmm, frame); }
/** Invariant.Holds, or the frame allocator's first broken invariant (frames-check.ts), under the PMM's lock (interrupts off throughout). Any context. */
export function pmmCheck(): Invariant {
  klockIrqSaveTo(pmmLock);
  let result = frameAllocatorCheck(pmm);
  if (result == Invariant.Holds && !frameListsHold()) result = Invariant.FramesLists;
  klockIrqRestoreFrom(pmmLock);
  return result;
}

/** The watermarks (frames of low memory: mm/core/watermarks.ts). Any context. */
export function pmmWatermarkMin(): u32 { return marks.min; }
export function pmmWatermarkLow(): u32 { return marks.low; }
export function pmmWatermarkHigh(): u32 { return marks.high; }
/** Requests the watermarks sent down to min (atomic), to reclaim first (thread), and that found nothing. Any context. */
export function pmmAtomicDips(): u32 { return atomicDips; }
export function pmmDirectReclaims(): u32 { return directReclaims; }
export function pmmShortFailures(): u32 { return shortFailures; }

/** The reserved ranges and the memory map the PMM was built from (for self-tests). */
export function pmmReservedList(): ReservedList { return reserved; }
export function pmmMemoryMap(): MemoryMap { return map; }
