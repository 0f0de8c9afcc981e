// The physical memory map, in the multiboot (version 1) format, which is also the format the
// PMM consumes: another loader's map (e820, UEFI) can be translated into it.
//
// One entry (the size field counts the bytes after itself, so the next entry starts at
// entry + 4 + size; loaders may make entries longer than 24 bytes):
//
//   +0        +4                +12               +20
//   +---------+-----------------+-----------------+---------+
//   | size    | base (u64)      | length (u64)    | type    |
//   +---------+-----------------+-----------------+---------+
//
// Type 1 is available RAM; everything else (reserved, ACPI, bad, unknown) is not RAM the PMM
// may hand out. Entries may be unsorted, may overlap, may have zero length and may lie above
// 4 GiB: the PMM copes with all of that. What it cannot cope with is a size field that breaks
// the walk; `memoryMapCheck` finds that before anyone relies on the map. Hardware-independent
// (boot/memmap.ts prints a map; the host tests build maps of their own).

export const MMAP_ENTRY_SIZE = 0;    // u32: bytes after this field
export const MMAP_ENTRY_BASE = 4;    // u64
export const MMAP_ENTRY_LENGTH = 12; // u64
export const MMAP_ENTRY_TYPE = 20;   // u32
/** The smallest legal value of the size field (base + length + type). */
export const MMAP_ENTRY_MIN_SIZE: u32 = 20;

export const enum MemoryType { Available = 1, Reserved = 2, AcpiReclaimable = 3, AcpiNvs = 4, Bad = 5 }

@inline export function entryBase(entry: usize): u64 { return load<u64>(entry, MMAP_ENTRY_BASE); }
@inline export function entryLength(entry: usize): u64 { return load<u64>(entry, MMAP_ENTRY_LENGTH); }
@inline export function entryType(entry: usize): u32 { return load<u32>(entry, MMAP_ENTRY_TYPE); }
/** An available entry of non-zero length: RAM the PMM may hand out. */
@inline export function entryIsRam(entry: usize): bool { return entryType(entry) == MemoryType.Available && entryLength(entry) != 0; }
/** Any other entry of non-zero length: memory the PMM must never hand out. */
@inline export function entryIsNonRam(entry: usize): bool { return entryType(entry) != MemoryType.Available && entryLength(entry) != 0; }
/** The entry after `entry` (compare with the map's end). */
@inline export function entryNext(entry: usize): usize { return entry + 4 + load<u32>(entry, MMAP_ENTRY_SIZE); }

/** A memory map: `bytes` bytes of entries at virtual address `addr`. */
@unmanaged export class MemoryMap {
  addr: usize;
  bytes: u32;
}

/** Why a map cannot be walked. */
export const enum MapProblem { None = 0, Empty = 1, EntryTooShort = 2, EntryOverruns = 3 }

/** Byte offset of the entry that `memoryMapCheck` rejected. */
let problemOffset: u32 = 0;
export function memoryMapProblemOffset(): u32 { return problemOffset; }

/**
 * Checks that the map can be walked: every size field is at least 20 and every entry ends
 * inside the map, and there is at least one entry. Returns MapProblem.None or the first
 * problem (its byte offset from `memoryMapProblemOffset()`). Reads only; safe before paging.
 */
export function memoryMapCheck(map: MemoryMap): MapProblem {
  if (map.bytes == 0) return MapProblem.Empty;
  let offset: u32 = 0;
  while (offset < map.bytes) {
    problemOffset = offset;
    if (map.bytes - offset < 4) return MapProblem.EntryOverruns;
    const size = load<u32>(map.addr + offset, MMAP_ENTRY_SIZE);
    if (size < MMAP_ENTRY_MIN_SIZE) return MapProblem.EntryTooShort;
    if (<u64>size + 4 > <u64>(map.bytes - offset)) return MapProblem.EntryOverruns;
    offset += size + 4;
  }
  return MapProblem.None;
}

export function mapProblemText(problem: MapProblem): string {
  switch (problem) {
    case MapProblem.Empty: return "the map has no entries";
    case MapProblem.EntryTooShort: return "an entry's size field is below 20";
    case MapProblem.EntryOverruns: return "an entry runs past the end of the map";
    default: return "no problem";
  }
}

/** Number of entries of a map that passed `memoryMapCheck`. */
export function memoryMapCount(map: MemoryMap): u32 {
  let n: u32 = 0;
  const end = map.addr + map.bytes;
  for (let e = map.addr; e < end; e = entryNext(e)) n++;
  return n;
}

/**
 * Writes the map a loader implies with only `mem_lower` and `mem_upper` (KiB of RAM from 0 and
 * from 1 MiB): two available entries, at `out` (48 bytes). Returns the map's byte length.
 */
export function memoryMapFromMemFields(memLowerKiB: u32, memUpperKiB: u32, out: usize): u32 {
  writeEntry(out, 0, <u64>memLowerKiB << 10, MemoryType.Available);
  writeEntry(out + 24, 1 << 20, <u64>memUpperKiB << 10, MemoryType.Available);
  return 48;
}

/** Writes one 24-byte entry at `at`. */
export function writeEntry(at: usize, base: u64, length: u64, type: u32): void {
  store<u32>(at, MMAP_ENTRY_MIN_SIZE, MMAP_ENTRY_SIZE);
  store<u64>(at, base, MMAP_ENTRY_BASE);
  store<u64>(at, length, MMAP_ENTRY_LENGTH);
  store<u32>(at, type, MMAP_ENTRY_TYPE);
}

export function memoryTypeName(type: u32): string {
  switch (type) {
    case MemoryType.Available: return "available";
    case MemoryType.Reserved: return "reserved";
    case MemoryType.AcpiReclaimable: return "ACPI data";
    case MemoryType.AcpiNvs: return "ACPI NVS";
    case MemoryType.Bad: return "bad RAM";
    default: return "unknown";
  }
}
