// Self-tests of the kernel's virtual ranges and lazy commit (kernel/mm/virt/vmm.ts, kernel/mm/virt/fault.ts)
// on the real page tables and PMM. The allocator's arithmetic is tested on the host against a
// model; these check what only the machine has: faults, frames and page-table entries.
import { memallocBegin, memallocEnd } from "../mm/pressure";
import { registerTest, registerPanicTest, check, checkEqual, testRng } from "./harness";
import { puts, putDec, newline } from "../console/console";
import { randomBelow } from "../lib/random";
import { allocFrame, freeFrame, pmmFreeFrames, pmmCheck } from "../mm/phys/pmm";
import {
  reserveRange, releaseRange, retireRange, rangeContaining, kernelEntry, kernelTranslate, kernelRanges, vmmCommittedPages,
  vmmParkedPages, rangeCommitted, rangeFlags, rangeFaultAround, RangeError, RANGE_WRITABLE, RANGE_PROMISED, RANGE_RETIRED,
} from "../mm/virt/vmm";
import { vrangeCheck } from "../mm/core/vrange";
import { setFaultTestHook } from "../mm/virt/fault";
import { MmPart, mmEnter } from "../mm/busy";
import { softInterruptBench, touchRead } from "../arch/x86";
import { klockIrqSave } from "../arch/klock";
import { setInterruptHandler, VECTOR_BENCH } from "../arch/idt";
import { InterruptFrame } from "../arch/frame";
import { PAGE_PRESENT, PAGE_WRITABLE, PTE_PARKED, NOT_MAPPED } from "../mm/virt/paging";
import { vrangeAreaStart, vrangeAreaPages } from "../mm/layout";

const PAGE: u32 = 4096;
/** The first page index (in the range allocator) of a range at `virt`. */
@inline function startPage(virt: u32): u32 { return (virt - vrangeAreaStart()) >> 12; }
@inline function present(virt: u32): bool { return (kernelEntry(virt) & PAGE_PRESENT) != 0; }

registerTest("vmm.range_lazy_commit", () => {
  // The test: 64 MiB, every fourth page touched. With little RAM (16 MiB) every 16th.
  const bytes: u32 = 64 << 20, pages = bytes / PAGE;
  const stride: u32 = pmmFreeFrames() > pages / 4 + 2048 ? 4 : 16;
  if (stride != 4) { puts("# little RAM: touching every "); putDec(stride); puts("th page\n"); }
  const freeBefore = pmmFreeFrames(), committedBefore = vmmCommittedPages();
  const range = reserveRange(bytes, RANGE_WRITABLE, "test.lazy64");
  if (!check(range != 0, "reserve 64 MiB")) return;
  checkEqual(pmmFreeFrames(), freeBefore, "reserving takes no frame");
  let nonZero: u32 = 0;
  for (let i: u32 = 0; i < pages; i += stride) {
    const at = range + i * PAGE;
    if (load<u32>(at) != 0 || load<u32>(at + PAGE - 4) != 0) nonZero++;   // the first touch: a read
    store<u32>(at, 0xDEAD0000 | i);
    store<u32>(at + PAGE - 4, i);
  }
  checkEqual(nonZero, 0, "every page read zero on first touch");
  let wrong: u32 = 0, kept: u32 = 0;
  for (let i: u32 = 0; i < pages; i++) {
    const at = range + i * PAGE;
    if (present(at) != (i % stride == 0)) wrong++;
    else if (i % stride == 0 && (load<u32>(at) != (0xDEAD0000 | i) || load<u32>(at + PAGE - 4) != i)) kept++;
  }
  checkEqual(wrong, 0, "exactly the touched pages are mapped");
  checkEqual(kept, 0, "each page kept what was written");
  checkEqual(rangeCommitted(startPage(range)), pages / stride, "the range counts its committed pages");
  checkEqual(vmmCommittedPages() - committedBefore, pages / stride, "the VMM counts them too");
  checkEqual(pmmFreeFrames(), freeBefore - pages / stride, "one frame per touched page");
  check(!present(range + bytes), "the guard page after the range is not mapped");
  const freeTouched = pmmFreeFrames();
  checkEqual(releaseRange(range), RangeError.Ok, "release");
  checkEqual(pmmFreeFrames(), freeBefore, "release gives every frame back");
  checkEqual(vmmCommittedPages(), committedBefore, "and the commit count is back");
  puts("# PMM free frames: "); putDec(freeBefore); puts(" before, "); putDec(freeTouched); puts(" with ");
  putDec(pages / stride); puts(" pages committed, "); putDec(pmmFreeFrames()); puts(" after release\n");
  let stale: u32 = 0;
  for (let i: u32 = 0; i < pages; i += stride) if (kernelEntry(range + i * PAGE) != 0) stale++;
  checkEqual(stale, 0, "no entry is left behind");
  checkEqual(vrangeCheck(kernelRanges()), 0, "range allocator invariants");
  checkEqual(pmmCheck(), 0, "PMM invariants");
});

