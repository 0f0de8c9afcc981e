// Benchmarks. Each registers in one line and reports instructions per operation, measured with
// the stopwatch (bench/stopwatch.ts: rdtsc under `qemu -icount shift=0`, one tick per guest
// instruction, so the figures repeat exactly). Each record is one serial line that the launcher
// collects into build/bench.json:
//
//   BENCH {"name":"log.filtered_call","unit":"instr/op","value":12.00}
//
// (a value of null means "not applicable": a ratio over zero)
import { puts, putRatio, putDec, putBytes, newline } from "../console/console";
import { NameMatch, nameListContains } from "../lib/names";
import { Registry, REGISTRY_ENTRY_BYTES, registryAt, registryAdd, registryEntry, registryName, registryUnmatched } from "../lib/registry";

export type BenchFn = () => void;

const MAX_BENCHES: u32 = 64;
const benches = registryAt(memory.data(offsetof<Registry>(), 4), memory.data(MAX_BENCHES * REGISTRY_ENTRY_BYTES, 4), MAX_BENCHES);

/** Registers a benchmark; `bench` runs all, `bench=name,prefix.*` some. */
export function registerBench(name: string, fn: BenchFn): void {
  registryAdd(benches, name, changetype<usize>(fn), 0, 0);   // (full: raise MAX_BENCHES)
}

/** How many benchmarks are registered (0 in a release build, which has none). */
export function registeredBenchCount(): u32 { return benches.count; }

// A record is written in three parts, so that a name can be built without allocating:
//   recordStart()  name pieces  recordValueStart(unit)  the value  recordEnd()
function recordStart(): void { puts("BENCH {\"name\":\""); }
function recordValueStart(unit: string): void { puts("\",\"unit\":\""); puts(unit); puts("\",\"value\":"); }
function recordEnd(): void { puts("}\n"); }

/** Prints one record: `totalInstructions / operations` with two decimals, in `unit`. */
export function benchReport(name: string, totalInstructions: u64, operations: u64, unit: string = "instr/op"): void {
  recordStart(); puts(name); recordValueStart(unit); putRatio(totalInstructions, operations); recordEnd();
}

/** Prints one record with an integer value (a maximum, a total). */
export function benchReportValue(name: string, value: u64, unit: string): void {
  recordStart(); puts(name); recordValueStart(unit); putDec(value); recordEnd();
}

/** As benchReportValue, for a name with a number in it: `prefix` + decimal `number` + `suffix`. */
export function benchReportValueNumbered(prefix: string, number: u64, suffix: string, value: u64, unit: string): void {
  recordStart(); puts(prefix); putDec(number); puts(suffix); recordValueStart(unit); putDec(value); recordEnd();
}

/**
 * As benchReportValue, for a name made of `prefix`, the bytes [name, name + nameLength) and
 * `suffix` (a trace's name, say).
 */
export function benchReportNamed(prefix: string, name: usize, nameLength: u32, suffix: string, value: u64, unit: string): void {
  recordStart(); puts(prefix); putBytes(name, nameLength); puts(suffix); recordValueStart(unit); putDec(value); recordEnd();
}

/**
 * As benchReportNamed, for the ratio numerator / denominator with two decimals. Over zero (an
 * empty trace, say) there is no ratio: the value is `null`, "not applicable", which the
 * launcher never counts as a met target.
 */
export function benchReportNamedRatio(prefix: string, name: usize, nameLength: u32, suffix: string, numerator: u64, denominator: u64, unit: string): void {
  recordStart(); puts(prefix); putBytes(name, nameLength); puts(suffix); recordValueStart(unit);
  if (denominator == 0) puts("null"); else putRatio(numerator, denominator);
  recordEnd();
}

/** As benchReportNamedRatio, for a plain name: numerator / denominator with two decimals, or null over zero. Thread context (a benchmark's). */
export function benchReportRatio(name: string, numerator: u64, denominator: u64): void {
  recordStart(); puts(name); recordValueStart("ratio");
  if (denominator == 0) puts("null"); else putRatio(numerator, denominator);
  recordEnd();
}

let failures: u32 = 0;

/** A benchmark could not do its work (bad input, no memory): the boot ends with a failure. */
export function benchFail(): void { failures++; }

let stopCheck: usize = 0;
/** `check` (a () => bool, 0 for none) is asked before each benchmark: true stops the run there (the monitor's Ctrl-C). */
export function setBenchStopCheck(check: usize): void { stopCheck = check; }

/**
 * Runs the benchmarks whose names match (all when `namesLength` is 0); false if one failed or
 * an entry of the list matches no benchmark (each such entry is named, and nothing runs).
 */
export function runBenchmarks(names: usize, namesLength: u32): bool {
  failures = 0;   // (the monitor runs benchmarks more than once)
  if (namesLength != 0) {
    failures += registryUnmatched(benches, names, namesLength,
      (registry: Registry, i: u32, match: NameMatch): bool => match != NameMatch.None,
      (entry: usize, length: u32): void => { puts("bench: no benchmark matches '"); putBytes(entry, length); puts("'\n"); });
  }
  if (failures != 0) { puts("bench: nothing run\n"); return false; }
  for (let i: u32 = 0; i < benches.count; i++) {
    if (namesLength != 0 && !nameListContains(names, namesLength, registryName(benches, i))) continue;
    if (stopCheck != 0 && changetype<() => bool>(stopCheck)()) { puts("bench: interrupted\n"); break; }
    changetype<BenchFn>(registryEntry(benches, i).fn)();
  }
  puts("bench: done\n");
  return failures == 0;
}
