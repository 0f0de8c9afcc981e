// The transient arenas: short-lived allocations that need no free. Each is a bump allocator
// (bump.ts) over a virtual range of its own with a guard page after it (vmm.ts reserveRange), so
// running past its end faults, and the panic names the range, rather than corrupting a stack.
//
// One arena per context (docs/arena.md, docs/threads.md):
//
//   the boot thread   "transient arena", TRANSIENT_ARENA_BYTES, committed page by page on first
//                     touch (thread context)
//   each new thread   "thread arena", THREAD_ARENA_BYTES, committed when the thread is made
//                     (threadArenaCreate) and released when it is joined
//   interrupts        "interrupt arena", INTERRUPT_ARENA_BYTES, committed at boot: a fault in a
//                     handler could never be served (mm/virt/fault.ts)
//
// `current` names the running context's arena: the scheduler switches it with the thread
// (arenaSwitch), and the interrupt dispatcher (arch/idt.ts) switches it to the interrupt arena
// around every handler and unwinds that arena's top: every interrupt or exception runs in a scope
// of its own, as every self-test does (selftest/harness.ts), and scopes nest like interrupts.
// arenaAlloc, arenaMark and arenaRelease work on `current` and may be called from any context.
import { BumpArena, bumpInit, bumpAlloc, bumpMark, bumpRelease } from "../core/bump";
import { reserveRange, releaseRange, rangeCommitted, RANGE_WRITABLE, RANGE_PROMISED } from "../virt/vmm";
import { rangeDecommitAbove } from "../virt/commit";
import { registerShrinker } from "./shrink";
import { vrangeAreaStart } from "../layout";
import { panic } from "../../diag/panic";
import { InterruptScope, setInterruptScope } from "../../arch/idt";
import { cpuLoad, cpuStore } from "../../arch/x86";
import { CPU_ARENA } from "../../arch/percpu";

/** The boot thread's arena: committed page by page on first touch. */
export const TRANSIENT_ARENA_BYTES: u32 = 4 << 20;
/** Each new thread's arena, committed when the thread is made. */
export const THREAD_ARENA_BYTES: u32 = 32 << 10;
/** The interrupt handlers' arena, committed at boot. */
export const INTERRUPT_ARENA_BYTES: u32 = 64 << 10;
/** Bytes of an arena's control block (a thread record holds its own). */
export const ARENA_BYTES: u32 = offsetof<BumpArena>();

const PAGE: u32 = 4096;
const bootState = memory.data(ARENA_BYTES, 4);
const bootArena = changetype<BumpArena>(bootState);
const interruptState = memory.data(ARENA_BYTES, 4);
const interruptArena = changetype<BumpArena>(interruptState);
// The running context's arena (a BumpArena's address) is the running CPU's CPU_ARENA word
// (arch/percpu.ts), which the interrupt dispatcher swaps around handlers (arch/idt.ts).
@inline function current(): BumpArena { return changetype<BumpArena>(cpuLoad(CPU_ARENA)); }

/** Commits [base, base + bytes) by touching each page. Thread context. */
function commitPages(base: usize, bytes: u32): void {
  for (let page = base; page < base + bytes; page += PAGE) store<u32>(page, 0);
}

/**
 * Reserves the boot thread's arena and the interrupt arena (committed now). Call once, after
 * vmmInit and before interrupts are enabled.
 */
export function transientArenaInit(): void {
  const base = reserveRange(TRANSIENT_ARENA_BYTES, RANGE_WRITABLE, "transient arena");
  if (base == 0) panic("transient arena: no virtual range");
  bumpInit(bootState, base, TRANSIENT_ARENA_BYTES, "transient arena");
  cpuStore(CPU_ARENA, <u32>bootState);
  if (!interruptArenaCreate(interruptState)) panic("interrupt arena: no virtual range");
  interruptArenaUse(interruptState);
  registerShrinker("transient arena (pages above its top)", arenaReclaimable, arenaShrink);
}

/**
 * Makes an interrupt arena in the control block at `at` (ARENA_BYTES): INTERRUPT_ARENA_BYTES,
 * committed now (a fault in a handler could never be served). False when no range or frames
 * could be had. Thread context: the bootstrap processor's at boot, the others' before they start.
 */
