// Connects the cores' reports (mm/core/report.ts) to the console: each report is a log line at
// its level, filtered by `loglevel=`, written to serial (and VGA).
import { setReportSink } from "../mm/core/report";
import { LogLevel, logBegin } from "./log";
import { puts, putHex, putDec, putRatio, newline } from "./console";

function begin(level: i32, subsystem: string): bool { return logBegin(<LogLevel>level, subsystem); }
function text(value: string): void { puts(value); }
function hex(value: u64, minDigits: u32): void { putHex(value, minDigits); }
function decimal(value: u64): void { putDec(value); }
function ratio(numerator: u64, denominator: u64): void { putRatio(numerator, denominator); }
function end(): void { newline(); }

/** Sends every core's reports to the console. Call once at boot, before the PMM is built. */
export function reportToConsole(): void { setReportSink(begin, text, hex, decimal, ratio, end); }
