// The page-fault handler (vector 14). A not-present fault inside a live range commits the page:
// a frame (the promised one parked in its entry, or a fresh one from the PMM, high memory
// first), mapped with the range's permissions and zeroed, plus up to the range's fault-around
// count of following pages; then the faulting instruction runs again. A fault at probeRead's
// one read (arch/x86.ts) resumes at its fixup, which answers "faulted". Every other fault is a
// kernel bug and panics with a message that says which kind it was:
//
//   in the page-fault handler itself     the handler faulted (recursion)
//   inside the VMM                       a fault while the VMM was running (busy.ts)
//   write to a read-only page            a write to a present read-only page, or to a page of
//                                        a range reserved without RANGE_WRITABLE
//   protection violation                 any other fault on a present page
//   outside every range                  no live range holds the address (page 0: a null pointer)
//   guard page                           the unmapped page after a range (an overflow)
//   use after free                       any page of a retired range (vmm.ts retireRange)
//   out of memory                        an overcommitted range, and the PMM has no frame even
//                                        after reclaim and the killer (see outOfMemory)
//   in atomic context                    a fault on a page not committed yet, from an interrupt
//                                        handler or with interrupts or preemption off: serving
//                                        it could deadlock (a lock the handler needs may be
//                                        held), so memory used there must be committed up front
//
// with the address, the decoded error code, EIP (symbolized), the range if any, registers and a
// backtrace. The owner of a range may add its own lines (setFaultExplainer: the guard allocator
// names the allocation and its size). Interrupts stay off throughout (an interrupt gate).
import { klockEnter, klockLeave } from "../../arch/klock";
import { readCr2, sti, cli, faultFixup } from "../../arch/x86";
import { InterruptFrame } from "../../arch/frame";
import { setInterruptHandler, VECTOR_PAGE_FAULT } from "../../arch/idt";
import { puts, putHex, putDec, newline } from "../../console/console";
import { panicBegin, panicEnd, putPageFaultDecoding } from "../../diag/panic";
import { putSymbolized } from "../../diag/backtrace";
import { PF_PRESENT, PF_WRITE } from "../../diag/exceptions";
import { pteSlot, PAGE_SIZE, PAGE_PRESENT } from "./paging";
import {
  kernelAddressSpace, kernelRanges, rangeFlags, rangeCommitted, rangeName, rangePages,
  faultAroundOf, vmmCommittedPages, RANGE_WRITABLE, RANGE_PROMISED, RANGE_RETIRED, RANGE_DEVICE,
} from "./vmm";
import { vrangeFind, vrangeAddress, NONE } from "../core/vrange";
import { commitRangePage } from "./commit";
import { vrangeAreaStart } from "../layout";
import { MmPart, mmEnter, mmLeave, mmBusy } from "../busy";
import { atomicAt, atomicReason, irqEnter, irqLeave } from "../../arch/context";
import { pressureReclaim, pressureKill, pressureReport } from "../pressure";

export const enum FaultKind {
  InHandler = 0,
  InsideMm = 1,
  ReadOnlyWrite = 2,
  Protection = 3,
  OutsideRanges = 4,
  GuardPage = 5,
  OutOfMemory = 6,
  UseAfterFree = 7,
  InAtomic = 8,
}

/** The panic headline for each kind (whole literals: the kernel never builds strings). */
export function faultHeadline(kind: FaultKind): string {
  switch (kind) {
    case FaultKind.InHandler: return "page fault: in the page-fault handler itself";
    case FaultKind.InsideMm: return "page fault: inside the VMM (recursion guard)";
    case FaultKind.InAtomic: return "page fault: in atomic context (on a page not committed yet)";
    case FaultKind.ReadOnlyWrite: return "page fault: write to a read-only page";
    case FaultKind.Protection: return "page fault: protection violation";
    case FaultKind.OutsideRanges: return "page fault: outside every range";
    case FaultKind.GuardPage: return "page fault: guard page";
    case FaultKind.UseAfterFree: return "page fault: use after free (a retired range)";
    default: return "page fault: out of memory";
  }
}

/** A function the handler calls before committing (tests use it to fault inside the handler). */
let testHook: usize = 0;

/** Installs the page-fault handler. Call once, after vmmInit. */
export function faultInit(): void { setInterruptHandler(VECTOR_PAGE_FAULT, onPageFault); }