registerTest("vmm.range_reused_frames_read_zero", () => {
  // Dirty frames: commit pages, fill them, release. The next range gets the same frames back
  // (the PMM hands out the lowest free frame) and must still read zeros.
  const pages: u32 = 64;
  const first = reserveRange(pages * PAGE, RANGE_WRITABLE, "test.dirty");
  if (!check(first != 0, "reserve")) return;
  const frames = memory.data(64 * 4, 4);
  for (let i: u32 = 0; i < pages; i++) {
    memory.fill(first + i * PAGE, 0xA5, PAGE);
    store<u32>(frames + i * 4, <u32>kernelTranslate(first + i * PAGE));
  }
  checkEqual(releaseRange(first), RangeError.Ok, "release the dirty range");
  const second = reserveRange(pages * PAGE, RANGE_WRITABLE, "test.clean");
  if (!check(second != 0, "reserve again")) return;
  let dirty: u32 = 0, reused: u32 = 0;
  for (let i: u32 = 0; i < pages; i++) {
    for (let off: u32 = 0; off < PAGE; off += 4) if (load<u32>(second + i * PAGE + off) != 0) { dirty++; break; }
    const frame = <u32>kernelTranslate(second + i * PAGE);
    for (let j: u32 = 0; j < pages; j++) if (load<u32>(frames + j * 4) == frame) { reused++; break; }
  }
  checkEqual(dirty, 0, "every page reads zero although its frame was dirty");
  check(reused > 0, "frames of the first range were reused");
  puts("# "); putDec(reused); puts(" of "); putDec(pages); puts(" frames reused\n");
  checkEqual(releaseRange(second), RangeError.Ok, "release");
});

registerTest("vmm.range_promised", () => {
  const pages: u32 = 256;
  const freeBefore = pmmFreeFrames(), parkedBefore = vmmParkedPages();
  const range = reserveRange(pages * PAGE, RANGE_WRITABLE | RANGE_PROMISED, "test.promised");
  if (!check(range != 0, "reserve 1 MiB promised")) return;
  checkEqual(pmmFreeFrames(), freeBefore - pages, "the frames are taken at reservation");
  checkEqual(vmmParkedPages() - parkedBefore, pages, "and parked");
  check(!present(range) && (kernelEntry(range) & PTE_PARKED) != 0, "a parked entry is not present");
  for (let i: u32 = 0; i < pages; i += 2) store<u32>(range + i * PAGE, i);
  checkEqual(pmmFreeFrames(), freeBefore - pages, "committing promised pages takes nothing more");
  checkEqual(vmmParkedPages() - parkedBefore, pages / 2, "half are still parked");
  checkEqual(releaseRange(range), RangeError.Ok, "release");
  checkEqual(pmmFreeFrames(), freeBefore, "committed and parked frames all come back");
  checkEqual(vmmParkedPages(), parkedBefore, "nothing parked is left");
  // A promise the PMM cannot keep is refused at reservation, and nothing is lost.
  const tooMuch = min<u32>(pmmFreeFrames() + 16, vrangeAreaPages() - 2);
  if (tooMuch > pmmFreeFrames()) {
    checkEqual(reserveRange(tooMuch * PAGE, RANGE_WRITABLE | RANGE_PROMISED, "test.too_much"), 0, "an impossible promise is refused");
    checkEqual(pmmFreeFrames(), freeBefore, "and every frame taken for it is returned");
  }
});

