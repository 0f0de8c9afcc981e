// The kernel command line: `name` or `name=value` options separated by any whitespace.
//
//   test=all | test=list | test=name1,name2,prefix.*   run self-tests (or list them)
//   seed=N                                              seed for random tests (decimal or 0x hex)
//   bench | bench=name1,prefix.*                        run benchmarks
//   loglevel=error|warn|info|debug|trace (or 0-4)       console verbosity
//   watchdog=S                                          per-test timeout in seconds (default 20)
//   memmap=loader|memfields                             build the PMM from the loader's memory map
//                                                       (default) or only from mem_lower/mem_upper
//   slabinfo                                            print the slab caches' table at the end
//   slab_debug | slab_debug=name1,name2                 red zones, poison, exact double frees for
//                                                       every cache, or the named ones
//   kmalloc=guard                                       every kmalloc through the guard-page
//                                                       debug allocator
//   kfence=N                                            one kmalloc in N through it (0: off)
//   physmap                                             print the physical-memory map at the end
//   hz=N                                                the PIT's rate, 20 to 1000 (default 100):
//                                                       timer ticks, sleeps and time slices
//   lockdep                                             the lock checker (sched/lockdep.ts)
//   commit=overcommit|strict                            user memory's commit accounting (default
//                                                       overcommit: docs/processes.md)
//   init=NAME                                           run the program NAME (a module) at the end
//                                                       of boot instead of the monitor
//   vmalloc=N | vmalloc=NM                              the kernel's range area in MiB (32 to 128,
//                                                       a multiple of 4; default 124), low memory
//                                                       the rest (mm/layout.ts)
//   smp=park|on                                         the other processors: started and parked
//                                                       (default), or scheduling threads too
//                                                       (docs/smp.md)
//
// Name lists (test=, bench=, slab_debug=) are comma-separated; an entry ending in '*' is a
// prefix, and "all" or a prefix selects only the normal self-tests: a panic or on-demand test
// runs only when named exactly (lib/names.ts, selftest/harness.ts).
//
// A first word without "=" that looks like a path (GRUB and QEMU put the image path there) is
// skipped. Anything else unknown, and any bad value, is recorded as a problem for the caller to
// report, and a bad value is not applied; an option given twice is recorded too (the last one
// wins): nothing is ignored silently. Pure: runs on the host in tests.
import { bytesEqual } from "../lib/names";

export const enum TestSelection { None = 0, All = 1, List = 2, Named = 3 }
export const enum ProblemKind { UnknownOption = 1, BadValue = 2, TooMany = 3, Repeated = 4 }

export const MAX_PROBLEMS: u32 = 8;
const PROBLEM_BYTES: u32 = 12;

/** Parsed options. Byte ranges point into the command line itself (no copies). */
@unmanaged export class BootOptions {
  testSelection: u32;
  testNames: usize; testNamesLength: u32;
  seed: u64; seedGiven: u32;
  bench: u32; benchNames: usize; benchNamesLength: u32;
  logLevel: i32;          // -1: not given
  watchdogSeconds: u32;   // 0: not given
  memmapFromMemFields: u32;   // 1: memmap=memfields
  slabinfo: u32;          // 1: print the slabinfo table at the end
  slabDebug: u32;         // 1: slab_debug given (all caches when slabDebugNamesLength is 0)
  slabDebugNames: usize; slabDebugNamesLength: u32;
  kmallocGuard: u32;      // 1: kmalloc=guard
  kfenceInterval: u32;    // N of kfence=N (0: not given, or off)
  physmap: u32;           // 1: print the physical-memory map at the end
  hz: u32;                // hz=N (0: not given)
  lockdep: u32;           // 1: the lock checker on
  commitStrict: u32;      // 1: commit=strict
  initName: usize; initNameLength: u32;   // init=NAME (length 0: not given)
  vmallocMiB: u32;        // vmalloc=N (0: not given; the bounds are checked by mm/layout.ts)
  smpOn: u32;             // 1: smp=on (the other processors schedule threads)
  seen: u32;              // bit per Option given so far (to report repeats)
  problemCount: u32;      // problems follow the struct: MAX_PROBLEMS x { kind, start, length }
}

/** Bytes to reserve for a BootOptions with its problem list. */
export const BOOT_OPTIONS_BYTES: u32 = offsetof<BootOptions>() + MAX_PROBLEMS * PROBLEM_BYTES;

export function problemKind(options: BootOptions, i: u32): ProblemKind {
  return <ProblemKind>load<u32>(changetype<usize>(options) + offsetof<BootOptions>() + i * PROBLEM_BYTES);
}
export function problemStart(options: BootOptions, i: u32): usize {
  return load<u32>(changetype<usize>(options) + offsetof<BootOptions>() + i * PROBLEM_BYTES, 4);
}
export function problemLength(options: BootOptions, i: u32): u32 {
  return load<u32>(changetype<usize>(options) + offsetof<BootOptions>() + i * PROBLEM_BYTES, 8);
}

