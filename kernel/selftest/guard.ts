// Self-tests of the guard-page debug allocator (kernel/mm/alloc/guard.ts) and kmalloc's sampling into
// it, and (panic tests, one boot each) the three misuses it exists to catch, judged by their
// panic text. The host tests check placement, the slack pattern and the quarantine ring.
import { framesNow } from "./frames";
import { touchRead } from "../arch/x86";
import { registerTest, registerOnDemandTest, registerPanicTest, check, checkEqual, testRng } from "./harness";
import { randomBelow } from "../lib/random";
import { pmmFreeFrames } from "../mm/phys/pmm";
import { kernelEntry, kernelRanges, rangeContaining, rangeFlags, RANGE_RETIRED } from "../mm/virt/vmm";
import { PAGE_PRESENT } from "../mm/virt/paging";
import { vrangeAreaStart } from "../mm/layout";
import { guardAlloc, guardFree, guardSize, guardOwns, guardStats, guardQuarantined, guardDrainQuarantine, GUARD_QUARANTINE } from "../mm/alloc/guard";
import { guardPatternByte } from "../mm/core/guard-layout";
import {
  kmalloc, kfree, ksize, krealloc, kmallocAligned, kmallocHeldFrames, kmallocSetSampling, kmallocSampling, kmallocSampled,
} from "../mm/alloc/kmalloc";

import { arenaAlloc } from "../mm/alloc/arena";
import { AllocError } from "../mm/core/alloc-error";
import { alignUp } from "../lib/bits";

const PAGE: u32 = 4096;
@inline function present(virt: u32): bool { return (kernelEntry(virt) & PAGE_PRESENT) != 0; }
@inline function retired(first: u32): bool { return (rangeFlags((first - vrangeAreaStart()) >> 12) & RANGE_RETIRED) != 0; }

registerTest("guard.placement", () => {
  const sizes: StaticArray<u32> = [1, 13, 16, 64, 100, 2048, 4095, 4096, 4097, 10000, 70000];
  const aligns: StaticArray<u32> = [16, 8, 64, 4096];
  let wrong: u32 = 0, count: u32 = 0;
  const baseline = framesNow();
  for (let a = 0; a < aligns.length; a++) {
    for (let s = 0; s < sizes.length; s++) {
      const size = sizes[s], align = aligns[a];
      const p = <u32>guardAlloc(size, align);
      if (p == 0) { wrong++; continue; }
      count++;
      const end = p + alignUp(size, align);
      if ((p & (align - 1)) != 0 || (end & (PAGE - 1)) != 0) wrong++;          // aligned, against the guard page
      if (rangeContaining(end) != rangeContaining(p)) wrong++;               // the guard page is the range's own
      if (guardSize(p) != size || !guardOwns(p) || !guardOwns(end)) wrong++;
      for (let i: u32 = 0; i < size; i++) if (load<u8>(p + i) != 0) { wrong++; break; }   // zeroed
      if (present(end) || !present(p) || !present(end - 1)) wrong++;           // the next page is the unmapped guard
      const first = rangeContaining(p);
      if (first > p || p - first >= PAGE) wrong++;                             // less than a page of slack
      if (p > first && <u32>load<u8>(p - 1) != guardPatternByte(p - 1)) wrong++;   // slack holds the pattern
      if (end > p + size && <u32>load<u8>(p + size) != guardPatternByte(p + size)) wrong++;
      memory.fill(p, 0x5A, size);                                             // all of it is usable
      if (guardFree(p) != AllocError.Ok) wrong++;
      if (!retired(first) || present(first) || present(end - 1)) wrong++;    // retired: unmapped, space kept
    }
  }
  checkEqual(wrong, 0, "aligned objects ending at the guard page, zeroed, slack patterned, retired when freed");
  checkEqual(count, sizes.length * aligns.length, "every request served");
  checkEqual(framesNow(), baseline, "every frame back in the PMM at free");
  checkEqual(guardAlloc(0, 16), 0, "size 0: 0");
  checkEqual(guardAlloc(16, 3), 0, "alignment not a power of two: 0");
  checkEqual(guardAlloc(16, 8192), 0, "alignment above a page: 0");
  checkEqual(guardAlloc(0xFFFFFFF0, 16), 0, "more than the area holds: 0");
});

registerTest("guard.bad_frees", () => {
  const stats = guardStats();
  const p = guardAlloc(100, 16), q = guardAlloc(64, 16);
  if (!check(p != 0 && q != 0, "two allocations")) return;
  store<u8>(p, 7);
  const refused = stats.refused, live = stats.live;
  checkEqual(guardFree(p + 16), AllocError.Interior, "an interior pointer");
  checkEqual(guardFree(p - 16), AllocError.Interior, "a pointer into the slack");
  checkEqual(guardFree(arenaAlloc(16, 16)), AllocError.Foreign, "a pointer in another range (the transient arena)");
  checkEqual(guardFree(0xC0100000), AllocError.Foreign, "a pointer outside the range area");
  checkEqual(stats.refused, refused + 4, "each refusal counted");
  checkEqual(stats.live, live, "nothing freed");
  checkEqual(load<u8>(p), 7, "the allocation untouched");
  checkEqual(guardFree(p), AllocError.Ok, "then the real free");
  checkEqual(guardFree(p), AllocError.DoubleFree, "a double free (in quarantine)");
  checkEqual(kfree(q + 8), AllocError.Interior, "kfree of a guard interior pointer");
  checkEqual(kfree(q), AllocError.Ok, "kfree of a guard object");
  checkEqual(kfree(q), AllocError.DoubleFree, "kfree of it again");
  checkEqual(stats.refused, refused + 7, "the kfree refusals counted by the guard allocator");
});

