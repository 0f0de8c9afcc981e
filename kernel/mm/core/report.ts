// How the hardware-independent cores say something (a refused free, a corrupt block, a table of
// statistics) without knowing where it goes. A report is composed here, in a buffer, with the
// same pieces as the console's (text, hex, decimal, ratio), and handed whole to the sink: two
// functions imported from the module "report", the cores' one seam, as arch/ is the hardware's.
// The kernel's C glue (boot/runtime.c) passes them to the console (console/report-sink.ts); the
// host tests implement them in JavaScript (test/support/wasm.ts), make compare in C.
//
//   if (reportBegin(ReportLevel.Error, "heap")) {      false: the level is filtered out
//     reportText("free("); reportAddress(ptr); reportLast("): not a block");
//   }
//
// reportBegin is the sink's import, and every piece calls a formatter or the sink, so binaryen
// leaves each a call: a report adds to the function around it about what puts and putDec did. A report longer than the buffer goes out in parts, the
// first with the log prefix. Cold paths only. Not re-entrant: one report at a time (code that
// may run in an interrupt must not report while the code it interrupted is reporting).
import { formatDecimal, formatHex, formatFixed2, formatAscii } from "../../lib/format";

/** The levels, numbered as the console's log levels (console/log.ts LogLevel); Plain has no prefix and is never filtered. */
export const enum ReportLevel { Plain = -1, Error = 0, Warn = 1, Info = 2, Debug = 3 }

/** Flags of a part handed to the sink. */
export const enum ReportPart { First = 1, Last = 2 }

/**
 * Begins a report at `level` from `subsystem`: false (write nothing more) when it is not wanted.
 * The sink remembers the level and the subsystem for the report's parts. Plain is always wanted.
 */
@external("report", "begin")
export declare function reportBegin(level: ReportLevel, subsystem: string): bool;

/**
 * The sink: writes one part of the report begun last, `length` bytes at `bytes`. With
 * ReportPart.First it writes the log prefix first (level and subsystem); with ReportPart.Last it
 * ends the line (unless the report ended with a newline of its own).
 */
@external("report", "write")
declare function sinkWrite(bytes: usize, length: u32, part: u32): void;

const BUFFER_BYTES: u32 = 256;
const NUMBER_BYTES: u32 = 32;   // the longest number a piece writes (a u64 in decimal is 20)
const buffer = memory.data(BUFFER_BYTES + NUMBER_BYTES);
let used: u32 = 0;
let nextPart: u32 = ReportPart.First;

/** Hands the buffer to the sink; after the last part, the next report starts afresh. */
function handOver(part: u32): void {
  sinkWrite(buffer, used, nextPart | part);
  used = 0;
  nextPart = (part & ReportPart.Last) != 0 ? ReportPart.First : 0;
}

/** Makes room for `bytes` more (handing a full buffer over as a part). */
@inline function room(bytes: u32): void { if (used + bytes > BUFFER_BYTES) handOver(0); }

@inline function appendText(text: string): void {
  let at: i32 = 0;
  while (at < text.length) {
    room(1);
    const n = min<i32>(text.length - at, <i32>(BUFFER_BYTES - used));
    used += formatAscii(text, at, n, buffer + used);
    at += n;
  }
}

/** Appends text (ASCII). */
export function reportText(text: string): void { appendText(text); }

/** Appends "0x" and `value` in hex, at least `minDigits` digits. */
export function reportHex(value: u64, minDigits: u32): void {
  room(NUMBER_BYTES);
  store<u8>(buffer + used, 48); store<u8>(buffer + used + 1, 120);
  used += 2 + formatHex(value, minDigits, buffer + used + 2);
}

/** Appends "0x" and a 32-bit address in 8 hex digits. */
export function reportAddress(value: u64): void { reportHex(value, 8); }

/** Appends `value` in decimal. */
export function reportDec(value: u64): void {
  room(NUMBER_BYTES);
  used += formatDecimal(value, buffer + used);
}

/** Appends numerator / denominator with two decimals. */
export function reportRatio(numerator: u64, denominator: u64): void {
  room(NUMBER_BYTES);
  used += formatFixed2(numerator, denominator, buffer + used);
}

/** Ends the report: hands the rest to the sink, which ends the line. */
export function reportEnd(): void { handOver(ReportPart.Last); }

/** Appends `text` and ends the report: the usual last piece, in one call. */
export function reportLast(text: string): void {
  appendText(text);   // (written here, not a call of reportText, so that this stays one call)
  handOver(ReportPart.Last);
}
