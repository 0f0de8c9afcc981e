// The console's side of the cores' reports (mm/core/report.ts): the kernel's C glue
// (boot/runtime.c) implements the cores' imports "report.begin" and "report.write" by calling
// these two exports, so each report is a log line at its level, filtered by `loglevel=`, written
// to serial (and VGA); a Plain report is written as it is.
import { ReportLevel, ReportPart } from "../mm/core/report";
import { LogLevel, logBegin, logLevel } from "./log";
import { putBytes, newline } from "./console";

let reportLevel: i32 = 0;
let reportSubsystem: string = "";

/**
 * Begins a report: whether `level` is wanted (the log level lets it through; Plain always), and
 * remembers the level and `subsystem` for the report's parts. Not re-entrant (one report at a time).
 */
export function reportBegin(level: i32, subsystem: string): bool {
  if (level != ReportLevel.Plain && level > <i32>logLevel()) return false;
  reportLevel = level;
  reportSubsystem = subsystem;
  return true;
}

/** Writes a part of the report begun last: the log prefix first (ReportPart.First), a newline last (ReportPart.Last). */
export function reportWrite(bytes: usize, length: u32, part: u32): void {
  if ((part & ReportPart.First) != 0 && reportLevel != ReportLevel.Plain) logBegin(<LogLevel>reportLevel, reportSubsystem);
  putBytes(bytes, length);
  if ((part & ReportPart.Last) != 0 && (length == 0 || load<u8>(bytes + length - 1) != 10)) newline();
}