/** For tests: `hook` runs inside the handler before each commit (0 removes it). */
export function setFaultTestHook(hook: usize): void { testHook = hook; }

// Range owners that explain faults in their ranges: by the range's name (the same literal, so
// the same address), a function that prints lines about the faulting address.
const EXPLAINERS: u32 = 4;
const explainerNames = memory.data(EXPLAINERS * 4, 4);
const explainerFunctions = memory.data(EXPLAINERS * 4, 4);

/** How an owner explains a fault: the range's first address and the faulting address. */
export type FaultExplainer = (first: u32, address: u32) => void;

/**
 * Makes a fault panic in any range named `name` (the literal passed to reserveRange) end its
 * range description with `explain`'s lines. False if EXPLAINERS owners are registered already.
 * `explain` runs inside the panic: it may only read memory and print.
 */
export function setFaultExplainer(name: string, explain: FaultExplainer): bool {
  for (let i: u32 = 0; i < EXPLAINERS; i++) {
    const at = load<usize>(explainerNames + (i << 2));
    if (at != 0 && at != changetype<usize>(name)) continue;
    store<usize>(explainerNames + (i << 2), changetype<usize>(name));
    store<usize>(explainerFunctions + (i << 2), changetype<usize>(explain));
    return true;
  }
  return false;
}

function explainFault(name: string, first: u32, address: u32): void {
  for (let i: u32 = 0; i < EXPLAINERS; i++) {
    if (load<usize>(explainerNames + (i << 2)) != changetype<usize>(name)) continue;
    changetype<FaultExplainer>(load<usize>(explainerFunctions + (i << 2)))(first, address);
    return;
  }
}

/** The page-fault handler: a section of the kernel lock (arch/klock.ts), as every handler that touches shared state is. */
function onPageFault(frame: InterruptFrame): void {
  // A kernel instruction that may fault on purpose (probeRead) resumes at its fixup: no lock, no commit.
  const fixup = (frame.cs & 3) == 0 ? faultFixup(frame.eip) : 0;
  if (fixup != 0) { frame.eip = fixup; return; }
  klockEnter();
  servePageFault(frame);
  klockLeave();
}

function servePageFault(frame: InterruptFrame): void {
  const address = readCr2();
  if (mmBusy(MmPart.FaultHandler)) faultPanic(FaultKind.InHandler, frame, address, NONE);
  mmEnter(MmPart.FaultHandler);
  if (mmBusy(MmPart.Vmm)) faultPanic(FaultKind.InsideMm, frame, address, NONE);
  const area = kernelRanges();
  const page = (address - vrangeAreaStart()) >> 12;
  const start = address >= vrangeAreaStart() ? vrangeFind(area, page) : NONE;
  const error = frame.errorCode;
  if ((error & PF_PRESENT) != 0) {
    faultPanic((error & PF_WRITE) != 0 ? FaultKind.ReadOnlyWrite : FaultKind.Protection, frame, address, start);
  }
  if (start == NONE) faultPanic(FaultKind.OutsideRanges, frame, address, NONE);
  const flags = rangeFlags(start);
  if ((flags & RANGE_RETIRED) != 0) faultPanic(FaultKind.UseAfterFree, frame, address, start);
  const pages = rangePages(start);
  if (page - start >= pages) faultPanic(FaultKind.GuardPage, frame, address, start);
  if ((error & PF_WRITE) != 0 && (flags & RANGE_WRITABLE) == 0) faultPanic(FaultKind.ReadOnlyWrite, frame, address, start);
  if ((flags & RANGE_DEVICE) != 0) faultPanic(FaultKind.Protection, frame, address, start);   // (device pages are all mapped: RAM must never stand in for one)
  if (atomicAt(frame.eflags, 1)) faultPanic(FaultKind.InAtomic, frame, address, start);
  if (testHook != 0) changetype<() => void>(testHook)();

  const space = kernelAddressSpace();
  const virt = address & ~(PAGE_SIZE - 1);
  const at = pteSlot(space, virt, false);
  // Only a promised range can hold a parked frame: an overcommitted one needs no entry read.
  const entry = (flags & RANGE_PROMISED) != 0 && at != 0 ? load<u32>(at) : 0;
  if (!commitRangePage(space, start, virt, flags, at, entry)) { outOfMemory(frame, address, start); return; }
  // Fault-around: the following pages of the range that are not mapped yet, while frames last.
  const last = min<u32>(page + faultAroundOf(flags), start + pages - 1);
  for (let p = page + 1; p <= last; p++) {
    const next = vrangeAddress(area, p);
    const nextAt = pteSlot(space, next, false), nextEntry = nextAt != 0 ? load<u32>(nextAt) : 0;
    if ((nextEntry & PAGE_PRESENT) != 0) continue;
    if (!commitRangePage(space, start, next, flags, nextAt, nextEntry)) break;
  }
  mmLeave(MmPart.FaultHandler);
}

