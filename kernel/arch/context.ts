// Which context the CPU runs in (docs/threads.md), counted here, low in the layers, so that
// every layer can ask:
//
//   interrupt   inside an interrupt or exception handler (isrDispatch counts the depth)
//   atomic      preemption off (preemptDisable, a spinlock held), or interrupts off (an
//               irqsave lock held, an allocator's critical section): must not sleep
//   thread      none of these: the code may sleep
//
// Until the boot flow turns interrupts on for the first time (contextGoLive, just before its
// `sti`), interrupts are off without anything being atomic: boot code runs in thread context.
// diag/context.ts reports a thread-only call made in the wrong context; the page-fault handler
// reports a fault on an uncommitted page in atomic context (mm/virt/fault.ts).
import { readEflags } from "./x86";

/** EFLAGS.IF: interrupts enabled. */
const EFLAGS_IF: u32 = 1 << 9;

let irqDepth: u32 = 0;
let preemptDepth: u32 = 0;
let live = false;

/** isrDispatch, on entry to a handler. Interrupts off. */
@inline export function irqEnter(): void { irqDepth++; }
/** isrDispatch, when the handler is done (before the IRQ exit hook, which may switch threads). */
@inline export function irqLeave(): void { irqDepth--; }
/** Whether an interrupt or exception handler is running. Any context. */
@inline export function inInterrupt(): bool { return irqDepth != 0; }

/** One more level of preemption off (they nest). Any context. */
@inline export function preemptDisable(): void { preemptDepth++; }
/** One level less. */
@inline export function preemptEnable(): void { preemptDepth--; }
/** Whether preemption is off. */
@inline export function preemptDisabled(): bool { return preemptDepth != 0; }

/** The boot flow, just before it first turns interrupts on: from now on interrupts off is atomic. */
export function contextGoLive(): void { live = true; }

/** Whether `eflags` (saved or current) has interrupts off in a way that counts as atomic. */
@inline export function interruptsOffIn(eflags: u32): bool { return live && (eflags & EFLAGS_IF) == 0; }

/** Whether code that ran with `eflags`, under `ownHandlers` handlers of the asker's own, was atomic. */
@inline export function atomicAt(eflags: u32, ownHandlers: u32): bool {
  return irqDepth > ownHandlers || preemptDepth != 0 || interruptsOffIn(eflags);
}

/** Whether the running code may sleep: no handler, preemption on, interrupts on. Any context. */
@inline export function inThreadContext(): bool { return inThreadContextWith(readEflags()); }

/**
 * As inThreadContext, with the interrupt flag taken from `eflags`: what saveFlagsAndCli returned
 * (the caller's context before its own critical section began).
 */
@inline export function inThreadContextWith(eflags: u32): bool {
  return (irqDepth | preemptDepth) == 0 && !interruptsOffIn(eflags);
}

/**
 * Why code with `eflags` is atomic, for a report ("in an interrupt handler", ...); "" in thread
 * context. `ownHandlers`: handlers of the asker's own to leave out (the page-fault handler asks
 * about the code that faulted: 1).
 */
export function atomicReason(eflags: u32, ownHandlers: u32 = 0): string {
  if (irqDepth > ownHandlers) return "in an interrupt handler";
  if (preemptDepth != 0) return "with preemption off (a spinlock held?)";
  if (interruptsOffIn(eflags)) return "with interrupts off";
  return "";
}
