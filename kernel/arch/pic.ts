// The two 8259A interrupt controllers, remapped so IRQ 0-15 arrive as vectors 32-47 (the CPU
// reserves 0-31 for exceptions).
import { outb, inb } from "./x86";

const MASTER_COMMAND: u32 = 0x20, MASTER_DATA: u32 = 0x21;
const SLAVE_COMMAND: u32 = 0xA0, SLAVE_DATA: u32 = 0xA1;
const ICW1_INIT_WITH_ICW4: u32 = 0x11;
const ICW4_8086: u32 = 0x01;
const COMMAND_EOI: u32 = 0x20;
const COMMAND_READ_ISR: u32 = 0x0B;

export const IRQ_BASE_VECTOR: u32 = 32;

/** Remaps both PICs to vectors 32-47 and masks every IRQ. */
export function picInit(): void {
  outb(MASTER_COMMAND, ICW1_INIT_WITH_ICW4);
  outb(SLAVE_COMMAND, ICW1_INIT_WITH_ICW4);
  outb(MASTER_DATA, IRQ_BASE_VECTOR);          // ICW2: vector offsets
  outb(SLAVE_DATA, IRQ_BASE_VECTOR + 8);
  outb(MASTER_DATA, 4);                        // ICW3: slave on IRQ2
  outb(SLAVE_DATA, 2);
  outb(MASTER_DATA, ICW4_8086);
  outb(SLAVE_DATA, ICW4_8086);
  outb(MASTER_DATA, 0xFF);
  outb(SLAVE_DATA, 0xFF);
}

/** Unmasks one IRQ line (0-15); unmasking a slave line also unmasks the cascade (IRQ 2). */
export function picUnmask(irq: u32): void {
  if (irq < 8) {
    outb(MASTER_DATA, inb(MASTER_DATA) & ~(1 << irq));
  } else {
    outb(SLAVE_DATA, inb(SLAVE_DATA) & ~(1 << (irq - 8)));
    outb(MASTER_DATA, inb(MASTER_DATA) & ~(1 << 2));
  }
}

/** Masks every IRQ line and returns the masks as they were (master in bits 0-7, slave in 8-15). Thread context (the stopwatch). */
export function picMaskAll(): u32 {
  const masks = inb(MASTER_DATA) | (inb(SLAVE_DATA) << 8);
  outb(MASTER_DATA, 0xFF);
  outb(SLAVE_DATA, 0xFF);
  return masks;
}

/** Restores the masks picMaskAll returned (a request that came meanwhile is delivered then). Thread context. */
export function picRestoreMasks(masks: u32): void {
  outb(SLAVE_DATA, (masks >> 8) & 0xFF);
  outb(MASTER_DATA, masks & 0xFF);
}

/** True when IRQ 7 or 15 is spurious (its in-service bit is clear): then no EOI is owed
 *  to that PIC, though a spurious IRQ 15 still owes one to the master. */
export function picIsSpurious(irq: u32): bool {
  if (irq == 7) { outb(MASTER_COMMAND, COMMAND_READ_ISR); return (inb(MASTER_COMMAND) & 0x80) == 0; }
  if (irq == 15) {
    outb(SLAVE_COMMAND, COMMAND_READ_ISR);
    if ((inb(SLAVE_COMMAND) & 0x80) == 0) { outb(MASTER_COMMAND, COMMAND_EOI); return true; }
  }
  return false;
}

/** Acknowledges an IRQ (0-15). */
export function picEndOfInterrupt(irq: u32): void {
  if (irq >= 8) outb(SLAVE_COMMAND, COMMAND_EOI);
  outb(MASTER_COMMAND, COMMAND_EOI);
}