registerTest("vmm.range_fault_around", () => {
  const pages: u32 = 40;
  const range = reserveRange(pages * PAGE, RANGE_WRITABLE | rangeFaultAround(4), "test.around4");
  if (!check(range != 0, "reserve")) return;
  const freeBefore = pmmFreeFrames();
  store<u8>(range + 10 * PAGE, 1);   // commits pages 10..14
  let mapped: u32 = 0;
  for (let i: u32 = 0; i < pages; i++) if (present(range + i * PAGE) != (i >= 10 && i <= 14)) mapped++;
  checkEqual(mapped, 0, "one fault mapped the page and the 4 after it");
  checkEqual(pmmFreeFrames(), freeBefore - 5, "five frames");
  checkEqual(load<u32>(range + 14 * PAGE + 100), 0, "a fault-around page reads zero");
  store<u8>(range + 12 * PAGE, 1);   // mapped already: no fault, nothing more
  checkEqual(pmmFreeFrames(), freeBefore - 5, "touching a fault-around page takes nothing");
  store<u8>(range + 38 * PAGE, 1);   // near the end: only 38 and 39, never the guard page
  check(present(range + 38 * PAGE) && present(range + 39 * PAGE) && !present(range + 40 * PAGE), "fault-around stops at the range's end");
  store<u8>(range + 8 * PAGE, 1);    // 8, 9; 10 is mapped: skipped, and 11, 12 too
  checkEqual(pmmFreeFrames(), freeBefore - 9, "fault-around skips mapped pages");
  checkEqual(rangeCommitted(startPage(range)), 9, "nine pages committed");
  checkEqual(releaseRange(range), RangeError.Ok, "release");
  checkEqual(pmmFreeFrames(), freeBefore, "all back");
});

// vrangeFind (the fault handler's lookup) keeps the block it found last: a release must forget
// it, or a later fault inside a new range that now covers the old one's first page is charged
// to the old range (whose span word is stale there).
registerTest("vmm.fault_range_forgotten_at_release", () => {
  const a = reserveRange(2 * PAGE, RANGE_WRITABLE, "test.a"), b = reserveRange(4 * PAGE, RANGE_WRITABLE, "test.b");
  if (!check(a != 0 && b != 0, "reserve two")) return;
  store<u8>(b, 1);   // the fault handler's last range: b
  const bStart = startPage(b);
  checkEqual(releaseRange(a), RangeError.Ok, "release a");
  checkEqual(releaseRange(b), RangeError.Ok, "release b");
  // one range over both (the space they freed merges, and is taken again first; else the test
  // places it where it can and says so)
  const c = reserveRange(8 * PAGE, RANGE_WRITABLE, "test.c");
  if (!check(c != 0, "reserve c")) return;
  const covers = c <= b && b < c + 8 * PAGE;
  if (covers) {
    store<u8>(b, 2);   // inside c, at b's old first page
    checkEqual(rangeCommitted(startPage(c)), 1, "the fault is charged to the range that holds the page");
    check(startPage(c) != bStart, "c starts below b's old start (the case the cache must not get wrong)");
  } else puts("# c did not cover b's space: the stale-range case was not reached\n");
  check(covers, "c covers b's old first page");
  checkEqual(releaseRange(c), RangeError.Ok, "release c");
  checkEqual(vrangeCheck(kernelRanges()), 0, "the ranges' checker");
});

registerTest("vmm.range_readonly", () => {
  const range = reserveRange(2 * PAGE, 0, "test.readonly");
  if (!check(range != 0, "reserve read-only")) return;
  checkEqual(load<u32>(range + 64), 0, "reading commits a zero page");
  check(present(range) && (kernelEntry(range) & PAGE_WRITABLE) == 0, "mapped read-only");
  checkEqual(releaseRange(range), RangeError.Ok, "release");
});

