// Filling a frame before it is mapped where others can see it (windowFill): a low frame through
// the linear map, a high one through the CPU's own window, one fixed-mapping page per CPU
// (FixmapSlot.UserFill + the CPU's index).
//
// Why before: once a page's entry is present, a thread on another CPU may use the page at once,
// and a fill through that mapping would wipe out what it wrote meanwhile (proc.touch_together).
//
// The window. Only its own CPU ever uses a window, so no other
// CPU's TLB can hold it: mapping is one entry written, and unmapping one entry cleared and one
// invlpg here, with no kernel-lock section and no shootdown (kernelMap and kernelUnmap would ask
// every CPU). The caller keeps preemption off: another thread on this CPU, or this thread moved
// to another CPU, would find the window in use or not its own. Its users (the lazy commit of
// range pages and of user pages) never touch a page that is not committed while the window is
// theirs, so the fault handler never finds it in use.
import { cpuIndex, MAX_CPUS } from "../../arch/percpu";
import { invlpg } from "../../arch/x86";
import { panic } from "../../diag/panic";
import { pteSlot, PAGE_SIZE, PAGE_PRESENT, PAGE_WRITABLE } from "./paging";
import { kernelAddressSpace } from "./vmm";
import { FIXMAP_START, FixmapSlot, lowMemoryEnd, linearVirt } from "../layout";

const WINDOWS: u32 = FIXMAP_START + (<u32>FixmapSlot.UserFill << 12);   // (fixmapAddress, as a constant)
if ((WINDOWS >> 22) != ((WINDOWS + (MAX_CPUS << 12) - 1) >> 22)) ERROR("the CPUs' windows must share one page table");

/** The page-table entry of CPU 0's window (CPU i's is i entries on). */
let entries: usize = 0;

/** Finds the windows' page-table entries. Once, from vmmInit (boot, thread context), after it made the fixed mappings' table. */
export function windowInit(): void {
  entries = pteSlot(kernelAddressSpace(), WINDOWS, false);
  if (entries == 0) panic("vmm: no page table for the CPUs' windows");
}

/**
 * Fills `frame`, which nothing maps where another CPU could use it: the `bytes` bytes at `from`
 * (at most a page, readable here: a mapped page, a module), then zeros to the page's end. Any
 * context with preemption off; never sleeps; no lock.
 */
@inline export function windowFill(frame: u32, from: usize, bytes: u32): void {
  if (frame < lowMemoryEnd()) { fillPage(linearVirt(frame), from, bytes); return; }
  const window = windowMap(frame);
  fillPage(window, from, bytes);
  windowUnmap(window);
}

@inline function fillPage(to: usize, from: usize, bytes: u32): void {
  if (bytes != 0) memory.copy(to, from, bytes);
  if (bytes < PAGE_SIZE) memory.fill(to + bytes, 0, PAGE_SIZE - bytes);
}

/** Maps `frame` writable at this CPU's window and returns the window's address (one use at a time). */
@inline function windowMap(frame: u32): u32 {
  const index = cpuIndex();
  store<u32>(entries + (index << 2), frame | PAGE_PRESENT | PAGE_WRITABLE);
  return WINDOWS + (index << 12);
}

/** Unmaps this CPU's window (`window`, from windowMap). */
@inline function windowUnmap(window: u32): void {
  store<u32>(entries + ((window - WINDOWS) >> 10), 0);
  invlpg(window);
}
