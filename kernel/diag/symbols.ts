// The kernel's own function-name table (.ksyms), made at build time from the first link's
// symbols by scripts/gensyms.ts and linked into the second.
//
//   +0   u32 magic 0x4D59534B ("KSYM")
//   +4   u32 count
//   +8   count x { u32 address, u32 nameOffset }    sorted by address, ascending
//   ...  names, NUL-terminated; nameOffset is from the start of the table
// Pure functions over a table address: tested on the host with tables built in memory.

export const KSYMS_MAGIC: u32 = 0x4D59534B;
const HEADER_BYTES: u32 = 8;
const ENTRY_BYTES: u32 = 8;

/** Number of symbols in the table at `table`, or 0 if it is absent or malformed. */
export function symbolCount(table: usize): u32 {
  if (table == 0 || load<u32>(table) != KSYMS_MAGIC) return 0;
  return load<u32>(table, 4);
}

@inline export function symbolAddress(table: usize, index: u32): usize {
  return load<u32>(table + HEADER_BYTES + index * ENTRY_BYTES);
}

/** Address of the NUL-terminated name of symbol `index`. */
@inline export function symbolNameAddress(table: usize, index: u32): usize {
  return table + load<u32>(table + HEADER_BYTES + index * ENTRY_BYTES, 4);
}

/** Index of the symbol with the greatest address <= `address` (binary search), or -1. */
export function symbolLookup(table: usize, address: usize): i32 {
  const count = symbolCount(table);
  if (count == 0 || address < symbolAddress(table, 0)) return -1;
  let low: u32 = 0, high: u32 = count - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (symbolAddress(table, mid) <= address) low = mid; else high = mid - 1;
  }
  return <i32>low;
}
