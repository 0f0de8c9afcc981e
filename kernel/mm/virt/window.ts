// A CPU's own window: one fixed-mapping page per CPU (FixmapSlot.UserFill + the CPU's index)
// through which it fills a frame that the linear map does not reach (a high frame) before the
// frame is mapped anywhere else. Only its own CPU ever uses a window, so no other CPU's TLB can
// hold it: mapping is one entry written and unmapping one entry cleared and one invlpg here,
// with no kernel-lock section and no shootdown (kernelMap and kernelUnmap would ask every CPU).
// The caller keeps preemption off from windowMap to windowUnmap: another thread on this CPU, or
// this thread moved to another CPU, would find the window in use or not its own.
import { cpuIndex } from "../../arch/percpu";
import { invlpg } from "../../arch/x86";
import { pteSlot, PAGE_PRESENT, PAGE_WRITABLE } from "./paging";
import { kernelAddressSpace } from "./vmm";
import { fixmapAddress, FixmapSlot } from "../layout";

/**
 * Maps `frame` writable at this CPU's window and returns the window's address. Any context,
 * preemption off until windowUnmap; never sleeps; no lock. The window must be unmapped (its
 * entry is overwritten: one window in use at a time per CPU).
 */
export function windowMap(frame: u32): u32 {
  const window = fixmapAddress(FixmapSlot.UserFill) + (cpuIndex() << 12);
  // (vmmInit made every page table from the range area up: the fixed mappings' too)
  store<u32>(pteSlot(kernelAddressSpace(), window, false), frame | PAGE_PRESENT | PAGE_WRITABLE);
  return window;
}

/** Unmaps this CPU's window (`window`, from windowMap). The context of windowMap's caller. */
export function windowUnmap(window: u32): void {
  store<u32>(pteSlot(kernelAddressSpace(), window, false), 0);
  invlpg(window);
}
