// The askern side of `make compare`, built through the kernel's own path (asc, wasm2c, clang)
// into the native comparison program (driver.c): the kernel's heap (kernel/mm/core/heap/heap.ts) alone,
// and kmalloc as the kernel builds it (the class caches of kernel/mm/core/kmalloc-classes.ts up to
// 2 KiB, the heap above), plus the kernel's trace decoder (kernel/lib/trace.ts), which the
// program uses for every allocator. Pages come from the program (host.getPages and friends in
// runtime.c), from the top half of this module's address space.
//
// Only one of the two allocators is set up in a run (heapInit or kmInit), and each replay is
// a fresh process, as the kernel's bench gives each workload a fresh heap.
import { PageProvider } from "../../kernel/mm/core/pages";
import { Heap, HEAP_BYTES, heapCreate, heapAlloc, heapFree, heapRealloc, heapEndCheck } from "../../kernel/mm/core/heap/heap";
import { SlabRegions, SLAB_REGIONS_BYTES, slabRegionsCreate, slabOf } from "../../kernel/mm/core/slab/regions";
import { cacheAlloc, CACHE_BYTES } from "../../kernel/mm/core/slab/cache";
import { slabCheckAll } from "../../kernel/mm/core/slab/check";
import {
  KMALLOC_SLAB_MAX, KMALLOC_CLASS_COUNT, KMALLOC_TABLE_BYTES, kmallocCacheForSize, kmallocClassesInit,
  kmallocFreeObject, kmallocObjectSize,
} from "../../kernel/mm/core/kmalloc-classes";
import {
  TraceResult, traceScan, traceDecode, traceErrorText, traceOpAddress, traceOpId, traceOpSize, traceOpKind, traceOpAlign,
  TRACE_OP_BYTES, TRACE_LIVE_BYTES_PER_ID,
} from "../../kernel/lib/trace";
import { AllocError } from "../../kernel/mm/core/alloc-error";


// --- pages from the program -----------------------------------------------------------------

@external("host", "getPages") declare function hostGetPages(pages: u32, alignPages: u32): usize;
@external("host", "putPages") declare function hostPutPages(address: usize, pages: u32): void;
@external("host", "growPages") declare function hostGrowPages(address: usize, pages: u32, morePages: u32): bool;

function getPages(context: usize, pages: u32, alignPages: u32): usize { return hostGetPages(pages, alignPages); }
function putPages(context: usize, address: usize, pages: u32): void { hostPutPages(address, pages); }
function growPages(context: usize, address: usize, pages: u32, morePages: u32): bool { return hostGrowPages(address, pages, morePages); }

const provider = changetype<PageProvider>(memory.data(offsetof<PageProvider>(), 4));
provider.context = 0;
provider.getPages = changetype<usize>(getPages);
provider.putPages = changetype<usize>(putPages);
provider.growPages = changetype<usize>(growPages);

// --- the trace decoder ----------------------------------------------------------------------

const result = changetype<TraceResult>(memory.data(offsetof<TraceResult>(), 8));
let ops: usize = 0;

/** Room for a trace of `bytes` bytes in this module's memory (the program copies it there). */
export function textAlloc(bytes: u32): usize { return heap.alloc(max<u32>(bytes, 1)); }

