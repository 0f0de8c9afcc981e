// Names in raw bytes: comparing bytes with a string, and the comma-separated name lists that
// boot options take (`test=pmm.*,heap.steady`, `slab_debug=kmalloc-64`). Pure functions over
// memory the caller owns; any context.

/** True when bytes [start, start+length) equal the ASCII string `text`. */
export function bytesEqual(start: usize, length: u32, text: string): bool {
  if (<u32>text.length != length) return false;
  for (let i: u32 = 0; i < length; i++) {
    if (<u32>load<u8>(start + i) != <u32>text.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * True when `name` is in the comma-separated list at [list, list+length). An entry ending in
 * '*' matches every name with that prefix; "all" matches everything.
 */
export function nameListContains(list: usize, length: u32, name: string): bool {
  let entry = list;
  const end = list + length;
  while (entry <= end) {
    let entryEnd = entry;
    while (entryEnd < end && load<u8>(entryEnd) != 44) entryEnd++;
    const n = <u32>(entryEnd - entry);
    if (bytesEqual(entry, n, "all")) return true;
    if (n > 0 && load<u8>(entryEnd - 1) == 42) {
      const prefix = n - 1;
      if (<u32>name.length >= prefix) {
        let same = true;
        for (let i: u32 = 0; i < prefix; i++) if (<u32>load<u8>(entry + i) != <u32>name.charCodeAt(i)) { same = false; break; }
        if (same) return true;
      }
    } else if (bytesEqual(entry, n, name)) return true;
    entry = entryEnd + 1;
  }
  return false;
}
