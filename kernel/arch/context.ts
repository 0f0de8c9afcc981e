// Which context the CPU runs in (docs/threads.md), counted here, low in the layers, so that
// every layer can ask:
//
//   interrupt   inside an interrupt or exception handler (isrDispatch counts the depth)
//   atomic      preemption off: preemptDisable, or a spinlock held (the scheduler and the
//               spinlocks count the depth)
//   thread      neither: the code may sleep
//
// (Interrupts off alone is not counted yet: the benchmarks' stopwatch turns them off around
// thread-only calls. diag/context.ts reports a thread-only call made in the wrong context.)
let irqDepth: u32 = 0;
let preemptDepth: u32 = 0;

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

/** Whether the running code may sleep: not in a handler, preemption on. Any context. */
@inline export function inThreadContext(): bool { return (irqDepth | preemptDepth) == 0; }
