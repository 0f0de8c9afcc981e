// Thread-only functions ask mightSleep first: one called in an interrupt handler or with
// preemption off (a spinlock held) is reported with its name and the context, and refused, so
// it never deadlocks or corrupts silently. See docs/threads.md.
import { inInterrupt, inThreadContext } from "../arch/context";
import { LogLevel, logBegin } from "../console/log";
import { puts, newline } from "../console/console";

let refused: u32 = 0;

/**
 * True in thread context. Otherwise reports `what` (a function's name) and the context:
 *   error context: reserveRange: thread context only, called in an interrupt handler; refused
 * and returns false: the caller then fails as it would for any refusal. Any context.
 */
@inline export function mightSleep(what: string): bool {
  return inThreadContext() || refuse(what);   // (inlined: two loads and a test on the way through)
}

function refuse(what: string): bool {
  refused++;
  if (logBegin(LogLevel.Error, "context")) {
    puts(what); puts(": thread context only, called ");
    puts(inInterrupt() ? "in an interrupt handler" : "with preemption off (a spinlock held?)");
    puts("; refused"); newline();
  }
  return false;
}

/** How many thread-only calls were refused so far (for tests). */
export function contextRefusals(): u32 { return refused; }
