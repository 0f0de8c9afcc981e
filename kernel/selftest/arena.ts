// Self-tests of the kernel's transient arena (kernel/mm/alloc/arena.ts over bump.ts): scopes for tests
// and interrupts, the lazily committed range, and (a panic test) its guard page. The host tests
// check the bump allocator against a model.
import { registerTest, registerPanicTest, check, checkEqual } from "./harness";
import { softInterruptBench } from "../arch/x86";
import { setInterruptHandler, VECTOR_BENCH, emptyHandler } from "../arch/idt";
import { InterruptFrame } from "../arch/frame";
import {
  arenaMark, arenaAlloc, arenaRelease, transientArena, interruptArenaOf, currentArena, TRANSIENT_ARENA_BYTES, THREAD_ARENA_BYTES,
} from "../mm/alloc/arena";
import { threadCreate, threadJoin, threadYield } from "../sched/scheduler";

let fromInterrupt: usize = 0, interruptTop: usize = 0;
function allocatingHandler(frame: InterruptFrame): void {
  fromInterrupt = arenaAlloc(100, 16);
  store<u8>(fromInterrupt, 1);   // (committed at boot: a fault here would panic as atomic)
  interruptTop = interruptArenaOf().top;
}

registerTest("arena.scopes", () => {
  const arena = transientArena();
  const start = arenaMark();
  const a = arenaAlloc(10, 1), b = arenaAlloc(16, 16), c = arenaAlloc(100, 4096);
  check(a != 0 && b != 0 && c != 0, "three allocations");
  checkEqual(b & 15, 0, "16-aligned");
  checkEqual(c & 4095, 0, "4096-aligned");
  check(b >= a + 10 && c >= b + 16, "one after the other");
  memory.fill(a, 0x11, 10); memory.fill(c, 0x33, 100);   // the pages commit on first touch
  // a nested scope frees only what came after its mark
  const inner = arenaMark();
  const d = arenaAlloc(5000, 8);
  check(d >= c + 100, "the inner scope allocates after");
  arenaRelease(inner);
  checkEqual(arenaAlloc(8, 8), (inner + 7) & ~(<usize>7), "the inner scope's memory is reused");
  // an interrupt allocates from the interrupt arena, and its allocations end with it
  const before = arena.top;
  const irq = interruptArenaOf(), irqBefore = irq.top;
  setInterruptHandler(VECTOR_BENCH, allocatingHandler);
  softInterruptBench();
  setInterruptHandler(VECTOR_BENCH, emptyHandler);
  check(fromInterrupt >= irq.base && fromInterrupt + 100 <= irq.limit, "the handler allocated from the interrupt arena");
  checkEqual(interruptTop, fromInterrupt + 100, "past its allocation while it ran");
  checkEqual(irq.top, irqBefore, "the interrupt's scope was released on the way out");
  checkEqual(arena.top, before, "the thread's arena was not touched");
  checkEqual(changetype<usize>(currentArena()), changetype<usize>(arena), "and is the running context's arena again");
  // a stale mark is refused and changes nothing
  const errors = arena.errors, top = arena.top;
  arenaRelease(arena.top + 64);
  checkEqual(arena.errors, errors + 1, "a mark above top is refused");
  checkEqual(arena.top, top, "and nothing changed");
  // past the end: 0, nothing changed
  checkEqual(arenaAlloc(TRANSIENT_ARENA_BYTES, 8), 0, "more than the arena holds: 0");
  checkEqual(arena.top, top, "nothing taken");
  arenaRelease(start);
});

// Each thread has an arena of its own (committed when it is made), switched with the thread.
let threadArenaSeen: usize = 0, threadAllocation: usize = 0, threadTopAfterYield: usize = 0;
let threadArenaBase: usize = 0, threadArenaLimit: usize = 0;   // (copied: the arena's control block goes with the thread's record)
registerTest("arena.per_thread", () => {
  const mine = currentArena(), myTop = mine.top;
  const kept = arenaAlloc(64, 8);
  const t = threadCreate("arena-user", (arg: usize): void => {
    const arena = currentArena();
    threadArenaSeen = changetype<usize>(arena);
    threadArenaBase = arena.base; threadArenaLimit = arena.limit;
    threadAllocation = arenaAlloc(1000, 8);
    memory.fill(threadAllocation, 0x5A, 1000);   // committed: no fault
    threadYield();                                // the boot thread runs between
    threadTopAfterYield = arena.top;
  }, 0);
  check(t != null, "a thread");
  if (t == null) return;
  threadYield();
  check(changetype<usize>(currentArena()) == changetype<usize>(mine), "the boot thread's arena is its own again after a switch");
  check(arenaAlloc(64, 8) == kept + 64, "and allocates on from where it was");
  check(threadJoin(t), "joined");
  check(threadArenaSeen != changetype<usize>(mine), "the thread had another arena");
  checkEqual(threadAllocation, (threadArenaBase + 7) & ~(<usize>7), "its first allocation was its arena's first bytes");
  checkEqual(threadTopAfterYield, threadAllocation + 1000, "its arena kept its top across the switch");
  checkEqual(<u32>(threadArenaLimit - threadArenaBase), THREAD_ARENA_BYTES, "of THREAD_ARENA_BYTES");
  check(myTop <= mine.top, "the boot thread's arena was not released under it");
});

registerTest("arena.leak_in_a_test", () => {
  // allocates and does not release: the harness's scope must
  check(arenaAlloc(3000, 8) != 0, "an allocation left behind");
});

registerTest("arena.test_scopes_released", () => {
  const arena = transientArena();
  checkEqual(arena.top, arena.base, "every earlier test's allocations were released with its scope");
});

registerPanicTest("arena.overflow_faults", "page fault: guard page|transient arena|bytes past the range's end", () => {
  const p = arenaAlloc(TRANSIENT_ARENA_BYTES - 16, 8);
  store<u8>(p, 1);                       // commit the first page
  store<u64>(p + TRANSIENT_ARENA_BYTES - 16 + 8 + 16, 0xDEAD);   // past the end: the guard page
});
