// A process's regions: the ranges of its user half that mean something (code, data, heap, stack,
// an anonymous mapping), each with its permissions and kind, for the processes issue's mmap,
// munmap, mprotect and fault handling. Hardware-independent: host tests check it against a
// model of pages (test/mm/core/regions.test.ts).
//
//   RegionMap   +0 count  +4 capacity  then `capacity` entries, sorted by start, never
//               overlapping:
//   entry       +0 start  +4 end (exclusive)  +8 flags (REGION_READ/WRITE/EXEC)  +12 kind
//
// Lookup is a binary search: O(log n). Inserting, removing and changing a range move the
// entries after it (O(n), n at most `capacity`); a removal or a change in the middle of a
// region splits it, which takes a free entry.

export const REGION_READ: u32 = 1;
export const REGION_WRITE: u32 = 2;
export const REGION_EXEC: u32 = 4;
export const REGION_FLAGS: u32 = REGION_READ | REGION_WRITE | REGION_EXEC;

/** What a region holds. */
export const enum RegionKind { Anonymous = 0, Code = 1, Data = 2, Heap = 3, Stack = 4 }

export const enum RegionError { Ok = 0, BadRange = 1, Overlap = 2, Full = 3, NotMapped = 4 }

/** No region. */
export const NO_REGION: u32 = 0xFFFFFFFF;
const PAGE_MASK: u32 = 0xFFF;
const ENTRY_BYTES: u32 = 16;
const HEADER_BYTES: u32 = 8;

@unmanaged export class RegionMap {
  count: u32;
  capacity: u32;
}

/** Bytes of a RegionMap with room for `capacity` regions. */
export function regionMapBytes(capacity: u32): u32 { return HEADER_BYTES + capacity * ENTRY_BYTES; }

/** An empty map at `at` (regionMapBytes(capacity)). */
export function regionMapInit(at: usize, capacity: u32): RegionMap {
  const map = changetype<RegionMap>(at);
  map.count = 0;
  map.capacity = capacity;
  return map;
}

@inline function entryAt(map: RegionMap, i: u32): usize { return changetype<usize>(map) + HEADER_BYTES + i * ENTRY_BYTES; }
/** Region `i`'s start, end (exclusive), flags and kind. */
export function regionStart(map: RegionMap, i: u32): u32 { return load<u32>(entryAt(map, i)); }
export function regionEnd(map: RegionMap, i: u32): u32 { return load<u32>(entryAt(map, i), 4); }
export function regionFlags(map: RegionMap, i: u32): u32 { return load<u32>(entryAt(map, i), 8); }
export function regionKind(map: RegionMap, i: u32): RegionKind { return <RegionKind>load<u32>(entryAt(map, i), 12); }

function setEntry(map: RegionMap, i: u32, start: u32, end: u32, flags: u32, kind: u32): void {
  const e = entryAt(map, i);
  store<u32>(e, start); store<u32>(e, end, 4); store<u32>(e, flags, 8); store<u32>(e, kind, 12);
}

/** Opens a gap of `n` entries at `i` (the caller checked there is room). */
function openGap(map: RegionMap, i: u32, n: u32): void {
  memory.copy(entryAt(map, i + n), entryAt(map, i), (map.count - i) * ENTRY_BYTES);
  map.count += n;
}
/** Closes entries [i, i + n). */
function closeGap(map: RegionMap, i: u32, n: u32): void {
  memory.copy(entryAt(map, i), entryAt(map, i + n), (map.count - i - n) * ENTRY_BYTES);
  map.count -= n;
}

/** The index of the first region whose end is above `address` (map.count if none). O(log n). */
function firstEndingAbove(map: RegionMap, address: u32): u32 {
  let low: u32 = 0, high = map.count;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (regionEnd(map, middle) <= address) low = middle + 1; else high = middle;
  }
  return low;
}

/** The region holding `address`, or NO_REGION. O(log n). */
export function regionFind(map: RegionMap, address: u32): u32 {
  const i = firstEndingAbove(map, address);
  return i < map.count && regionStart(map, i) <= address ? i : NO_REGION;
}

@inline function badRange(start: u32, end: u32): bool { return ((start | end) & PAGE_MASK) != 0 || end <= start; }

/**
 * Adds the region [start, end) (page-aligned, end exclusive) with `flags` and `kind`. BadRange
 * for an empty or unaligned range or unknown flags, Overlap if any page of it is in a region,
 * Full when there is no free entry; nothing changes then.
 */
