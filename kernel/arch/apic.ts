// The local APIC: every CPU's own interrupt controller, through which CPUs interrupt each other
// (Intel SDM vol. 3, chapter 11). Its registers are 32-bit words at 16-byte steps in one 4 KiB
// page of device memory, at the same address on every CPU (each CPU sees its own). The page is
// mapped uncached by the bring-up (kernel/smp/start.ts) and given here; until then nothing here
// may be called.
//
//   offset  register                      offset  register
//   0x020   ID (bits 31..24)              0x300   ICR low: what to send (below)
//   0x030   version                       0x310   ICR high: destination APIC id (bits 31..24)
//   0x080   task priority                 0x320   LVT timer
//   0x0B0   end of interrupt (write 0)    0x350   LVT LINT0
//   0x0F0   spurious vector; bit 8 on     0x360   LVT LINT1
//   0x280   error status                  0x370   LVT error
//
// The interrupt command register's low word:
//
//   19..18 shorthand (0 none, 1 self, 2 all, 3 all but self) | 15 trigger (1 level)
//   14 level (1 assert) | 12 delivery status (1: not yet accepted) | 11 destination mode
//   (0 physical) | 10..8 delivery mode (0 fixed, 4 NMI, 5 INIT, 6 STARTUP) | 7..0 vector
import { mmioRead32, mmioWrite32, cpuRelax } from "./x86";

const REG_ID: u32 = 0x020;
const REG_TPR: u32 = 0x080;
const REG_EOI: u32 = 0x0B0;
const REG_SPURIOUS: u32 = 0x0F0;
const REG_ERROR_STATUS: u32 = 0x280;
const REG_ICR_LOW: u32 = 0x300;
const REG_ICR_HIGH: u32 = 0x310;
const REG_LVT_LINT0: u32 = 0x350;
const REG_LVT_LINT1: u32 = 0x360;
const REG_LVT_ERROR: u32 = 0x370;
const REG_LVT_TIMER: u32 = 0x320;
const REG_TIMER_INITIAL: u32 = 0x380;
const REG_TIMER_CURRENT: u32 = 0x390;
const REG_TIMER_DIVIDE: u32 = 0x3E0;
const TIMER_PERIODIC: u32 = 1 << 17;
const TIMER_DIVIDE_16: u32 = 0x3;

const SPURIOUS_ENABLE: u32 = 1 << 8;
const LVT_MASKED: u32 = 1 << 16;
const ICR_DELIVERY_FIXED: u32 = 0 << 8;
const ICR_DELIVERY_NMI: u32 = 4 << 8;
const ICR_DELIVERY_INIT: u32 = 5 << 8;
const ICR_DELIVERY_STARTUP: u32 = 6 << 8;
const ICR_PENDING: u32 = 1 << 12;
const ICR_ASSERT: u32 = 1 << 14;
const ICR_SHORTHAND_ALL_BUT_SELF: u32 = 3 << 18;

// The local APIC's vectors: 0x30-0x3F, right after the PIC's, so that the dispatcher tells
// IRQs from exceptions and software interrupts with one test (arch/idt.ts).
/** Each CPU's timer (kernel/smp/start.ts). */
export const VECTOR_APIC_TIMER: u32 = 0x30;
/** The error interrupt's vector. */
export const VECTOR_APIC_ERROR: u32 = 0x3E;
/** The spurious interrupt's (its low four bits must be 1 on older APICs; no EOI for it). */
export const VECTOR_APIC_SPURIOUS: u32 = 0x3F;

/** How many times an IPI send polls for the previous one's acceptance before it gives up. */
const ICR_POLLS: u32 = 1 << 20;

let base: usize = 0;

/** Uses the registers mapped at `virt` (uncached). Boot, once, before any other function here. */
export function lapicSetBase(virt: usize): void { base = virt; }
/** Whether the registers are mapped (lapicSetBase was called). Any context. */
export function lapicReady(): bool { return base != 0; }

@inline function read(register: u32): u32 { return mmioRead32(base + register); }
@inline function write(register: u32, value: u32): void { mmioWrite32(base + register, value); }