function addProblem(options: BootOptions, kind: ProblemKind, start: usize, length: u32): void {
  const n = options.problemCount;
  options.problemCount = n + 1;
  if (n >= MAX_PROBLEMS) return;   // counted, not stored
  const p = changetype<usize>(options) + offsetof<BootOptions>() + n * PROBLEM_BYTES;
  store<u32>(p, kind); store<u32>(p, <u32>start, 4); store<u32>(p, length, 8);
}

/** Parses an unsigned decimal or 0x-hex number; returns -1 (as i64) when malformed or > 2^63. */
export function parseNumber(start: usize, length: u32): i64 {
  if (length == 0) return -1;
  let base: u64 = 10, i: u32 = 0;
  if (length > 2 && load<u8>(start) == 48 && (load<u8>(start + 1) | 0x20) == 120) { base = 16; i = 2; }
  let value: u64 = 0;
  for (; i < length; i++) {
    const c = <u32>load<u8>(start + i);
    let digit: u32;
    if (c >= 48 && c <= 57) digit = c - 48;
    else if (base == 16 && (c | 0x20) >= 97 && (c | 0x20) <= 102) digit = (c | 0x20) - 87;
    else return -1;
    if (value > (<u64>0x7FFFFFFFFFFFFFFF - digit) / base) return -1;
    value = value * base + digit;
  }
  return <i64>value;
}

/** error|warn|info|debug|trace or 0-4 as a log level, or -1. */
export function parseLogLevel(start: usize, length: u32): i32 {
  if (bytesEqual(start, length, "error")) return 0;
  if (bytesEqual(start, length, "warn")) return 1;
  if (bytesEqual(start, length, "info")) return 2;
  if (bytesEqual(start, length, "debug")) return 3;
  if (bytesEqual(start, length, "trace")) return 4;
  const n = parseNumber(start, length);
  return n >= 0 && n <= 4 ? <i32>n : -1;
}

/** The options, as bits of BootOptions.seen. */
const enum Option {
  Test = 1 << 0, Seed = 1 << 1, Bench = 1 << 2, LogLevel = 1 << 3, Watchdog = 1 << 4, Memmap = 1 << 5,
  Slabinfo = 1 << 6, SlabDebug = 1 << 7, Physmap = 1 << 8, Kmalloc = 1 << 9, Kfence = 1 << 10, Hz = 1 << 11,
  Lockdep = 1 << 12, Commit = 1 << 13, Init = 1 << 14, Vmalloc = 1 << 15, Smp = 1 << 16,
}

/** Notes that `option` was given (token [start, start+length)); a second time is a problem. */
function given(out: BootOptions, option: Option, start: usize, length: u32): void {
  if ((out.seen & option) != 0) addProblem(out, ProblemKind.Repeated, start, length);
  out.seen |= option;
}

/** Space, tab, newline, vertical tab, form feed or carriage return. */
@inline function isSpace(c: u32): bool { return c == 32 || (c >= 9 && c <= 13); }

function looksLikePath(start: usize, length: u32): bool {
  for (let i: u32 = 0; i < length; i++) if (load<u8>(start + i) == 47) return true;
  return length > 4 && bytesEqual(start + length - 4, 4, ".elf");
}

