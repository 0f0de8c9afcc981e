// In-kernel self-tests of the PMM on the real memory map (host tests cover the logic against a
// model; these cover what only the machine has: the loader's map, the kernel image, modules,
// and frames that must really be RAM).
import { smpBootFrames } from "../smp/start";
import { memallocBegin, memallocEnd } from "../mm/pressure";
import { arenaBootFrames } from "../mm/alloc/arena";
import { guardHeldFrames } from "../mm/alloc/guard";
import { schedBootFrames } from "../sched/scheduler";
import { processBootFrames } from "../proc/process";
import { registerTest, check, checkEqual, testTimerRate } from "./harness";
import { schedSetTickHook } from "../sched/clock";
import { pitHz } from "../arch/pit";
import { puts, putDec, putHex, newline } from "../console/console";
import {
  allocFrame, allocLowFrame, freeFrame, allocFrames, freeFrames, pmmFreeFrames, pmmFreeLowFrames,
  pmmTotalFrames, pmmReservedFrames, pmmUsableFrames, pmmLowLimitFrame, pmmFrameState, pmmFrameRunLength,
  pmmCheck, pmmReservedList, pmmMemoryMap, pmmListsMapFrames, pmmListedFrames, pmmListsDrain,
} from "../mm/phys/pmm";
import { vmmBootFrames } from "../mm/virt/vmm";
import { FrameError, FrameState, ISA_DMA_LIMIT, PHYS_LIMIT, FRAME_SIZE } from "../mm/core/frames";
import { reservedStart, reservedEnd, reservedName, reservedOverlap } from "../mm/core/reserved";
import { MemoryType, entryBase, entryLength, entryType, entryNext } from "../mm/core/memory-map";
import { lowMemoryEnd, linearVirt } from "../mm/layout";
import { linkerAddress, LinkerSymbol } from "../arch/x86";

/** Whether the loader's own map says [phys, phys + 4 KiB) is RAM: inside an available entry, touching no other. */
function mapSaysRam(phys: u32): bool {
  const map = pmmMemoryMap();
  const start = <u64>phys, end = start + FRAME_SIZE;
  let inside = false;
  for (let e = map.addr; e < map.addr + map.bytes; e = entryNext(e)) {
    const base = entryBase(e), length = entryLength(e);
    if (length == 0) continue;
    const overlaps = base < end && start < base + length;
    if (entryType(e) != MemoryType.Available) { if (overlaps) return false; }
    else if (base <= start && end <= base + length) inside = true;
  }
  return inside;
}

/** FNV-1a of every module the loader passed (through the linear map), printed and combined. */
function moduleHash(print: bool): u64 {
  const list = pmmReservedList();
  let all: u64 = 0;
  for (let i: u32 = 0; i < list.count; i++) {
    if (reservedName(list, i) != "module") continue;
    const start = <u32>reservedStart(list, i), end = <u32>reservedEnd(list, i);
    if (<u64>end > <u64>lowMemoryEnd()) continue;
    let h: u64 = 0xCBF29CE484222325;
    for (let a = start; a < end; a++) { h ^= <u64>load<u8>(linearVirt(a)); h *= 0x100000001B3; }
    if (print) {
      puts("# module at "); putHex(start); puts("-"); putHex(end); puts(", "); putDec(end - start);
      puts(" bytes, fnv1a "); putHex(h, 16); newline();
    }
    all = all * 31 + h;
  }
  return all;
}

registerTest("pmm.invariants", () => {
  checkEqual(pmmCheck(), 0, "frame allocator invariants (0 = all hold)");
  check(pmmFreeFrames() <= pmmUsableFrames(), "free frames are a subset of usable RAM");
  check(pmmUsableFrames() <= pmmTotalFrames(), "usable RAM is within the managed frames");
  checkEqual(<u64>pmmFreeFrames() + pmmReservedFrames() + pmmListsMapFrames() + vmmBootFrames() + guardHeldFrames() + schedBootFrames() + arenaBootFrames() + processBootFrames() + smpBootFrames(), pmmTotalFrames(),
    "free + reserved + the PMM's listed-frames map + the VMM's page tables and bookkeeping (+ the guard allocator's records with kfence) + the scheduler's idle thread + the interrupt arena + the processes' zero page, reference counts and reaper + the other CPUs' records and stacks = total right after boot");
});

