// How the hardware-independent cores say something (a refused free, a corrupt block, a table of
// statistics) without knowing where it goes: through a sink that whoever hosts them connects.
// The kernel connects its console (console/report-sink.ts) before the first core runs; the host
// test builds connect the same, over a mocked serial port. With no sink, nothing is said.
//
// A report is begun, written in pieces, and ended:
//
//   if (reportBegin(ReportLevel.Error, "heap")) {     false: the level is filtered out
//     reportText("free("); reportHex(ptr); reportText("): not a block"); reportEnd();
//   }
//
// Cold paths only: every piece is an indirect call. Not re-entrant across contexts: callers that
// may run in an interrupt must not report while the code they interrupted is reporting.

/** The levels, numbered as the console's log levels (console/log.ts LogLevel). */
export const enum ReportLevel { Error = 0, Warn = 1, Info = 2, Debug = 3 }

export type ReportBegin = (level: i32, subsystem: string) => bool;
export type ReportText = (text: string) => void;
export type ReportNumber = (value: u64) => void;
export type ReportHex = (value: u64, minDigits: u32) => void;
export type ReportRatio = (numerator: u64, denominator: u64) => void;
export type ReportEnd = () => void;

function beginNothing(level: i32, subsystem: string): bool { return false; }
function textNothing(text: string): void {}
function numberNothing(value: u64): void {}
function hexNothing(value: u64, minDigits: u32): void {}
function ratioNothing(numerator: u64, denominator: u64): void {}
function endNothing(): void {}

let begin: ReportBegin = beginNothing;
let text: ReportText = textNothing;
let hex: ReportHex = hexNothing;
let decimal: ReportNumber = numberNothing;
let ratio: ReportRatio = ratioNothing;
let end: ReportEnd = endNothing;

/**
 * Connects the sink: `begin` says whether a report at that level is wanted and writes its prefix;
 * `hex` writes at least `minDigits` hex digits; `ratio` writes numerator / denominator with two decimals; `end`
 * finishes the line. Call once at boot, before any core runs (thread context, interrupts off).
 */
export function setReportSink(b: ReportBegin, t: ReportText, h: ReportHex, d: ReportNumber, r: ReportRatio, e: ReportEnd): void {
  begin = b; text = t; hex = h; decimal = d; ratio = r; end = e;
}

/** Begins a report at `level` from `subsystem`; false (write nothing more) when it is not wanted. */
export function reportBegin(level: ReportLevel, subsystem: string): bool { return begin(level, subsystem); }
/** Writes text. */
export function reportText(value: string): void { text(value); }
/** Writes a number in hex, at least `minDigits` digits. */
export function reportHex(value: u64, minDigits: u32 = 8): void { hex(value, minDigits); }
/** Writes a number in decimal. */
export function reportDec(value: u64): void { decimal(value); }
/** Writes numerator / denominator with two decimals. */
export function reportRatio(numerator: u64, denominator: u64): void { ratio(numerator, denominator); }
/** Ends the report's line. */
export function reportEnd(): void { end(); }
