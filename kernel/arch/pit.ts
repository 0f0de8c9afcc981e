// The 8254 programmable interval timer, channel 0, as the kernel tick (IRQ 0).
import { outb } from "./x86";

const PIT_CHANNEL0: u32 = 0x40, PIT_COMMAND: u32 = 0x43;
const PIT_INPUT_HZ: u32 = 1193182;
const COMMAND_CH0_LOHI_RATE: u32 = 0x34;       // channel 0, lobyte/hibyte, mode 2 (rate)

let tickHz: u32 = 100;
let ticks: u64 = 0;
// Uptime before the last rate change, and the tick count then (a test may raise the rate).
let baseMs: u64 = 0;
let baseTicks: u64 = 0;

/** Programs channel 0 to interrupt `hz` times a second (19..1193182); uptime carries on. */
export function pitInit(hz: u32): void {
  baseMs = uptimeMilliseconds();
  baseTicks = ticks;
  tickHz = hz;
  const divisor = PIT_INPUT_HZ / hz;
  outb(PIT_COMMAND, COMMAND_CH0_LOHI_RATE);
  outb(PIT_CHANNEL0, divisor & 0xFF);
  outb(PIT_CHANNEL0, (divisor >> 8) & 0xFF);
}

/** Counts one tick; called from the IRQ 0 handler only. */
export function pitTick(): void { ticks++; }

export function pitTicks(): u64 { return ticks; }
export function pitHz(): u32 { return tickHz; }
export function uptimeMilliseconds(): u64 { return baseMs + (ticks - baseTicks) * 1000 / tickHz; }
