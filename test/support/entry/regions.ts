// Host build of kernel/mm/core/regions.ts (a process's regions), exported for
// test/mm/core/regions.test.ts.
import {
  RegionMap, regionMapInit, regionFind, regionInsert, regionRemove, regionProtect, regionMapValid,
  regionStart, regionEnd, regionFlags, regionKind, RegionKind, regionSource, regionSourceBytes, regionFindGap,
} from "../../../kernel/mm/core/regions";

const CAPACITY_MAX: u32 = 64;
const block = memory.data(8 + 24 * CAPACITY_MAX, 8);   // (regionMapBytes(CAPACITY_MAX): memory.data needs a constant)
let map = changetype<RegionMap>(block);

export function init(capacity: u32): void { map = regionMapInit(block, min<u32>(capacity, CAPACITY_MAX)); }
export function find(address: u32): u32 { return regionFind(map, address); }
export function insert(start: u32, end: u32, flags: u32, kind: u32, source: u32, sourceBytes: u32): u32 { return <u32>regionInsert(map, start, end, flags, <RegionKind>kind, source, sourceBytes); }
export function findGap(from: u32, limit: u32, bytes: u32): u32 { return regionFindGap(map, from, limit, bytes); }
export function source(i: u32): u32 { return regionSource(map, i); }
export function sourceBytes(i: u32): u32 { return regionSourceBytes(map, i); }
export function remove(start: u32, end: u32): u32 { return <u32>regionRemove(map, start, end); }
export function protect(start: u32, end: u32, flags: u32): u32 { return <u32>regionProtect(map, start, end, flags); }
export function valid(): bool { return regionMapValid(map); }
export function count(): u32 { return map.count; }
export function start(i: u32): u32 { return regionStart(map, i); }
export function end(i: u32): u32 { return regionEnd(map, i); }
export function flags(i: u32): u32 { return regionFlags(map, i); }
export function kind(i: u32): u32 { return <u32>regionKind(map, i); }