const EFLAGS_IF: u32 = 1 << 9;
/** Rounds of reclaim and killing for one faulting address before the handler gives up. */
const PRESSURE_ROUNDS: u32 = 8;
let pressureAddress: u32 = 0, pressureRounds: u32 = 0;

/**
 * No frame for a page of an overcommitted range. The faulting code ran in thread context (the
 * handler checked), so the handler may do what that code could: with interrupts on again as
 * they were, it reclaims, and if nothing comes back it has the killer end a process; then the
 * instruction runs again and faults again if it must, every check repeated (the range may even
 * have gone meanwhile). After PRESSURE_ROUNDS rounds for the same address, or when neither
 * gives anything, the kernel cannot go on: the panic, with the memory report.
 */
function outOfMemory(frame: InterruptFrame, address: u32, start: u32): void {
  pressureRounds = address == pressureAddress ? pressureRounds + 1 : 1;
  pressureAddress = address;
  if (pressureRounds <= PRESSURE_ROUNDS) {
    // The handler steps out of interrupt context into the faulting thread's, for the time being.
    mmLeave(MmPart.FaultHandler);
    irqLeave();
    const interrupts = (frame.eflags & EFLAGS_IF) != 0;   // (off only before the boot flow's first sti)
    if (interrupts) sti();
    const relieved = pressureReclaim(32) != 0 || pressureKill("a kernel page fault");
    if (interrupts) cli();
    irqEnter();
    if (relieved) return;
    mmEnter(MmPart.FaultHandler);
  }
  faultPanic(FaultKind.OutOfMemory, frame, address, start);
}

/** The panic for every fault the handler does not resolve. Never returns. */
function faultPanic(kind: FaultKind, frame: InterruptFrame, address: u32, start: u32): void {
  panicBegin(faultHeadline(kind));
  puts("#PF page fault at address "); putHex(address); puts(": "); putPageFaultDecoding(frame.errorCode);
  puts(" (error code "); putHex(frame.errorCode); puts(")\n");
  puts("eip "); putSymbolized(frame.eip); newline();
  if (start != NONE) {
    const area = kernelRanges();
    const first = vrangeAddress(area, start), pages = rangePages(start), flags = rangeFlags(start);
    puts("range "); putHex(first); puts("-"); putHex(first + (pages << 12) - 1); puts(" '"); puts(rangeName(start));
    puts("': "); putDec(pages); puts(" pages, "); putDec(rangeCommitted(start)); puts(" committed, ");
    puts((flags & RANGE_WRITABLE) != 0 ? "writable" : "read-only");
    puts((flags & RANGE_RETIRED) != 0 ? ", retired" : (flags & RANGE_PROMISED) != 0 ? ", promised" : ", overcommitted");
    puts(", fault-around "); putDec(faultAroundOf(flags)); newline();
    if (kind == FaultKind.GuardPage) {
      puts("the address is "); putDec(address - (first + (pages << 12))); puts(" bytes past the range's end, in its guard page\n");
    }
    if (kind == FaultKind.InAtomic) {
      puts("the fault came "); puts(atomicReason(frame.eflags, 1));
      puts(": memory used there must be committed before (docs/threads.md)\n");
    }
    if (kind == FaultKind.OutOfMemory) {
      puts("out of memory: no free frame to commit this page of an overcommitted range ("); putDec(vmmCommittedPages());
      puts(" range pages committed in all), after "); putDec(min<u32>(pressureRounds, PRESSURE_ROUNDS)); puts(" rounds of reclaim and the killer\n");
    }
    explainFault(rangeName(start), first, address);
    if (kind == FaultKind.OutOfMemory) pressureReport();
  } else {
    puts("range: none");
    if (address < PAGE_SIZE) puts(" (null pointer dereference: page 0 is never mapped)");
    newline();
  }
  panicEnd(frame);
}
