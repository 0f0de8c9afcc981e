// concurrency.stress: WORKERS threads and the timer interrupt (raised to STRESS_HZ) allocate and
// free at once, through every allocator the issue says is safe in any context:
//
//   worker threads   kmalloc (16 B .. 64 KiB), a kmem cache, single frames (high from the CPU's
//                    list, and low from the bitmap), DMA chunks, and
//                    ranges (reserved, touched page by page: lazy faults, released)
//   the timer tick   kmalloc, the kmem cache, frames and DMA chunks, IRQ_OPS each tick, but never
//                    more than one for every TICK_SHARE of the threads' (so the work is the same
//                    however fast the machine runs against the clock)
//
//   the mailbox      a thread's operation is, one time in HANDOFF_ONE_IN, a swap of one of its
//                    objects with a mailbox entry's (under the kernel lock): objects move between
//                    threads, so with smp=on one allocated on one CPU is often freed on another
//   processes        a thread runs user programs (`forkloop`: fork, exit, wait) one after
//                    another for as long as the workers run, at most one for every
//                    OPS_PER_PROCESS of their operations: page tables, process records and user
//                    pages come and go on every CPU too (when the programs are booted)
//
// Every object is filled with a pattern tied to its owner and its allocation (a tag) and checked
// before it is freed; a worker every CHECK_EVERY operations runs the heap's, the slabs', the
// PMM's and the DMA pool's checkers with interrupts off (no other thread and no interrupt runs
// meanwhile). At the end every frame is back. Each worker's generator is seeded from the test's
// seed; under `-icount` the timer ticks at the same instructions every run, so the interleaving,
// and the digest of every operation's result, follow from the seed (test/selftest/stress.qemu.test.ts
// runs it twice). `concurrency.stress` (test=all) makes STRESS_OPS operations;
// `concurrency.stress_long` (on demand: `make run APPEND="test=concurrency.stress_long watchdog=900"`)
// ten times as many.
import { framesNow } from "./frames";
import { registerTest, registerOnDemandTest, check, checkEqual, testRng, testTimerRate, testTimeout, testBaseSeed } from "./harness";
import { puts, putDec, putHex, newline } from "../console/console";
import { pitHz } from "../arch/pit";
import { rdtsc } from "../arch/x86";
import { klockIrqSave, klockIrqRestore, klockStarted } from "../arch/klock";
import { Random, randomSeed, randomNext, randomBelow } from "../lib/random";
import { kmalloc, kfree, kmallocCheck, kmallocHeldFrames } from "../mm/alloc/kmalloc";
import { kmemCacheCreate, kmemCacheAlloc, kmemCacheFree, kmemCacheDestroy } from "../mm/alloc/caches";
import { dmaPoolCreate, dmaPoolDestroy, dmaPoolAlloc, dmaPoolFree } from "../mm/alloc/dma";
import { allocFrame, allocLowFrame, freeFrame, pmmFreeFrames, pmmCheck } from "../mm/phys/pmm";
import { reserveRange, releaseRange, RANGE_WRITABLE, RANGE_PROMISED, RangeError } from "../mm/virt/vmm";
import { DmaPool, dmaPoolCheck } from "../mm/core/buddy";
import { SlabCache } from "../mm/core/slab/cache";
import { AllocError } from "../mm/core/alloc-error";
import { FrameError, PHYS_LIMIT } from "../mm/core/frames";
import { linearVirt, lowMemoryEnd } from "../mm/layout";
import { threadCreate, threadCreateStopped, threadRelease, threadSetAffinity, threadJoin, threadYield } from "../sched/scheduler";
import { schedSetTickHook, threadSleep } from "../sched/clock";
import { schedSwitches } from "../sched/listing";
import { Thread } from "../sched/thread";
import { start } from "./process";
import { processWaitKernel } from "../proc/process";
import { findProgram } from "../proc/exec";
import { cpuRecords, cpusScheduling } from "../arch/percpu";

