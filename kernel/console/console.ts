// The kernel console: serial (always) and VGA text (when enabled). Nothing here allocates;
// numbers are formatted into a small buffer of the running CPU's (its record's scratch). Output
// from an interrupt handler may interleave with output it interrupted, but never corrupts state:
// each byte is written in a section of the kernel lock (arch/klock.ts), so CPUs take turns,
// until a panic says the console is its alone (consolePanicMode).
import { serialPutByte } from "./serial";
import { vgaPutByte, vgaClear } from "./vga";
import { formatDecimal, formatHex, formatFixed2 } from "../lib/format";
import { thisCpu } from "../arch/x86";
import { CPU_SCRATCH } from "../arch/percpu";
import { klockIrqSave, klockIrqRestore } from "../arch/klock";

let vgaEnabled = false;
let panicMode = false;
/** The running CPU's number-formatting buffer (32 bytes). */
@inline function scratchBuffer(): usize { return thisCpu() + CPU_SCRATCH; }

/** From now on the console takes no lock: a panic stopped the other CPUs (or is about to). Any context, once. */
export function consolePanicMode(): void { panicMode = true; }

/** Turns the VGA mirror on (clearing the screen) or off. */
export function consoleEnableVga(on: bool): void {
  vgaEnabled = on;
  if (on) vgaClear();
}

/** Writes one byte; "\n" becomes "\r\n" on serial. */
export function putByte(byte: u32): void {
  if (panicMode) { writeByte(byte); return; }
  const flags = klockIrqSave();
  writeByte(byte);
  klockIrqRestore(flags);
}

function writeByte(byte: u32): void {
  if (byte == 10) serialPutByte(13);
  serialPutByte(byte);
  if (vgaEnabled) vgaPutByte(byte);
}

/** Writes a string (its characters' low bytes: the kernel's text is ASCII). */
export function puts(text: string): void {
  const n = text.length;
  for (let i = 0; i < n; i++) putByte(<u32>text.charCodeAt(i) & 0xFF);
}

/** Writes `length` bytes starting at virtual address `bytes`. */
export function putBytes(bytes: usize, length: u32): void {
  for (let i: u32 = 0; i < length; i++) putByte(load<u8>(bytes + i));
}

/** Writes a NUL-terminated byte string, at most `limit` bytes of it. */
export function putCString(bytes: usize, limit: u32): void {
  for (let i: u32 = 0; i < limit; i++) {
    const b = load<u8>(bytes + i);
    if (b == 0) return;
    putByte(b);
  }
}

export function newline(): void { putByte(10); }

/** Decimal. */
export function putDec(value: u64): void { const buf = scratchBuffer(); putBytes(buf, formatDecimal(value, buf)); }

/** Signed decimal. */
export function putSigned(value: i64): void {
  if (value < 0) { putByte(45); putDec(<u64>(-value)); } else putDec(<u64>value);
}

/** "0x" and hex, zero-padded to `minDigits` (8 is a 32-bit address). */
export function putHex(value: u64, minDigits: u32 = 8): void {
  putByte(48); putByte(120);
  const buf = scratchBuffer();
  putBytes(buf, formatHex(value, minDigits, buf));
}

/** numerator / denominator with two decimals. */
export function putRatio(numerator: u64, denominator: u64): void {
  const buf = scratchBuffer();
  putBytes(buf, formatFixed2(numerator, denominator, buf));
}

/** Pads with spaces up to `width` after writing `written` characters. */
export function padTo(written: u32, width: u32): void {
  for (let i = written; i < width; i++) putByte(32);
}

/**
 * A byte count, rounded down: bytes below 1 KiB, KiB below 16 MiB (so that the small BIOS
 * holes show), MiB above: "512 B", "639 KiB", "3071 MiB". Returns the characters written.
 */
export function putSize(bytes: u64): u32 {
  let value = bytes, unit = " B";
  if (bytes >= (16 << 20)) { value = bytes >> 20; unit = " MiB"; }
  else if (bytes >= 1024) { value = bytes >> 10; unit = " KiB"; }
  const buf = scratchBuffer();
  const digits = formatDecimal(value, buf);
  putBytes(buf, digits);
  puts(unit);
  return digits + unit.length;
}
