// Named physical ranges that the PMM must never hand out although the memory map may call
// them available: frame 0, the kernel image, the AssemblyScript data, the multiboot structures,
// the modules. The PMM reads the list twice: to find a home for its bitmap that avoids all of
// them, and to mark them used in the bitmap. The kernel keeps it for printing and self-tests.
//
// Storage: a header and CAPACITY records, laid out by `reservedListInit` at a caller's address.
//
//   header  +0 count: u32   +4 capacity: u32
//   record  +0 start: u64   +8 end: u64 (exclusive)   +16 name: string   +20 (pad)   24 bytes
//
// Ranges are physical byte addresses, kept as given (not rounded): whoever marks frames rounds
// outwards, so a partly covered frame counts as reserved.

const HEADER_BYTES: u32 = 8;
const RECORD_BYTES: u32 = 24;
/** Bytes for a list of `capacity` ranges: RESERVED_LIST_HEADER + capacity * RESERVED_RECORD. */
export const RESERVED_LIST_HEADER: u32 = HEADER_BYTES;
export const RESERVED_RECORD: u32 = RECORD_BYTES;

@unmanaged export class ReservedList {
  count: u32;
  capacity: u32;
}

/** Lays out an empty list at `at` (reservedListBytes(capacity) bytes). */
export function reservedListInit(at: usize, capacity: u32): ReservedList {
  const list = changetype<ReservedList>(at);
  list.count = 0;
  list.capacity = capacity;
  return list;
}

@inline function record(list: ReservedList, i: u32): usize {
  return changetype<usize>(list) + HEADER_BYTES + i * RECORD_BYTES;
}

/**
 * Adds [start, end) under `name` (a static string: the list keeps the pointer). An empty range
 * is ignored. Returns false, adding nothing, when the list is full or end < start.
 */
export function reservedAdd(list: ReservedList, start: u64, end: u64, name: string): bool {
  if (end < start) return false;
  if (end == start) return true;
  if (list.count >= list.capacity) return false;
  const r = record(list, list.count);
  store<u64>(r, start);
  store<u64>(r, end, 8);
  store<usize>(r, changetype<usize>(name), 16);
  list.count++;
  return true;
}

export function reservedStart(list: ReservedList, i: u32): u64 { return load<u64>(record(list, i)); }
export function reservedEnd(list: ReservedList, i: u32): u64 { return load<u64>(record(list, i), 8); }
export function reservedName(list: ReservedList, i: u32): string { return changetype<string>(load<usize>(record(list, i), 16)); }

/** Index of the first range that overlaps [start, end), or -1. */
export function reservedOverlap(list: ReservedList, start: u64, end: u64): i32 {
  for (let i: u32 = 0; i < list.count; i++) {
    if (reservedStart(list, i) < end && start < reservedEnd(list, i)) return <i32>i;
  }
  return -1;
}