const WORKERS: u32 = 8;
const SLOTS: u32 = 48;            // live objects per worker
const IRQ_SLOTS: u32 = 32;        // live objects of the tick
const IRQ_OPS: u32 = 4;           // operations per tick
const TICK_SHARE: u32 = 64;       // the tick's operations: at most one per this many of the threads'
const OPS_PER_PROCESS: u32 = 16384;   // processes started: at most one per this many thread operations
const STRESS_OPS: u32 = 1000000;  // worker operations in concurrency.stress (the tick's come on top)
const STRESS_HZ: u32 = 4000;
const STRESS_SECONDS: u32 = 60;   // its watchdog: 8 * 10^9 instructions with kmalloc=guard (a guard object per kmalloc)
const CHECK_EVERY: u32 = 4096;
const CACHE_OBJECT: u32 = 96;
const MAILBOX: u32 = 16;          // mailbox entries
const HANDOFF_ONE_IN: u32 = 16;   // a thread's operations that are swaps with the mailbox
const PROCESS_ROUNDS: i64 = 8;    // forks each forkloop makes
const DMA_PAGES: u32 = 64;

const enum Kind { None = 0, Kmalloc = 1, Cache = 2, Frame = 3, Dma = 4, Range = 5 }

// A live object: what it is, where, how big, and the tag its pattern is made from.
@unmanaged class Slot { kind: u32; ptr: usize; size: u32; tag: u32; }
const SLOT_BYTES: u32 = offsetof<Slot>();

// A worker's state (the tick has one too): its generator, slots and counters.
@unmanaged class Worker {
  rng: u64;         // (a Random in place)
  digest: u64;      // of every operation's kind, address and size
  id: u32;
  ops: u32;         // operations to make
  done: u32;        // operations made
  failures: u32;    // allocations refused (no memory: allowed, counted)
  corrupt: u32;     // patterns found broken (must stay 0)
  refused: u32;     // frees refused (must stay 0)
  seq: u32;         // allocations made (the tag's low bits)
  handoffs: u32;    // swaps with the mailbox
  fastPaths: bool;  // concurrency.scaling's mix: small kmallocs, the cache and frames only
  slots: usize;     // SLOTS (or IRQ_SLOTS) Slot records
  capacity: u32;
}
const WORKER_BYTES: u32 = offsetof<Worker>();
const workerBlock = memory.data((WORKERS + 1) * WORKER_BYTES, 8);
const slotBlock = memory.data(WORKERS * SLOTS * SLOT_BYTES + IRQ_SLOTS * SLOT_BYTES, 8);
const threads = memory.data(WORKERS * 4, 4);
const mailbox = memory.data(MAILBOX * SLOT_BYTES, 8);
const FORKLOOP = memory.data<u8>([0x66, 0x6F, 0x72, 0x6B, 0x6C, 0x6F, 0x6F, 0x70]);   // "forkloop"

let cache: SlabCache = changetype<SlabCache>(0);
let pool: DmaPool = changetype<DmaPool>(0);
let checks: u32 = 0, checkFailures: u32 = 0;

@inline function workerAt(i: u32): Worker { return changetype<Worker>(workerBlock + i * WORKER_BYTES); }
@inline function slotAt(w: Worker, i: u32): Slot { return changetype<Slot>(w.slots + i * SLOT_BYTES); }
@inline function rngOf(w: Worker): Random { return changetype<Random>(changetype<usize>(w)); }
@inline function mix(w: Worker, value: u64): void { w.digest = (w.digest ^ value) * 0x100000001B3; }

// The pattern: the words of small objects, and of large ones the first and last 64 bytes and a
// word every 512 (whole fills of 64 KiB objects would be most of the run).
@inline function patternWord(tag: u32, offset: u32): u32 { return tag ^ (offset * 0x9E3779B1); }
function patternWalk(p: usize, size: u32, tag: u32, write: bool): bool {
  const words = size >> 2;
  if (size <= 256) return patternWords(p, 0, words, tag, write);
  const tail = (size - 64 + 3) >> 2;   // the first word of the last 64 bytes
  if (!patternWords(p, 0, 16, tag, write) || !patternWords(p, tail, words, tag, write)) return false;
  for (let offset: u32 = 512; offset < size - 64; offset += 512) {
    if (!patternWords(p, offset >> 2, (offset >> 2) + 1, tag, write)) return false;
  }
  return true;
}

