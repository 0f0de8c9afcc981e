// Self-tests of the kernel's transient arena (kernel/mm/alloc/arena.ts over bump.ts): scopes for tests
// and interrupts, the lazily committed range, and (a panic test) its guard page. The host tests
// check the bump allocator against a model.
import { registerTest, registerPanicTest, check, checkEqual } from "./harness";
import { softInterruptBench } from "../arch/x86";
import { setInterruptHandler, VECTOR_BENCH, emptyHandler } from "../arch/idt";
import { InterruptFrame } from "../arch/frame";
import { arenaMark, arenaAlloc, arenaRelease, transientArena, TRANSIENT_ARENA_BYTES } from "../mm/alloc/arena";

let fromInterrupt: usize = 0;
function allocatingHandler(frame: InterruptFrame): void { fromInterrupt = arenaAlloc(100, 16); store<u8>(fromInterrupt, 1); }

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
  // an interrupt's allocations end with it
  const before = arena.top;
  setInterruptHandler(VECTOR_BENCH, allocatingHandler);
  softInterruptBench();
  setInterruptHandler(VECTOR_BENCH, emptyHandler);
  check(fromInterrupt >= before, "the handler allocated from the arena");
  checkEqual(arena.top, before, "the interrupt's scope was released on the way out");
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
