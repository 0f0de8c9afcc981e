// A process's regions in words, in the manner of Linux's /proc/PID/maps: the monitor's `maps PID`
// and the fault handler's kill line use it.
//
//   0x00400000-0x00401000 r-x code       1 resident
//   0x40000000-0x40010000 rw- anonymous  3 resident, 2 zero
//   0xbffbf000-0xbffc0000 --- guard      0 resident
import { RegionMap, RegionKind, regionStart, regionEnd, regionFlags, regionKind, REGION_READ, REGION_WRITE, REGION_EXEC } from "../mm/core/regions";
import { puts, putDec, putHex, newline } from "../console/console";
import { Process, processLock, processMemory, putProcess } from "./process";
import { memoryRegions, memoryPresentPages } from "./memory";
import { mutexLock, mutexUnlock } from "../sched/sync";

function kindName(kind: RegionKind): string {
  switch (kind) {
    case RegionKind.Anonymous: return "anonymous";
    case RegionKind.Code: return "code";
    case RegionKind.Data: return "data";
    case RegionKind.Heap: return "heap";
    case RegionKind.Stack: return "stack";
    default: return "guard";
  }
}

/** Prints region `i`: "0x00400000-0x00401000 r-x code". Any context. */
export function putRegion(map: RegionMap, i: u32): void {
  putHex(regionStart(map, i)); puts("-"); putHex(regionEnd(map, i)); puts(" ");
  const flags = regionFlags(map, i);
  puts((flags & REGION_READ) != 0 ? "r" : "-");
  puts((flags & REGION_WRITE) != 0 ? "w" : "-");
  puts((flags & REGION_EXEC) != 0 ? "x" : "-");
  puts(" "); puts(kindName(regionKind(map, i)));
}

/** Prints every region of `p` with its resident pages (and how many map the zero page). Thread context; takes its memory lock. */
export function mapsPrint(p: Process): void {
  mutexLock(processLock(p));
  const m = processMemory(p);
  const map = memoryRegions(m);
  putProcess(p); puts(": "); putDec(map.count); puts(" regions, "); putDec(m.resident); puts(" resident pages, ");
  putDec(m.committed); puts(" committed\n");
  for (let i: u32 = 0; i < map.count; i++) {
    const present = memoryPresentPages(m, regionStart(map, i), regionEnd(map, i));
    const zero = <u32>(present >> 32), pages = <u32>present;
    puts("  "); putRegion(map, i); puts("  "); putDec(pages - zero); puts(" resident");
    if (zero != 0) { puts(", "); putDec(zero); puts(" zero"); }
    newline();
  }
  mutexUnlock(processLock(p));
}
