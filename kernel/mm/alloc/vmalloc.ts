// vmalloc: kernel memory that is contiguous in virtual space only, of any size, built from any
// free frames (high memory first): for buffers too large for the heap's spans, or when
// contiguous low memory is fragmented. Each allocation is a range of its own in the range area,
// with an unmapped guard page after it (vmm.ts), and every page is committed, zeroed, when it is
// allocated, so the memory may be touched in any context afterwards. kvmalloc takes small sizes
// from kmalloc first and falls back to vmalloc; kvfree frees either. docs/vmm.md has the
// figures. Thread context (every function here: ranges are thread-only).
import { reserveRange, releaseRange, rangeContaining, rangeName, kernelRanges, RANGE_WRITABLE, RangeError } from "../virt/vmm";
import { rangePopulate } from "../virt/commit";
import { vrangeFind, NONE } from "../core/vrange";
import { vrangeAreaStart } from "../layout";
import { kmalloc, kfree } from "./kmalloc";
import { LogLevel, logBegin } from "../../console/log";
import { puts, putHex } from "../../console/console";

/** Sizes up to this go to kmalloc first in kvmalloc (its larger blocks need contiguous low memory). */
export const KVMALLOC_KMALLOC_MAX: u32 = 64 << 10;
const NAME = "vmalloc";

let live: u32 = 0;
/** vmalloc allocations live now. Any context. */
export function vmallocLive(): u32 { return live; }

/**
 * `bytes` bytes (rounded up to whole pages) of zeroed, committed kernel memory, virtually
 * contiguous, with a guard page after it: its address, or 0 when `bytes` is 0 or too large for
 * the range area, no virtual run is free, or the PMM runs out (nothing is kept then; the range
 * allocator or the PMM logs why). Thread context only.
 */
export function vmalloc(bytes: u32): usize {
  const virt = reserveRange(bytes, RANGE_WRITABLE, NAME);
  if (virt == 0) return 0;
  if (rangePopulate(virt, (bytes + 0xFFF) & ~0xFFF) < 0) { releaseRange(virt); return 0; }
  live++;
  return virt;
}

/** Whether `ptr` is the first address of a live vmalloc allocation. Thread context. */
export function isVmalloc(ptr: usize): bool {
  if (<u32>ptr < vrangeAreaStart() || rangeContaining(<u32>ptr) != <u32>ptr) return false;
  const start = vrangeFind(kernelRanges(), (<u32>ptr - vrangeAreaStart()) >> 12);
  return start != NONE && changetype<usize>(rangeName(start)) == changetype<usize>(NAME);
}

/**
 * Frees what vmalloc returned at `ptr`: every frame back to the PMM, the virtual space released.
 * False (logged, nothing changed) for anything else. Thread context only.
 */
export function vfree(ptr: usize): bool {
  if (!isVmalloc(ptr)) {
    if (logBegin(LogLevel.Error, "vmalloc")) { puts("vfree("); putHex(ptr); puts("): not an address vmalloc returned; nothing changed\n"); }
    return false;
  }
  if (releaseRange(<u32>ptr) != RangeError.Ok) return false;
  live--;
  return true;
}

/**
 * `bytes` bytes from kmalloc when they are at most KVMALLOC_KMALLOC_MAX and it has them, else
 * from vmalloc (zeroed): a large allocation never depends on contiguous low memory. 0 when both
 * fail. Free it with kvfree. Thread context only.
 */
export function kvmalloc(bytes: u32): usize {
  if (bytes <= KVMALLOC_KMALLOC_MAX) {
    const block = kmalloc(bytes);
    if (block != 0) return block;
  }
  return vmalloc(bytes);
}

/** Frees what kvmalloc returned: vfree for a vmalloc allocation, kfree for the rest. Thread context only. */
export function kvfree(ptr: usize): void {
  if (isVmalloc(ptr)) vfree(ptr); else kfree(ptr);
}