/** Writes, or checks, the pattern's words [from, to) of the object at `p`. */
function patternWords(p: usize, from: u32, to: u32, tag: u32, write: bool): bool {
  for (let i = from; i < to; i++) {
    const offset = i << 2;
    if (write) store<u32>(p + offset, patternWord(tag, offset));
    else if (load<u32>(p + offset) != patternWord(tag, offset)) return false;
  }
  return true;
}

/** A size from 16 B to 64 KiB, every power of two equally likely. */
function kmallocSize(rng: Random): u32 {
  const low = <u32>16 << randomBelow(rng, 12);
  return low + randomBelow(rng, low);
}

/** Allocates an object of `kind` into `slot` (a range only from a thread); false when refused. */
function allocate(w: Worker, slot: Slot, kind: Kind): bool {
  const rng = rngOf(w);
  let p: usize = 0, size: u32 = 0;
  if (kind == Kind.Kmalloc) { size = w.fastPaths ? <u32>16 << randomBelow(rng, 5) : kmallocSize(rng); p = kmalloc(size); }
  else if (kind == Kind.Cache) { size = CACHE_OBJECT; p = kmemCacheAlloc(cache); }
  else if (kind == Kind.Frame) { size = 4096; p = randomBelow(rng, 4) == 0 ? allocLowFrame() : allocFrame(); }   // (the CPU's list, or the bitmap)
  else if (kind == Kind.Dma) { size = <u32>16 << randomBelow(rng, 9); p = dmaPoolAlloc(pool, size); }
  else { size = (1 + randomBelow(rng, 4)) << 12; p = reserveRange(size, RANGE_WRITABLE | RANGE_PROMISED, "stress range"); }
  mix(w, (<u64>kind << 56) | (<u64>size << 32) | <u64>p);
  if (p == 0) { w.failures++; return false; }
  const tag = (w.id << 24) | (w.seq++ & 0xFFFFFF);
  slot.kind = kind; slot.ptr = p; slot.size = size; slot.tag = tag;
  patternWalk(objectAddress(slot), objectBytes(slot), tag, true);   // (a range: its lazy faults)
  return true;
}

/** Where an object's pattern lies (a frame: through the linear map). */
@inline function objectAddress(slot: Slot): usize { return slot.kind == Kind.Frame ? linearVirt(<u32>slot.ptr) : slot.ptr; }
/** How much of it carries the pattern: a frame above the linear map (high memory) carries none. */
@inline function objectBytes(slot: Slot): u32 { return slot.kind == Kind.Frame && <u32>slot.ptr >= lowMemoryEnd() ? 0 : slot.size; }

/** Checks the pattern of the object in `slot` and frees it. */
function release(w: Worker, slot: Slot): void {
  if (!patternWalk(objectAddress(slot), objectBytes(slot), slot.tag, false)) {
    w.corrupt++;
    puts("# stress: the pattern of "); putHex(slot.ptr); puts(" ("); putDec(slot.size); puts(" bytes, kind ");
    putDec(slot.kind); puts(", tag "); putHex(slot.tag); puts(") was overwritten\n");
  }
  let ok = true;
  const kind = slot.kind;
  if (kind == Kind.Kmalloc) ok = kfree(slot.ptr) == AllocError.Ok;
  else if (kind == Kind.Cache) ok = kmemCacheFree(cache, slot.ptr) == AllocError.Ok;
  else if (kind == Kind.Frame) ok = freeFrame(<u32>slot.ptr) == FrameError.Ok;
  else if (kind == Kind.Dma) ok = dmaPoolFree(pool, slot.ptr) == AllocError.Ok;
  else ok = releaseRange(<u32>slot.ptr) == RangeError.Ok;
  if (!ok) w.refused++;
  mix(w, slot.ptr);
  slot.kind = Kind.None;
}

/** Swaps the object in `slot` (or its emptiness) with a random mailbox entry's: another thread may free it. Thread context. */
function handOff(w: Worker, slot: Slot): void {
  const box = changetype<Slot>(mailbox + randomBelow(rngOf(w), MAILBOX) * SLOT_BYTES);
  const flags = klockIrqSave();
  const kind = box.kind, ptr = box.ptr, size = box.size, tag = box.tag;
  box.kind = slot.kind; box.ptr = slot.ptr; box.size = slot.size; box.tag = slot.tag;
  slot.kind = kind; slot.ptr = ptr; slot.size = size; slot.tag = tag;
  klockIrqRestore(flags);
  w.handoffs++;
}

