// Thread-only functions ask mightSleep first: one called in an interrupt handler or with
// preemption or interrupts off (a lock held) is reported with its name and the context, and refused, so
// it never deadlocks or corrupts silently. See docs/threads.md.
import { inThreadContextWith, atomicReason } from "../arch/context";
import { readEflags } from "../arch/x86";
import { LogLevel, logBegin } from "../console/log";
import { puts, newline } from "../console/console";

let refused: u32 = 0;

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
  return false;
}

/** How many thread-only calls were refused so far (for tests). */
export function contextRefusals(): u32 { return refused; }