registerTest("vmm.range_retire", () => {
  // Retiring frees the pages (committed and parked) but keeps the space, marked; release frees it.
  const freeBefore = pmmFreeFrames(), committedBefore = vmmCommittedPages(), parkedBefore = vmmParkedPages();
  const spaceBefore = kernelRanges().freePages;
  const range = reserveRange(4 * PAGE, RANGE_WRITABLE | RANGE_PROMISED, "test.retire");
  if (!check(range != 0, "a promised range of 4 pages")) return;
  store<u32>(range, 1); store<u32>(range + 2 * PAGE, 2);   // two committed, two still parked
  checkEqual(rangeContaining(range + 3 * PAGE + 100), range, "rangeContaining finds it from any page");
  checkEqual(rangeContaining(range + 4 * PAGE), range, "and from its guard page");
  checkEqual(retireRange(range), RangeError.Ok, "retired");
  check(!present(range) && kernelEntry(range + 2 * PAGE) == 0 && kernelEntry(range + PAGE) == 0, "every entry empty");
  checkEqual(pmmFreeFrames(), freeBefore, "every frame back, parked ones too");
  checkEqual(vmmCommittedPages(), committedBefore, "committed count back");
  checkEqual(vmmParkedPages(), parkedBefore, "parked count back");
  check((rangeFlags(startPage(range)) & RANGE_RETIRED) != 0, "marked retired");
  checkEqual(rangeContaining(range), range, "its space is still taken");
  checkEqual(retireRange(range), RangeError.Retired, "retiring twice is refused");
  checkEqual(retireRange(range + PAGE), RangeError.NotARange, "retiring inside a range is refused");
  checkEqual(releaseRange(range), RangeError.Ok, "released");
  checkEqual(rangeContaining(range), 0, "gone");
  checkEqual(kernelRanges().freePages, spaceBefore, "the space is free again");
  checkEqual(vrangeCheck(kernelRanges()), 0, "the range allocator's checker");
});

registerTest("vmm.range_bad_input", () => {
  const freeBefore = pmmFreeFrames();
  const area = kernelRanges();
  const freePagesBefore = area.freePages;
  checkEqual(reserveRange(0, RANGE_WRITABLE, "test.zero"), 0, "0 bytes is refused");
  checkEqual(reserveRange(0xFFFFFFFF, RANGE_WRITABLE, "test.huge"), 0, "more than the area is refused");
  checkEqual(reserveRange(PAGE, 1 << 30, "test.flags"), 0, "unknown flags are refused");
  const range = reserveRange(3 * PAGE, RANGE_WRITABLE, "test.bad_release");
  if (!check(range != 0, "reserve")) return;
  checkEqual(releaseRange(range + PAGE), RangeError.NotARange, "inside a range");
  checkEqual(releaseRange(range + 1), RangeError.NotARange, "unaligned");
  checkEqual(releaseRange(0xC0001000), RangeError.NotARange, "outside the range area");
  checkEqual(releaseRange(range + 4 * PAGE), RangeError.NotARange, "beyond the range (free space)");
  checkEqual(releaseRange(range), RangeError.Ok, "the real release");
  checkEqual(releaseRange(range), RangeError.NotARange, "a second release");
  checkEqual(area.freePages, freePagesBefore, "virtual space is back");
  checkEqual(pmmFreeFrames(), freeBefore, "no frame lost");
  checkEqual(vrangeCheck(area), 0, "range allocator invariants");
});

