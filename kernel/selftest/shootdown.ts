// smp.stale_tlb: a stale TLB entry is never used (docs/smp.md, "TLB shootdown"). A reader thread
// on CPU 1 reads a kernel page in a loop, through probeRead (a read that may fault), while the
// test thread on CPU 0 unmaps the page, frees its frame, takes the frame back and writes a new
// owner's tag into it. Had CPU 1 kept the old entry, it would read the new tag through the old
// address; with the shootdown, every read after the unmap faults.
//
//   round r:  CPU 0                                     CPU 1 (the reader, in a loop)
//             frame <- OLD_TAG + r; map page -> frame    read the page: OLD_TAG + r -> ack = r
//             wait for ack = r (CPU 1's TLB holds it)
//             unmap (the shootdown), free the frame
//             take a frame (the same one, mostly),        read the page: must fault; NEW_TAG
//               NEW_TAG + r written into it                would be the stale entry used
//             wait for 4 more faults, free the frame
//
// Two ways to take the page away, alternately: kernelUnmap of a fixed-mapping page (one
// invlpg's shootdown), and vfree of a two-page vmalloc range read at its second page (a batch:
// a whole flush at its end).
import { registerTest, check, checkEqual, skipTest } from "./harness";
import { probeRead, cpuRelax } from "../arch/x86";
import { cpusScheduling } from "../arch/percpu";
import { allocFrame, freeFrame } from "../mm/phys/pmm";
import { FrameError } from "../mm/core/frames";
import { kernelMap, kernelUnmap, kernelTranslate } from "../mm/virt/vmm";
import { PagingError, PAGE_WRITABLE, NOT_MAPPED } from "../mm/virt/paging";
import { vmalloc, vfree } from "../mm/alloc/vmalloc";
import { fixmapAddress, FixmapSlot, lowMemoryEnd, linearVirt } from "../mm/layout";
import { threadCreateStopped, threadRelease, threadSetAffinity, threadJoin, threadYield } from "../sched/scheduler";
import { uptimeMilliseconds } from "../arch/pit";
import { puts, putDec, newline } from "../console/console";

/** Rounds: ROUNDS, or as many as fit in BUDGET_MS of uptime but at least MIN_ROUNDS. Under
 *  -icount a wait lasts until QEMU turns to the other CPU (up to a timer tick's instructions);
 *  under multi-threaded TCG the 400 take well under a second. */
const ROUNDS: u32 = 400, MIN_ROUNDS: u32 = 16;
const BUDGET_MS: u64 = 1000;
const OLD_TAG: u32 = 0x51000000, NEW_TAG: u32 = 0xA5000000, TAG_MASK: u32 = 0xFF000000;
/** Rounds before a wait gives up (the reader runs on another CPU: it answers within a few). */
const WAIT_LIMIT: u32 = 20_000_000;
const PROBE_PAGE: u32 = fixmapAddress(FixmapSlot.TlbProbe);
const SCRATCH_PAGE: u32 = fixmapAddress(FixmapSlot.TestScratch);

// What the two threads share (each word written by one of them only).
const shared = memory.data(40, 4);
const TARGET: u32 = 0;       // writer: the address to read (0: none yet)
const STOP: u32 = 4;         // writer: the reader ends its loop
const ACK: u32 = 8;          // reader: the last round whose OLD tag it read through the page
const FAULTS: u32 = 12;      // reader: reads that faulted
const READS: u32 = 16;       // reader: reads made
const STALE: u32 = 20;       // reader: NEW tags read (a stale entry used)
const STALE_ROUND: u32 = 24; // reader: the first such round
const ODD: u32 = 28;         // reader: values that are neither tag
/** Rounds whose page's frame came back to the test (the usual case: the free lists are LIFO). */
let reused: u32 = 0;

function reader(arg: usize): void {
  const value = memory.data(4, 4);
  while (load<u32>(shared + STOP) == 0) {
    const target = load<u32>(shared + TARGET);
    if (target == 0) { threadYield(); continue; }
    store<u32>(shared + READS, load<u32>(shared + READS) + 1);
    if (!probeRead(target, value)) { store<u32>(shared + FAULTS, load<u32>(shared + FAULTS) + 1); continue; }
    const v = load<u32>(value);
    if ((v & TAG_MASK) == OLD_TAG) store<u32>(shared + ACK, v & ~TAG_MASK);
    else if ((v & TAG_MASK) == NEW_TAG) {
      if (load<u32>(shared + STALE) == 0) store<u32>(shared + STALE_ROUND, v & ~TAG_MASK);
      store<u32>(shared + STALE, load<u32>(shared + STALE) + 1);
    } else store<u32>(shared + ODD, load<u32>(shared + ODD) + 1);
  }
}

/**
 * Waits until the reader's word at `offset` reaches `target`; false if it never does. It spins
 * with `pause` (under round-robin TCG, the other CPUs' turn) and yields now and then: a loop of
 * yields alone takes the kernel lock so often that, under -icount, the reader's CPU waiting for
 * it in a timer tick gets a look only once a turn.
 */
