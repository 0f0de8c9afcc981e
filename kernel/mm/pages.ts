// The page-provider interface: where a heap (and, later, the slab layer) gets its memory. A
// provider hands out runs of pages that are already mapped and writable, aligned as asked, and
// takes them back. The kernel's provider is the PMM through the linear map (kmalloc.ts); tests
// make one over a fixed buffer. This is the seam that lets another kernel reuse the allocators:
// give them a provider over its own page allocator.
//
//   +0  context    passed back to both functions (the provider's own state)
//   +4  getPages   (context, pages, alignPages) => address of `pages` zero-or-garbage pages,
//                  aligned to `alignPages` pages (a power of two), or 0 when there is no memory
//   +8  putPages   (context, address, pages) => void: gives back a run that getPages handed out

/** Returns the address of `pages` writable pages aligned to `alignPages` pages, or 0. */
export type GetPages = (context: usize, pages: u32, alignPages: u32) => usize;
/** Takes back `pages` pages at `address` (exactly a run getPages returned). */
export type PutPages = (context: usize, address: usize, pages: u32) => void;

@unmanaged export class PageProvider {
  context: usize;
  getPages: usize;   // a GetPages
  putPages: usize;   // a PutPages
}

export const PROVIDER_PAGE_SIZE: u32 = 4096;

/** Asks `provider` for pages (see GetPages). */
@inline export function providerGet(provider: PageProvider, pages: u32, alignPages: u32): usize {
  return changetype<GetPages>(provider.getPages)(provider.context, pages, alignPages);
}

/** Gives pages back to `provider` (see PutPages). */
@inline export function providerPut(provider: PageProvider, address: usize, pages: u32): void {
  changetype<PutPages>(provider.putPages)(provider.context, address, pages);
}
