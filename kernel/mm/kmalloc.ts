// The kernel's heap: one instance of heap.ts over a page provider that takes runs of frames from
// the PMM's low memory and reaches them through the linear map; and the kmalloc family on top.
// See docs/heap.md.
//
// Not re-entrant, like the PMM: thread context only, never from an IRQ handler.
import { LogLevel, logBegin } from "../console/log";
import { puts, putDec, newline } from "../console/console";
import { allocFrames, freeFrames, claimFrames } from "./pmm";
import { LOW_MEMORY_END, LINEAR_MAP_BASE, linearVirt } from "./layout";
import { PageProvider } from "./pages";
import {
  Heap, HEAP_BYTES, heapCreate, heapAlloc, heapFree, heapSize, heapRealloc, heapCheck, HeapError,
} from "./heap";

/** Entirely free spans the kernel heap keeps rather than giving back (128 KiB each). */
export const KERNEL_HEAP_RESERVE_SPANS: u32 = 2;

const kernelProvider = changetype<PageProvider>(memory.data(offsetof<PageProvider>(), 4));
const kernelHeapBlock = memory.data(HEAP_BYTES, 16);
const kernelHeap = changetype<Heap>(kernelHeapBlock);

function pmmGetPages(context: usize, pages: u32, alignPages: u32): usize {
  const phys = allocFrames(pages, alignPages, LOW_MEMORY_END);
  return phys == 0 ? 0 : linearVirt(phys);
}

function pmmPutPages(context: usize, address: usize, pages: u32): void {
  freeFrames(<u32>(address - LINEAR_MAP_BASE), pages);
}

function pmmGrowPages(context: usize, address: usize, pages: u32, morePages: u32): bool {
  const end = <u64>(address - LINEAR_MAP_BASE) + (<u64>pages << 12);
  if (end + (<u64>morePages << 12) > LOW_MEMORY_END) return false;   // past the linear map
  return claimFrames(<u32>end, morePages);
}

/** Sets up the kernel heap (empty: spans come on first use). Call once, after pmmInit. */
export function kmallocInit(): void {
  kernelProvider.context = 0;
  kernelProvider.getPages = changetype<usize>(pmmGetPages);
  kernelProvider.putPages = changetype<usize>(pmmPutPages);
  kernelProvider.growPages = changetype<usize>(pmmGrowPages);
  heapCreate(kernelHeapBlock, kernelProvider, KERNEL_HEAP_RESERVE_SPANS, true);
}

/** The kernel's page provider (PMM low memory through the linear map), for more heap instances. */
export function kernelPageProvider(): PageProvider { return kernelProvider; }

/** The kernel heap instance (for statistics, the checker and tests). */
export function kernelHeapInstance(): Heap { return kernelHeap; }

/** `size` bytes, 16-aligned, contents undefined; 0 for size 0 (logged) or no memory. */
export function kmalloc(size: u32): usize { return heapAlloc(kernelHeap, size, 0); }

/** As kmalloc, aligned to `align` (a power of two up to 4096). */
export function kmallocAligned(size: u32, align: u32): usize { return heapAlloc(kernelHeap, size, align); }

/** `size` zeroed bytes, or 0 as kmalloc. */
export function kzalloc(size: u32): usize {
  const ptr = heapAlloc(kernelHeap, size, 0);
  if (ptr != 0) memory.fill(ptr, 0, size);
  return ptr;
}

/** `count` zeroed elements of `size` bytes, or 0 (logged) if count * size overflows 32 bits. */
export function kcalloc(count: u32, size: u32): usize {
  const bytes = <u64>count * size;
  if (bytes > 0xFFFFFFFF) {
    kernelHeap.errors++;
    if (logBegin(LogLevel.Error, "heap")) {
      puts("kcalloc("); putDec(count); puts(", "); putDec(size); puts("): the size overflows; returns 0"); newline();
    }
    return 0;
  }
  return kzalloc(<u32>bytes);
}

/** heapRealloc on the kernel heap: resize, keeping the contents (see heap.ts). */
export function krealloc(ptr: usize, size: u32): usize { return heapRealloc(kernelHeap, ptr, size); }

/** Frees a kmalloc'd block; a bad pointer is logged and refused (HeapError). kfree(0) is a no-op. */
export function kfree(ptr: usize): HeapError { return ptr == 0 ? HeapError.Ok : heapFree(kernelHeap, ptr); }

/** The usable size of a kmalloc'd block, or 0 for a pointer the heap did not hand out. */
export function ksize(ptr: usize): u32 { return heapSize(kernelHeap, ptr); }

/** The kernel heap's checker (0 = every invariant holds). */
export function kmallocCheck(): u32 { return heapCheck(kernelHeap); }
