// In-kernel self-tests. A test registers in one line, at the top level of its file:
//
//   registerTest("pmm.free_count", () => { ... check(...) ... });
//   registerPanicTest("panic.null_deref", "null pointer dereference", () => { ... });
//
// `test=all` (or a name list) runs them at boot and prints a TAP stream on serial, ending with
// "selftest: N passed, M failed, K skipped", then leaves QEMU with ExitCode.Pass or ExitCode.Fail.
// A test the machine is too small for calls skipTest(reason) and returns: TAP's `# SKIP`. A panic
// test must end in a panic whose text contains every '|'-separated part of its expectation; it
// runs alone, in its own boot (`test=panic.null_deref`), judged by the host (the QEMU tests, test/**/*.qemu.test.ts).
// Each test runs under a PIT watchdog. An on-demand test (registerOnDemandTest) runs only when
// named: it checks something that ends the run, such as the watchdog itself.
import { threadsTable, cpusTable } from "../sched/listing";
import { reclaimerSettle } from "../sched/reclaimd";
import { arenaMark, arenaRelease } from "../mm/alloc/arena";
import { puts, putDec, putHex, newline, putBytes } from "../console/console";
import { qemuExit, ExitCode } from "../arch/qemu";
import { pitTicks, pitHz, pitInit } from "../arch/pit";
import { Random, randomSeed } from "../lib/random";
import { TestSelection } from "../boot/cmdline";
import { NameMatch, nameListMatch } from "../lib/names";
import { lockdepOn, lockdepReportsTotal } from "../sched/lockdep";
import { isPanicking } from "../diag/panic";
import { Invariant, invariantText } from "../mm/core/invariant";
import { Registry, REGISTRY_ENTRY_BYTES, registryAt, registryAdd, registryEntry, registryName, registryUnmatched } from "../lib/registry";

export type TestFn = () => void;

const MAX_TESTS: u32 = 256;
/** What a registered test is, and so when it runs. */
const enum TestKind {
  Normal = 0,     // in test=all and by name
  Panic = 1,      // by name only, alone in its boot; must panic with the expected text
  OnDemand = 2,   // by name only: it ends the run some other way (the watchdog test)
}
// The tests (lib/registry.ts): name, fn (a TestFn), kind (TestKind), detail (the expected panic text, Panic only).
const tests = registryAt(memory.data(offsetof<Registry>(), 4), memory.data(MAX_TESTS * REGISTRY_ENTRY_BYTES, 4), MAX_TESTS);

/** Watchdog: a test that runs longer than this (`watchdog=S` to change) fails the run. */
let timeoutSeconds: u32 = 20;
export function setTestTimeout(seconds: u32): void { timeoutSeconds = seconds; }

/** How many tests are registered (0 in a release build, which has none). */
export function registeredTestCount(): u32 { return tests.count; }

let currentName: string | null = null;
let currentNumber: u32 = 0;
let currentFailures: u32 = 0;
let currentSkip: string | null = null;
let passed: u32 = 0, failed: u32 = 0, skipped: u32 = 0;
let deadlineTick: u64 = 0;
let currentTimeout: u32 = 0;   // the running test's watchdog, in seconds (testTimeout may raise it)
let baseSeed: u64 = 0;
const testRandom = changetype<Random>(memory.data(offsetof<Random>(), 8));

function register(name: string, fn: TestFn, kind: TestKind, expectedPanic: usize): void {
  registryAdd(tests, name, changetype<usize>(fn), kind, expectedPanic);   // (full: raise MAX_TESTS)
}

/** Registers a self-test run by `test=all` or by name. */
export function registerTest(name: string, fn: TestFn): void { register(name, fn, TestKind.Normal, 0); }

/** Registers a test that must panic with text containing each '|'-separated part of `expected`. */
export function registerPanicTest(name: string, expected: string, fn: TestFn): void {
  register(name, fn, TestKind.Panic, changetype<usize>(expected));
}

/** Registers a test that runs only when named on the command line, never in `test=all`. */
export function registerOnDemandTest(name: string, fn: TestFn): void { register(name, fn, TestKind.OnDemand, 0); }

@inline function recordName(i: u32): string { return registryName(tests, i); }
@inline function recordFn(i: u32): TestFn { return changetype<TestFn>(registryEntry(tests, i).fn); }
@inline function recordKind(i: u32): TestKind { return <TestKind>registryEntry(tests, i).kind; }
@inline function recordExpectedPanic(i: u32): string { return changetype<string>(registryEntry(tests, i).detail); }

/** The running test's generator, seeded from the run's seed and the test's name. */
export function testRng(): Random { return testRandom; }

/** The run's base seed (printed at the start; `seed=N` replays it). */
export function testBaseSeed(): u64 { return baseSeed; }

function failHeader(what: string): void {
  currentFailures++;
  puts("# check failed: "); puts(what);
}

