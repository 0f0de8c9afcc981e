// Printing the physical memory map (the format: mm/core/memory-map.ts) at boot.
import { LogLevel, logBegin } from "../console/log";
import { puts, putHex, putDec, putSize, padTo, newline } from "../console/console";
import { MemoryMap, MemoryType, memoryMapCount, memoryTypeName, entryBase, entryLength, entryType, entryNext } from "../mm/core/memory-map";

/**
 * Prints the map as a table, one line per entry, in the loader's order (like Linux's e820
 * listing; the end address is inclusive):
 *
 *   pmm:   [mem 0x0000000000100000-0x0000000007fdffff]    127 MiB  available
 */
export function printMemoryMap(map: MemoryMap, source: string): void {
  if (logBegin(LogLevel.Info, "pmm")) {
    puts("memory map from "); puts(source); puts(", "); putDec(memoryMapCount(map)); puts(" entries:\n");
  }
  const end = map.addr + map.bytes;
  for (let e = map.addr; e < end; e = entryNext(e)) {
    if (!logBegin(LogLevel.Info, "pmm")) return;
    const base = entryBase(e), length = entryLength(e);
    puts("  [mem "); putHex(base, 16); puts("-");
    putHex(length == 0 ? base : base + length - 1, 16); puts("] ");
    padTo(putSize(length), 10);
    puts("  "); puts(memoryTypeName(entryType(e)));
    if (entryType(e) > <u32>MemoryType.Bad) { puts(" ("); putDec(entryType(e)); puts(")"); }
    if (length == 0) puts(", empty: ignored");
    newline();
  }
}