/** Checks and decodes the trace at [text, text + length); false at its first bad line (errorLine ...). */
export function decode(text: usize, length: u32): bool {
  if (!traceScan(text, length, result)) return false;
  ops = heap.alloc(max<u32>(result.ops, 1) * TRACE_OP_BYTES);
  const live = heap.alloc((result.maxId + 1) * TRACE_LIVE_BYTES_PER_ID);
  memory.fill(live, 0, (result.maxId + 1) * TRACE_LIVE_BYTES_PER_ID);
  return traceDecode(text, length, ops, result.ops, live, result.maxId, result);
}
export function errorLine(): u32 { return result.errorLine; }
export function errorColumn(): u32 { return result.errorColumn; }
/** The error's text: a UTF-16 string whose byte length is the u32 before it. */
export function errorText(): usize { return changetype<usize>(traceErrorText(result.error)); }
export function opCount(): u32 { return result.ops; }
export function maxId(): u32 { return result.maxId; }
export function peakLiveBytes(): f64 { return <f64>result.peakLiveBytes; }
export function opKind(i: u32): u32 { return traceOpKind(traceOpAddress(ops, i)); }
export function opId(i: u32): u32 { return traceOpId(traceOpAddress(ops, i)); }
export function opSize(i: u32): u32 { return traceOpSize(traceOpAddress(ops, i)); }
export function opAlign(i: u32): u32 { return traceOpAlign(traceOpAddress(ops, i)); }

// --- the heap alone -------------------------------------------------------------------------

const heapBlock = memory.data(HEAP_BYTES, 16);
const theHeap = changetype<Heap>(heapBlock);
/** The kernel heap's reserve of free spans (KERNEL_HEAP_RESERVE_SPANS in kmalloc.ts). */
const RESERVE_SPANS: u32 = 2;

export function heapInit(): void { heapCreate(heapBlock, provider, RESERVE_SPANS, true); }
export function heapAllocate(size: u32, align: u32): usize { return heapAlloc(theHeap, size, align); }
export function heapRelease(ptr: usize): u32 { return heapFree(theHeap, ptr); }
export function heapResize(ptr: usize, size: u32): usize { return heapRealloc(theHeap, ptr, size); }
export function heapHeld(): f64 { return <f64>theHeap.heldBytes; }
/** After a replay that freed everything: heapEndCheck's verdict (0: all well). */
export function heapEnd(): u32 { return heapEndCheck(theHeap); }

// --- kmalloc: the class caches up to 2 KiB, the heap above ------------------------------------

const regionsBlock = memory.data(SLAB_REGIONS_BYTES, 16);
const regions = changetype<SlabRegions>(regionsBlock);
const caches = memory.data(KMALLOC_CLASS_COUNT * CACHE_BYTES, 16);
const table = memory.data(KMALLOC_TABLE_BYTES, 4);

export function kmInit(): void {
  heapInit();
  slabRegionsCreate(regionsBlock, provider);
  kmallocClassesInit(regions, caches, table);
}

/** As the kernel's kmalloc (kmallocAligned above 16): a class object, or a heap block. */
export function kmAlloc(size: u32, align: u32): usize {
  return align <= 16 && size - 1 < KMALLOC_SLAB_MAX ? cacheAlloc(kmallocCacheForSize(table, size)) : heapAlloc(theHeap, size, align);
}

/** As kfree: AllocError.Ok (0) when freed, else the refusal. */
export function kmFree(ptr: usize): u32 {
  const slab = slabOf(regions, ptr);
  return slab == 0 ? heapFree(theHeap, ptr) : kmallocFreeObject(slab, ptr);
}

/** As krealloc: a class object that holds `size` stays, a heap block goes through heapRealloc, else it moves. */
export function kmRealloc(ptr: usize, size: u32): usize {
  const slab = slabOf(regions, ptr);
  if (slab == 0) return heapRealloc(theHeap, ptr, size);
  const have = kmallocObjectSize(slab, ptr);
  if (size <= have) return ptr;
  const moved = kmAlloc(size, 0);
  if (moved == 0) return 0;
  memory.copy(moved, ptr, have);
  kmallocFreeObject(slab, ptr);   // (as krealloc: the slab is known)
  return moved;
}

export function kmHeld(): f64 { return <f64>(theHeap.heldBytes + regions.heldBytes); }
/** After a replay that freed everything: 0, or a checker's failure (as heapEnd; 10 + n: the slab checker's n). */
export function kmEnd(): u32 {
  const slabs = slabCheckAll(regions);
  const heapResult = heapEnd();
  return heapResult != 0 ? heapResult : slabs != 0 ? 10 + slabs : 0;
}
