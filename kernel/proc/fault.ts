// An exception in ring 3 is the program's fault, not the kernel's: the thread that made it is
// killed with one line, and the kernel and every other thread go on (docs/processes.md).
//
//   user fault: thread 5 'user' killed: #PF page fault at 0x00000000 (not-present page, read,
//   user mode), eip 0x00400005
//
// The handler runs inside the exception (arch/idt.ts: setUserExceptionHandler). It cannot end
// the thread there, so it points the saved frame at user_killed_c (boot/runtime.c) in ring 0,
// with the kernel's segments and interrupts on: the exception's `iret` lands there, on the
// thread's own kernel stack, and that calls userKilled, which ends the thread.
import { InterruptFrame } from "../arch/frame";
import { setUserExceptionHandler } from "../arch/idt";
import { readCr2, userKilledAddress } from "../arch/x86";
import { KERNEL_CODE_SELECTOR, KERNEL_DATA_SELECTOR } from "../arch/gdt";
import { VECTOR_PAGE_FAULT } from "../arch/idt";
import { exceptionName } from "../diag/exceptions";
import { putPageFaultDecoding } from "../diag/panic";
import { LogLevel, logBegin } from "../console/log";
import { puts, putDec, putHex, newline } from "../console/console";
import { currentThread, threadExitWith } from "../sched/scheduler";

/** The exit code of a thread killed for a fault (as a shell shows a SIGSEGV: 128 + 11). */
export const KILLED_BY_FAULT: i32 = 139;
const EFLAGS_IF_RESERVED: u32 = 0x202;

let killed: u32 = 0;
/** Threads killed for a fault in ring 3 so far. Any context. */
export function userFaultKills(): u32 { return killed; }

function onUserException(frame: InterruptFrame): void {
  killed++;
  const t = currentThread();
  if (logBegin(LogLevel.Error, "user fault")) {
    puts("thread "); putDec(t.id); puts(" '"); puts(changetype<string>(t.name)); puts("' killed: ");
    puts(exceptionName(frame.vector));
    if (frame.vector == VECTOR_PAGE_FAULT) { puts(" at "); putHex(readCr2()); puts(" ("); putPageFaultDecoding(frame.errorCode); puts(")"); }
    puts(", eip "); putHex(frame.eip); newline();
  }
  // return into ring 0's user_killed_c instead of the program
  frame.eip = userKilledAddress();
  frame.cs = KERNEL_CODE_SELECTOR;
  frame.eflags = EFLAGS_IF_RESERVED;
  frame.ds = KERNEL_DATA_SELECTOR; frame.es = KERNEL_DATA_SELECTOR;
  frame.fs = KERNEL_DATA_SELECTOR; frame.gs = KERNEL_DATA_SELECTOR;
}

/** From user_killed_c (boot/runtime.c): ends the thread a fault killed. Never returns. */
export function userKilled(): void { threadExitWith(KILLED_BY_FAULT); }

/** Installs the handler. Once, at boot. */
export function userFaultInit(): void { setUserExceptionHandler(onUserException); }
