// Which memory-manager code is running: the page-fault handler's recursion guard.
//
// The VMM is not re-entrant. If it faulted and the fault handler went on to commit a page, it
// would call into the half-updated VMM again. So each public entry point marks its byte while
// it runs, and the fault handler refuses (panics) to do anything but report when a byte is set:
//
//   +0 u8  (free: the PMM's entry points turn interrupts off instead, and a fault there is a
//          fault in atomic context)
//   +1 u8  VMM           reserveRange, releaseRange, kernelMap, ... (kernel/mm/virt/vmm.ts)
//   +2 u8  fault handler onPageFault (kernel/mm/virt/fault.ts)
//
// One byte each, so marking is a single store and nesting (the fault handler calling the VMM)
// needs no counting. The bytes are the running CPU's (CPU_MM_BUSY in its record:
// arch/percpu.ts): a fault on one CPU while another is in the VMM is no recursion.
import { thisCpu } from "../arch/x86";
import { CPU_MM_BUSY } from "../arch/percpu";

export const enum MmPart { Vmm = 1, FaultHandler = 2 }

/** Marks `part` as running on this CPU. */
@inline export function mmEnter(part: MmPart): void { store<u8>(thisCpu() + CPU_MM_BUSY + <usize>part, 1); }
/** Marks `part` as no longer running. */
@inline export function mmLeave(part: MmPart): void { store<u8>(thisCpu() + CPU_MM_BUSY + <usize>part, 0); }
/** Whether `part` is running on this CPU. */
@inline export function mmBusy(part: MmPart): bool { return load<u8>(thisCpu() + CPU_MM_BUSY + <usize>part) != 0; }
