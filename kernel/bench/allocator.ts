// The allocator that the heap benchmarks (bench/heap.ts) and the trace replay (bench/replay.ts)
// measure, chosen when the kernel is built:
//
//   the kernel (--runtime stub)          our heap (mm/heap.ts): a fresh instance over the
//                                        kernel's page provider for every workload, each call
//                                        under the kmalloc lock as the kernel heap's are
//                                        (interrupts off: the cost of being safe in any context)
//   the TLSF variant (--runtime minimal) AssemblyScript's own allocator (std/assembly/rt/tlsf.ts)
//                                        through heap.alloc/heap.realloc/heap.free; it grows the
//                                        wasm memory inside .asdata (boot/runtime.c)
//
// The choice is a compile-time constant, so the calls are direct and each build contains only
// its allocator. The TLSF has no aligned allocation: an aligned request is served the usual
// way, by asking for `size + align - 16` and rounding the pointer up (its blocks are 16-aligned),
// and the block is freed through the pointer TLSF returned. The TLSF never gives memory back
// and cannot be reset, so its footprint is the memory grown since the first workload began: the
// variant is booted once per workload (scripts/bench.ts).
import { Heap, HEAP_BYTES, heapCreate, heapAlloc, heapFree, heapRealloc, heapEndCheck } from "../mm/core/heap/heap";
import { kmalloc, kfree, kernelPageProvider, KERNEL_HEAP_RESERVE_SPANS, kmallocLock, kmallocUnlock } from "../mm/alloc/kmalloc";

/** True in the TLSF benchmark variant. */
export const MEASURING_TLSF: bool = ASC_RUNTIME != 0;   // 0: the stub runtime (no allocator)

const WASM_PAGE_SHIFT: u32 = 16;
const TLSF_ALIGN: u32 = 16;

let ours: Heap = changetype<Heap>(0);
let tlsfBase: usize = 0;

/** The name that prefixes this build's records: "heap" or "tlsf". */
export function allocatorName(): string { return MEASURING_TLSF ? "tlsf" : "heap"; }

/**
 * Starts a workload on a fresh allocator (ours: a new instance with the kernel heap's reserve;
 * the TLSF: its one heap). False if no control block could be had.
 */
export function allocatorBegin(): bool {
  if (MEASURING_TLSF) {
    if (tlsfBase == 0) tlsfBase = (__heap_base + TLSF_ALIGN - 1) & ~(<usize>TLSF_ALIGN - 1);
    return true;
  }
  const control = kmalloc(HEAP_BYTES);
  if (control == 0) return false;
  ours = heapCreate(control, kernelPageProvider(), KERNEL_HEAP_RESERVE_SPANS, true);
  return true;
}

/**
 * Ends the workload (every block must have been freed): ours gives its reserve back and checks
 * that it holds nothing. Returns 0, or the heap checker's failure (or 8: still holding memory;
 * 9: it refused a call as bad input).
 */
export function allocatorEnd(): u32 {
  if (MEASURING_TLSF) return 0;
  const result = heapEndCheck(ours);
  kfree(changetype<usize>(ours));
  return result;
}

/** The instance being measured (ours), for its statistics. */
export function allocatorHeap(): Heap { return ours; }

/** A block of `size` bytes aligned to `align` (0: default); the value to free it with, or 0. */
@inline export function allocatorAlloc(size: u32, align: u32): usize {
  if (MEASURING_TLSF) return heap.alloc(align > TLSF_ALIGN ? size + align - TLSF_ALIGN : size);
  kmallocLock();
  const block = heapAlloc(ours, size, align);
  kmallocUnlock();
  return block;
}

/** Where the caller may use the block `allocatorAlloc(size, align)` returned. */
@inline export function allocatorUser(block: usize, align: u32): usize {
  if (MEASURING_TLSF && align > TLSF_ALIGN) return (block + align - 1) & ~(<usize>align - 1);
  return block;
}

/** Frees a block from allocatorAlloc or allocatorRealloc. */
@inline export function allocatorFree(block: usize): void {
  if (MEASURING_TLSF) heap.free(block);
  else { kmallocLock(); heapFree(ours, block); kmallocUnlock(); }
}

/**
 * Resizes a block that was allocated with `align` and is `oldSize` long to `size` (default
 * alignment afterwards), keeping its contents; returns the new block, or 0 (the old one stays).
 */
@inline export function allocatorRealloc(block: usize, align: u32, oldSize: u32, size: u32): usize {
  if (MEASURING_TLSF) {
    if (align <= TLSF_ALIGN) return heap.realloc(block, size);
    const moved = heap.alloc(size);
    memory.copy(moved, allocatorUser(block, align), min<u32>(oldSize, size));
    heap.free(block);
    return moved;
  }
  kmallocLock();
  const moved = heapRealloc(ours, block, size);
  kmallocUnlock();
  return moved;
}

/** Bytes the allocator holds at its peak: ours from its provider; the TLSF's grown memory. */
export function allocatorPeakFootprint(): u64 {
  if (MEASURING_TLSF) return (<u64>memory.size() << WASM_PAGE_SHIFT) - tlsfBase;
  return ours.peakHeldBytes;
}
