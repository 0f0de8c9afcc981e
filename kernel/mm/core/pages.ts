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
//                  (with whatever growPages added to it), or any part of one (slab regions lend
//                  their free pages back one run at a time)
//   +12 growPages  0, or (context, address, pages, morePages) => bool: makes the run of `pages`
//                  at `address` longer by the `morePages` pages right after it, if they are free
//                  (all or nothing). Optional: without it a heap moves a large block to grow it.
//   +16 claimPages 0, or (context, address, pages) => bool: takes back the `pages` pages at
//                  `address`, which it handed out once and was given back, if they are free
//                  (all or nothing). Optional: without it slab regions never recall a lent page.

/** Returns the address of `pages` writable pages aligned to `alignPages` pages, or 0. */
export type GetPages = (context: usize, pages: u32, alignPages: u32) => usize;
/** Takes back `pages` pages at `address` (a whole run getPages returned, grown or not). */
export type PutPages = (context: usize, address: usize, pages: u32) => void;
/** Extends the run of `pages` pages at `address` by the `morePages` after it if free: whether it did. */
export type GrowPages = (context: usize, address: usize, pages: u32, morePages: u32) => bool;
/** Takes back the `pages` pages at `address` (handed out once, given back since) if free: whether it did. */
export type ClaimPages = (context: usize, address: usize, pages: u32) => bool;

@unmanaged export class PageProvider {
  context: usize;
  getPages: usize;   // a GetPages
  putPages: usize;   // a PutPages
  growPages: usize;  // a GrowPages, or 0 (cannot)
  claimPages: usize; // a ClaimPages, or 0 (cannot)
}

export const PROVIDER_PAGE_SIZE: u32 = 4096;

/** Told of each run of pages an allocator holds from its provider (physmap.ts draws them). */
export type RunVisitor = (context: usize, address: usize, pages: u32) => void;

/** Asks `provider` for pages (see GetPages). */
@inline export function providerGet(provider: PageProvider, pages: u32, alignPages: u32): usize {
  return changetype<GetPages>(provider.getPages)(provider.context, pages, alignPages);
}

/** Gives pages back to `provider` (see PutPages). */
@inline export function providerPut(provider: PageProvider, address: usize, pages: u32): void {
  changetype<PutPages>(provider.putPages)(provider.context, address, pages);
}

/** Asks `provider` to grow a run in place (see GrowPages); false if it cannot. */
@inline export function providerGrow(provider: PageProvider, address: usize, pages: u32, morePages: u32): bool {
  const grow = provider.growPages;
  return grow != 0 && changetype<GrowPages>(grow)(provider.context, address, pages, morePages);
}

/** Asks `provider` to take pages back that it had given (see ClaimPages); false if it cannot. The provider's contexts (the kernel's: any). */
@inline export function providerClaim(provider: PageProvider, address: usize, pages: u32): bool {
  const claim = provider.claimPages;
  return claim != 0 && changetype<ClaimPages>(claim)(provider.context, address, pages);
}
