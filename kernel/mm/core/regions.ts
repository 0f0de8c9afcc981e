// A process's regions: the ranges of its user half that mean something (code, data, heap, stack,
// an anonymous mapping), each with its permissions and kind, for the processes issue's mmap,
// munmap, mprotect and fault handling. Hardware-independent: host tests check it against a
// model of pages (test/mm/core/regions.test.ts).
//
//   RegionMap   +0 count  +4 capacity  then `capacity` entries, sorted by start, never
//               overlapping:
//   entry       +0 start  +4 end (exclusive)  +8 flags (REGION_READ/WRITE/EXEC)  +12 kind
//               +16 source       where the bytes of the region's first page come from (an
//                                executable's segment in a module); 0: none, the region reads zeros
//               +20 sourceBytes  how many bytes from `source` the region holds; the rest is zeros
//
// A region that loses its front (a split, a removal) keeps its source in step: the source
// advances by the bytes cut off. An anonymous region inserted right after or before another
// with the same flags and no source joins it, as Linux merges adjacent mappings, so a program
// that maps page after page holds one region.
//
// The caller serializes (proc/memory.ts: the process's memory lock); nothing here sleeps or
// allocates, so any context may call it under that lock.
//
// Lookup is a binary search: O(log n). Inserting, removing and changing a range move the
// entries after it (O(n), n at most `capacity`); a removal or a change in the middle of a
// region splits it, which takes a free entry.

export const REGION_READ: u32 = 1;
export const REGION_WRITE: u32 = 2;
export const REGION_EXEC: u32 = 4;
export const REGION_FLAGS: u32 = REGION_READ | REGION_WRITE | REGION_EXEC;

/** What a region holds. */
export const enum RegionKind { Anonymous = 0, Code = 1, Data = 2, Heap = 3, Stack = 4, Guard = 5 }

export const enum RegionError { Ok = 0, BadRange = 1, Overlap = 2, Full = 3, NotMapped = 4 }

/** No region. */
export const NO_REGION: u32 = 0xFFFFFFFF;
const PAGE_MASK: u32 = 0xFFF;
/** Bytes of a map's header and of each entry (regionMapBytes). */
export const REGION_HEADER_BYTES: u32 = 8;
export const REGION_ENTRY_BYTES: u32 = 24;
const ENTRY_BYTES = REGION_ENTRY_BYTES;
const HEADER_BYTES = REGION_HEADER_BYTES;

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
@inline export function regionStart(map: RegionMap, i: u32): u32 { return load<u32>(entryAt(map, i)); }
@inline export function regionEnd(map: RegionMap, i: u32): u32 { return load<u32>(entryAt(map, i), 4); }
@inline export function regionFlags(map: RegionMap, i: u32): u32 { return load<u32>(entryAt(map, i), 8); }
@inline export function regionKind(map: RegionMap, i: u32): RegionKind { return <RegionKind>load<u32>(entryAt(map, i), 12); }
/** Region `i`'s source (0: none) and the bytes it holds, for the region's first page on. */
@inline export function regionSource(map: RegionMap, i: u32): u32 { return load<u32>(entryAt(map, i), 16); }
@inline export function regionSourceBytes(map: RegionMap, i: u32): u32 { return load<u32>(entryAt(map, i), 20); }

function setEntry(map: RegionMap, i: u32, start: u32, end: u32, flags: u32, kind: u32, source: u32, sourceBytes: u32): void {
  const e = entryAt(map, i);
  store<u32>(e, start); store<u32>(e, end, 4); store<u32>(e, flags, 8); store<u32>(e, kind, 12);
  store<u32>(e, source, 16); store<u32>(e, sourceBytes, 20);
}

/** Region `i` now starts at `start` (inside it): its source advances by the bytes cut off. */
function moveStart(map: RegionMap, i: u32, start: u32): void {
  const e = entryAt(map, i);
  const cut = start - load<u32>(e);
  const source = load<u32>(e, 16), bytes = load<u32>(e, 20);
  store<u32>(e, start);
  if (source != 0) store<u32>(e, source + cut, 16);
  store<u32>(e, bytes > cut ? bytes - cut : 0, 20);
}

/** Entry `i + 1` becomes a copy of entry `i` from `at` on (a split; the gap is open). */
function splitAt(map: RegionMap, i: u32, at: u32): void {
  memory.copy(entryAt(map, i + 1), entryAt(map, i), ENTRY_BYTES);
  moveStart(map, i + 1, at);
  store<u32>(entryAt(map, i), at, 4);
}

// Moving entries: a loop of whole entries rather than memory.copy, which costs more in its
// call than the few entries a process's map moves (proc.mmap_munmap_pair).
@inline function copyEntry(to: usize, from: usize): void {
  store<u32>(to, load<u32>(from)); store<u32>(to, load<u32>(from, 4), 4); store<u32>(to, load<u32>(from, 8), 8);
  store<u32>(to, load<u32>(from, 12), 12); store<u32>(to, load<u32>(from, 16), 16); store<u32>(to, load<u32>(from, 20), 20);
}