/** Parses the command line [text, text+length) into `out` (which it clears first). */
export function parseCommandLine(text: usize, length: u32, out: BootOptions): void {
  memory.fill(changetype<usize>(out), 0, BOOT_OPTIONS_BYTES);
  out.logLevel = -1;
  let position = text;
  const end = text + length;
  let first = true;
  while (position < end) {
    while (position < end && isSpace(load<u8>(position))) position++;
    if (position >= end) break;
    const start = position;
    let equals: usize = 0;
    while (position < end && !isSpace(load<u8>(position))) {
      if (equals == 0 && load<u8>(position) == 61) equals = position;
      position++;
    }
    const tokenLength = <u32>(position - start);
    const nameLength = equals != 0 ? <u32>(equals - start) : tokenLength;
    const value = equals + 1;
    const valueLength = equals != 0 ? <u32>(position - value) : 0;
    const wasFirst = first;
    first = false;

    if (bytesEqual(start, nameLength, "test") && equals != 0) {
      given(out, Option.Test, start, tokenLength);
      if (bytesEqual(value, valueLength, "all")) out.testSelection = TestSelection.All;
      else if (bytesEqual(value, valueLength, "list")) out.testSelection = TestSelection.List;
      else if (valueLength > 0) { out.testSelection = TestSelection.Named; out.testNames = value; out.testNamesLength = valueLength; }
      else addProblem(out, ProblemKind.BadValue, start, tokenLength);
    } else if (bytesEqual(start, nameLength, "seed") && equals != 0) {
      given(out, Option.Seed, start, tokenLength);
      const n = parseNumber(value, valueLength);
      if (n < 0) addProblem(out, ProblemKind.BadValue, start, tokenLength);
      else { out.seed = <u64>n; out.seedGiven = 1; }
    } else if (bytesEqual(start, nameLength, "bench")) {
      given(out, Option.Bench, start, tokenLength);
      if (equals != 0 && valueLength == 0) addProblem(out, ProblemKind.BadValue, start, tokenLength);
      else { out.bench = 1; out.benchNames = equals != 0 ? value : 0; out.benchNamesLength = valueLength; }
    } else if (bytesEqual(start, nameLength, "loglevel") && equals != 0) {
      given(out, Option.LogLevel, start, tokenLength);
      const level = parseLogLevel(value, valueLength);
      if (level < 0) addProblem(out, ProblemKind.BadValue, start, tokenLength);
      else out.logLevel = level;
    } else if (bytesEqual(start, nameLength, "watchdog") && equals != 0) {
      given(out, Option.Watchdog, start, tokenLength);
      const n = parseNumber(value, valueLength);
      if (n <= 0 || n > 3600) addProblem(out, ProblemKind.BadValue, start, tokenLength);
      else out.watchdogSeconds = <u32>n;
    } else if (bytesEqual(start, nameLength, "memmap") && equals != 0) {
      given(out, Option.Memmap, start, tokenLength);
      if (bytesEqual(value, valueLength, "loader")) out.memmapFromMemFields = 0;
      else if (bytesEqual(value, valueLength, "memfields")) out.memmapFromMemFields = 1;
      else addProblem(out, ProblemKind.BadValue, start, tokenLength);
    } else if (bytesEqual(start, nameLength, "slabinfo") && equals == 0) {
      given(out, Option.Slabinfo, start, tokenLength);
      out.slabinfo = 1;
    } else if (bytesEqual(start, nameLength, "slab_debug")) {
      given(out, Option.SlabDebug, start, tokenLength);
      if (equals != 0 && valueLength == 0) addProblem(out, ProblemKind.BadValue, start, tokenLength);
      else { out.slabDebug = 1; out.slabDebugNames = equals != 0 ? value : 0; out.slabDebugNamesLength = valueLength; }
    } else if (bytesEqual(start, nameLength, "physmap") && equals == 0) {
      given(out, Option.Physmap, start, tokenLength);
      out.physmap = 1;
    } else if (bytesEqual(start, nameLength, "kmalloc") && equals != 0) {
      given(out, Option.Kmalloc, start, tokenLength);
      if (bytesEqual(value, valueLength, "guard")) out.kmallocGuard = 1;
      else addProblem(out, ProblemKind.BadValue, start, tokenLength);
    } else if (bytesEqual(start, nameLength, "kfence") && equals != 0) {
      given(out, Option.Kfence, start, tokenLength);
      const n = parseNumber(value, valueLength);
      if (n < 0 || n > 0xFFFFFFFF) addProblem(out, ProblemKind.BadValue, start, tokenLength);
      else out.kfenceInterval = <u32>n;
    } else if (bytesEqual(start, nameLength, "hz") && equals != 0) {
      given(out, Option.Hz, start, tokenLength);
      const n = parseNumber(value, valueLength);
      if (n < 20 || n > 1000) addProblem(out, ProblemKind.BadValue, start, tokenLength);
      else out.hz = <u32>n;
    } else if (bytesEqual(start, nameLength, "lockdep") && equals == 0) {
      given(out, Option.Lockdep, start, tokenLength);
      out.lockdep = 1;
    } else if (bytesEqual(start, nameLength, "commit") && equals != 0) {
      given(out, Option.Commit, start, tokenLength);
      if (bytesEqual(value, valueLength, "strict")) out.commitStrict = 1;
      else if (bytesEqual(value, valueLength, "overcommit")) out.commitStrict = 0;
      else addProblem(out, ProblemKind.BadValue, start, tokenLength);
    } else if (bytesEqual(start, nameLength, "init") && equals != 0) {
      given(out, Option.Init, start, tokenLength);
      if (valueLength == 0 || valueLength > 31) addProblem(out, ProblemKind.BadValue, start, tokenLength);
      else { out.initName = value; out.initNameLength = valueLength; }
    } else if (bytesEqual(start, nameLength, "vmalloc") && equals != 0) {
      given(out, Option.Vmalloc, start, tokenLength);
      const suffixed = valueLength > 1 && load<u8>(value + valueLength - 1) == 77;   // (a trailing 'M')
      const n = parseNumber(value, suffixed ? valueLength - 1 : valueLength);
      if (n <= 0 || n > 0xFFFF) addProblem(out, ProblemKind.BadValue, start, tokenLength);
      else out.vmallocMiB = <u32>n;
    } else if (bytesEqual(start, nameLength, "smp") && equals != 0) {
      given(out, Option.Smp, start, tokenLength);
      if (bytesEqual(value, valueLength, "on")) out.smpOn = 1;
      else if (bytesEqual(value, valueLength, "park")) out.smpOn = 0;
      else addProblem(out, ProblemKind.BadValue, start, tokenLength);
    } else if (wasFirst && equals == 0 && looksLikePath(start, tokenLength)) {
      // the kernel image path that loaders put first
    } else {
      addProblem(out, ProblemKind.UnknownOption, start, tokenLength);
    }
  }
}