export function interruptArenaCreate(at: usize): bool {
  const irq = reserveRange(INTERRUPT_ARENA_BYTES, RANGE_WRITABLE | RANGE_PROMISED, "interrupt arena");
  if (irq == 0) return false;
  commitPages(irq, INTERRUPT_ARENA_BYTES);
  bumpInit(at, irq, INTERRUPT_ARENA_BYTES, "interrupt arena");
  return true;
}

/** The running CPU's handlers use the interrupt arena at `at` (interruptArenaCreate). Its bring-up, interrupts off. */
export function interruptArenaUse(at: usize): void {
  // the dispatcher unwinds the interrupt arena's top (and raises its peak) around every handler
  if (offsetof<BumpArena>("peak") - offsetof<BumpArena>("top") != offsetof<InterruptScope>("high")) {
    ERROR("BumpArena's top and peak must lie as InterruptScope's current and high");
  }
  setInterruptScope(at + offsetof<BumpArena>("top"), at);
}

// --- giving memory back (mm/alloc/shrink.ts) --------------------------------------------------
//
// The boot thread's arena commits pages as a scope first touches them and keeps them when the
// scope releases its mark; reclaim takes back those above the arena's top (the next touch
// commits a zeroed page again). The interrupt arena and the threads' arenas are promised (their
// frames are taken up front so a touch can never fail): they give nothing back.

/** Pages the boot thread's arena has committed (frames it holds). Any context. */
export function arenaCommittedPages(): u32 { return rangeCommitted(<u32>(bootArena.base - vrangeAreaStart()) >> 12); }

/** Pages the boot thread's arena has committed above its top now. Any context (an estimate). */
function arenaReclaimable(): u32 {
  const inUse = <u32>((bootArena.top - bootArena.base + PAGE - 1) >> 12), committed = arenaCommittedPages();
  return committed > inUse ? committed - inUse : 0;
}

/** Decommits the boot thread's arena above its top. Thread context. */
function arenaShrink(pages: u32): void {
  rangeDecommitAbove(<u32>bootArena.base, TRANSIENT_ARENA_BYTES, bootState + offsetof<BumpArena>("top"));
}

/** Frames the arenas committed at boot (the interrupt arena's). */
export function arenaBootFrames(): u32 { return INTERRUPT_ARENA_BYTES >> 12; }

/** The boot thread's arena (statistics, tests). */
export function transientArena(): BumpArena { return bootArena; }
/** The interrupt handlers' arena (statistics, tests). */
export function interruptArenaOf(): BumpArena { return interruptArena; }
/** The running context's arena. Any context. */
export function currentArena(): BumpArena { return current(); }

/**
 * Makes a thread's arena in the control block at `at` (ARENA_BYTES): reserves and commits
 * THREAD_ARENA_BYTES. False when no range or frames could be had (the VMM logs it). Thread context.
 */
export function threadArenaCreate(at: usize): bool {
  // promised: its frames are taken now (or the reservation fails: no memory), so the commit
  // below never runs out of memory in the fault handler
  const base = reserveRange(THREAD_ARENA_BYTES, RANGE_WRITABLE | RANGE_PROMISED, "thread arena");
  if (base == 0) return false;
  commitPages(base, THREAD_ARENA_BYTES);
  bumpInit(at, base, THREAD_ARENA_BYTES, "thread arena");
  return true;
}

/** Gives a thread's arena (threadArenaCreate) back: its range and frames. Thread context. */
export function threadArenaDestroy(arena: BumpArena): void { releaseRange(<u32>arena.base); }

/**
 * Makes `arena` (a BumpArena's address) the running context's. The scheduler, on every switch
 * (interrupts off).
 */
@inline export function arenaSwitch(arena: usize): void { cpuStore(CPU_ARENA, <u32>arena); }

/** The boot thread's arena's address, for the boot and idle threads' records. */
export function bootArenaAddress(): usize { return bootState; }

/** A mark of the running context's arena: arenaRelease(mark) frees everything allocated after it. Any context. */
@inline export function arenaMark(): usize { return bumpMark(current()); }

/**
 * `size` bytes aligned to `align` (a power of two) from the running context's arena, freed by
 * the release of the enclosing scope's mark; 0 (logged) when the arena is full. Any context
 * (a thread's and the interrupt arena are committed: no page fault).
 */
@inline export function arenaAlloc(size: u32, align: u32): usize { return bumpAlloc(current(), size, align); }

/** Frees everything allocated from the running context's arena since `mark` (a bad mark is logged and ignored). Any context. */
@inline export function arenaRelease(mark: usize): void { bumpRelease(current(), mark); }
