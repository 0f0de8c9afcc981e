// The kernel's transient arena: short-lived allocations that need no free. It is a bump
// allocator (bump.ts) over its own lazily committed virtual range with a guard page after it
// (vmm.ts reserveRange), so running past its end faults, and the panic names the range
// ("transient arena"), rather than corrupting a stack.
//
// Every interrupt or exception entry and every self-test (selftest/harness.ts) runs in its own
// scope: a mark taken on the way in and released on the way out (arch/idt.ts unwinds the words
// this file registers with setInterruptScope, so arch never imports mm). Scopes nest like
// the interrupts do, and an interrupt that comes during an allocation puts `top` back exactly
// as it found it. Pages once touched stay committed (the range's size bounds them).
import { BumpArena, bumpInit, bumpAlloc, bumpMark, bumpRelease } from "../core/bump";
import { reserveRange, RANGE_WRITABLE } from "../virt/vmm";
import { panic } from "../../diag/panic";
import { InterruptScope, setInterruptScope } from "../../arch/idt";

/** The arena's virtual size: committed page by page on first touch. */
export const TRANSIENT_ARENA_BYTES: u32 = 4 << 20;

const state = memory.data(offsetof<BumpArena>(), 4);
const arena = changetype<BumpArena>(state);

/** Reserves the arena's range. Call once, after vmmInit and before interrupts are enabled. */
export function transientArenaInit(): void {
  const base = reserveRange(TRANSIENT_ARENA_BYTES, RANGE_WRITABLE, "transient arena");
  if (base == 0) panic("transient arena: no virtual range");
  bumpInit(state, base, TRANSIENT_ARENA_BYTES, "transient arena");
  // the dispatcher unwinds top (and raises peak) around every interrupt: a scope per handler
  if (offsetof<BumpArena>("peak") - offsetof<BumpArena>("top") != offsetof<InterruptScope>("high")) {
    ERROR("BumpArena's top and peak must lie as InterruptScope's current and high");
  }
  setInterruptScope(state + offsetof<BumpArena>("top"));
}

/** The kernel's arena (statistics, tests). */
export function transientArena(): BumpArena { return arena; }

/** A mark of the kernel's arena: arenaRelease(mark) frees everything allocated after it. */
@inline export function arenaMark(): usize { return bumpMark(arena); }

/**
 * `size` bytes aligned to `align` (a power of two) from the kernel's arena, freed by the release
 * of the enclosing scope's mark; 0 (logged) when the arena is full. Any context (interrupts have
 * their own scopes).
 */
@inline export function arenaAlloc(size: u32, align: u32): usize { return bumpAlloc(arena, size, align); }

/** Frees everything allocated from the kernel's arena since `mark` (a bad mark is logged and ignored). */
@inline export function arenaRelease(mark: usize): void { bumpRelease(arena, mark); }
