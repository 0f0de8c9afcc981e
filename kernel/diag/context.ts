// Thread-only functions ask mightSleep first: one called in an interrupt handler or with
// preemption or interrupts off (a lock held) is reported with its name and the context, and refused, so
// it never deadlocks or corrupts silently. See docs/threads.md.
import { inThreadContextWith, atomicReason } from "../arch/context";
import { readEflags } from "../arch/x86";
import { LogLevel, logBegin } from "../console/log";
import { puts, newline } from "../console/console";

let refused: u32 = 0;
let refusalHook: usize = 0;

/** What runs after a refusal is reported: the lock checker's (sched/lockdep.ts) list of the locks held. */
export type RefusalHook = (what: string, eflags: u32) => void;
/** Installs `hook` (boot: lockdepEnable). */
export function setRefusalHook(hook: RefusalHook): void { refusalHook = changetype<usize>(hook); }

/**
 * True in thread context. Otherwise reports `what` (a function's name) and the context:
 *   error context: reserveRange: thread context only, called in an interrupt handler; refused
 * and returns false: the caller then fails as it would for any refusal. Any context.
 */
@inline export function mightSleep(what: string): bool { return mightSleepWith(what, readEflags()); }

/**
 * As mightSleep, for a caller that has turned interrupts off itself: `eflags` is what its
 * saveFlagsAndCli returned (the context it was called in).
 */
@inline export function mightSleepWith(what: string, eflags: u32): bool {
  return inThreadContextWith(eflags) || refuse(what, eflags);   // (inlined: two loads, EFLAGS and two tests on the way through)
}

function refuse(what: string, eflags: u32): bool {
  refused++;
  if (logBegin(LogLevel.Error, "context")) {
    puts(what); puts(": thread context only, called ");
    puts(atomicReason(eflags));
    puts("; refused"); newline();
  }
  if (refusalHook != 0) changetype<RefusalHook>(refusalHook)(what, eflags);
  return false;
}

/** How many thread-only calls were refused so far (for tests). */
export function contextRefusals(): u32 { return refused; }
