// Interrupt descriptor table and the dispatcher every interrupt stub calls.
//
// An interrupt gate (8 bytes):
//   63..48 handler offset 31..16 | 47 P | 46..45 DPL | 44..40 type (0b01110: 32-bit interrupt
//   gate; 0b00101: task gate) | 39..32 zero | 31..16 code selector (or TSS selector) |
//   15..0 handler offset 15..0
import { irqEnter, irqLeave, irqPartsEnter, irqPartsLeave } from "./context";
import { lidt, linkerAddress, LinkerSymbol, syscallEntryAddress, cpuLoad, cpuStore } from "./x86";
import { KERNEL_CODE_SELECTOR, DOUBLE_FAULT_TSS_SELECTOR } from "./gdt";
import { CPU_IRQ_SCOPE, CPU_ARENA, CPU_IRQ_ARENA } from "./percpu";
import { InterruptFrame } from "./frame";
import { IRQ_BASE_VECTOR, picEndOfInterrupt, picIsSpurious } from "./pic";
import { VECTOR_APIC_SPURIOUS, lapicEndOfInterrupt } from "./apic";

export type InterruptHandler = (frame: InterruptFrame) => void;

export const VECTOR_DOUBLE_FAULT: u32 = 8;
export const VECTOR_PAGE_FAULT: u32 = 14;
export const VECTOR_BENCH: u32 = 0x81;
/** `int 0x80`: the system-call gate, the one vector ring 3 may raise (docs/processes.md). */
export const VECTOR_SYSCALL: u32 = 0x80;

const GATE_INTERRUPT32: u32 = 0x8E;   // present, DPL 0, 32-bit interrupt gate (IF cleared)
const GATE_TRAP32_USER: u32 = 0xEF;   // present, DPL 3 (ring 3 may `int` it), 32-bit trap gate (IF kept)
const GATE_TASK: u32 = 0x85;          // present, DPL 0, task gate

// An interrupt scope: two words of some stack-like allocator that the dispatcher unwinds around
// every handler, so whatever a handler takes from it is given back on the way out, and a context
// word it sets to a value of its own meanwhile. The interrupt arena (mm/alloc/arena.ts)
// registers its top and peak, and the word naming the running context's arena; arch knows
// nothing else of them.
//
//   +0 current   saved on entry, put back on exit
//   +4 high      raised to `current` on exit when the handler took it higher
@unmanaged export class InterruptScope {
  current: usize;
  high: usize;
}

const idt = memory.data(256 * 8, 8);
const idtPointer = memory.data(8, 4);
const handlers = memory.data(256 * 4, 4);   // function references, 0 = none
// Each CPU has its own scope and context words, in its record (arch/percpu.ts): CPU_IRQ_SCOPE
// (until one is set, a scope that unwinds nothing), CPU_ARENA, which names the running context
// to the layer that registered (the running context's arena: mm/alloc/arena.ts), and
// CPU_IRQ_ARENA, the value the dispatcher sets CPU_ARENA to while a handler runs.
let unhandled: usize = 0;   // what an exception with no handler calls (the panic, from idtInit)

function setGate(vector: u32, offset: u32, selector: u32, type: u32): void {
  const g = idt + vector * 8;
  store<u16>(g, <u16>(offset & 0xFFFF));
  store<u16>(g, <u16>selector, 2);
  store<u8>(g, 0, 4);
  store<u8>(g, <u8>type, 5);
  store<u16>(g, <u16>(offset >> 16), 6);
}

/**
 * Fills all 256 gates (vector 8 as a task gate to the double-fault TSS) and loads the IDT. An
 * exception with no handler of its own goes to `onUnhandledException` (the kernel's panic: diag/
 * sits above arch/, so it is passed in). Boot only, interrupts off.
 */
export function idtInit(onUnhandledException: InterruptHandler): void {
  unhandled = changetype<usize>(onUnhandledException);
  const stubs = linkerAddress(LinkerSymbol.IsrStubTable);
  for (let v: u32 = 0; v < 256; v++) {
    setGate(v, load<u32>(stubs + v * 4), KERNEL_CODE_SELECTOR, GATE_INTERRUPT32);
  }
  setGate(VECTOR_DOUBLE_FAULT, 0, DOUBLE_FAULT_TSS_SELECTOR, GATE_TASK);
  setGate(VECTOR_SYSCALL, syscallEntryAddress(), KERNEL_CODE_SELECTOR, GATE_TRAP32_USER);   // (its own stub: syscallDispatch)
  setInterruptHandler(VECTOR_BENCH, emptyHandler);
  store<u16>(idtPointer, <u16>(256 * 8 - 1));
  store<u32>(idtPointer, <u32>idt, 2);
  lidt(idtPointer);
}

/** Loads the IDT idtInit filled on the running CPU (an application processor's bring-up). Interrupts off. */
export function idtLoad(): void { lidt(idtPointer); }

export function emptyHandler(frame: InterruptFrame): void {}

