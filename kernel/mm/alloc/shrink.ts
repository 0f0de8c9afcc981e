// Reclaim: the subsystems that keep free memory for speed each register a shrinker, which says
// how many pages it could give back now and gives back what it can. `reclaim` runs them in turn
// until it has the pages asked for, and reports what each gave (the PMM's free count before and
// after, so a figure is what really came back). It runs by hand (the monitor's `reclaim`), in
// the reclaimer thread when low memory falls below the low watermark, and in a thread whose
// allocation found memory short (sched/reclaimd.ts, docs/pmm.md "Watermarks").
//
// Thread context. A shrinker takes only its subsystem's own interrupts-off lock, never a mutex
// and never a lock an allocation may be made under, so reclaim can run inside any allocation
// made in thread context. Reclaim is never re-entered: a second caller (another thread, or an
// allocation inside a shrinker) gets 0 and the first one's result stands.
import { pmmFreeFrames } from "../phys/pmm";
import { mightSleep } from "../../diag/context";
import { puts, putDec, newline } from "../../console/console";

/** How many pages a subsystem could give back now (an estimate; any context). */
export type ShrinkCount = () => u32;
/** Gives back what the subsystem can (up to `pages`, when it can choose); thread context. */
export type ShrinkScan = (pages: u32) => void;

const MAX_SHRINKERS: u32 = 8;
const names = memory.data(MAX_SHRINKERS * 4, 4);
const counts = memory.data(MAX_SHRINKERS * 4, 4);
const scans = memory.data(MAX_SHRINKERS * 4, 4);
const freed = memory.data(MAX_SHRINKERS * 4, 4);   // pages each gave back in the last reclaim
let shrinkerCount: u32 = 0;
let running = false;
let reclaimed: u64 = 0;

/** Adds a shrinker named `name` (a literal); false when MAX_SHRINKERS are registered. Boot (thread context). */
export function registerShrinker(name: string, count: ShrinkCount, scan: ShrinkScan): bool {
  if (shrinkerCount == MAX_SHRINKERS) return false;
  const i = shrinkerCount++;
  store<usize>(names + i * 4, changetype<usize>(name));
  store<usize>(counts + i * 4, changetype<usize>(count));
  store<usize>(scans + i * 4, changetype<usize>(scan));
  store<u32>(freed + i * 4, 0);
  return true;
}

/** Shrinkers registered, and shrinker `i`'s name, its count now, and what it gave in the last reclaim. Any context. */
export function shrinkerTotal(): u32 { return shrinkerCount; }
export function shrinkerName(i: u32): string { return changetype<string>(load<usize>(names + i * 4)); }
export function shrinkerReclaimable(i: u32): u32 { return changetype<ShrinkCount>(load<usize>(counts + i * 4))(); }
export function shrinkerLastFreed(i: u32): u32 { return load<u32>(freed + i * 4); }
/** Whether a reclaim is running now (in some thread). Any context. */
export function reclaimRunning(): bool { return running; }
/** Pages every reclaim so far gave back. Any context. */
export function reclaimedPages(): u64 { return reclaimed; }

/**
 * Asks the shrinkers, in the order they registered, for `pages` pages: the pages the PMM got
 * back in all (it may be fewer, or more: a shrinker frees whole slabs and spans). 0 when called
 * outside thread context (refused and reported) or while another reclaim runs. Thread context.
 */
export function reclaim(pages: u32): u32 {
  if (!mightSleep("reclaim") || running) return 0;
  running = true;
  let total: u32 = 0;
  for (let i: u32 = 0; i < shrinkerCount; i++) store<u32>(freed + i * 4, 0);
  for (let i: u32 = 0; i < shrinkerCount && total < pages; i++) {
    const before = pmmFreeFrames();
    changetype<ShrinkScan>(load<usize>(scans + i * 4))(pages - total);
    const after = pmmFreeFrames();
    const got = after > before ? after - before : 0;
    store<u32>(freed + i * 4, got);
    total += got;
  }
  reclaimed += total;
  running = false;
  return total;
}

/** One line per shrinker: its name, what it could give now, what it gave in the last reclaim (meminfo). Thread context. */
export function shrinkersPrint(): void {
  for (let i: u32 = 0; i < shrinkerCount; i++) {
    puts("  "); puts(shrinkerName(i)); puts(": "); putDec(shrinkerReclaimable(i)); puts(" pages reclaimable now, ");
    putDec(shrinkerLastFreed(i)); puts(" given back by the last reclaim"); newline();
  }
}
