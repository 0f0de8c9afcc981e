// What the loader hands over, checked before anyone reads it. The command line, the loader's
// name, the memory map, the module list, every module and every module's name must lie in RAM
// and in the boot linear map (boot/entry.asm maps physical 0 .. lowMemoryEnd()). A piece that
// does not is reported in one line (what, where, why) and is not used: QEMU's loader puts the
// command line and modules wherever it likes, past the end of RAM included.
//
// RAM, for these checks, is what the loader itself says: an available (or ACPI-reclaimable)
// entry of its memory map when it gave a sound one, or mem_lower/mem_upper. A range must lie in
// one entry (or one of the two mem ranges); loaders never split their own data across entries.
import { MultibootInfo, MB_INFO_MEMORY, MB_INFO_MEMORY_MAP, cStringLength } from "./multiboot";
import { lowMemoryEnd, linearVirt } from "../mm/layout";
import {
  MemoryMap, MemoryType, MapProblem, memoryMapCheck, entryBase, entryLength, entryType, entryNext,
} from "../mm/core/memory-map";
import { LogLevel, logBegin } from "../console/log";
import { puts, putHex, putSize, newline } from "../console/console";

/** Why a range the loader gave cannot be used. */
export const enum LoaderProblem {
  None = 0,
  OutsideLinearMap = 1,   // it ends above lowMemoryEnd(): the kernel cannot reach it
  OutsideRam = 2,         // not inside RAM as the loader describes it
  Wraps = 3,              // its end is below its start
}

/** A short phrase for `problem`, to follow "lies" or "is". */
export function loaderProblemText(problem: LoaderProblem): string {
  switch (problem) {
    case LoaderProblem.OutsideLinearMap: return "above the linear map (896 MiB): out of reach";
    case LoaderProblem.OutsideRam: return "outside RAM (the loader's memory map and mem_lower/mem_upper)";
    case LoaderProblem.Wraps: return "ends before it starts";
    default: return "fine";
  }
}

const loaderMap = changetype<MemoryMap>(memory.data(offsetof<MemoryMap>(), 4));

/** Whether [start, end) lies inside one RAM range that the loader describes. */
function inLoaderRam(info: MultibootInfo, start: u64, end: u64): bool {
  if ((info.flags & MB_INFO_MEMORY) != 0) {
    if (end <= <u64>info.memLowerKiB << 10) return true;
    if (start >= 0x100000 && end <= 0x100000 + (<u64>info.memUpperKiB << 10)) return true;
  }
  if ((info.flags & MB_INFO_MEMORY_MAP) != 0 && <u64>info.memoryMapPhys + info.memoryMapBytes <= <u64>lowMemoryEnd()) {
    loaderMap.addr = linearVirt(info.memoryMapPhys);
    loaderMap.bytes = info.memoryMapBytes;
    if (memoryMapCheck(loaderMap) != MapProblem.None) return false;
    const mapEnd = loaderMap.addr + loaderMap.bytes;
    for (let e = loaderMap.addr; e < mapEnd; e = entryNext(e)) {
      const type = entryType(e);
      if (type != MemoryType.Available && type != MemoryType.AcpiReclaimable) continue;
      if (start >= entryBase(e) && end <= entryBase(e) + entryLength(e)) return true;
    }
  }
  return false;
}

/**
 * Why the physical range [start, end) that the loader gave cannot be used, or
 * LoaderProblem.None. `end` is exclusive; an empty range is checked as its first byte.
 * Pure over the info structure; boot only.
 */
export function loaderRangeProblem(info: MultibootInfo, start: u64, end: u64): LoaderProblem {
  if (end < start) return LoaderProblem.Wraps;
  const last = end > start ? end : start + 1;
  if (last > <u64>lowMemoryEnd()) return LoaderProblem.OutsideLinearMap;
  if (!inLoaderRam(info, start, last)) return LoaderProblem.OutsideRam;
  return LoaderProblem.None;
}

/**
 * Reports that `what` at [start, end) cannot be used, and why:
 *   boot: the command line at 0x00500000-0x0050001f (32 B) lies outside RAM (...): not used
 * Boot only.
 */
export function reportLoaderProblem(what: string, start: u64, end: u64, problem: LoaderProblem): void {
  if (!logBegin(LogLevel.Error, "boot")) return;
  puts(what); puts(" at "); putHex(start); puts("-"); putHex(end > start ? end - 1 : start);
  puts(" ("); putSize(end > start ? end - start : 0); puts(") ");
  puts(problem == LoaderProblem.Wraps ? "" : "lies "); puts(loaderProblemText(problem)); puts(": not used");
  newline();
}

/**
 * The length of the loader's NUL-terminated string at `phys` (at most `limit` bytes, never read
 * past the linear map), or minus the LoaderProblem when the string, its NUL included, does not
 * lie in RAM and the linear map. The command line, the loader's name and the modules' names all
 * go through here. Boot only.
 */
export function loaderStringLength(info: MultibootInfo, phys: u32, limit: u32): i64 {
  let problem = loaderRangeProblem(info, phys, <u64>phys + 1);
  if (problem != LoaderProblem.None) return -<i64>problem;
  const reach = <u32>min<u64>(limit, <u64>lowMemoryEnd() - phys);
  const length = cStringLength(linearVirt(phys), reach);
  problem = loaderRangeProblem(info, phys, <u64>phys + min<u32>(length + 1, reach));
  return problem != LoaderProblem.None ? -<i64>problem : <i64>length;
}

/** loaderRangeProblem, reporting a problem as `what`; true when the range can be used. */
export function loaderRangeUsable(info: MultibootInfo, what: string, start: u64, end: u64): bool {
  const problem = loaderRangeProblem(info, start, end);
  if (problem != LoaderProblem.None) reportLoaderProblem(what, start, end, problem);
  return problem == LoaderProblem.None;
}
