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
//
// Both counts are the running CPU's own, in its record (arch/percpu.ts), each changed by one
// instruction through GS: atomic against this CPU's interrupts, and a compiler barrier.
import { readEflags, cpuLoad, cpuAdd } from "./x86";
import { CPU_IRQ_DEPTH, CPU_PREEMPT_DEPTH, CPU_CACHE_OFFSET } from "./percpu";
import { CACHE_IRQ_PART } from "../mm/core/slab/cache-layout";
import { klockEnterAny, klockLeaveAny } from "./klock";

/** EFLAGS.IF: interrupts enabled. */
const EFLAGS_IF: u32 = 1 << 9;

let live = false;

@inline function irqDepth(): u32 { return cpuLoad(CPU_IRQ_DEPTH); }
@inline function preemptDepth(): u32 { return cpuLoad(CPU_PREEMPT_DEPTH); }

/** isrDispatch, on entry to a handler. Interrupts off. */
@inline export function irqEnter(): void { cpuAdd(CPU_IRQ_DEPTH, 1); }
/** isrDispatch, when the handler is done (before the IRQ exit hook, which may switch threads). */
@inline export function irqLeave(): void { cpuAdd(CPU_IRQ_DEPTH, <u32>-1); }

/**
 * isrDispatch, around the handler of a hardware interrupt or an IPI (which never nest: their
 * handlers run with interrupts off): the CPU's object-cache parts become its interrupt parts
 * (mm/core/slab/cache-layout.ts), so a handler never uses the part of a fast path it
 * interrupted. An exception or a software interrupt comes at an instruction of the code it
 * interrupts, never inside a fast path (whose memory is always mapped), and keeps that code's
 * part; an NMI handler must not allocate. Interrupts off.
 */
@inline export function irqPartsEnter(): void { cpuAdd(CPU_CACHE_OFFSET, CACHE_IRQ_PART); }
/** Back to the thread parts, at the end of that handler. */
@inline export function irqPartsLeave(): void { cpuAdd(CPU_CACHE_OFFSET, <u32>-CACHE_IRQ_PART); }
/** Whether an interrupt or exception handler is running on this CPU. Any context. */
@inline export function inInterrupt(): bool { return irqDepth() != 0; }

/**
 * One more level of preemption off on this CPU (they nest). Like an interrupts-off section, it
 * is a section of the kernel lock (arch/klock.ts): on one CPU it kept every other thread out,
 * and so it does on several. Any context.
 */
@inline export function preemptDisable(): void { cpuAdd(CPU_PREEMPT_DEPTH, 1); klockEnterAny(); }
/** One level less. */
@inline export function preemptEnable(): void { klockLeaveAny(); cpuAdd(CPU_PREEMPT_DEPTH, <u32>-1); }
/**
 * Preemption off for a section that uses only this CPU's own data (its part of an object cache):
 * one instruction, no kernel lock, since no other CPU touches that data. The thread stays on the
 * CPU and no other thread runs there until preemptEnableLocal; a preemption due meanwhile waits
 * for the next interrupt's exit. Counts as atomic (it must not sleep). Any context.
 */
@inline export function preemptDisableLocal(): void { cpuAdd(CPU_PREEMPT_DEPTH, 1); }
/** Ends preemptDisableLocal's section. */
@inline export function preemptEnableLocal(): void { cpuAdd(CPU_PREEMPT_DEPTH, <u32>-1); }
/** Whether preemption is off on this CPU. */
@inline export function preemptDisabled(): bool { return preemptDepth() != 0; }

/** The boot flow, just before it first turns interrupts on: from now on interrupts off is atomic. */
export function contextGoLive(): void { live = true; }

/** Whether `eflags` (saved or current) has interrupts off in a way that counts as atomic. */
@inline export function interruptsOffIn(eflags: u32): bool { return live && (eflags & EFLAGS_IF) == 0; }

/** Whether code that ran with `eflags`, under `ownHandlers` handlers of the asker's own, was atomic. */
@inline export function atomicAt(eflags: u32, ownHandlers: u32): bool {
  return irqDepth() > ownHandlers || preemptDepth() != 0 || interruptsOffIn(eflags);
}

/** Whether the running code may sleep: no handler, preemption on, interrupts on. Any context. */
@inline export function inThreadContext(): bool { return inThreadContextWith(readEflags()); }

/**
 * As inThreadContext, with the interrupt flag taken from `eflags`: what saveFlagsAndCli returned
 * (the caller's context before its own critical section began).
 */
@inline export function inThreadContextWith(eflags: u32): bool {
  return (irqDepth() | preemptDepth()) == 0 && !interruptsOffIn(eflags);
}

/**
 * Why code with `eflags` is atomic, for a report ("in an interrupt handler", ...); "" in thread
 * context. `ownHandlers`: handlers of the asker's own to leave out (the page-fault handler asks
 * about the code that faulted: 1).
 */
export function atomicReason(eflags: u32, ownHandlers: u32 = 0): string {
  if (irqDepth() > ownHandlers) return "in an interrupt handler";
  if (preemptDepth() != 0) return "with preemption off (a spinlock held?)";
  if (interruptsOffIn(eflags)) return "with interrupts off";
  return "";
}
