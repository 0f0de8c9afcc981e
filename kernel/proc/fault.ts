// Exceptions in ring 3 are the program's, not the kernel's. A page fault is first served as the
// program's memory allows (proc/memory.ts: a page committed, loaded or copied; proc/oom.ts when
// memory runs out); anything else, and a fault its regions forbid, kills the process with one
// line and the kernel and every other process go on (docs/processes.md):
//
//   user fault: process 5 'faults' killed: #PF page fault at 0x00000000 (not-present page, read,
//   user mode), eip 0x004000f3: outside every region (a null pointer)
//
// The handler runs in the faulting thread's context (arch/idt.ts calls it before any interrupt
// bookkeeping: the thread was in ring 3 and holds no lock), with interrupts on while it serves the
// fault, so it may sleep. To kill, it points the saved frame at user_killed_c in ring 0: the
// exception's `iret` lands there, on the thread's own kernel stack, and the process ends.
import { InterruptFrame, UserFrame } from "../arch/frame";
import { setUserExceptionHandler, VECTOR_PAGE_FAULT } from "../arch/idt";
import { readCr2, sti, cli } from "../arch/x86";
import { exceptionName, PF_WRITE } from "../diag/exceptions";
import { putPageFaultDecoding } from "../diag/panic";
import { LogLevel, logBegin } from "../console/log";
import { puts, putHex, newline } from "../console/console";
import { mutexLock, mutexUnlock } from "../sched/sync";
import { Process, currentProcess, processLock, processMemory, putProcess, KILLED_BY_FAULT } from "./process";
import { processKillFrame } from "./user-frame";
import { Access, memoryRegions, USER_END, STACK_GUARD, STACK_BOTTOM } from "./memory";
import { faultResolve } from "./oom";
import { RegionMap, regionFind, NO_REGION } from "../mm/core/regions";
import { putRegion } from "./maps";

export { KILLED_BY_FAULT };

let killed: u32 = 0;
/** Processes killed for a fault in ring 3 so far. Any context. */
export function userFaultKills(): u32 { return killed; }

/** What the fault's address was, for the log line. */
function putWhy(p: Process, address: u32, access: Access): void {
  if (access == Access.KernelHalf || address >= USER_END) { puts("a kernel address (ring 3 may not touch the kernel half)"); return; }
  const map: RegionMap = memoryRegions(processMemory(p));
  const i = regionFind(map, address);
  if (i == NO_REGION) {
    puts("outside every region");
    if (address < 4096) puts(" (a null pointer)");
    return;
  }
  if (address >= STACK_GUARD && address < STACK_BOTTOM) puts("the stack's guard page (a stack overflow): ");
  else if (access == Access.NoMemory) puts("no memory for the page: ");
  else puts("the region forbids it: ");
  putRegion(map, i);
}

function onUserException(frame: InterruptFrame): void {
  const p = currentProcess();
  let address: u32 = 0;
  let access = Access.Ok;
  if (frame.vector == VECTOR_PAGE_FAULT && p != null) {
    address = readCr2();   // (before interrupts are on: another fault would overwrite it)
    sti();
    mutexLock(processLock(p));
    access = faultResolve(p, address, (frame.errorCode & PF_WRITE) != 0);
    mutexUnlock(processLock(p));
    cli();
    if (access == Access.Ok) return;
  }
  killed++;
  if (p == null || p.killed == 0) {   // (the killer chose it: its line said so)
    if (logBegin(LogLevel.Error, "user fault")) {
      if (p != null) putProcess(p); else puts("a thread without a process");
      puts(" killed: "); puts(exceptionName(frame.vector));
      if (frame.vector == VECTOR_PAGE_FAULT) { puts(" at "); putHex(address); puts(" ("); putPageFaultDecoding(frame.errorCode); puts(")"); }
      puts(", eip "); putHex(frame.eip);
      if (frame.vector == VECTOR_PAGE_FAULT && p != null) { puts(": "); putWhy(p, address, access); }
      newline();
    }
    if (p != null) p.killed = KILLED_BY_FAULT;
  }
  processKillFrame(changetype<UserFrame>(changetype<usize>(frame)));
}

/** Installs the handler. Once, at boot. */
export function userFaultInit(): void { setUserExceptionHandler(onUserException); }
