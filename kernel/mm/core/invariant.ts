// What the checkers check: one number per invariant across every allocator, so that a number in
// a log line or a panic names one thing. Every checker (frameAllocatorCheck, vrangeCheck,
// heapCheck, heapEndCheck, cacheCheck, slabRegionsCheck, slabCheckAll, dmaPoolCheck) returns
// Invariant.Holds or the first invariant it found broken; invariantText says it in words.
export const enum Invariant {
  Holds = 0,
  // the frame allocator (frames.ts)
  FramesReservedInUse = 1,     // a reserved frame is not marked in use
  FramesHasFreeTree = 2,       // the "has a free frame" tree disagrees with the bitmap
  FramesAllFreeTree = 3,       // the "is entirely free" tree disagrees with the bitmap
  FramesFreeCounts = 4,        // the free counts (low, high) disagree with the bitmap
  FramesTreeLevels = 5,        // a tree's upper levels miss a word below them
  FramesHints = 6,             // a hint skips a free frame, or the sentinel word is not full
  FramesLists = 7,             // a CPU's frame list (mm/phys/pmm.ts): a frame not listable or not marked, or the marks not the listed frames
  // the virtual-range allocator (vrange.ts)
  RangesTiling = 11,           // the blocks do not tile the area (a zero span or an overrun)
  RangesStarts = 12,           // the start bitmap or its summary levels disagree with the blocks
  RangesUnmerged = 13,         // two free blocks are adjacent
  RangesFreeLists = 14,        // the free lists or their class bitmaps
  RangesCounts = 15,           // free pages, free blocks or live blocks
  RangesTag = 16,              // a free block's boundary tag (its last page's record) does not name it
  // the heap (heap/)
  HeapRunHeader = 21,          // a span's or large block's header, or the run lists
  HeapBlockSize = 22,          // a block's size: zero, unaligned, or past its span's end
  HeapBlockStarts = 23,        // the block-start bitmap: a bit missing or extra, or group 0 valid
  HeapLeftFree = 24,           // a LEFT_FREE bit or a free block's footer
  HeapUnmerged = 25,           // two adjacent free blocks
  HeapFreeLists = 26,          // the free lists or their class bitmaps
  HeapStatistics = 27,         // live blocks and bytes, held bytes, free spans
  HeapFrontCache = 28,         // the front cache's lists or cachedBytes
  HeapStillHolding = 29,       // (heapEndCheck) live blocks or held memory after a workload freed all
  HeapRefusedCalls = 30,       // (heapEndCheck) a call was refused as bad input during the workload
  // the slab regions (slab/regions.ts)
  SlabRegionHeader = 31,       // a region's header or the chunk map
  SlabTable = 32,              // a slab table entry against the region's free-page mask
  SlabRoomyList = 33,          // the list of regions with a free page
  SlabRegionCounts = 34,       // region count, free pages, held bytes
  // the object caches (slab/cache.ts)
  CacheLists = 41,             // a slab on the wrong list, or a list badly linked
  CacheSlab = 42,              // a slab's owner, page count or use; the active slab
  CacheFreeList = 43,          // a free list outside its slab, off object starts, repeating or of the wrong length
  CacheCounts = 44,            // slab counts
  // the DMA pools' buddy allocator (buddy.ts)
  BuddyFreeLists = 51,         // a free list's links, a chunk's mark, order or alignment
  BuddyMap = 52,               // the map against the free lists
  BuddyUnmerged = 53,          // two free buddies not merged
  BuddyCounts = 54,            // used and free chunks and bytes
}

/** The invariant in words, for a log line or a panic message. */
export function invariantText(broken: Invariant): string {
  switch (broken) {
    case Invariant.Holds: return "every invariant holds";
    case Invariant.FramesReservedInUse: return "frames: a reserved frame is not marked in use";
    case Invariant.FramesHasFreeTree: return "frames: the has-free tree disagrees with the bitmap";
    case Invariant.FramesAllFreeTree: return "frames: the all-free tree disagrees with the bitmap";
    case Invariant.FramesFreeCounts: return "frames: the free counts disagree with the bitmap";
    case Invariant.FramesTreeLevels: return "frames: a summary tree's upper levels miss a word";
    case Invariant.FramesHints: return "frames: a hint skips a free frame, or the sentinel is not full";
    case Invariant.FramesLists: return "frames: a CPU's frame list holds a frame it may not, or the listed map disagrees with the lists";
    case Invariant.RangesTiling: return "ranges: the blocks do not tile the area";
    case Invariant.RangesStarts: return "ranges: the start bitmap disagrees with the blocks";
    case Invariant.RangesUnmerged: return "ranges: two free blocks are adjacent";
    case Invariant.RangesFreeLists: return "ranges: the free lists or their class bitmaps";
    case Invariant.RangesCounts: return "ranges: the counts disagree with the blocks";
    case Invariant.RangesTag: return "ranges: a free block's boundary tag does not name it";
    case Invariant.HeapRunHeader: return "heap: a span's or large block's header, or the run lists";
    case Invariant.HeapBlockSize: return "heap: a block's size";
    case Invariant.HeapBlockStarts: return "heap: the block-start bitmap";
    case Invariant.HeapLeftFree: return "heap: a LEFT_FREE bit or a free block's footer";
    case Invariant.HeapUnmerged: return "heap: two adjacent free blocks";
    case Invariant.HeapFreeLists: return "heap: the free lists or their class bitmaps";
    case Invariant.HeapStatistics: return "heap: the statistics disagree with the blocks";
    case Invariant.HeapFrontCache: return "heap: the front cache";
    case Invariant.HeapStillHolding: return "heap: still holding blocks or memory after the workload freed everything";
    case Invariant.HeapRefusedCalls: return "heap: a call was refused as bad input during the workload";
    case Invariant.SlabRegionHeader: return "slab regions: a region's header or the chunk map";
    case Invariant.SlabTable: return "slab regions: a slab table entry against the free-page mask";
    case Invariant.SlabRoomyList: return "slab regions: the list of regions with a free page";
    case Invariant.SlabRegionCounts: return "slab regions: the counts";
    case Invariant.CacheLists: return "cache: a slab on the wrong list, or a list badly linked";
    case Invariant.CacheSlab: return "cache: a slab's owner, pages or use, or the active slab";
    case Invariant.CacheFreeList: return "cache: a free list";
    case Invariant.CacheCounts: return "cache: the slab counts";
    case Invariant.BuddyFreeLists: return "buddy: a free list, or a free chunk's mark";
    case Invariant.BuddyMap: return "buddy: the map disagrees with the free lists";
    case Invariant.BuddyUnmerged: return "buddy: two free buddies not merged";
    case Invariant.BuddyCounts: return "buddy: the counts";
    default: return "an unknown invariant";
  }
}