registerTest("vmm.range_churn", () => {
  // Many live ranges of random sizes, touched and released in random order.
  const rng = testRng();
  const count: u32 = 300;
  const live = memory.data(300 * 4, 4);
  const freeBefore = pmmFreeFrames(), freePagesBefore = kernelRanges().freePages;
  let reserved: u32 = 0;
  for (let i: u32 = 0; i < count; i++) {
    const pages = 1 + randomBelow(rng, randomBelow(rng, 4) == 0 ? 200 : 8);
    const range = reserveRange(pages * PAGE, RANGE_WRITABLE, "test.churn");
    store<u32>(live + i * 4, range);
    if (range != 0) { reserved++; store<u32>(range + randomBelow(rng, pages) * PAGE, i); }
  }
  checkEqual(reserved, count, "every reservation succeeded");
  checkEqual(vrangeCheck(kernelRanges()), 0, "invariants with many live ranges");
  for (let left = count; left > 0; left--) {
    const i = randomBelow(rng, left);
    const range = load<u32>(live + i * 4);
    store<u32>(live + i * 4, load<u32>(live + (left - 1) * 4));
    if (range != 0 && releaseRange(range) != RangeError.Ok) { check(false, "release"); return; }
  }
  checkEqual(kernelRanges().freePages, freePagesBefore, "all virtual space is back");
  checkEqual(kernelRanges().freeBlocks, 1, "merged back into one free block");
  checkEqual(pmmFreeFrames(), freeBefore, "all frames are back");
  checkEqual(vrangeCheck(kernelRanges()), 0, "invariants after releasing all");
});

// --- faults that must panic: each in its own boot, judged by the panic text --------------------

let sink: u32 = 0;
let nullAddress: usize = 0;

registerPanicTest("panic.range_guard_page", "page fault: guard page|range 0x|'test.guard'|4 bytes past the range's end", () => {
  const range = reserveRange(2 * PAGE, RANGE_WRITABLE, "test.guard");
  store<u32>(range + 2 * PAGE + 4, 1);
});

registerPanicTest("panic.range_readonly_write", "page fault: write to a read-only page|'test.ro'|read-only", () => {
  const range = reserveRange(PAGE, 0, "test.ro");
  sink = touchRead(range);          // commits the page read-only
  store<u32>(range, 1);
});

registerPanicTest("panic.range_readonly_first_write", "page fault: write to a read-only page|not-present page, write|'test.ro2'", () => {
  const range = reserveRange(PAGE, 0, "test.ro2");
  store<u32>(range, 1);             // the first touch is a write to a read-only range
});

registerPanicTest("panic.range_outside", "page fault: outside every range|range: none", () => {
  sink = touchRead(vrangeAreaStart() + (vrangeAreaPages() - 8) * PAGE);   // free virtual space
});

registerPanicTest("panic.fault_inside_mm", "page fault: inside the VMM (recursion guard)", () => {
  const range = reserveRange(PAGE, RANGE_WRITABLE, "test.busy");
  mmEnter(MmPart.Vmm);              // as if the VMM were running when the fault came
  store<u32>(range, 1);
});

// A fault on an uncommitted page in atomic context is reported, never served (it could deadlock).
registerPanicTest("panic.fault_atomic_irqs_off", "page fault: in atomic context|'test.atomic'|the fault came with interrupts off", () => {
  const range = reserveRange(PAGE, RANGE_WRITABLE, "test.atomic");
  klockIrqSave();                // as a critical section would
  store<u32>(range, 1);
});

let atomicTarget: u32 = 0;
registerPanicTest("panic.fault_atomic_in_handler", "page fault: in atomic context|'test.atomic_irq'|the fault came in an interrupt handler", () => {
  atomicTarget = reserveRange(PAGE, RANGE_WRITABLE, "test.atomic_irq");
  setInterruptHandler(VECTOR_BENCH, (frame: InterruptFrame): void => { store<u32>(atomicTarget, 1); });
  softInterruptBench();
});

registerPanicTest("panic.fault_in_handler", "page fault: in the page-fault handler itself|null pointer dereference", () => {
  const range = reserveRange(PAGE, RANGE_WRITABLE, "test.recursion");
  setFaultTestHook(changetype<usize>((): void => { sink = touchRead(nullAddress + 16); }));
  store<u32>(range, 1);
});

registerPanicTest("panic.range_out_of_memory", "page fault: out of memory|'test.oom'|overcommitted", () => {
  // Drain the PMM, then touch more pages of an overcommitted range than are left.
  const range = reserveRange(64 * PAGE, RANGE_WRITABLE, "test.oom");
  const memalloc = memallocBegin();   // (below the watermarks too: only 8 frames stay free)
  while (pmmFreeFrames() > 8) allocFrame();
  memallocEnd(memalloc);
  for (let i: u32 = 0; i < 64; i++) store<u32>(range + i * PAGE, i);
});