/** One operation: a random slot's object is freed, or a new one of a random kind allocated there (or, in a thread, swapped with the mailbox). */
function step(w: Worker, fromThread: bool): void {
  const rng = rngOf(w);
  const slot = slotAt(w, randomBelow(rng, w.capacity));
  const pick = randomBelow(rng, 64);
  if (fromThread && !w.fastPaths && randomBelow(rng, HANDOFF_ONE_IN) == 0) handOff(w, slot);
  else if (slot.kind != Kind.None) release(w, slot);
  else {
    let kind: Kind;
    if (w.fastPaths) kind = pick < 32 ? Kind.Kmalloc : pick < 52 ? Kind.Cache : Kind.Frame;
    else kind = pick < 30 ? Kind.Kmalloc : pick < 44 ? Kind.Cache : pick < 54 ? Kind.Frame : pick < 63 || !fromThread ? Kind.Dma : Kind.Range;
    allocate(w, slot, kind);
  }
  w.done++;
}

/** Every checker, with interrupts off: nothing else runs meanwhile. */
function checkAll(): void {
  const flags = klockIrqSave();
  const bad = kmallocCheck() != 0 || pmmCheck() != 0 || (changetype<usize>(pool) != 0 && dmaPoolCheck(pool) != 0);
  klockIrqRestore(flags);
  checks++;
  if (bad) { checkFailures++; puts("# stress: a checker failed during the run\n"); }
}

/** Frees every object `w` still holds. */
function releaseAll(w: Worker): void {
  for (let i: u32 = 0; i < w.capacity; i++) if (slotAt(w, i).kind != Kind.None) release(w, slotAt(w, i));
}

function workerMain(arg: usize): void {
  const w = changetype<Worker>(arg);
  for (let n: u32 = 0; n < w.ops; n++) {
    step(w, true);
    if (w.id == 1 && n % CHECK_EVERY == CHECK_EVERY - 1) checkAll();
    if ((n & 1023) == 1023) threadYield();   // (preemption interleaves them too)
  }
  releaseAll(w);
}

/**
 * The operations the worker threads have made so far (read while they run: a budget, not a
 * count). Without the budgets it sets, a machine slow against the timer (plain TCG on a loaded
 * host) gave the tick and the processes a larger share the slower it ran, until the stress
 * outran the watchdog.
 */
function threadOpsDone(): u32 {
  let n: u32 = 0;
  for (let i: u32 = 0; i < WORKERS; i++) n += workerAt(i).done;
  return n;
}

// The process runner: user programs one after another while the workers run, within budget.
let processesRun: u32 = 0, processFailures: u32 = 0;
function processRunner(arg: usize): void {
  while (load<u32>(runningCell) != 0) {
    if (processesRun > threadOpsDone() / OPS_PER_PROCESS) { threadSleep(1); continue; }
    const p = start("forkloop", PROCESS_ROUNDS);
    if (p == null) { processFailures++; return; }
    if (processWaitKernel(p) != 0) processFailures++;
    processesRun++;
  }
}
const runningCell = memory.data(4, 4);   // (read in a loop on another CPU: a load each time)

function tick(): void {
  const w = workerAt(WORKERS);
  const budget = threadOpsDone() / TICK_SHARE + IRQ_OPS;
  for (let i: u32 = 0; i < IRQ_OPS && w.done < budget; i++) step(w, false);
}

function setUp(w: Worker, id: u32, ops: u32, slots: usize, capacity: u32, seed: u64): void {
  memory.fill(changetype<usize>(w), 0, WORKER_BYTES);
  randomSeed(rngOf(w), seed);
  w.digest = 0xCBF29CE484222325;
  w.id = id; w.ops = ops; w.slots = slots; w.capacity = capacity;
  memory.fill(slots, 0, capacity * SLOT_BYTES);
}