/**
 * Marks the running test as skipped, with `reason` (say what the machine lacks: "needs 16 MiB
 * of RAM, has 8"); the test then returns. A skipped test that also failed a check fails.
 * Thread context, from a test only.
 */
export function skipTest(reason: string): void { currentSkip = reason; }

/** Records a failure unless `condition` holds. Returns `condition`. */
export function check(condition: bool, what: string): bool {
  if (!condition) { failHeader(what); newline(); }
  return condition;
}

/** Records a failure unless actual == expected (both printed). Returns whether they matched. */
export function checkEqual(actual: u64, expected: u64, what: string): bool {
  if (actual == expected) return true;
  failHeader(what);
  puts(": expected "); putDec(expected); puts(" ("); putHex(expected); puts("), got ");
  putDec(actual); puts(" ("); putHex(actual); puts(")\n");
  return false;
}

function nameHash(name: string): u64 {
  let h: u64 = 0xCBF29CE484222325;   // FNV-1a
  for (let i = 0; i < name.length; i++) { h ^= <u64>name.charCodeAt(i); h *= 0x100000001B3; }
  return h;
}

// The lock checker's reports (with `lockdep`): a test that provokes some on purpose says how
// many (lockdepExpect); any other report fails the test it came in.
let expectedReports: u32 = 0;
let unexpectedReports: u32 = 0;
/** The running test provokes `n` lock-checker reports on purpose (counted only with `lockdep`). */
export function lockdepExpect(n: u32): void { expectedReports += n; }
/** Reports no test expected, so far. */
export function lockdepUnexpected(): u32 { return unexpectedReports; }

function checkLockdepReports(before: u32): void {
  if (lockdepOn == 0) return;
  const got = lockdepReportsTotal() - before;
  if (got == expectedReports) return;
  if (got > expectedReports) unexpectedReports += got - expectedReports;
  puts("# lockdep: "); putDec(got); puts(" report(s) during the test, "); putDec(expectedReports); puts(" expected\n");
  currentFailures++;
}

function runOne(i: u32): void {
  const name = recordName(i);
  currentName = name;
  currentNumber++;
  currentFailures = 0;
  currentSkip = null;
  randomSeed(testRandom, baseSeed ^ nameHash(name));
  currentTimeout = timeoutSeconds;
  deadlineTick = pitTicks() + <u64>timeoutSeconds * pitHz();
  expectedReports = 0;
  const reportsBefore = lockdepReportsTotal();
  // The reclaimer, woken by an earlier test that went below the low watermark, finishes first:
  // tests count free frames exactly, and it must not give some back in the middle of one.
  reclaimerSettle();
  const scope = arenaMark();   // the test's transient allocations end with it
  recordFn(i)();
  arenaRelease(scope);
  deadlineTick = 0;
  runAfterTestChecks();
  checkLockdepReports(reportsBefore);
  const skip = currentSkip;
  if (currentFailures != 0) { failed++; puts("not ok "); }
  else if (skip) { skipped++; puts("ok "); }
  else { passed++; puts("ok "); }
  putDec(currentNumber); puts(" - "); puts(name);
  if (currentFailures != 0) { puts(" # "); putDec(currentFailures); puts(" check(s) failed"); }
  else if (skip) { puts(" # SKIP "); puts(skip); }
  newline();
  currentName = null;
}

// Invariant checkers run after every test (the PMM's, the heap's...): a test that leaves an
// allocator broken fails, even if its own checks passed.
/** Returns Invariant.Holds when the checked structure is sound, else the broken invariant. */
export type InvariantCheck = () => Invariant;
const MAX_AFTER_CHECKS: u32 = 8;
const afterChecks = registryAt(memory.data(offsetof<Registry>(), 4), memory.data(MAX_AFTER_CHECKS * REGISTRY_ENTRY_BYTES, 4), MAX_AFTER_CHECKS);

/** Registers `fn` to run after every test; a non-zero result fails that test. */
export function registerAfterTestCheck(name: string, fn: InvariantCheck): void {
  registryAdd(afterChecks, name, changetype<usize>(fn), 0, 0);
}

function runAfterTestChecks(): void {
  for (let i: u32 = 0; i < afterChecks.count; i++) {
    const broken = changetype<InvariantCheck>(registryEntry(afterChecks, i).fn)();
    if (broken != Invariant.Holds) {
      puts("# after the test: "); puts(registryName(afterChecks, i));
      puts(" reports broken invariant "); putDec(broken); puts(" ("); puts(invariantText(broken)); puts(")"); newline();
      currentFailures++;
    }
  }
}

/** Whether a name list's `match` of test `i` selects it: a pattern selects only normal tests. */
@inline function matchSelects(i: u32, match: NameMatch): bool {
  return match == NameMatch.Exact || (match == NameMatch.Pattern && recordKind(i) == TestKind.Normal);
}

function selected(i: u32, selection: TestSelection, names: usize, namesLength: u32): bool {
  if (selection == TestSelection.All) return recordKind(i) == TestKind.Normal;
  return matchSelects(i, nameListMatch(names, namesLength, recordName(i)));
}

