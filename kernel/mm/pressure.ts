// What the memory system asks of the layers above it when memory runs short. The PMM and the
// page-fault handler sit low in the layers, but giving memory back needs the shrinkers (mm/alloc),
// a thread to run them (sched/reclaimd.ts), the killer (proc/oom.ts) and a report that knows every
// subsystem (mm/debug/meminfo.ts). Each of those registers its part here at boot; until it has,
// the part does nothing and memory simply runs out. docs/pmm.md ("Watermarks") tells the story.
//
//   direct reclaim   reclaim in the calling thread: pages given back (thread context, sleeps)
//   wake             wake the reclaimer thread (any context, never sleeps)
//   thread           the running thread's record, as a number (any context)
//   kill             the out-of-memory killer: true if it ended a process and its memory came
//                    back (thread context, sleeps)
//   report           the memory report of an out-of-memory panic (any context, prints only)

export type DirectReclaim = (pages: u32) => u32;
export type WakeReclaimer = () => void;
export type RunningThread = () => usize;
export type OomKill = (what: string) => bool;
export type MemoryReport = () => void;

let directReclaim: usize = 0;
let wakeReclaimer: usize = 0;
let runningThread: usize = 0;
let oomKill: usize = 0;
let memoryReport: usize = 0;
// The thread allowed below every watermark (the one running reclaim, or a test that drains
// memory on purpose: Linux's PF_MEMALLOC), 0 for none.
let memallocThread: usize = 0;

/** Registers reclaim and its thread (sched/reclaimd.ts). Boot, once. */
export function setReclaimHooks(direct: DirectReclaim, wake: WakeReclaimer, thread: RunningThread): void {
  directReclaim = changetype<usize>(direct);
  wakeReclaimer = changetype<usize>(wake);
  runningThread = changetype<usize>(thread);
}
/** Registers the out-of-memory killer (proc/oom.ts). Boot, once. */
export function setOomKiller(kill: OomKill): void { oomKill = changetype<usize>(kill); }
/** Registers the memory report (mm/debug/meminfo.ts). Boot, once. */
export function setMemoryReport(report: MemoryReport): void { memoryReport = changetype<usize>(report); }

/** Reclaims up to about `pages` pages in the calling thread: the pages given back (0 before boot registered it). Thread context; sleeps. */
export function pressureReclaim(pages: u32): u32 {
  return directReclaim == 0 ? 0 : changetype<DirectReclaim>(directReclaim)(pages);
}
/** Wakes the reclaimer thread. Any context; never sleeps. */
export function pressureWake(): void { if (wakeReclaimer != 0) changetype<WakeReclaimer>(wakeReclaimer)(); }
/** Runs the killer for `what` (a literal naming the request): whether a process ended. Thread context; sleeps. */
export function pressureKill(what: string): bool { return oomKill != 0 && changetype<OomKill>(oomKill)(what); }
/** Prints the memory report (nothing before it is registered). Any context. */
export function pressureReport(): void { if (memoryReport != 0) changetype<MemoryReport>(memoryReport)(); }

/** The running thread as a number: 1 before the scheduler registered (the boot flow is the only one). Any context. */
function running(): usize { return runningThread == 0 ? 1 : changetype<RunningThread>(runningThread)(); }

/**
 * Lets the running thread allocate below every watermark until memallocEnd: for reclaim itself
 * (which may need a frame to give many back) and for tests that drain memory on purpose. The
 * previous holder, to pass to memallocEnd (they nest). Any context.
 */
export function memallocBegin(): usize { const previous = memallocThread; memallocThread = running(); return previous; }
/** Ends what memallocBegin began. */
export function memallocEnd(previous: usize): void { memallocThread = previous; }
/** Whether the running thread may go below every watermark. Any context. */
export function inMemalloc(): bool { return memallocThread != 0 && memallocThread == running(); }
