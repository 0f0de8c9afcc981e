// The kernel panic: what went wrong, where, the registers, a symbolized backtrace; then halt,
// or in test and benchmark runs leave QEMU with the panic status (ExitCode.Panic).
//
// Every fatal path ends here: CPU exceptions without a handler, the double-fault task (kernel
// stack overflow), AssemblyScript's abort() (failed assert), wasm traps, and explicit panics.
//
// Usage for a custom report:   panicBegin("vmm: fault on a guard page"); <print details>; panicEnd(frame)
import {
  cli, panicHook, cpuLoad, cpuStore, thisCpu, compareExchange, atomicExchange, cpuRelax, readCr0, readCr2, readCr3, readCr4, captureRegisters, framePointer, linkerAddress, LinkerSymbol,
} from "../arch/x86";
import { InterruptFrame, FRAME_CPU_PART_OFFSET } from "../arch/frame";
import {
  CPU_THREAD_NAME, CPU_THREAD_LOW, CPU_THREAD_HIGH, CPU_INDEX, CPU_APIC_ID, CPU_STOP_EIP, CPU_STOPPED, CpuState,
  cpuRecords, cpuAt, cpuState, cpuStateName,
} from "../arch/percpu";
import { lapicReady, lapicSendNmiToOthers } from "../arch/apic";
/** The non-maskable interrupt's vector. */
const VECTOR_NMI: u32 = 2;
import { qemuExit, haltForever, ExitCode } from "../arch/qemu";
import { puts, putHex, putDec, newline, putByte, consolePanicMode } from "../console/console";
import { exceptionName, PF_PRESENT, PF_WRITE, PF_USER, PF_RESERVED, PF_FETCH } from "./exceptions";
import { printBacktrace, putSymbolized } from "./backtrace";
import { mainTss as mainTssOf, TSS_EIP, TSS_ESP, TSS_EBP, TSS_EAX, TSS_EBX, TSS_ECX, TSS_EDX, TSS_ESI, TSS_EDI, TSS_EFLAGS, TSS_CS, TSS_SS } from "../arch/gdt";

let panicking = false;
let exitQemuOnPanic = false;
const captured = memory.data(11 * 4, 4);   // eax ebx ecx edx esi edi ebp esp eflags cs ss

/** In test and benchmark runs, a panic leaves QEMU with ExitCode.Panic instead of halting. */
export function setExitOnPanic(on: bool): void { exitQemuOnPanic = on; }

/** True once a panic has started (used by the watchdog to stay quiet). */
export function isPanicking(): bool { return panicking; }

// With several CPUs the first to panic stops the others: an NMI to each (it comes through even
// with interrupts off, and wakes a halted CPU), whose handler notes where it stopped and halts
// (panicOnException, vector 2). A CPU that panics while another does stops the same way. The
// report ends with a line for every other CPU: where it stopped, in which thread.
const panicCpu = memory.data(4, 4);   // the index + 1 of the CPU that panicked first; 0: none
/** How long the panicking CPU waits for the others to stop (pause loops). */
const STOP_POLLS: u32 = 1 << 22;

/** Starts a panic report: interrupts off (first thing), the other CPUs stopped, the headline "*** KERNEL PANIC: <what>". */
export function panicBegin(what: string): void {
  cli();
  const me = cpuLoad(CPU_INDEX) + 1;
  const first = compareExchange(panicCpu, 0, me);
  if (first != 0 && first != me) stopHere(0);   // (another CPU reports: this one stops, as its NMI would have made it)
  if (panicking) {
    puts("\n*** KERNEL PANIC while panicking: "); puts(what); newline();
    finish();
  }
  panicking = true;
  consolePanicMode();   // (the console takes no lock from here: the kernel lock may be held where a CPU stopped)
  stopOthers();
  panicHook();
  puts("\n*** KERNEL PANIC: ");
  puts(what);
  newline();
  if (cpuRecords() > 1) { puts("on CPU "); putDec(me - 1); puts(" (APIC id "); putDec(cpuLoad(CPU_APIC_ID)); puts(")\n"); }
  const threadName = cpuLoad(CPU_THREAD_NAME), stackLow = cpuLoad(CPU_THREAD_LOW), stackHigh = cpuLoad(CPU_THREAD_HIGH);
  if (threadName != 0) { puts("in thread '"); puts(changetype<string>(threadName)); puts("', stack "); putHex(stackLow); puts("-"); putHex(stackHigh); newline(); }
}

/** NMIs to the other CPUs, then a bounded wait until every online one says it stopped. */
function stopOthers(): void {
  if (cpuRecords() < 2 || !lapicReady()) return;
  lapicSendNmiToOthers();
  const me = thisCpu();
  for (let i: u32 = 0; i < cpuRecords(); i++) {
    const cpu = cpuAt(i);
    if (cpu == me || cpuState(cpu) != CpuState.Online) continue;
    for (let polls: u32 = 0; polls < STOP_POLLS && load<u32>(cpu, CPU_STOPPED) == 0; polls++) cpuRelax();
  }
}