registerTest("pmm.map_iteration", () => {
  let free: u32 = 0, allocated: u32 = 0, reservedCount: u32 = 0, runs: u32 = 0;
  const total = pmmTotalFrames();
  for (let f: u32 = 0; f < total;) {
    const n = pmmFrameRunLength(f);
    if (!check(n > 0, "every run has at least one frame")) return;
    const state = pmmFrameState(f);
    if (f + n < total) check(pmmFrameState(f + n) != state, "a run ends where the state changes");
    if (state == FrameState.Free) free += n; else if (state == FrameState.Allocated) allocated += n; else reservedCount += n;
    f += n;
    runs++;
  }
  checkEqual(free, pmmFreeFrames() - pmmListedFrames(), "free frames counted by iterating the map (CPUs' listed frames are allocated there)");
  checkEqual(reservedCount, pmmReservedFrames(), "reserved frames counted by iterating the map");
  checkEqual(<u64>free + allocated + reservedCount, total, "every frame has one state");
  checkEqual(pmmFrameState(0), FrameState.Reserved, "frame 0 is reserved");
  const kernelFrame = <u32>(linkerAddress(LinkerSymbol.KernelStart) - linearVirt(0)) >> 12;
  checkEqual(pmmFrameState(kernelFrame), FrameState.Reserved, "the kernel image is reserved");
  puts("# "); putDec(runs); puts(" runs over "); putDec(total); puts(" frames\n");
});

registerTest("pmm.bad_free", () => {
  const before = pmmFreeFrames();
  const frame = allocLowFrame();
  if (!check(frame != 0, "a low frame is available")) return;
  checkEqual(freeFrame(frame + 8), FrameError.Unaligned, "unaligned address");
  if (pmmTotalFrames() < (1 << 20)) checkEqual(freeFrame(0xFFFFF000), FrameError.OutOfRange, "address beyond managed memory");
  checkEqual(freeFrame(0), FrameError.Reserved, "frame 0");
  checkEqual(freeFrame(<u32>(linkerAddress(LinkerSymbol.KernelStart) - linearVirt(0))), FrameError.Reserved, "the kernel image");
  checkEqual(freeFrame(frame), FrameError.Ok, "the frame itself");
  checkEqual(freeFrame(frame), FrameError.DoubleFree, "the same frame again");
  checkEqual(freeFrames(frame, 2), FrameError.DoubleFree, "a run starting with a free frame");
  checkEqual(freeFrames(frame, 0), FrameError.BadRequest, "a run of no frames");
  checkEqual(pmmFreeFrames(), before, "bad frees change nothing");
  checkEqual(pmmCheck(), 0, "invariants hold after bad frees");
});

// The running CPU's list of free high frames (pmm.ts "Per-CPU frame lists"): a freed frame comes
// back first; a frame on the list is refused as a double free however deep it lies, nothing
// changed; a full list goes back to the bitmap a batch at a time; a drain empties every list.
registerTest("pmm.cpu_lists", () => {
  if (pmmFreeFrames() == pmmFreeLowFrames()) { puts("# no high memory: no lists\n"); return; }
  pmmListsDrain();
  const before = pmmFreeFrames(), listedBefore = pmmListedFrames();
  const a = allocFrame(), b = allocFrame();
  if (!check(a != 0 && b != 0 && <u64>a >= <u64>lowMemoryEnd(), "two high frames")) return;
  checkEqual(pmmFreeFrames(), before - 2, "two frames out (the list's frames count as free)");
  check(pmmListedFrames() > listedBefore, "the refill put frames on this CPU's list");
  checkEqual(freeFrame(a), FrameError.Ok, "free the first");
  checkEqual(freeFrame(b), FrameError.Ok, "free the second");
  checkEqual(freeFrame(a), FrameError.DoubleFree, "the first again, under the second on the list");
  checkEqual(freeFrame(b), FrameError.DoubleFree, "the second again, the list's newest");
  checkEqual(pmmFreeFrames(), before, "double frees change nothing");
  checkEqual(allocFrame(), b, "the newest freed frame comes back first");
  checkEqual(freeFrame(b), FrameError.Ok, "and goes back");
  // more frees than a list holds: the surplus goes back to the bitmap
  const HELD: u32 = 200;
  const held = memory.data(HELD * 4, 4);
  for (let i: u32 = 0; i < HELD; i++) store<u32>(held + i * 4, allocFrame());
  for (let i: u32 = 0; i < HELD; i++) if (freeFrame(load<u32>(held + i * 4)) != FrameError.Ok) checkEqual(i, HELD, "every free accepted");
  check(pmmListedFrames() < 64, "a list holds at most 63 frames");
  checkEqual(pmmFreeFrames(), before, "every frame back");
  pmmListsDrain();
  checkEqual(pmmListedFrames(), 0, "the drain emptied every list");
  checkEqual(pmmFreeFrames(), before, "and kept every frame");
  checkEqual(pmmCheck(), 0, "the bitmap's invariants");
});