/** The running CPU's local APIC id. Any context. */
export function lapicId(): u32 { return read(REG_ID) >> 24; }

/**
 * Turns the running CPU's local APIC on: the spurious vector with the enable bit, every
 * interrupt priority accepted, LINT0/LINT1 masked on the APs (the bootstrap processor keeps the
 * PIC's wiring through LINT0, which the firmware set up), errors cleared. Interrupts off; on
 * each CPU once, at its bring-up.
 */
export function lapicEnable(bootstrap: bool): void {
  if (!bootstrap) {
    write(REG_LVT_LINT0, LVT_MASKED);
    write(REG_LVT_LINT1, LVT_MASKED);
  }
  write(REG_LVT_ERROR, VECTOR_APIC_ERROR);
  write(REG_ERROR_STATUS, 0); write(REG_ERROR_STATUS, 0);   // (written, then read: the SDM's clear)
  write(REG_TPR, 0);
  write(REG_SPURIOUS, SPURIOUS_ENABLE | VECTOR_APIC_SPURIOUS);
}

/** Ends the interrupt the running CPU's local APIC delivered (not the spurious one). Interrupt context. */
@inline export function lapicEndOfInterrupt(): void { write(REG_EOI, 0); }

/** Waits until the previous IPI was accepted; false after ICR_POLLS polls. */
function icrIdle(): bool {
  for (let i: u32 = 0; i < ICR_POLLS; i++) {
    if ((read(REG_ICR_LOW) & ICR_PENDING) == 0) return true;
    cpuRelax();
  }
  return false;
}

/** Sends `low` to the CPU with local APIC `apicId`; false if the APIC never accepted it. Interrupts off. */
function send(apicId: u32, low: u32): bool {
  if (!icrIdle()) return false;
  write(REG_ICR_HIGH, apicId << 24);
  write(REG_ICR_LOW, low);   // (this write sends)
  return icrIdle();
}

/** INIT to `apicId`: the CPU resets and waits for a STARTUP. Interrupts off; boot. */
export function lapicSendInit(apicId: u32): bool { return send(apicId, ICR_DELIVERY_INIT | ICR_ASSERT); }

/** STARTUP to `apicId`: it starts in real mode at physical `page` << 12 (`page` below 256). Interrupts off; boot. */
export function lapicSendStartup(apicId: u32, page: u32): bool { return send(apicId, ICR_DELIVERY_STARTUP | ICR_ASSERT | (page & 0xFF)); }

/** Interrupt `vector` on the CPU with local APIC `apicId`. Interrupts off; any CPU. */
export function lapicSendFixed(apicId: u32, vector: u32): bool { return send(apicId, ICR_DELIVERY_FIXED | ICR_ASSERT | vector); }

/** An NMI to every CPU but the running one (the panic's stop). Any context. */
export function lapicSendNmiToOthers(): bool { return send(0, ICR_DELIVERY_NMI | ICR_ASSERT | ICR_SHORTHAND_ALL_BUT_SELF); }

/** Starts the running CPU's timer counting down from 0xFFFFFFFF, masked (for lapicTimerElapsed). Interrupts off. */
export function lapicTimerCountStart(): void {
  write(REG_TIMER_DIVIDE, TIMER_DIVIDE_16);
  write(REG_LVT_TIMER, LVT_MASKED | VECTOR_APIC_TIMER);
  write(REG_TIMER_INITIAL, 0xFFFFFFFF);
}
/** Counts since lapicTimerCountStart (bus clock / 16). */
export function lapicTimerElapsed(): u32 { return 0xFFFFFFFF - read(REG_TIMER_CURRENT); }

/** The running CPU's timer interrupts at VECTOR_APIC_TIMER every `count` (bus clock / 16) from now on. Interrupts off; each CPU once. */
export function lapicTimerPeriodic(count: u32): void {
  write(REG_TIMER_DIVIDE, TIMER_DIVIDE_16);
  write(REG_LVT_TIMER, TIMER_PERIODIC | VECTOR_APIC_TIMER);
  write(REG_TIMER_INITIAL, count);
}

