// slab.parts_under_interrupts: the object caches' fast paths run with preemption off and
// interrupts on, which is safe only because a hardware interrupt's handler works on its CPU's
// interrupt part, never on the thread part an interrupted fast path is in the middle of
// (mm/core/slab/cache-layout.ts, arch/context.ts irqPartsEnter).
//
//   two threads on the CPU the timer ticks on   kmalloc(64) and a kmem cache object, a tag
//                                               written into each and checked before the free,
//                                               in a tight loop (preemption lands anywhere in it)
//   the timer, raised to TIMER_HZ               the same two kinds, tagged and checked, freeing
//                                               the pair it took on its last tick
//
// Had a handler used the thread part, a tick inside a fast path would hand out an object twice
// or lose one; had a fast path been preemptible, so would a switch to the other thread inside
// it: a tag found overwritten, a free refused, or the checker says so. The tick also notes the
// part it used, which must be its CPU's interrupt part. Under -icount only can a tick land inside
// a fast path's few instructions (test/selftest/stress.qemu.test.ts boots it so).
import { registerTest, check, checkEqual, testTimerRate, testRng } from "./harness";
import { framesNow } from "./frames";
import { puts, putDec } from "../console/console";
import { pitHz } from "../arch/pit";
import { atomicFetchAdd, atomicExchange } from "../arch/x86";
import { randomBelow } from "../lib/random";
import { cpuIndex, cpuCachePart } from "../arch/percpu";
import { kmalloc, kfree, kmallocCheck, kmallocWithoutSampling } from "../mm/alloc/kmalloc";
import { kmemCacheCreate, kmemCacheAlloc, kmemCacheFree, kmemCacheDestroy } from "../mm/alloc/caches";
import { SlabCache, CACHE_IRQ_PART, cacheCpuOffset } from "../mm/core/slab/cache";
import { AllocError } from "../mm/core/alloc-error";
import { schedSetTickHook } from "../sched/clock";
import { threadCreateStopped, threadSetAffinity, threadRelease, threadJoin } from "../sched/scheduler";

const TIMER_HZ: u32 = 5000;
const ROUNDS: u32 = 200000;          // per thread, at least
// and on until the timer has had TICK_ROUNDS of its own: how many ticks a fixed number of rounds
// sees depends on the host's speed (without -icount the timer follows the host's clock), and
// faster fast paths made 400,000 rounds see fewer than 100 on a loaded machine. MAX_ROUNDS bounds
// it, so a timer that never runs still fails the check below.
const TICK_ROUNDS: u32 = 200;
const MAX_ROUNDS: u32 = 16 * ROUNDS;
const OBJECT: u32 = 64;

let cache: SlabCache = changetype<SlabCache>(0);
let broken: u32 = 0, refused: u32 = 0, tickRounds: u32 = 0, wrongPart: u32 = 0;
const threadRounds = memory.data(4, 4);   // rounds both threads made, for the log line
let tickObject: usize = 0, tickCached: usize = 0;

/** Takes a tagged pair, or checks and frees one; counts what it finds wrong. */
function checkAndFree(p: usize, q: usize, tag: u32): void {
  if (load<u32>(p) != tag || load<u32>(q) != ~tag) broken++;
  if (kfree(p) != AllocError.Ok) refused++;
  if (kmemCacheFree(cache, q) != AllocError.Ok) refused++;
}

function tick(): void {
  const expected = changetype<usize>(cache) + cacheCpuOffset(cpuIndex()) + CACHE_IRQ_PART;
  if (changetype<usize>(cpuCachePart(cache)) != expected) wrongPart++;
  const tag = 0xA0000000 | tickRounds;
  const p = kmalloc(OBJECT), q = kmemCacheAlloc(cache);
  if (p == 0 || q == 0) { broken++; return; }
  store<u32>(p, tag); store<u32>(q, ~tag);
  if (tickObject != 0) checkAndFree(tickObject, tickCached, 0xA0000000 | (tickRounds - 1));
  tickObject = p; tickCached = q;
  tickRounds++;
}

function worker(id: usize): void {
  let n: u32 = 0;
  for (; n < ROUNDS || (tickRounds < TICK_ROUNDS && n < MAX_ROUNDS); n++) {
    const tag = (<u32>id << 24) | n;
    const p = kmalloc(OBJECT), q = kmemCacheAlloc(cache);
    if (p == 0 || q == 0) { broken++; return; }
    store<u32>(p, tag); store<u32>(q, ~tag);
    checkAndFree(p, q, tag);
  }
  atomicFetchAdd(threadRounds, n);   // (the two threads may end on either side of a switch)
}