/** Installs `handler` for `vector` (replacing any). For an IRQ the dispatcher sends the EOI. */
export function setInterruptHandler(vector: u32, handler: InterruptHandler): void {
  store<usize>(handlers + vector * 4, changetype<usize>(handler));
}

/**
 * Makes `at` (an InterruptScope) the words the dispatcher unwinds around every handler on the
 * running CPU, and `value` what its CPU_ARENA word holds while a handler runs. Once per CPU, at
 * its bring-up, interrupts off.
 */
export function setInterruptScope(at: usize, value: usize): void {
  cpuStore(CPU_IRQ_SCOPE, <u32>at);
  cpuStore(CPU_IRQ_ARENA, <u32>value);
}

/** Removes the handler for `vector`; an exception there then goes to the unhandled-exception handler (the panic) again. */
export function clearInterruptHandler(vector: u32): void {
  store<usize>(handlers + vector * 4, 0);
}

/**
 * Called by isr_common for every interrupt, with interrupts off. Exceptions without a handler
 * panic; IRQs are acknowledged after their handler; a spurious IRQ 7/15 is dropped.
 */
export function isrDispatch(framePtr: usize): void {
  const frame = changetype<InterruptFrame>(framePtr);
  const vector = frame.vector;
  // 0x20-0x2F the PIC's IRQs, 0x30-0x3F the local APIC's (its timer, IPIs: arch/apic.ts): one test
  const isIrq = vector >= IRQ_BASE_VECTOR && vector < IRQ_BASE_VECTOR + 32;
  if (isIrq) {
    if (vector < IRQ_BASE_VECTOR + 16 && picIsSpurious(vector - IRQ_BASE_VECTOR)) return;
    irqPartsEnter();   // (irqPartsLeave below)
  }
  if (vector < 32 && (frame.cs & 3) == 3 && userException != 0) {
    // an exception in ring 3: the program's, not the kernel's. It runs in the thread's context
    // (the thread was in ring 3: it holds no lock), as a system call does: it may sleep.
    changetype<InterruptHandler>(userException)(frame);
    return;
  }
  const handler = load<usize>(handlers + vector * 4);
  irqEnter();
  const unwind = changetype<InterruptScope>(cpuLoad(CPU_IRQ_SCOPE));
  const saved = unwind.current;   // the handler's scoped allocations end with it
  const savedContext = cpuLoad(CPU_ARENA);
  cpuStore(CPU_ARENA, cpuLoad(CPU_IRQ_ARENA));
  if (handler != 0) {
    changetype<InterruptHandler>(handler)(frame);
  } else if (!isIrq) {
    changetype<InterruptHandler>(unhandled)(frame);
  }
  // (the CPU's scope read again rather than kept across the call: one register less to spill)
  const scope = changetype<InterruptScope>(cpuLoad(CPU_IRQ_SCOPE));
  const reached = scope.current;
  if (reached > scope.high) scope.high = reached;
  scope.current = saved;
  cpuStore(CPU_ARENA, savedContext);
  irqLeave();
  if (isIrq) {
    irqPartsLeave();
    if (vector < IRQ_BASE_VECTOR + 16) picEndOfInterrupt(vector - IRQ_BASE_VECTOR);
    else if (vector != VECTOR_APIC_SPURIOUS) lapicEndOfInterrupt();
    // (after the EOI: the hook may switch to another thread, which must get its interrupts)
    if (exitHook != 0) changetype<InterruptExitHook>(exitHook)();
  }
}

let syscallHandler: usize = 0;

/**
 * Called by syscall_common (boot/interrupts.asm) for int 0x80, interrupts on. A system call is
 * the calling thread's own work, in thread context: no handler depth, no interrupt scope, and it
 * may sleep or end the thread. Without a handler it returns with eax unchanged.
 */
export function syscallDispatch(framePtr: usize): void {
  if (syscallHandler != 0) changetype<InterruptHandler>(syscallHandler)(changetype<InterruptFrame>(framePtr));
}
let userException: usize = 0;
/**
 * Installs what handles an exception raised in ring 3 (instead of its kernel handler or the
 * panic): the program's fault, never the kernel's. Boot only.
 */
export function setUserExceptionHandler(handler: InterruptHandler): void { userException = changetype<usize>(handler); }
/** Installs the system-call handler (vector 0x80, from ring 3). Boot only. */
export function setSyscallHandler(handler: InterruptHandler): void { syscallHandler = changetype<usize>(handler); }

/** Called after every IRQ is acknowledged, interrupts still off (the scheduler's preemption point). */
export type InterruptExitHook = () => void;
let exitHook: usize = 0;

/**
 * Installs `hook` to run at the end of every IRQ, after its EOI, with interrupts off; it may
 * switch threads (the interrupted one resumes here later and returns through iret). Boot only.
 */
export function setInterruptExitHook(hook: InterruptExitHook): void { exitHook = changetype<usize>(hook); }
