// TLB shootdown (docs/smp.md, "TLB shootdown"): a page-table entry that is removed or loses a
// right must leave every CPU's TLB before the frame it named is used again, or a CPU that cached
// it could read or write the frame's next owner through the old address. The CPU that changes
// the entry invalidates its own TLB (invlpg) and asks the others by IPI:
//
//   kernel addresses (0xC0000000 and up, in every address space): every other CPU that takes
//     shootdowns (CPU_TLB_ONLINE: it runs threads with interrupts on)
//   user addresses: only the CPUs whose CR3 is that space's directory (CPU_CR3)
//
// and waits until each has done it. Requests run in sections of the kernel lock, so there is one
// at a time and one request slot; a CPU that waits for the lock with interrupts off serves the
// request from its wait loop (klockSetWaitWork), so the initiator, which holds the lock, never
// waits for a CPU that waits for it.
//
//   request +0  address   the page, or FLUSH_ALL (reload CR3: every non-global entry)
//           +4  pending   CPUs that have not done it yet
//           +8  asked     a bit per CPU index: the CPUs asked; each clears its own as it serves
import { invlpg, writeCr3, readCr3, atomicFetchAdd, atomicExchange, cpuLoad, cpuRelax, thisCpu } from "./x86";
import { CPU_INDEX, CPU_APIC_ID, CPU_CR3, CPU_TLB_ONLINE, cpuRecords, cpuAt } from "./percpu";
import { klockIrqSave, klockIrqRestore, klockStarted, klockSetWaitWork } from "./klock";
import { lapicSendFixed } from "./apic";
import { setInterruptHandler } from "./idt";
import { InterruptFrame } from "./frame";

/** The shootdown IPI's vector (arch/idt.ts ends 0x30-0x3F at the local APIC). */
export const VECTOR_SHOOTDOWN: u32 = 0x32;
/** A request's address that asks for every non-global entry (a CR3 reload). */
export const FLUSH_ALL: u32 = 0xFFFFFFFF;
/** Where the kernel's half begins: its entries are in every space. */
const KERNEL_BASE: u32 = 0xC0000000;

const request = memory.data(12, 4);   // address, pending, asked (bit per CPU index)
const REQ_ADDRESS: u32 = 0, REQ_PENDING: u32 = 4, REQ_ASKED: u32 = 8;
let shootdowns: u32 = 0;
let ipisSent: u32 = 0;

/** Shootdowns that asked other CPUs, and the IPIs they sent. Any context. */
export function tlbShootdowns(): u32 { return shootdowns; }
export function tlbIpisSent(): u32 { return ipisSent; }

/** Does what the current request asks of the running CPU, if it asks anything of it. Interrupts off; any context. */
export function tlbServe(): void {
  const bit: u32 = 1 << cpuLoad(CPU_INDEX);
  if ((load<u32>(request + REQ_ASKED) & bit) == 0) return;
  atomicFetchAdd(request + REQ_ASKED, <u32>-bit);   // (its bit only: the initiator set them all before the IPIs)
  const address = load<u32>(request + REQ_ADDRESS);
  if (address == FLUSH_ALL) writeCr3(readCr3()); else invlpg(address);
  atomicFetchAdd(request + REQ_PENDING, <u32>-1);
}

function onShootdown(frame: InterruptFrame): void { tlbServe(); }

/** The shootdown IPI's handler (serve, and take no lock) and the kernel lock's wait work. Boot, once. */
export function tlbInit(): void {
  setInterruptHandler(VECTOR_SHOOTDOWN, onShootdown);
  klockSetWaitWork(changetype<usize>(tlbServe));
}

/**
 * `virt` (a page, or FLUSH_ALL) leaves the TLB of every CPU that may hold it for the space whose
 * directory is at `directoryPhys`: this one at once, the others by IPI, and this returns once
 * all have (inside a batch, at tlbBatchEnd). Any context (it opens a kernel-lock section); with
 * one CPU running, an invlpg.
 */
export function tlbInvalidate(directoryPhys: u32, virt: u32): void {
  if (virt == FLUSH_ALL) writeCr3(readCr3()); else invlpg(virt);
  if (!klockStarted()) return;
  if (batchDepth == 0) { shootdown(directoryPhys, virt, virt != FLUSH_ALL && virt >= KERNEL_BASE); return; }
  if (batchCount == 0) { batchAddress = virt; batchDirectory = directoryPhys; }
  else if (virt != batchAddress || directoryPhys != batchDirectory) batchAddress = FLUSH_ALL;
  if (virt >= KERNEL_BASE && virt != FLUSH_ALL) batchKernel = true;
  batchCount++;
}

// A batch: a loop that empties many entries (a range's release, a decommit, a process's pages)
// asks the other CPUs once, at its end: for one page that page, for more a whole flush. The frames
// it frees must not be handed out before the end: the batch keeps a kernel-lock section open,
// and the PMM hands out nothing without the lock.
let batchDepth: u32 = 0, batchCount: u32 = 0, batchAddress: u32 = 0, batchDirectory: u32 = 0;
let batchKernel = false;

/** Opens a batch (they nest): shootdowns wait for the outermost tlbBatchEnd. Returns the flags to pass it. Any context. */
export function tlbBatchBegin(): u32 {
  const flags = klockIrqSave();
  if (batchDepth++ == 0) { batchCount = 0; batchKernel = false; }
  return flags;
}

/** Closes a batch (`flags` from its tlbBatchBegin): at the outermost, the other CPUs do what it gathered, once. */
export function tlbBatchEnd(flags: u32): void {
  if (--batchDepth == 0 && batchCount != 0) shootdown(batchDirectory, batchCount == 1 ? batchAddress : FLUSH_ALL, batchKernel);
  klockIrqRestore(flags);
}

function shootdown(directoryPhys: u32, virt: u32, kernel: bool): void {
  const flags = klockIrqSave();
  const me = thisCpu();
  let asked: u32 = 0, count: u32 = 0;
  for (let i: u32 = 0; i < cpuRecords(); i++) {
    const cpu = cpuAt(i);
    if (cpu == me || load<u32>(cpu, CPU_TLB_ONLINE) == 0) continue;
    if (!kernel && load<u32>(cpu, CPU_CR3) != directoryPhys) continue;
    asked |= 1 << i; count++;
  }
  if (count != 0) {
    store<u32>(request + REQ_ADDRESS, virt);
    store<u32>(request + REQ_PENDING, count);
    atomicExchange(request + REQ_ASKED, asked);   // (a full barrier: the request is whole before anyone looks)
    for (let i: u32 = 0; i < cpuRecords(); i++) {
      if ((asked & (1 << i)) != 0) lapicSendFixed(load<u32>(cpuAt(i), CPU_APIC_ID), VECTOR_SHOOTDOWN);
    }
    while (load<u32>(request + REQ_PENDING) != 0) cpuRelax();
    shootdowns++;
    ipisSent += count;
  }
  klockIrqRestore(flags);
}

