// Why an allocator refused a pointer. One type for every allocator that takes pointers back (the
// heap, the object caches, the guard allocator, the DMA pools), so that kfree and krealloc hand
// the exact reason on from whichever allocator the pointer turned out to belong to.
export const enum AllocError {
  Ok = 0,
  Foreign = 1,      // not memory this allocator handed out (no span, slab, pool or guard range holds it)
  Misaligned = 2,   // not aligned as every allocation of this allocator is
  Interior = 3,     // inside an allocation (or a slab's or pool's waste), not an allocation's start
  DoubleFree = 4,   // the allocation is free already
  WrongCache = 5,   // an object of another cache than the one it is freed to
}

/** The reason in words, for a log line: "free(0x...): <text>". */
export function allocErrorText(error: AllocError): string {
  switch (error) {
    case AllocError.Ok: return "ok";
    case AllocError.Foreign: return "not memory this allocator handed out";
    case AllocError.Misaligned: return "misaligned (not a multiple of the allocator's alignment)";
    case AllocError.Interior: return "inside an allocation, not its start";
    case AllocError.DoubleFree: return "already free (double free)";
    case AllocError.WrongCache: return "an object of another cache";
    default: return "unknown error";
  }
}
