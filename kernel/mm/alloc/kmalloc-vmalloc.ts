// kmalloc's large blocks when contiguous low memory is short: a request above the heap's large
// threshold (64 KiB) that the heap cannot serve (its pages must be one physically contiguous run
// in low memory) is served by vmalloc instead, from any free frames, so a large allocation never
// fails while enough frames are free. kfree, ksize and krealloc know these blocks by a table:
//
//   table[i]   +0 the block's address (page-aligned; bit 0 set: freed in atomic context, its
//                 vfree waits for thread context), 0 for a free slot
//              +4 the bytes asked for
//
// MAX_BLOCKS blocks at a time (the fallback is for fragmented memory, not a second heap); a
// request beyond them gets 0. Lookups are any context (a scan of the table under this file's
// interrupts-off lock); the allocation is thread context only (kmalloc asks only then); a free in
// atomic context only marks the slot, and the next allocation here or kmalloc's shrinker runs
// the vfree. docs/heap.md ("When contiguous memory is short").
import { vmalloc, vfree } from "./vmalloc";
import { klockIrqSaveTo, klockIrqRestoreFrom } from "../../arch/klock";
import { inThreadContext } from "../../arch/context";

const MAX_BLOCKS: u32 = 64;
const SLOT: u32 = 8;
const PENDING: u32 = 1;
const table = memory.data(MAX_BLOCKS * SLOT, 4);
const lock = memory.data(4, 4);
let live: u32 = 0, served: u32 = 0;

/** Blocks served through vmalloc now, and ever. Any context. */
export function kmallocVmallocLive(): u32 { return live; }
export function kmallocVmallocServed(): u32 { return served; }

/** The slot whose word is `word` exactly, or -1. Under the lock. */
function slotWith(word: u32): i32 {
  for (let i: u32 = 0; i < MAX_BLOCKS; i++) if (load<u32>(table + i * SLOT) == word) return <i32>i;
  return -1;
}

/** `size` bytes (above the heap's large threshold) from vmalloc, recorded: its address, or 0. Thread context. */
export function kmallocVmalloc(size: u32): usize {
  kmallocVmallocDrain();
  klockIrqSaveTo(lock);
  const slot = slotWith(0);      // (a free slot)
  if (slot >= 0) store<u32>(table + <u32>slot * SLOT, PENDING);   // (taken: no other caller gets it meanwhile)
  klockIrqRestoreFrom(lock);
  if (slot < 0) return 0;
  const block = vmalloc(size);
  klockIrqSaveTo(lock);
  store<u32>(table + <u32>slot * SLOT, <u32>block);
  store<u32>(table + <u32>slot * SLOT, size, 4);
  if (block != 0) { live++; served++; }
  klockIrqRestoreFrom(lock);
  return block;
}

/** The bytes asked for block `ptr` if it is one of these (live), else 0. Any context. */
export function kmallocVmallocSize(ptr: usize): u32 {
  if (ptr == 0 || (ptr & 0xFFF) != 0) return 0;
  klockIrqSaveTo(lock);
  const slot = slotWith(<u32>ptr);   // (a live block's word is its address, the pending bit clear)
  const size = slot >= 0 ? load<u32>(table + <u32>slot * SLOT, 4) : 0;
  klockIrqRestoreFrom(lock);
  return size;
}

/**
 * Frees block `ptr` if it is one of these: true, and the frames go back now (thread context) or
 * at the next thread-context call here (atomic). False, nothing done, for anything else (and for
 * a block already freed: the caller reports it). Any context.
 */
export function kmallocVmallocFree(ptr: usize): bool {
  if (ptr == 0 || (ptr & 0xFFF) != 0) return false;
  const thread = inThreadContext();   // (asked before the lock turns interrupts off)
  klockIrqSaveTo(lock);
  const slot = slotWith(<u32>ptr);
  const ours = slot >= 0;
  const now = ours && thread;
  if (ours) { store<u32>(table + <u32>slot * SLOT, now ? 0 : <u32>ptr | PENDING); live--; }
  klockIrqRestoreFrom(lock);
  if (now) vfree(ptr);
  return ours;
}

/** Runs the vfrees that atomic-context frees left waiting. Thread context. */
export function kmallocVmallocDrain(): void {
  for (let i: u32 = 0; i < MAX_BLOCKS; i++) {
    klockIrqSaveTo(lock);
    const at = table + i * SLOT, word = load<u32>(at);
    const pending = word != PENDING && (word & PENDING) != 0;   // (PENDING alone: a slot being filled)
    if (pending) store<u32>(at, 0);
    klockIrqRestoreFrom(lock);
    if (pending) vfree(word & ~PENDING);
  }
}
