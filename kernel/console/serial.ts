// COM1 serial console: 115200 baud, 8 data bits, no parity, 1 stop bit, FIFO on.
import { inb, outb } from "../arch/x86";

const COM1: u32 = 0x3F8;
// register offsets from the base port
const DATA = 0, INTERRUPT_ENABLE = 1, FIFO_CONTROL = 2, LINE_CONTROL = 3, MODEM_CONTROL = 4, LINE_STATUS = 5;
const LINE_STATUS_TX_EMPTY: u32 = 0x20;
const LINE_STATUS_DATA_READY: u32 = 0x01;
const INTERRUPT_ON_DATA: u32 = 0x01;
const MODEM_DTR_RTS_OUT2: u32 = 0x0B;   // OUT2 routes the UART's interrupt to the PIC (IRQ 4)
const LINE_CONTROL_DLAB: u32 = 0x80;   // divisor latch access
const LINE_CONTROL_8N1: u32 = 0x03;
const BAUD_DIVISOR_115200: u32 = 1;    // 115200 / 115200

/** Programs COM1 for 115200 8N1. Call once, before any output; interrupts may be off. */
export function serialInit(): void {
  outb(COM1 + INTERRUPT_ENABLE, 0);
  outb(COM1 + LINE_CONTROL, LINE_CONTROL_DLAB);
  outb(COM1 + DATA, BAUD_DIVISOR_115200 & 0xFF);
  outb(COM1 + INTERRUPT_ENABLE, BAUD_DIVISOR_115200 >> 8);
  outb(COM1 + LINE_CONTROL, LINE_CONTROL_8N1);
  outb(COM1 + FIFO_CONTROL, 0xC7);   // enable and clear FIFOs, 14-byte threshold
  outb(COM1 + MODEM_CONTROL, 0x03);  // DTR + RTS
}

/** Sends one byte, waiting for the transmitter. Safe from interrupt handlers. */
export function serialPutByte(byte: u32): void {
  while ((inb(COM1 + LINE_STATUS) & LINE_STATUS_TX_EMPTY) == 0) {}
  outb(COM1 + DATA, byte);
}

/**
 * Turns on COM1's "data received" interrupt (IRQ 4): the monitor's input. The caller installs
 * the handler and unmasks the IRQ. Boot, thread context.
 */
export function serialEnableReceiveInterrupt(): void {
  outb(COM1 + MODEM_CONTROL, MODEM_DTR_RTS_OUT2);
  outb(COM1 + INTERRUPT_ENABLE, INTERRUPT_ON_DATA);
}

/** Whether a received byte is waiting. Any context. */
export function serialReceived(): bool { return (inb(COM1 + LINE_STATUS) & LINE_STATUS_DATA_READY) != 0; }

/** The next received byte (call after serialReceived said one is there). Any context. */
export function serialReadByte(): u32 { return inb(COM1 + DATA) & 0xFF; }
