// The console's side of the cores' reports (mm/core/report.ts): the kernel's C glue
// (boot/runtime.c) implements the cores' imports "report.wanted" and "report.write" by calling
// these two exports, so each report is a log line at its level, filtered by `loglevel=`, written
// to serial (and VGA); a Plain report is written as it is.
import { ReportLevel, ReportPart } from "../mm/core/report";
import { LogLevel, logBegin, logLevel } from "./log";
import { putBytes, newline } from "./console";

/** Whether a report at `level` is wanted (the log level lets it through). Any context. */
export function reportWanted(level: i32): bool { return level <= <i32>logLevel(); }

/** Writes a part of a report: the log prefix first (ReportPart.First), a newline last (ReportPart.Last). */
export function reportWrite(level: i32, subsystem: string, bytes: usize, length: u32, part: u32): void {
  if ((part & ReportPart.First) != 0 && level != ReportLevel.Plain && !logBegin(<LogLevel>level, subsystem)) return;
  putBytes(bytes, length);
  if ((part & ReportPart.Last) != 0 && (length == 0 || load<u8>(bytes + length - 1) != 10)) newline();
}
