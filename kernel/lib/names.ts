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

/** How a list entry selects a name: not at all, by a pattern ("all", "prefix.*"), or exactly. */
export const enum NameMatch { None = 0, Pattern = 1, Exact = 2 }

/** The end of the list entry that starts at `entry`: the next comma, or `end`. */
export function nameEntryEnd(entry: usize, end: usize): usize {
  let at = entry;
  while (at < end && load<u8>(at) != 44) at++;
  return at;
}

/** How the one entry [entry, entry+length) selects `name`. */
export function nameEntryMatch(entry: usize, length: u32, name: string): NameMatch {
  if (bytesEqual(entry, length, name)) return NameMatch.Exact;
  if (bytesEqual(entry, length, "all")) return NameMatch.Pattern;
  if (length > 0 && load<u8>(entry + length - 1) == 42) {   // '*'
    const prefix = length - 1;
    if (<u32>name.length < prefix) return NameMatch.None;
    for (let i: u32 = 0; i < prefix; i++) if (<u32>load<u8>(entry + i) != <u32>name.charCodeAt(i)) return NameMatch.None;
    return NameMatch.Pattern;
  }
  return NameMatch.None;
}

/** The best way any entry of the comma-separated list at [list, list+length) selects `name`. */
export function nameListMatch(list: usize, length: u32, name: string): NameMatch {
  const end = list + length;
  let best = NameMatch.None;
  for (let entry = list; entry <= end; ) {
    const entryEnd = nameEntryEnd(entry, end);
    const match = nameEntryMatch(entry, <u32>(entryEnd - entry), name);
    if (match > best) best = match;
    entry = entryEnd + 1;
  }
  return best;
}

/**
 * True when `name` is in the list: an entry equal to it, an entry ending in '*' that is a
 * prefix of it, or "all".
 */
export function nameListContains(list: usize, length: u32, name: string): bool {
  return nameListMatch(list, length, name) != NameMatch.None;
}