/** Opens a gap of `n` entries at `i` (the caller checked there is room). */
function openGap(map: RegionMap, i: u32, n: u32): void {
  for (let j = map.count; j > i; j--) copyEntry(entryAt(map, j - 1 + n), entryAt(map, j - 1));
  map.count += n;
}
/** Closes entries [i, i + n). */
function closeGap(map: RegionMap, i: u32, n: u32): void {
  for (let j = i; j + n < map.count; j++) copyEntry(entryAt(map, j), entryAt(map, j + n));
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

/** Whether region `i` can take in a neighbour with `flags` and `kind` and no source. */
@inline function joinable(map: RegionMap, i: u32, flags: u32, kind: u32): bool {
  return regionFlags(map, i) == flags && <u32>regionKind(map, i) == kind && regionSource(map, i) == 0;
}

/**
 * Adds the region [start, end) (page-aligned, end exclusive) with `flags` and `kind`, whose
 * bytes come from `source` (`sourceBytes` of them; 0: none, zeros). BadRange for an empty or
 * unaligned range or unknown flags, Overlap if any page of it is in a region, Full when there
 * is no free entry; nothing changes then. A region without a source joins a neighbour it
 * touches with the same flags and kind; the answer is Ok either way.
 */
export function regionInsert(map: RegionMap, start: u32, end: u32, flags: u32, kind: RegionKind, source: u32 = 0, sourceBytes: u32 = 0): RegionError {
  if (badRange(start, end) || (flags & ~REGION_FLAGS) != 0) return RegionError.BadRange;
  const i = firstEndingAbove(map, start);
  if (i < map.count && regionStart(map, i) < end) return RegionError.Overlap;
  if (source == 0) {
    const left = i > 0 && regionEnd(map, i - 1) == start && joinable(map, i - 1, flags, <u32>kind);
    const right = i < map.count && regionStart(map, i) == end && joinable(map, i, flags, <u32>kind);
    if (left && right) { store<u32>(entryAt(map, i - 1), regionEnd(map, i), 4); closeGap(map, i, 1); return RegionError.Ok; }
    if (left) { store<u32>(entryAt(map, i - 1), end, 4); return RegionError.Ok; }
    if (right) { store<u32>(entryAt(map, i), start); return RegionError.Ok; }
  }
  if (map.count == map.capacity) return RegionError.Full;
  openGap(map, i, 1);
  setEntry(map, i, start, end, flags, <u32>kind, source, source != 0 ? sourceBytes : 0);
  return RegionError.Ok;
}

/** The index of the first region whose end is above `address` (map.count if none): where a walk over [address, ...) begins. O(log n). */
export function regionFirstEndingAbove(map: RegionMap, address: u32): u32 { return firstEndingAbove(map, address); }

/**
 * The lowest page-aligned address in [from, limit) with `bytes` free (no region) from it, or 0.
 * O(n) in the regions above `from`.
 */
export function regionFindGap(map: RegionMap, from: u32, limit: u32, bytes: u32): u32 {
  let at = from;
  let i = firstEndingAbove(map, from);
  for (; i < map.count; i++) {
    const start = regionStart(map, i);
    if (start >= limit) break;
    if (start >= at && start - at >= bytes) { gapIndex = i; return at; }
    at = max<u32>(at, regionEnd(map, i));
  }
  gapIndex = i;
  return at < limit && limit - at >= bytes ? at : 0;
}
let gapIndex: u32 = 0;

/**
 * regionInsert of an anonymous region (no source) into the gap regionFindGap just found on this
 * map, without searching again: Ok, or Full.
 */
export function regionInsertInGap(map: RegionMap, start: u32, end: u32, flags: u32, kind: RegionKind): RegionError {
  const i = gapIndex;
  if (i > 0 && regionEnd(map, i - 1) == start && joinable(map, i - 1, flags, <u32>kind)) {
    if (i < map.count && regionStart(map, i) == end && joinable(map, i, flags, <u32>kind)) { store<u32>(entryAt(map, i - 1), regionEnd(map, i), 4); closeGap(map, i, 1); }
    else store<u32>(entryAt(map, i - 1), end, 4);
    return RegionError.Ok;
  }
  if (i < map.count && regionStart(map, i) == end && joinable(map, i, flags, <u32>kind)) { store<u32>(entryAt(map, i), start); return RegionError.Ok; }
  if (map.count == map.capacity) return RegionError.Full;
  openGap(map, i, 1);
  setEntry(map, i, start, end, flags, <u32>kind, 0, 0);
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
    if (regionEnd(map, i) > end) {            // the part after the range becomes a region of its own
      openGap(map, i + 1, 1);
      splitAt(map, i, end);
      store<u32>(entryAt(map, i), start, 4);  // and the part before it stays
      return RegionError.Ok;
    }
    store<u32>(entryAt(map, i), start, 4);   // the part before the range stays
    i++;
  }
  let gone: u32 = 0;
  while (i + gone < map.count && regionEnd(map, i + gone) <= end) gone++;
  closeGap(map, i, gone);
  if (i < map.count && regionStart(map, i) < end) moveStart(map, i, end);   // the part after the range stays
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
    splitAt(map, i, start);
    i++;
  }
  const lastNow = firstEndingAbove(map, end - 1);
  if (splitEnd != 0) {
    openGap(map, lastNow + 1, 1);
    splitAt(map, lastNow, end);
  }
  for (let j = i; j <= lastNow; j++) store<u32>(entryAt(map, j), flags, 8);
  return RegionError.Ok;
}

/** Removes region `i` whole (munmap of exactly one region). */
export function regionDrop(map: RegionMap, i: u32): void { closeGap(map, i, 1); }

/** Whether the map holds its invariants: sorted, aligned, non-empty, never overlapping. */
export function regionMapValid(map: RegionMap): bool {
  if (map.count > map.capacity) return false;
  for (let i: u32 = 0; i < map.count; i++) {
    if (badRange(regionStart(map, i), regionEnd(map, i)) || (regionFlags(map, i) & ~REGION_FLAGS) != 0) return false;
    if (i > 0 && regionEnd(map, i - 1) > regionStart(map, i)) return false;
  }
  return true;
}
