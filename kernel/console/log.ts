// Levelled logging. A call below the current level costs one compare and returns.
//
//   [     1.230] info  pmm: 1024 frames free
//    ^ seconds since boot (PIT ticks)  ^ level  ^ subsystem
import { puts, putByte, putDec, putHex, newline } from "./console";
import { uptimeMilliseconds } from "../arch/pit";

export const enum LogLevel { Error = 0, Warn = 1, Info = 2, Debug = 3, Trace = 4 }

let currentLevel: LogLevel = LogLevel.Info;

/** Sets the most verbose level that is printed. */
export function setLogLevel(level: LogLevel): void { currentLevel = level; }
export function logLevel(): LogLevel { return currentLevel; }

/** The level's name, as accepted by `loglevel=` on the command line. */
export function logLevelName(level: LogLevel): string {
  switch (level) {
    case LogLevel.Error: return "error";
    case LogLevel.Warn: return "warn";
    case LogLevel.Info: return "info";
    case LogLevel.Debug: return "debug";
    default: return "trace";
  }
}

/**
 * Starts a log line if `level` is enabled, printing the time stamp, level and subsystem; the
 * caller then writes the rest with the console functions and ends it with `newline()`.
 * Returns false (printing nothing) when the level is filtered out.
 */
export function logBegin(level: LogLevel, subsystem: string): bool {
  if (level > currentLevel) return false;
  const ms = uptimeMilliseconds();
  putByte(91);
  const seconds = ms / 1000;
  let width: u32 = 1;
  for (let bound: u64 = 10; seconds >= bound && width < 20; bound *= 10) width++;
  for (let i = width; i < 6; i++) putByte(32);
  putDec(seconds);
  putByte(46);
  const frac = <u32>(ms % 1000);
  putByte(48 + frac / 100); putByte(48 + (frac / 10) % 10); putByte(48 + frac % 10);
  puts("] ");
  const name = logLevelName(level);
  puts(name);
  for (let i = name.length; i < 6; i++) putByte(32);
  puts(subsystem);
  puts(": ");
  return true;
}

/** One whole line: "subsystem: message". */
export function logLine(level: LogLevel, subsystem: string, message: string): void {
  if (level > currentLevel) return;
  logBegin(level, subsystem);
  puts(message);
  newline();
}

/** "subsystem: message value" with the value in decimal, or in hex when `hex` is true. */
export function logValue(level: LogLevel, subsystem: string, message: string, value: u64, hex: bool = false): void {
  if (level > currentLevel) return;
  logBegin(level, subsystem);
  puts(message);
  putByte(32);
  if (hex) putHex(value); else putDec(value);
  newline();
}