export function regionInsert(map: RegionMap, start: u32, end: u32, flags: u32, kind: RegionKind): RegionError {
  if (badRange(start, end) || (flags & ~REGION_FLAGS) != 0) return RegionError.BadRange;
  const i = firstEndingAbove(map, start);
  if (i < map.count && regionStart(map, i) < end) return RegionError.Overlap;
  if (map.count == map.capacity) return RegionError.Full;
  openGap(map, i, 1);
  setEntry(map, i, start, end, flags, <u32>kind);
  return RegionError.Ok;
}

/**
 * How many more entries cutting [start, end) out of the map (or changing it) needs: 1 when the
 * range lies strictly inside one region (it splits in three), else 0.
 */
function entriesNeeded(map: RegionMap, start: u32, end: u32): u32 {
  const i = firstEndingAbove(map, start);
  return i < map.count && regionStart(map, i) < start && regionEnd(map, i) > end ? 1 : 0;
}

/**
 * Removes every page of [start, end) from the map: regions inside go, regions across an edge
 * shrink, a region around the whole range splits in two. A range with no region in it is not
 * an error (munmap's rule). BadRange, or Full when a split finds no free entry; nothing changes then.
 */
export function regionRemove(map: RegionMap, start: u32, end: u32): RegionError {
  if (badRange(start, end)) return RegionError.BadRange;
  if (map.count + entriesNeeded(map, start, end) > map.capacity) return RegionError.Full;
  let i = firstEndingAbove(map, start);
  if (i < map.count && regionStart(map, i) < start) {
    const oldEnd = regionEnd(map, i);
    store<u32>(entryAt(map, i), start, 4);   // the part before the range stays
    if (oldEnd > end) {                       // and the part after it becomes a region of its own
      openGap(map, i + 1, 1);
      setEntry(map, i + 1, end, oldEnd, regionFlags(map, i), <u32>regionKind(map, i));
      return RegionError.Ok;
    }
    i++;
  }
  let gone: u32 = 0;
  while (i + gone < map.count && regionEnd(map, i + gone) <= end) gone++;
  closeGap(map, i, gone);
  if (i < map.count && regionStart(map, i) < end) store<u32>(entryAt(map, i), end);   // the part after the range stays
  return RegionError.Ok;
}

/**
 * Gives every page of [start, end) the permissions `flags`, splitting regions at the range's
 * edges. NotMapped if any page of the range is in no region (mprotect's rule), BadRange, or Full
 * when a split finds no free entry; nothing changes then.
 */
export function regionProtect(map: RegionMap, start: u32, end: u32, flags: u32): RegionError {
  if (badRange(start, end) || (flags & ~REGION_FLAGS) != 0) return RegionError.BadRange;
  // every page covered?
  let i = firstEndingAbove(map, start);
  let at = start;
  for (let j = i; at < end; j++) {
    if (j >= map.count || regionStart(map, j) > at) return RegionError.NotMapped;
    at = regionEnd(map, j);
  }
  // splits: one at each edge that falls inside a region
  const splitStart = regionStart(map, i) < start ? 1 : 0;
  const last = firstEndingAbove(map, end - 1);
  const splitEnd = regionEnd(map, last) > end ? 1 : 0;
  if (map.count + splitStart + splitEnd > map.capacity) return RegionError.Full;
  if (splitStart != 0) {
    openGap(map, i + 1, 1);
    setEntry(map, i + 1, start, regionEnd(map, i), regionFlags(map, i), <u32>regionKind(map, i));
    store<u32>(entryAt(map, i), start, 4);
    i++;
  }
  const lastNow = firstEndingAbove(map, end - 1);
  if (splitEnd != 0) {
    openGap(map, lastNow + 1, 1);
    setEntry(map, lastNow + 1, end, regionEnd(map, lastNow), regionFlags(map, lastNow), <u32>regionKind(map, lastNow));
    store<u32>(entryAt(map, lastNow), end, 4);
  }
  for (let j = i; j <= lastNow; j++) store<u32>(entryAt(map, j), flags, 8);
  return RegionError.Ok;
}

/** Whether the map holds its invariants: sorted, aligned, non-empty, never overlapping. */
export function regionMapValid(map: RegionMap): bool {
  if (map.count > map.capacity) return false;
  for (let i: u32 = 0; i < map.count; i++) {
    if (badRange(regionStart(map, i), regionEnd(map, i)) || (regionFlags(map, i) & ~REGION_FLAGS) != 0) return false;
    if (i > 0 && regionEnd(map, i - 1) > regionStart(map, i)) return false;
  }
  return true;
}