function stress(ops: u32): void {
  testTimeout(STRESS_SECONDS);
  const framesBefore = framesNow();
  const madeCache = kmemCacheCreate("stress", CACHE_OBJECT, 0, 0);
  const madePool = dmaPoolCreate(DMA_PAGES, PHYS_LIMIT);
  if (!check(madeCache != null && madePool != null, "a kmem cache and a DMA pool")) return;
  cache = madeCache!; pool = madePool!;
  checks = 0; checkFailures = 0;
  const rng = testRng();
  for (let i: u32 = 0; i < WORKERS; i++) setUp(workerAt(i), i + 1, ops / WORKERS, slotBlock + i * SLOTS * SLOT_BYTES, SLOTS, randomNext(rng));
  const tickWorker = workerAt(WORKERS);
  setUp(tickWorker, 0xFF, 0, slotBlock + WORKERS * SLOTS * SLOT_BYTES, IRQ_SLOTS, randomNext(rng));
  const oldHz = pitHz(), switchesBefore = schedSwitches(), start = rdtsc();
  testTimerRate(STRESS_HZ);
  schedSetTickHook(changetype<usize>(tick));
  memory.fill(mailbox, 0, MAILBOX * SLOT_BYTES);
  processesRun = 0; processFailures = 0;
  const withProcesses = findProgram(FORKLOOP, 8) >= 0;
  store<u32>(runningCell, 1);
  const runner = withProcesses ? threadCreate("stress-processes", processRunner, 0) : null;
  let made: u32 = 0;
  for (let i: u32 = 0; i < WORKERS; i++) {
    const t = threadCreate("stress", workerMain, changetype<usize>(workerAt(i)));
    store<usize>(threads + i * 4, t == null ? 0 : changetype<usize>(t));
    if (t != null) made++;
  }
  for (let i: u32 = 0; i < WORKERS; i++) {
    const t = load<usize>(threads + i * 4);
    if (t != 0) threadJoin(changetype<Thread>(t));
  }
  const workersEnd = rdtsc();
  store<u32>(runningCell, 0);
  if (runner != null) threadJoin(runner);
  schedSetTickHook(0);
  testTimerRate(oldHz);
  releaseAll(tickWorker);
  for (let i: u32 = 0; i < MAILBOX; i++) {
    const box = changetype<Slot>(mailbox + i * SLOT_BYTES);
    if (box.kind != Kind.None) release(tickWorker, box);
  }
  checkAll();
  const instructions = rdtsc() - start;

  let digest: u64 = 0xCBF29CE484222325, done: u64 = 0, failures: u32 = 0, corrupt: u32 = 0, refused: u32 = 0, handoffs: u32 = 0;
  for (let i: u32 = 0; i <= WORKERS; i++) {
    const w = workerAt(i);
    digest = (digest ^ w.digest) * 0x100000001B3;
    done += w.done; failures += w.failures; corrupt += w.corrupt; refused += w.refused; handoffs += w.handoffs;
  }
  const workerTicks = workersEnd - start;
  puts("# stress: "); putDec(made); puts(" threads, "); putDec(done - tickWorker.done); puts(" thread operations and ");
  putDec(tickWorker.done); puts(" in timer interrupts, "); putDec(schedSwitches() - switchesBefore); puts(" switches, ");
  putDec(checks); puts(" checker runs, "); putDec(failures); puts(" allocations refused, ");
  putDec(instructions); puts(" instructions (rdtsc: exact under -icount)\n");
  puts("# stress: "); putDec(handoffs); puts(" handoffs through the mailbox, "); putDec(processesRun); puts(" processes run ("); putDec(processFailures); puts(" failed) on ");
  putDec(cpuRecords()); puts(klockStarted() ? " CPUs scheduling\n" : " CPUs, one scheduling\n");
  puts("# stress: throughput "); putDec(<u64>(done - tickWorker.done) * 1000000 / (workerTicks != 0 ? workerTicks : 1));
  puts(" thread operations per million rdtsc ticks ("); putDec(workerTicks); puts(" ticks from the first worker's start to the last one's end)\n");
  puts("# stress: digest "); putHex(digest, 16); puts(" (seed "); putDec(testBaseSeed()); puts(")\n");
  checkEqual(made, WORKERS, "every worker thread was made");
  checkEqual(done - tickWorker.done, <u64>(ops / WORKERS) * WORKERS, "every worker made its operations");
  check(tickWorker.done > 0, "the timer interrupt allocated and freed too");
  checkEqual(corrupt, 0, "no object's pattern was overwritten (no object handed out twice)");
  checkEqual(refused, 0, "no free was refused (no double free, no lost object)");
  check(handoffs > 0, "objects moved between threads through the mailbox");
  checkEqual(processFailures, 0, "every process ran to a good end");
  if (withProcesses) check(processesRun > 0, "processes ran meanwhile");
  checkEqual(checkFailures, 0, "every checker run passed, during the run and at its end");
  check(kmemCacheDestroy(cache), "the kmem cache is empty at the end");
  check(dmaPoolDestroy(pool), "the DMA pool is empty at the end");
  checkEqual(framesNow(), framesBefore, "every frame is back");
}