const quarantineTable = memory.data((GUARD_QUARANTINE + 10) * 4, 4);

registerTest("guard.quarantine", () => {
  guardDrainQuarantine();
  const area = kernelRanges();
  const freePages = area.freePages, freeFrames = framesNow();
  const extra: u32 = 10;
  const held = quarantineTable;
  for (let i: u32 = 0; i < GUARD_QUARANTINE + extra; i++) store<u32>(held + i * 4, <u32>guardAlloc(32, 16));
  for (let i: u32 = 0; i < GUARD_QUARANTINE + extra; i++) guardFree(load<u32>(held + i * 4));
  checkEqual(guardQuarantined(), GUARD_QUARANTINE, "the quarantine is full");
  let released: u32 = 0, kept: u32 = 0;
  for (let i: u32 = 0; i < GUARD_QUARANTINE + extra; i++) {
    const p = load<u32>(held + i * 4);
    if (i < extra) { if (rangeContaining(p) == 0 || !retired(rangeContaining(p))) released++; }   // (or reused by a newer one)
    else if (retired(rangeContaining(p)) && !present(p)) kept++;
  }
  checkEqual(released, extra, "the oldest frees were released");
  checkEqual(kept, GUARD_QUARANTINE, "the newest stay retired and unmapped");
  checkEqual(framesNow(), freeFrames, "quarantined ranges hold no frames");
  guardDrainQuarantine();
  checkEqual(area.freePages, freePages, "drained: every page of address space back");
});

const samplingTable = memory.data(100 * 4, 4);

registerTest("guard.kfence_sampling", () => {
  const before = kmallocSampling(), sampled = kmallocSampled();
  const held = samplingTable;
  kmallocSetSampling(4);
  let guarded: u32 = 0;
  for (let i: u32 = 0; i < 100; i++) {
    const p = kmalloc(32 + i);
    store<usize>(held + i * 4, p);
    if (guardOwns(p)) guarded++;
  }
  kmallocSetSampling(before);
  checkEqual(guarded, 25, "one allocation in 4 came from guard pages");
  checkEqual(kmallocSampled() - sampled, 25, "and was counted");
  let wrong: u32 = 0;
  for (let i: u32 = 0; i < 100; i++) if (kfree(load<usize>(held + i * 4)) != AllocError.Ok) wrong++;
  checkEqual(wrong, 0, "kfree takes both kinds");
  kmallocSetSampling(0);
  const p = kmalloc(64);
  check(!guardOwns(p), "off: nothing sampled");
  kfree(p);
  kmallocSetSampling(before);
});

/** kmalloc=guard: every kmalloc family call works on guard objects (run by a boot test). */
registerOnDemandTest("guard.every_kmalloc", () => {
  checkEqual(kmallocSampling(), 1, "booted with kmalloc=guard");
  const rng = testRng();
  const aligned = kmallocAligned(64 * 4, 64);
  check(guardOwns(aligned), "kmallocAligned too");
  checkEqual(aligned & 63, 0, "aligned as asked");
  let wrong: u32 = 0;
  const table = kmalloc(64 * 8);
  for (let i: u32 = 0; i < 64; i++) {
    const size: u32 = 1 + randomBelow(rng, randomBelow(rng, 4) == 0 ? 20000 : 300);
    const p = kmalloc(size);
    if (p == 0 || !guardOwns(p) || ksize(p) != size) wrong++;
    memory.fill(p, <u8>i, size);
    store<usize>(table + i * 8, p); store<u32>(table + i * 8 + 4, size);
  }
  checkEqual(wrong, 0, "every allocation is a guard object of the size asked for");
  for (let i: u32 = 0; i < 64; i += 2) {
    const p = load<usize>(table + i * 8), size = load<u32>(table + i * 8 + 4);
    const grown = krealloc(p, size + 100);
    if (grown == 0 || grown == p || !guardOwns(grown) || load<u8>(grown + size - 1) != <u8>i) wrong++;
    store<usize>(table + i * 8, grown);
  }
  checkEqual(wrong, 0, "krealloc moves a guard object and keeps its contents");
  for (let i: u32 = 0; i < 64; i++) if (kfree(load<usize>(table + i * 8)) != AllocError.Ok) wrong++;
  checkEqual(wrong, 0, "every guard object freed");
  kfree(table);
  kfree(aligned);
});

// --- the misuses: each must end in a panic that names what happened ----------------------------

let sink: u32 = 0;

registerPanicTest("guard.overflow_faults", "page fault: guard page|guard allocation: object 0x|of 64 bytes|, live|object + 64: 1 bytes past its end", () => {
  kmallocSetSampling(1);
  const p = kmalloc(64);
  store<u8>(p + 63, 1);                 // the last byte is the object's
  sink = touchRead(p + 64);             // one byte past it: the guard page
});

registerPanicTest("guard.write_after_free", "page fault: use after free|guard allocation: object 0x|of 48 bytes|freed (in quarantine)|object + 8 (inside it)", () => {
  kmallocSetSampling(1);
  const p = kmalloc(48);
  kfree(p);
  store<u32>(p + 8, 0xDEAD);
});

registerPanicTest("guard.underflow_caught_at_free", "guard allocator: the slack before an object was overwritten (an underflow)|object - 1)|caught at free", () => {
  kmallocSetSampling(1);
  const p = kmalloc(100);
  store<u8>(p - 1, 0x41);
  kfree(p);
});

registerPanicTest("guard.gap_overflow_caught_at_free", "guard allocator: the gap after an object was overwritten (an overflow)|object + 61, 1 bytes past its end|caught at free", () => {
  kmallocSetSampling(1);
  const p = kmalloc(61);               // 16-aligned: 3 bytes of gap before the guard page
  store<u8>(p + 61, 0x41);
  kfree(p);
});