function waitReader(offset: u32, target: u32): bool {
  for (let i: u32 = 0; i < WAIT_LIMIT; i++) {
    if (<i32>(load<u32>(shared + offset) - target) >= 0) return true;
    cpuRelax();
    if ((i & 63) == 63) threadYield();
  }
  return false;
}

/** Writes `value` into every word of frame `phys` (through the linear map, or a fixed mapping for a high frame). */
function fillFrame(phys: u32, value: u32): void {
  let at: usize = linearVirt(phys);
  if (phys >= lowMemoryEnd()) { kernelMap(SCRATCH_PAGE, phys, PAGE_WRITABLE); at = SCRATCH_PAGE; }
  for (let i: u32 = 0; i < 4096; i += 4) store<u32>(at + i, value);
  if (phys >= lowMemoryEnd()) kernelUnmap(SCRATCH_PAGE);
}

/** After the page is gone: the frames it mapped, taken again and written with NEW tags, while the reader faults. */
function reuseWhileReaderFaults(round: u32, gone0: u32, gone1: u32, count: u32): bool {
  const faults = load<u32>(shared + FAULTS);
  const a = allocFrame(), b = count > 1 ? allocFrame() : 0;
  if (!check(a != 0 && (count == 1 || b != 0), "frames to reuse")) return false;
  fillFrame(a, NEW_TAG | round);
  if (b != 0) fillFrame(b, NEW_TAG | round);
  if (a == gone0 || a == gone1 || b == gone0 || b == gone1) reused++;
  const ok = waitReader(FAULTS, faults + 4);
  checkEqual(freeFrame(a), FrameError.Ok, "the reused frame goes back");
  if (b != 0) checkEqual(freeFrame(b), FrameError.Ok, "the second one too");
  return check(ok, "the reader's reads fault once the page is gone");
}

/** One round through a fixed mapping: kernelUnmap's single shootdown. */
function roundFixed(round: u32): bool {
  const frame = allocFrame();
  if (!check(frame != 0, "a frame")) return false;
  fillFrame(frame, OLD_TAG | round);
  if (!checkEqual(kernelMap(PROBE_PAGE, frame, PAGE_WRITABLE), PagingError.Ok, "map the page")) return false;
  store<u32>(shared + TARGET, PROBE_PAGE);
  if (!check(waitReader(ACK, round), "the reader read the page (its TLB holds it)")) return false;
  checkEqual(kernelUnmap(PROBE_PAGE), frame, "unmap");
  checkEqual(freeFrame(frame), FrameError.Ok, "free its frame");
  return reuseWhileReaderFaults(round, frame, frame, 1);
}

/** One round through a vmalloc range: vfree's batch, a whole flush at its end. */
function roundRange(round: u32): bool {
  const p = vmalloc(8192);
  if (!check(p != 0, "a two-page vmalloc range")) return false;
  const first = <u32>kernelTranslate(<u32>p), second = <u32>kernelTranslate(<u32>p + 4096);
  if (!check(kernelTranslate(<u32>p) != NOT_MAPPED && kernelTranslate(<u32>p + 4096) != NOT_MAPPED, "committed")) return false;
  for (let i: u32 = 0; i < 8192; i += 4) store<u32>(p + i, OLD_TAG | round);
  store<u32>(shared + TARGET, <u32>p + 4096);
  if (!check(waitReader(ACK, round), "the reader read the range (its TLB holds it)")) return false;
  check(vfree(p), "vfree");
  return reuseWhileReaderFaults(round, first, second, 2);
}

registerTest("smp.stale_tlb", () => {
  if (cpusScheduling() < 2) { skipTest("needs a second CPU that schedules (boot with -smp 2 or more and smp=on)"); return; }
  memory.fill(shared, 0, 40);
  reused = 0;
  const t = threadCreateStopped("tlb-reader", reader, 0);
  if (!check(t != null, "the reader thread")) return;
  check(threadSetAffinity(t!, 1 << 1), "pinned to CPU 1");
  threadRelease(t!);
  let rounds: u32 = 0, failed = false;
  const deadline = uptimeMilliseconds() + BUDGET_MS;
  for (let r: u32 = 1; r <= ROUNDS && (r <= MIN_ROUNDS || uptimeMilliseconds() < deadline); r++) {
    if (!((r & 1) != 0 ? roundFixed(r) : roundRange(r))) { failed = true; break; }
    rounds++;
  }
  store<u32>(shared + TARGET, 0);
  store<u32>(shared + STOP, 1);
  threadJoin(t!);
  const stale = load<u32>(shared + STALE);
  puts("# "); putDec(rounds); puts(" rounds, "); putDec(load<u32>(shared + READS)); puts(" reads, ");
  putDec(load<u32>(shared + FAULTS)); puts(" faulted; the frame reused in "); putDec(reused); puts(" rounds\n");
  if (stale != 0) { puts("# stale entry used: a NEW tag read "); putDec(stale); puts(" times, first in round "); putDec(load<u32>(shared + STALE_ROUND)); newline(); }
  check(!failed && rounds >= MIN_ROUNDS, "every round ran");
  checkEqual(stale, 0, "no read went through a stale entry");
  checkEqual(load<u32>(shared + ODD), 0, "every value read was a tag");
  check(reused * 2 >= rounds, "the frames were reused in most rounds");
});
