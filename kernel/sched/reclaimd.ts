// The reclaimer: a kernel thread that gives memory back before anyone has to wait for it, as
// Linux's kswapd does. The PMM wakes it whenever a request leaves low memory below the low
// watermark (mm/phys/pmm.ts); it runs the shrinkers (mm/alloc/shrink.ts) until low memory is
// back at the high watermark or they have nothing more to give, then sleeps. A thread that finds
// memory short reclaims itself ("direct reclaim") through the same door, waiting first if
// reclaim is already running elsewhere. docs/pmm.md ("Watermarks") has the whole story.
import { threadCreate, currentThread, schedAddBootFrames } from "./scheduler";
import { threadSleep } from "./clock";
import { Semaphore, SEMAPHORE_BYTES, semaphoreInit, semaphoreDown, semaphoreUp } from "./sync";
import { reclaim, reclaimRunning } from "../mm/alloc/shrink";
import { pmmFreeFrames, pmmFreeLowFrames, pmmWatermarkHigh } from "../mm/phys/pmm";
import { setReclaimHooks, memallocBegin, memallocEnd } from "../mm/pressure";
import { guardHeldFrames } from "../mm/alloc/guard";
import { panic } from "../diag/panic";

const wake = changetype<Semaphore>(memory.data(SEMAPHORE_BYTES, 4));
let posted = false;     // a wake-up is pending (so an atomic caller posts once, not once per frame)
let busy = false;       // the reclaimer is running
let runs: u32 = 0;
let given: u64 = 0;

/** Times the reclaimer ran, and the pages it gave back in all. Any context. */
export function reclaimerRuns(): u32 { return runs; }
export function reclaimerPages(): u64 { return given; }

/** Wakes the reclaimer (pressure.ts's wake). Any context; never sleeps. */
function wakeReclaimer(): void {
  if (posted) return;
  posted = true;
  semaphoreUp(wake);
}

/** Reclaims until low memory is at the high watermark or nothing more comes back. Thread context. */
function reclaimToHigh(): u32 {
  let total: u32 = 0;
  const previous = memallocBegin();
  while (pmmFreeLowFrames() < pmmWatermarkHigh()) {
    const got = reclaim(pmmWatermarkHigh() - pmmFreeLowFrames());
    if (got == 0) break;
    total += got;
  }
  memallocEnd(previous);
  return total;
}

function reclaimerMain(arg: usize): void {
  while (true) {
    semaphoreDown(wake);
    busy = true;
    posted = false;
    runs++;
    given += reclaimToHigh();
    busy = false;
  }
}

/**
 * Waits (sleeping) until the reclaimer has nothing pending and is not running, up to 1 s: for
 * tests that count frames and must not see it give some back in the middle. Whether it settled.
 * Thread context; sleeps.
 */
export function reclaimerSettle(): bool {
  for (let i: u32 = 0; i < 1000; i++) {
    if (!posted && !busy) return true;
    threadSleep(1);
  }
  return false;
}

const WAIT_MS: u32 = 1;
const WAIT_ROUNDS: u32 = 100;

/**
 * Reclaim in the calling thread (pressure.ts's direct reclaim): waits while another thread's
 * reclaim runs (up to 100 ms; what it gives back serves this caller too), then runs the shrinkers
 * for `pages` pages itself, below the watermarks if it must. The pages given back. Thread
 * context; sleeps.
 */
function directReclaim(pages: u32): u32 {
  for (let i: u32 = 0; i < WAIT_ROUNDS && reclaimRunning(); i++) threadSleep(WAIT_MS);
  const previous = memallocBegin();
  const got = reclaim(pages);
  memallocEnd(previous);
  return got;
}

function runningThread(): usize { return changetype<usize>(currentThread()); }

/** Starts the reclaimer and opens the pressure hooks. Once, at boot, after schedInit (thread context). */
export function reclaimerInit(): void {
  const before = pmmFreeFrames(), guardBefore = guardHeldFrames();
  semaphoreInit(changetype<usize>(wake), 0);
  if (threadCreate("reclaimd", reclaimerMain, 0) == null) panic("reclaim: no memory for the reclaimer thread");
  setReclaimHooks(directReclaim, wakeReclaimer, runningThread);
  // (its stack and arena count as the boot's, for pmm.invariants; with kmalloc=guard its record is the guard allocator's)
  schedAddBootFrames(before - pmmFreeFrames() - (guardHeldFrames() - guardBefore));
}