/** This CPU stops for another's panic: where (`eip`, 0 if not from an interrupt), then halts for ever. */
function stopHere(eip: u32): void {
  cpuStore(CPU_STOP_EIP, eip);
  atomicExchange(thisCpu() + CPU_STOPPED, 1);
  haltForever();
}

/** A line for every other CPU: where the panic stopped it, or that it did not answer. */
function printOtherCpus(): void {
  const me = thisCpu();
  for (let i: u32 = 0; i < cpuRecords(); i++) {
    const cpu = cpuAt(i);
    if (cpu == me) continue;
    puts("cpu "); putDec(i); puts(": ");
    if (cpuState(cpu) != CpuState.Online) { puts(cpuStateName(cpuState(cpu))); newline(); continue; }
    if (load<u32>(cpu, CPU_STOPPED) == 0) { puts("online, did not answer the NMI\n"); continue; }
    puts("stopped");
    const name = load<u32>(cpu, CPU_THREAD_NAME);
    if (name != 0) { puts(" in thread '"); puts(changetype<string>(name)); puts("'"); }
    const eip = load<u32>(cpu, CPU_STOP_EIP);
    if (eip != 0) { puts(" at "); putSymbolized(eip); }
    newline();
  }
}

// The running thread, as the scheduler last said on this CPU (kernel/sched/scheduler.ts), in the
// CPU's record: a panic names it, and a double fault with ESP just above its stack's low end is
// that thread's stack overflow.

/**
 * The scheduler tells the panic code which thread runs now: its name and stack [low, high).
 * Any context, interrupts off (on every switch).
 */
@inline export function panicSetThread(name: string, low: usize, high: usize): void {
  cpuStore(CPU_THREAD_NAME, <u32>changetype<usize>(name)); cpuStore(CPU_THREAD_LOW, <u32>low); cpuStore(CPU_THREAD_HIGH, <u32>high);
}

function finish(): void {
  if (cpuRecords() > 1) printOtherCpus();
  puts("*** end of panic\n");
  if (exitQemuOnPanic) qemuExit(ExitCode.Panic);
  haltForever();
}

function putRegister(name: string, value: u32): void {
  puts(name); puts("="); putHex(value); putByte(32);
}

function putControlRegisters(): void {
  putRegister("cr0", readCr0()); putRegister("cr2", readCr2());
  putRegister("cr3", readCr3()); putRegister("cr4", readCr4()); newline();
}

/**
 * Ends a panic report begun with panicBegin: registers (from `frame`, or captured here when
 * null), control registers, and the backtrace; then halts or exits QEMU. Never returns.
 */
export function panicEnd(frame: InterruptFrame | null): void {
  if (frame) {
    putRegister("eax", frame.eax); putRegister("ebx", frame.ebx); putRegister("ecx", frame.ecx); putRegister("edx", frame.edx); newline();
    putRegister("esi", frame.esi); putRegister("edi", frame.edi); putRegister("ebp", frame.ebp);
    putRegister("esp", <u32>(changetype<usize>(frame) + FRAME_CPU_PART_OFFSET + 12)); newline();
    putRegister("eip", frame.eip); putRegister("cs", frame.cs); putRegister("eflags", frame.eflags); putRegister("ds", frame.ds); newline();
    putControlRegisters();
    printBacktrace(frame.eip, frame.ebp);
  } else {
    captureRegisters(captured);
    putRegister("eax", load<u32>(captured, 0)); putRegister("ebx", load<u32>(captured, 4));
    putRegister("ecx", load<u32>(captured, 8)); putRegister("edx", load<u32>(captured, 12)); newline();
    putRegister("esi", load<u32>(captured, 16)); putRegister("edi", load<u32>(captured, 20));
    putRegister("ebp", load<u32>(captured, 24)); putRegister("esp", load<u32>(captured, 28)); newline();
    putRegister("eflags", load<u32>(captured, 32)); putRegister("cs", load<u32>(captured, 36)); putRegister("ss", load<u32>(captured, 40)); newline();
    putControlRegisters();
    const ebp = framePointer();
    printBacktrace(load<u32>(ebp + 4), load<u32>(ebp));
  }
  finish();
}

/** Panics with a one-line reason, registers and backtrace. Never returns. */
export function panic(reason: string): void {
  panicBegin(reason);
  panicEnd(null);
}

/** Prints the decoded page-fault error code, e.g. "not-present page, write, kernel mode". */
export function putPageFaultDecoding(errorCode: u32): void {
  puts((errorCode & PF_PRESENT) != 0 ? "protection violation on a present page" : "not-present page");
  puts((errorCode & PF_WRITE) != 0 ? ", write" : ", read");
  puts((errorCode & PF_USER) != 0 ? ", user mode" : ", kernel mode");
  if ((errorCode & PF_RESERVED) != 0) puts(", reserved bit set in a paging entry");
  if ((errorCode & PF_FETCH) != 0) puts(", instruction fetch");
}

