// A page provider over a buffer, for host builds of the allocators (test/support/entry/heap.ts,
// slab.ts): first fit over a byte-per-page map, aligned as asked, capped to test running out of
// memory. Pages handed out are filled with garbage (the allocator must not rely on zeroes) and
// pages given back with another pattern (a later use of them shows up). It can grow a run in
// place (PageProvider.growPages) or be told to refuse.
import { PageProvider } from "../../../kernel/mm/core/pages";

const POOL_PAGES: u32 = 4096;                       // 16 MiB
const ALIGN_SLACK: u32 = 128 << 10;                 // so the pool can start on a 128 KiB boundary
const pool = memory.data(POOL_PAGES * 4096 + ALIGN_SLACK, 16);
const poolBase = (pool + ALIGN_SLACK - 1) & ~(<usize>ALIGN_SLACK - 1);
const used = memory.data(POOL_PAGES, 4);            // one byte per page
let pagesOut: u32 = 0;
let pageLimit: u32 = POOL_PAGES;
let grows: u32 = 0;
let growEnabled = true;
let getEnabled = true;

function getPages(context: usize, pages: u32, alignPages: u32): usize {
  if (!getEnabled || pagesOut + pages > pageLimit) return 0;
  for (let first: u32 = 0; first + pages <= POOL_PAGES; first += alignPages) {
    let free = true;
    for (let i: u32 = 0; i < pages; i++) if (load<u8>(used + first + i) != 0) { free = false; break; }
    if (!free) continue;
    for (let i: u32 = 0; i < pages; i++) store<u8>(used + first + i, 1);
    pagesOut += pages;
    const at = poolBase + (<usize>first << 12);
    memory.fill(at, 0xCD, pages << 12);
    return at;
  }
  return 0;
}

function putPages(context: usize, address: usize, pages: u32): void {
  const first = <u32>((address - poolBase) >> 12);
  for (let i: u32 = 0; i < pages; i++) {
    if (load<u8>(used + first + i) == 0) unreachable();   // a page given back that was not out
    store<u8>(used + first + i, 0);
  }
  pagesOut -= pages;
  memory.fill(address, 0xEF, pages << 12);
}

function growPages(context: usize, address: usize, pages: u32, morePages: u32): bool {
  const first = <u32>((address - poolBase) >> 12) + pages;
  if (!growEnabled || first + morePages > POOL_PAGES || pagesOut + morePages > pageLimit) return false;
  for (let i: u32 = 0; i < morePages; i++) if (load<u8>(used + first + i) != 0) return false;
  for (let i: u32 = 0; i < morePages; i++) store<u8>(used + first + i, 1);
  pagesOut += morePages; grows++;
  memory.fill(poolBase + (<usize>first << 12), 0xCD, morePages << 12);
  return true;
}

function claimPages(context: usize, address: usize, pages: u32): bool {
  const first = <u32>((address - poolBase) >> 12);
  if (!growEnabled || pagesOut + pages > pageLimit) return false;
  for (let i: u32 = 0; i < pages; i++) if (load<u8>(used + first + i) != 0) return false;
  for (let i: u32 = 0; i < pages; i++) store<u8>(used + first + i, 1);
  pagesOut += pages;
  memory.fill(address, 0xCD, pages << 12);
  return true;
}

const provider = changetype<PageProvider>(memory.data(offsetof<PageProvider>(), 4));

/** Takes every page back and returns the provider, capped at `limitPages` pages out, growing allowed. */
export function bufferProviderReset(limitPages: u32): PageProvider {
  memory.fill(used, 0, POOL_PAGES);
  pagesOut = 0; grows = 0; growEnabled = true; getEnabled = true;
  pageLimit = limitPages;
  provider.context = 0;
  provider.getPages = changetype<usize>(getPages);
  provider.putPages = changetype<usize>(putPages);
  provider.growPages = changetype<usize>(growPages);
  provider.claimPages = changetype<usize>(claimPages);
  return provider;
}
/** Pages handed out now. */
export function bufferPagesOut(): u32 { return pagesOut; }
/** Runs grown in place since the reset. */
export function bufferGrows(): u32 { return grows; }
/** Lets the provider hand out new runs (the default) or refuse every time (claims still work). */
export function bufferSetGets(enabled: bool): void { getEnabled = enabled; }
/** Lets the provider grow runs in place and claim pages back (the default) or refuse every time. */
export function bufferSetGrows(enabled: bool): void { growEnabled = enabled; }
export function bufferStart(): usize { return poolBase; }
export function bufferBytes(): u32 { return POOL_PAGES << 12; }

/** Fills `bytes` bytes at `ptr` with `value` (the tests' marker for a block's contents). */
export function fill(ptr: usize, value: u8, bytes: u32): void { memory.fill(ptr, value, bytes); }
/** True if `bytes` bytes at `ptr` all equal `value`. */
export function holds(ptr: usize, value: u8, bytes: u32): bool {
  for (let i: u32 = 0; i < bytes; i++) if (load<u8>(ptr + i) != value) return false;
  return true;
}
