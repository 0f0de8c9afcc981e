// The monitor's input: COM1's receive interrupt (IRQ 4) puts every byte that arrived into a ring
// and posts a semaphore, and the monitor thread sleeps on that semaphore until a byte is there,
// so nothing polls. Ctrl-C also raises a flag that long commands (a test or benchmark run) look
// at between their steps.
//
//   ring   RING_BYTES bytes; `head` is where the handler writes, `tail` where the thread reads;
//          a byte that finds the ring full is dropped (counted)
import { serialEnableReceiveInterrupt, serialReceived, serialReadByte } from "../console/serial";
import { setInterruptHandler } from "../arch/idt";
import { picUnmask, IRQ_BASE_VECTOR } from "../arch/pic";
import { InterruptFrame } from "../arch/frame";
import { klockIrqSave, klockIrqRestore, klockEnter, klockLeave } from "../arch/klock";
import { Semaphore, SEMAPHORE_BYTES, semaphoreInit, semaphoreDown, semaphoreUp } from "../sched/sync";

const COM1_IRQ: u32 = 4;
const RING_BYTES: u32 = 256;
const CTRL_C: u32 = 3;

const ring = memory.data(RING_BYTES);
let head: u32 = 0, tail: u32 = 0;
let dropped: u32 = 0;
let interruptRequested = false;
const available = changetype<Semaphore>(memory.data(SEMAPHORE_BYTES, 4));

/** The IRQ 4 handler: every waiting byte into the ring. Interrupt context; a section of the kernel lock. */
function onReceive(frame: InterruptFrame): void {
  klockEnter();
  while (serialReceived()) {
    const byte = serialReadByte();
    if (byte == CTRL_C) interruptRequested = true;
    if (head - tail == RING_BYTES) { dropped++; continue; }
    store<u8>(ring + (head & (RING_BYTES - 1)), <u8>byte);
    head++;
    semaphoreUp(available);
  }
  klockLeave();
}

/** Starts taking input from COM1 through its interrupt. Once, in thread context, before inputRead. */
export function inputInit(): void {
  semaphoreInit(changetype<usize>(available), 0);
  setInterruptHandler(IRQ_BASE_VECTOR + COM1_IRQ, onReceive);
  serialEnableReceiveInterrupt();
  picUnmask(COM1_IRQ);
}

/** The next byte typed, sleeping until one arrives. Thread context (the monitor's thread). */
export function inputRead(): u32 {
  semaphoreDown(available);
  const flags = klockIrqSave();
  const byte = <u32>load<u8>(ring + (tail & (RING_BYTES - 1)));
  tail++;
  klockIrqRestore(flags);
  return byte;
}

/** Whether Ctrl-C was typed since inputClearInterrupt. Any context. */
export function inputInterruptRequested(): bool { return interruptRequested; }
/** Forgets an earlier Ctrl-C (before a command starts). Any context. */
export function inputClearInterrupt(): void { interruptRequested = false; }
/** Bytes dropped because the ring was full. Any context. */
export function inputDropped(): u32 { return dropped; }