// The PMM against the interrupts of its own CPU: a thread allocates and frees high frames
// (through its CPU's list) and low ones (through the bitmap, under the lock) in a tight loop,
// while the timer, raised to TIMER_HZ, takes a frame (high and low in turn) and frees the one it
// took on its last tick. Had a fast path left interrupts on, a tick landing between a list's
// load of its count and its store would lose a listed frame or hand one out twice; had the
// bitmap's section no lock, a tick inside a search would corrupt it: the checkers (the lists'
// marks against the frames listed, the bitmap's trees and counts) and the frame count catch it.
// Under -icount only (stress.qemu.test.ts): plain TCG takes interrupts between translated blocks.
const TIMER_HZ: u32 = 5000;
const TIMER_ROUNDS: u32 = 1000000;
let tickFrame: u32 = 0, tickRounds: u32 = 0;
function frameTick(): void {
  const next = (tickRounds & 1) == 0 ? allocFrame() : allocLowFrame();   // (taken before the old one goes back)
  if (tickFrame != 0) freeFrame(tickFrame);
  tickFrame = next;
  tickRounds++;
}
registerTest("pmm.timer_interrupts", () => {
  const before = pmmFreeFrames(), oldHz = pitHz();
  tickFrame = 0; tickRounds = 0;
  testTimerRate(TIMER_HZ);
  schedSetTickHook(changetype<usize>(frameTick));
  let refused: u32 = 0;
  for (let n: u32 = 0; n < TIMER_ROUNDS; n++) {
    const a = allocFrame(), b = allocLowFrame();
    if (freeFrame(a) != FrameError.Ok) refused++;
    if (freeFrame(b) != FrameError.Ok) refused++;
  }
  schedSetTickHook(0);
  testTimerRate(oldHz);
  if (tickFrame != 0) freeFrame(tickFrame);
  puts("# "); putDec(TIMER_ROUNDS); puts(" rounds in a thread, "); putDec(tickRounds); puts(" in timer interrupts\n");
  check(tickRounds > 100, "the timer allocated and freed too");
  checkEqual(refused, 0, "every free accepted");
  checkEqual(pmmCheck(), 0, "the bitmap's and the lists' invariants");
  checkEqual(pmmFreeFrames(), before, "every frame back");
});

registerTest("pmm.zones", () => {
  const highExists = pmmFreeFrames() > pmmFreeLowFrames();
  const any = allocFrame(), low = allocLowFrame();
  check(any != 0 && low != 0, "frames are available");
  check(<u64>low < <u64>lowMemoryEnd(), "allocLowFrame returns low memory");
  if (highExists) check(<u64>any >= <u64>lowMemoryEnd(), "allocFrame prefers high memory when there is some");
  else check(<u64>any < <u64>lowMemoryEnd(), "without high memory allocFrame returns low memory");
  checkEqual(freeFrame(any), FrameError.Ok, "free the first");
  checkEqual(freeFrame(low), FrameError.Ok, "free the second");
  puts("# low memory ends at frame "); putDec(pmmLowLimitFrame()); puts(", high memory ");
  puts(highExists ? "present\n" : "absent\n");
});

registerTest("pmm.contiguous", () => {
  const memalloc = memallocBegin();   // (the bitmap alone: a failed request must not reclaim, which would change the count)
  const before = pmmFreeFrames();
  const isa = allocFrames(16, 16, ISA_DMA_LIMIT);
  if (check(isa != 0, "64 KiB for ISA DMA below 16 MiB")) {
    checkEqual(isa & 0xFFFF, 0, "aligned to 64 KiB");
    check(<u64>isa + 16 * FRAME_SIZE <= ISA_DMA_LIMIT, "ends below 16 MiB");
    for (let i: u32 = 0; i < 16; i++) check(pmmFrameState((isa >> 12) + i) == FrameState.Allocated, "every frame allocated");
    checkEqual(freeFrames(isa, 16), FrameError.Ok, "freed as a run");
  }
  const big = allocFrames(256, 256, PHYS_LIMIT);
  if (check(big != 0, "1 MiB aligned to 1 MiB")) {
    checkEqual(big & 0xFFFFF, 0, "aligned to 1 MiB");
    for (let i: u32 = 0; i < 256; i++) {
      check(mapSaysRam(big + i * FRAME_SIZE) && reservedOverlap(pmmReservedList(), <u64>big + i * FRAME_SIZE, <u64>big + (i + 1) * FRAME_SIZE) < 0,
        "every frame of the run is RAM and not reserved");
    }
    checkEqual(freeFrames(big, 256), FrameError.Ok, "freed as a run");
  }
  const low = allocFrames(3, 0, lowMemoryEnd());
  check(low != 0 && <u64>low + 3 * FRAME_SIZE <= <u64>lowMemoryEnd(), "3 frames in low memory");
  checkEqual(freeFrames(low, 3), FrameError.Ok, "freed");
  checkEqual(allocFrames(pmmTotalFrames(), 1, PHYS_LIMIT), 0, "more frames than free memory: 0");
  checkEqual(allocFrames(4, 3, PHYS_LIMIT), 0, "an alignment that is not a power of two: 0");
  checkEqual(pmmFreeFrames(), before, "free count restored");
  memallocEnd(memalloc);
  checkEqual(pmmCheck(), 0, "invariants hold");
});