/** The panic for a CPU exception that nothing handled. Never returns. */
export function panicOnException(frame: InterruptFrame): void {
  const vector = frame.vector;
  if (vector == VECTOR_NMI && load<u32>(panicCpu) != 0) stopHere(frame.eip);   // (another CPU's panic stops this one)
  panicBegin(vector < 32 ? "unhandled CPU exception" : "unexpected interrupt");
  puts("vector "); putDec(vector); puts(" ("); puts(exceptionName(vector)); puts("), error code ");
  putHex(frame.errorCode); newline();
  puts("at eip "); putSymbolized(frame.eip); newline();
  if (vector == 14) {
    const cr2 = readCr2();
    puts("page fault: address "); putHex(cr2); puts(": "); putPageFaultDecoding(frame.errorCode); newline();
    if (cr2 < 4096) puts("page fault: null pointer dereference (page 0 is never mapped)\n");
  }
  panicEnd(frame);
}

/**
 * The double-fault task's entry (boot/runtime.c). The CPU saved the state at the fault in the
 * main TSS; a saved ESP at or just above the boot stack's guard page means a stack overflow.
 */
export function onDoubleFault(): void {
  const mainTss = mainTssOf();
  const savedEsp = load<usize>(mainTss + TSS_ESP);
  const guard = linkerAddress(LinkerSymbol.BootStackGuard);
  const bottom = linkerAddress(LinkerSymbol.BootStackBottom);
  const cr2 = <usize>readCr2();
  const bootOverflow = (savedEsp >= guard && savedEsp < bottom + 512) || (cr2 >= guard && cr2 < bottom);
  // a thread's stack: its guard page is the unmapped page just below stackLow
  const threadName = cpuLoad(CPU_THREAD_NAME), stackLow = <usize>cpuLoad(CPU_THREAD_LOW), stackHigh = <usize>cpuLoad(CPU_THREAD_HIGH);
  const threadOverflow = threadName != 0 && ((savedEsp >= stackLow - 4096 && savedEsp < stackLow + 512) || (cr2 >= stackLow - 4096 && cr2 < stackLow));
  const overflow = bootOverflow || threadOverflow;
  panicBegin(overflow ? "double fault: kernel stack overflow" : "double fault");
  puts("vector 8 (#DF double fault) handled by its own task; state at the fault:\n");
  putRegister("eax", load<u32>(mainTss + TSS_EAX)); putRegister("ebx", load<u32>(mainTss + TSS_EBX));
  putRegister("ecx", load<u32>(mainTss + TSS_ECX)); putRegister("edx", load<u32>(mainTss + TSS_EDX)); newline();
  putRegister("esi", load<u32>(mainTss + TSS_ESI)); putRegister("edi", load<u32>(mainTss + TSS_EDI));
  putRegister("ebp", load<u32>(mainTss + TSS_EBP)); putRegister("esp", <u32>savedEsp); newline();
  putRegister("eip", load<u32>(mainTss + TSS_EIP)); putRegister("cs", load<u32>(mainTss + TSS_CS));
  putRegister("ss", load<u32>(mainTss + TSS_SS)); putRegister("eflags", load<u32>(mainTss + TSS_EFLAGS)); newline();
  putControlRegisters();
  if (threadOverflow) {
    puts("stack overflow in thread '"); puts(changetype<string>(threadName)); puts("': stack "); putHex(stackLow); puts("-"); putHex(stackHigh);
    puts(", guard page "); putHex(stackLow - 4096); puts(", cr2 "); putHex(cr2); newline();
  } else if (overflow) {
    puts("stack: boot stack "); putHex(bottom); puts("-"); putHex(linkerAddress(LinkerSymbol.BootStackTop));
    puts(", guard page "); putHex(guard); puts(", cr2 "); putHex(cr2); newline();
  }
  printBacktrace(load<u32>(mainTss + TSS_EIP), load<u32>(mainTss + TSS_EBP));
  finish();
}

/** The wasm trap names, by wasm_rt_trap_t value. */
function trapName(trap: u32): string {
  switch (trap) {
    case 1: return "out-of-bounds memory or table access";
    case 2: return "integer overflow";
    case 3: return "integer divide by zero";
    case 4: return "invalid conversion to integer";
    case 5: return "unreachable executed";
    case 6: return "invalid indirect call";
    case 7: return "uncaught exception";
    case 8: return "call stack exhausted";
    default: return "unknown trap";
  }
}

/** A wasm trap from the generated code (boot/runtime.c): `nativeEip`/`nativeEbp` are where. */
export function onWasmTrap(trap: u32, nativeEip: u32, nativeEbp: u32): void {
  panicBegin("wasm trap");
  puts("trap: "); puts(trapName(trap)); newline();
  puts("at eip "); putSymbolized(nativeEip); newline();
  putControlRegisters();
  printBacktrace(nativeEip, nativeEbp);
  finish();
}

/**
 * AssemblyScript's abort (a failed assert, or `throw`), routed here by `--use abort=`.
 * The strings are UTF-16 with their byte length in the four bytes before them.
 */
export function asAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  panicBegin("assertion failed");
  if (message) { puts("message: "); puts(message); newline(); }
  if (fileName) { puts("at "); puts(fileName); puts(":"); putDec(line); puts(":"); putDec(column); newline(); }
  panicEnd(null);
}
