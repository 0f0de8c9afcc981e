// A CPU's own window: one fixed-mapping page per CPU (FixmapSlot.UserFill + the CPU's index)
// through which it fills a frame that the linear map does not reach (a high frame) before the
// frame is mapped where others can see it. Only its own CPU ever uses a window, so no other
// CPU's TLB can hold it: mapping is one entry written, and unmapping one entry cleared and one
// invlpg here, with no kernel-lock section and no shootdown (kernelMap and kernelUnmap would ask
// every CPU). The caller keeps preemption off from windowMap to windowUnmap: another thread on
// this CPU, or this thread moved to another CPU, would find the window in use or not its own.
// Its users (the lazy commit of range pages and of user pages) never touch a page that is not
// committed while the window is theirs, so the fault handler never finds it in use.
import { cpuIndex, MAX_CPUS } from "../../arch/percpu";
import { invlpg } from "../../arch/x86";
import { panic } from "../../diag/panic";
import { pteSlot, PAGE_PRESENT, PAGE_WRITABLE } from "./paging";
import { kernelAddressSpace } from "./vmm";
import { FIXMAP_START, FixmapSlot } from "../layout";

const WINDOWS: u32 = FIXMAP_START + (<u32>FixmapSlot.UserFill << 12);   // (fixmapAddress, as a constant)
if ((WINDOWS >> 22) != ((WINDOWS + (MAX_CPUS << 12) - 1) >> 22)) ERROR("the CPUs' windows must share one page table");

/** The page-table entry of CPU 0's window (CPU i's is i entries on). */
let entries: usize = 0;

/** Finds the windows' page-table entries. Once, from vmmInit, after it made the fixed mappings' table. */
export function windowInit(): void {
  entries = pteSlot(kernelAddressSpace(), WINDOWS, false);
  if (entries == 0) panic("vmm: no page table for the CPUs' windows");
}

/**
 * Maps `frame` writable at this CPU's window and returns the window's address. Any context,
 * preemption off until windowUnmap; never sleeps; no lock. One window in use at a time per CPU.
 */
@inline export function windowMap(frame: u32): u32 {
  const index = cpuIndex();
  store<u32>(entries + (index << 2), frame | PAGE_PRESENT | PAGE_WRITABLE);
  return WINDOWS + (index << 12);
}

/** Unmaps this CPU's window (`window`, from windowMap). The context of windowMap's caller. */
@inline export function windowUnmap(window: u32): void {
  store<u32>(entries + ((window - WINDOWS) >> 10), 0);
  invlpg(window);
}