function partsUnderInterrupts(): void {
  const before = framesNow(), oldHz = pitHz();
  const made = kmemCacheCreate("parts", OBJECT, 0, 0);
  if (!check(made != null, "a kmem cache")) return;
  cache = made!;
  broken = 0; refused = 0; tickRounds = 0; wrongPart = 0; tickObject = 0; tickCached = 0; store<u32>(threadRounds, 0);
  const a = threadCreateStopped("parts-a", worker, 1), b = threadCreateStopped("parts-b", worker, 2);
  if (!check(a != null && b != null, "two threads")) return;
  // both on the CPU the PIT interrupts (the bootstrap processor's): the tick and a switch
  // between them can land in either one's fast path
  threadSetAffinity(a!, 1); threadSetAffinity(b!, 1);
  testTimerRate(TIMER_HZ);
  schedSetTickHook(changetype<usize>(tick));
  threadRelease(a!); threadRelease(b!);
  threadJoin(a!); threadJoin(b!);
  schedSetTickHook(0);
  testTimerRate(oldHz);
  if (tickObject != 0) checkAndFree(tickObject, tickCached, 0xA0000000 | (tickRounds - 1));
  puts("# "); putDec(load<u32>(threadRounds)); puts(" rounds in two threads, "); putDec(tickRounds); puts(" in timer interrupts\n");
  check(tickRounds > 100, "the timer allocated and freed too");
  checkEqual(wrongPart, 0, "every tick used its CPU's interrupt part");
  checkEqual(broken, 0, "no tag overwritten (no object handed out twice)");
  checkEqual(refused, 0, "every free accepted");
  checkEqual(kmallocCheck(), 0, "the heap's and the slabs' invariants");
  check(kmemCacheDestroy(cache), "the kmem cache is empty at the end");
  checkEqual(framesNow(), before, "every frame is back");
}

registerTest("slab.parts_under_interrupts", () => { kmallocWithoutSampling(partsUnderInterrupts); });

// slab.direct_frees_under_interrupts: on one CPU a free outside the CPU's active slab goes
// straight to its slab (mm/core/slab/cache-free.ts freeInSlabSlow), under the cores' section
// (mm/core/section.ts: interrupts off), not the regions' lock; and an interrupt handler's frees
// of the same cache's objects do the same, on the same slabs.
//
//   a thread      POOL objects of a kmem cache (a few slabs); each round frees one at random
//                 (outside its active slab, mostly: the direct path) and takes another, and
//                 leaves one more in a hand-off word when the word is empty
//   the timer     frees the object in the hand-off word (the thread's, on one of its slabs:
//                 the direct path, in the handler), and allocates and frees one of its own
//
// Had the section left interrupts on, a tick landing between the thread's read of a slab's free
// list and its write would lose the object the handler pushed there, or a count: the checker,
// the cache's destroy (objects still counted in use) or a refused free says so.
const DIRECT_TIMER_HZ: u32 = 20000;
const DIRECT_TICKS: u32 = 2000;       // rounds go on until the timer has had this many
const DIRECT_MAX_ROUNDS: u32 = 4000000;
const POOL: u32 = 256;                // four slabs of 64-byte objects
const pool = memory.data(POOL * 4, 4);
const handoff = memory.data(4, 4);
let directTicks: u32 = 0, tickOwn: usize = 0;

function directTick(): void {
  const given = atomicExchange(handoff, 0);
  if (given != 0 && kmemCacheFree(cache, given) != AllocError.Ok) refused++;
  const own = kmemCacheAlloc(cache);
  if (own == 0) broken++;
  if (tickOwn != 0 && kmemCacheFree(cache, tickOwn) != AllocError.Ok) refused++;
  tickOwn = own;
  directTicks++;
}

function directFrees(): void {
  const before = framesNow(), oldHz = pitHz(), rng = testRng();
  const made = kmemCacheCreate("direct", OBJECT, 0, 0);
  if (!check(made != null, "a kmem cache")) return;
  cache = made!;
  broken = 0; refused = 0; directTicks = 0; tickOwn = 0; store<u32>(handoff, 0);
  for (let i: u32 = 0; i < POOL; i++) store<usize>(pool + i * 4, kmemCacheAlloc(cache));
  testTimerRate(DIRECT_TIMER_HZ);
  schedSetTickHook(changetype<usize>(directTick));
  let rounds: u32 = 0;
  for (; directTicks < DIRECT_TICKS && rounds < DIRECT_MAX_ROUNDS; rounds++) {
    const slot = pool + randomBelow(rng, POOL) * 4;
    if (kmemCacheFree(cache, load<usize>(slot)) != AllocError.Ok) refused++;
    const fresh = kmemCacheAlloc(cache);
    if (fresh == 0) { broken++; break; }
    store<usize>(slot, fresh);
    if (load<u32>(handoff) == 0) {
      const spare = kmemCacheAlloc(cache);
      if (spare != 0 && atomicExchange(handoff, <u32>spare) != 0) broken++;   // (only the tick empties it)
    }
  }
  schedSetTickHook(0);
  testTimerRate(oldHz);
  const left = atomicExchange(handoff, 0);
  if (left != 0 && kmemCacheFree(cache, left) != AllocError.Ok) refused++;
  if (tickOwn != 0 && kmemCacheFree(cache, tickOwn) != AllocError.Ok) refused++;
  for (let i: u32 = 0; i < POOL; i++) if (kmemCacheFree(cache, load<usize>(pool + i * 4)) != AllocError.Ok) refused++;
  puts("# "); putDec(rounds); puts(" rounds in a thread, "); putDec(directTicks); puts(" in timer interrupts\n");
  check(directTicks >= DIRECT_TICKS, "the timer freed the thread's objects too");
  checkEqual(broken, 0, "every allocation succeeded");
  checkEqual(refused, 0, "every free accepted");
  checkEqual(kmallocCheck(), 0, "the heap's and the slabs' invariants");
  check(kmemCacheDestroy(cache), "the kmem cache is empty at the end");
  checkEqual(framesNow(), before, "every frame is back");
}

registerTest("slab.direct_frees_under_interrupts", () => { kmallocWithoutSampling(directFrees); });