// concurrency.scaling (on demand: scripts/scaling.ts boots it at 1, 2 and 4 CPUs under MTTCG):
// a worker pinned to each CPU that schedules, SCALING_OPS operations each, of the mix the
// per-CPU caches serve without the kernel lock (kmalloc of 16-256 bytes, the kmem cache, single
// frames), patterns checked, every checker at the end. Its throughput against the stress's says
// what the per-CPU caches scale and what the kernel lock holds back.
const SCALING_OPS: u32 = 500000;
function workerPinned(arg: usize): void {
  const w = changetype<Worker>(arg);
  for (let n: u32 = 0; n < w.ops; n++) step(w, true);
  releaseAll(w);
}
registerOnDemandTest("concurrency.scaling", () => {
  const cpus = cpusScheduling();
  const framesBefore = framesNow();
  const madeCache = kmemCacheCreate("scaling", CACHE_OBJECT, 0, 0);
  if (!check(madeCache != null, "a kmem cache")) return;
  cache = madeCache!; pool = changetype<DmaPool>(0);   // (no DMA in this mix)
  checks = 0; checkFailures = 0;
  const rng = testRng();
  for (let i: u32 = 0; i < cpus; i++) {
    setUp(workerAt(i), i + 1, SCALING_OPS, slotBlock + i * SLOTS * SLOT_BYTES, SLOTS, randomNext(rng));
    workerAt(i).fastPaths = true;
  }
  let made: u32 = 0;
  for (let i: u32 = 0; i < cpus; i++) {
    const t = threadCreateStopped("scaling", workerPinned, changetype<usize>(workerAt(i)));
    store<usize>(threads + i * 4, t == null ? 0 : changetype<usize>(t));
    if (t == null) continue;
    threadSetAffinity(t, 1 << i);
    made++;
  }
  const start = rdtsc();
  for (let i: u32 = 0; i < cpus; i++) { const t = load<usize>(threads + i * 4); if (t != 0) threadRelease(changetype<Thread>(t)); }
  for (let i: u32 = 0; i < cpus; i++) { const t = load<usize>(threads + i * 4); if (t != 0) threadJoin(changetype<Thread>(t)); }
  const ticks = rdtsc() - start;
  checkAll();
  let done: u64 = 0, corrupt: u32 = 0, refused: u32 = 0;
  for (let i: u32 = 0; i < cpus; i++) { const w = workerAt(i); done += w.done; corrupt += w.corrupt; refused += w.refused; }
  puts("# scaling: "); putDec(made); puts(" workers, one pinned to each CPU, "); putDec(done); puts(" operations in ");
  putDec(ticks); puts(" rdtsc ticks\n# scaling: throughput "); putDec(done * 1000000 / (ticks != 0 ? ticks : 1));
  puts(" operations per million rdtsc ticks\n");
  checkEqual(made, cpus, "a worker for every CPU");
  checkEqual(done, <u64>SCALING_OPS * cpus, "every worker made its operations");
  checkEqual(corrupt, 0, "no object's pattern was overwritten");
  checkEqual(refused, 0, "no free was refused");
  checkEqual(checkFailures, 0, "every checker passed");
  check(kmemCacheDestroy(cache), "the kmem cache is empty at the end");
  checkEqual(framesNow(), framesBefore, "every frame is back");
});

registerTest("concurrency.stress", () => { stress(STRESS_OPS); });
registerOnDemandTest("concurrency.stress_long", () => { stress(STRESS_OPS * 10); });