/** "# no test matches 'entry'", for a list entry that selects no test (registryUnmatched). */
function reportNoTest(entry: usize, length: u32): void {
  puts("# no test matches '"); putBytes(entry, length); puts("'");
  puts(length > 0 && load<u8>(entry + length - 1) == 42 ? " (a pattern selects only the normal tests: name a panic or on-demand test in full)\n" : "\n");
}

function printSummary(): void {
  puts("selftest: "); putDec(passed); puts(" passed, "); putDec(failed); puts(" failed, "); putDec(skipped); puts(" skipped\n");
}

/** Prints every registered test, one a line ("test: name" or "panictest: name expects ..."). */
export function listTests(): void {
  for (let i: u32 = 0; i < tests.count; i++) {
    const kind = recordKind(i);
    puts(kind == TestKind.Normal ? "test: " : kind == TestKind.OnDemand ? "ondemand: " : "panictest: ");
    puts(recordName(i));
    if (kind == TestKind.Panic) { puts(" expects "); puts(recordExpectedPanic(i)); }
    newline();
  }
}

/**
 * Runs the selected tests as a TAP stream, then prints the summary. Returns true when all
 * passed. A selected panic test that returns counts as failed.
 */
export function runSelfTests(selection: TestSelection, names: usize, namesLength: u32, seed: u64): bool {
  baseSeed = seed;
  passed = 0; failed = 0; skipped = 0; currentNumber = 0;   // (the monitor runs tests more than once)
  let total: u32 = 0;
  for (let i: u32 = 0; i < tests.count; i++) if (selected(i, selection, names, namesLength)) total++;
  puts("TAP version 13\n");
  puts("# seed="); putDec(seed); puts(" (replay with seed="); putDec(seed); puts(")\n");
  puts("1.."); putDec(total); newline();
  if (selection == TestSelection.Named) {
    failed += registryUnmatched(tests, names, namesLength, (registry: Registry, i: u32, match: NameMatch): bool => matchSelects(i, match), reportNoTest);
  }
  for (let i: u32 = 0; i < tests.count; i++) {
    if (!selected(i, selection, names, namesLength)) continue;
    if (stopCheck != 0 && changetype<() => bool>(stopCheck)()) { puts("# interrupted: the remaining tests do not run\n"); break; }
    const mustPanic = recordKind(i) == TestKind.Panic;
    if (mustPanic) {
      puts("# panic test: expects a panic containing \""); puts(recordExpectedPanic(i)); puts("\"\n");
    }
    runOne(i);
    if (mustPanic) {
      puts("# "); puts(recordName(i)); puts(": returned without the expected panic\n");
      if (currentFailures == 0 && currentSkip == null) { passed--; failed++; }
    }
  }
  printSummary();
  return failed == 0;
}

let stopCheck: usize = 0;
/** `check` (a () => bool, 0 for none) is asked before each test: true stops the run there (the monitor's Ctrl-C). */
export function setTestStopCheck(check: usize): void { stopCheck = check; }

/**
 * The first test that `names` selects and that would end the session (a panic test), or null.
 * For the monitor, which refuses to run one.
 */
export function panicTestSelected(names: usize, namesLength: u32): string | null {
  for (let i: u32 = 0; i < tests.count; i++) {
    if (recordKind(i) == TestKind.Panic && selected(i, TestSelection.Named, names, namesLength)) return recordName(i);
  }
  return null;
}

/**
 * Reprograms the timer to `hz` ticks a second for the running test (stress tests raise it), and
 * rescales the watchdog's deadline to the new rate. The test puts the old rate (pitHz) back.
 */
export function testTimerRate(hz: u32): void {
  const now = pitTicks(), old = pitHz();
  if (deadlineTick > now) deadlineTick = now + (deadlineTick - now) * hz / old;
  pitInit(hz);
}

/**
 * For a test whose work is long by design (a stress of a fixed number of operations, which a
 * loaded host's plain TCG may run several times slower): its watchdog fires `seconds` from now
 * instead, if that is later. Thread context, inside a test.
 */
export function testTimeout(seconds: u32): void {
  if (seconds <= currentTimeout || deadlineTick == 0) return;
  currentTimeout = seconds;
  deadlineTick = pitTicks() + <u64>seconds * pitHz();
}

/** Called on every timer tick: a test past its deadline fails the whole run. */
export function watchdogTick(now: u64): void {
  if (deadlineTick == 0 || now < deadlineTick || isPanicking()) return;
  deadlineTick = 0;
  puts("\nnot ok "); putDec(currentNumber); puts(" - ");
  if (currentName) puts(currentName!);
  puts(" # timeout: watchdog fired after "); putDec(currentTimeout); puts(" s\n");
  failed++;
  threadsTable(); cpusTable();   // (where everything stood: a hang's first clue)
  printSummary();
  qemuExit(ExitCode.Fail);
}