const SIGNATURE: u32 = 0x5A17F00D;

registerTest("pmm.alloc_all", () => {
  const before = pmmFreeFrames(), lowBefore = pmmFreeLowFrames(), total = pmmTotalFrames();
  const modulesBefore = moduleHash(true);
  // A bitmap of the frames handed out, itself taken from the PMM (one bit per frame).
  const seenFrames = (total + 32767) >> 15;
  const seenPhys = allocFrames(seenFrames, 1, lowMemoryEnd());
  if (!check(seenPhys != 0, "room for the test's own bitmap")) return;
  const seen = linearVirt(seenPhys);
  memory.fill(seen, 0, seenFrames * FRAME_SIZE);
  let count: u32 = 0, twice: u32 = 0, notRam: u32 = 0, reservedHit: u32 = 0, wrongZone: u32 = 0;
  const reserved = pmmReservedList();
  const memalloc = memallocBegin();   // (every frame, the watermarks' reserve too)
  for (let i: u32 = 0; ; i++) {
    const highLeft = pmmFreeFrames() > pmmFreeLowFrames();
    const wantLow = (i & 1) != 0;
    let phys = wantLow ? allocLowFrame() : allocFrame();
    if (phys != 0 && (wantLow ? <u64>phys >= <u64>lowMemoryEnd() : highLeft != (<u64>phys >= <u64>lowMemoryEnd()))) {
      if (wrongZone++ == 0) { puts("# wrong zone: "); putHex(phys); newline(); }
    }
    if (phys == 0) phys = allocFrame();
    if (phys == 0) break;
    const f = phys >> 12;
    const byte = seen + (f >> 3), bit = <u8>(<u32>1 << (f & 7));
    if ((load<u8>(byte) & bit) != 0) { if (twice++ == 0) { puts("# handed out twice: "); putHex(phys); newline(); } }
    store<u8>(byte, load<u8>(byte) | bit);
    if (!mapSaysRam(phys)) { if (notRam++ == 0) { puts("# not RAM in the loader's map: "); putHex(phys); newline(); } }
    if (reservedOverlap(reserved, phys, <u64>phys + FRAME_SIZE) >= 0) {
      if (reservedHit++ == 0) { puts("# inside a reserved range: "); putHex(phys); newline(); }
    }
    if (<u64>phys < <u64>lowMemoryEnd()) {
      store<u32>(linearVirt(phys), phys ^ SIGNATURE);
      store<u32>(linearVirt(phys) + FRAME_SIZE - 4, ~phys);
    }
    count++;
  }
  checkEqual(count, before - seenFrames, "every free frame was handed out");
  checkEqual(twice, 0, "frames handed out twice");
  checkEqual(notRam, 0, "frames that the loader's map does not call RAM");
  checkEqual(reservedHit, 0, "frames inside a reserved range (kernel, modules, multiboot data)");
  checkEqual(wrongZone, 0, "frames from the wrong zone");
  checkEqual(pmmFreeFrames(), 0, "nothing is left");
  checkEqual(allocLowFrame(), 0, "allocLowFrame when memory is exhausted");
  checkEqual(allocFrames(1, 1, PHYS_LIMIT), 0, "allocFrames when memory is exhausted");
  memallocEnd(memalloc);
  // Every low frame kept what was written to it; then give everything back.
  let corrupted: u32 = 0, freed: u32 = 0, freeErrors: u32 = 0;
  for (let f: u32 = 0; f < total; f++) {
    if ((load<u8>(seen + (f >> 3)) & (1 << (f & 7))) == 0) continue;
    const phys = f << 12;
    if (<u64>phys < <u64>lowMemoryEnd()) {
      if (load<u32>(linearVirt(phys)) != (phys ^ SIGNATURE) || load<u32>(linearVirt(phys) + FRAME_SIZE - 4) != ~phys) corrupted++;
    }
    if (freeFrame(phys) != FrameError.Ok) freeErrors++;
    freed++;
  }
  checkEqual(corrupted, 0, "low frames whose contents changed while allocated");
  checkEqual(freeErrors, 0, "frees that failed");
  checkEqual(moduleHash(false), modulesBefore, "module contents unchanged");
  checkEqual(freeFrames(seenPhys, seenFrames), FrameError.Ok, "the test's bitmap freed");
  checkEqual(pmmFreeFrames(), before, "free count back where it started");
  checkEqual(pmmFreeLowFrames(), lowBefore, "low free count back where it started");
  checkEqual(pmmCheck(), 0, "invariants hold");
  puts("# "); putDec(count); puts(" frames allocated, checked and freed ("); putDec(freed); puts(")\n");
});
