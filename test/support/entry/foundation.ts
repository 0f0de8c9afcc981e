// Host build of the foundation's hardware-independent modules (format, cmdline, symbols,
// random), exported for test/lib/foundation.test.ts.
import { formatDecimal, formatHex, formatFixed2 } from "../../../kernel/lib/format";
import { parseCommandLine, BootOptions, BOOT_OPTIONS_BYTES, parseNumber, problemKind, problemStart, problemLength } from "../../../kernel/boot/cmdline";
import { nameListContains, nameListMatch } from "../../../kernel/lib/names";
import { symbolLookup, symbolCount } from "../../../kernel/diag/symbols";
import { Random, randomSeed, randomNext, randomBelow } from "../../../kernel/lib/random";

const SCRATCH_BYTES: u32 = 1 << 20;
const scratch = memory.data(SCRATCH_BYTES, 16);
const options = changetype<BootOptions>(memory.data(BOOT_OPTIONS_BYTES, 8));
const rng = changetype<Random>(memory.data(8, 8));

/** A 1 MiB buffer the test writes inputs into. */
export function scratchAddress(): usize { return scratch; }
export function scratchBytes(): u32 { return SCRATCH_BYTES; }

export function fmtDecimal(value: u64, out: usize): u32 { return formatDecimal(value, out); }
export function fmtHex(value: u64, minDigits: u32, out: usize): u32 { return formatHex(value, minDigits, out); }
export function fmtFixed2(n: u64, d: u64, out: usize): u32 { return formatFixed2(n, d, out); }

export function cmdlineParse(text: usize, length: u32): void { parseCommandLine(text, length, options); }
export function optTestSelection(): u32 { return options.testSelection; }
export function optTestNames(): usize { return options.testNames; }
export function optTestNamesLength(): u32 { return options.testNamesLength; }
export function optSeed(): u64 { return options.seed; }
export function optSeedGiven(): u32 { return options.seedGiven; }
export function optBench(): u32 { return options.bench; }
export function optBenchNamesLength(): u32 { return options.benchNamesLength; }
export function optLogLevel(): i32 { return options.logLevel; }
export function optMemmapFromMemFields(): u32 { return options.memmapFromMemFields; }
export function optSlabinfo(): u32 { return options.slabinfo; }
export function optKmallocGuard(): u32 { return options.kmallocGuard; }
export function optKfence(): u32 { return options.kfenceInterval; }
export function optPhysmap(): u32 { return options.physmap; }
export function optProblemCount(): u32 { return options.problemCount; }
export function optProblemKind(i: u32): u32 { return problemKind(options, i); }
export function optProblemStart(i: u32): usize { return problemStart(options, i); }
export function optProblemLength(i: u32): u32 { return problemLength(options, i); }
export function number(text: usize, length: u32): i64 { return parseNumber(text, length); }
export function listContains(list: usize, length: u32, name: string): bool { return nameListContains(list, length, name); }
/** 0 none, 1 by a pattern ("all", "prefix*"), 2 exactly. */
export function listMatch(list: usize, length: u32, name: string): u32 { return nameListMatch(list, length, name); }
export function optSlabDebug(): u32 { return options.slabDebug; }
export function optHz(): u32 { return options.hz; }
export function optLockdep(): u32 { return options.lockdep; }
export function optCommitStrict(): u32 { return options.commitStrict; }
export function optVmallocMiB(): u32 { return options.vmallocMiB; }
export function optInitLength(): u32 { return options.initNameLength; }

export function symLookup(table: usize, address: usize): i32 { return symbolLookup(table, address); }
export function symCount(table: usize): u32 { return symbolCount(table); }

export function rngSeed(seed: u64): void { randomSeed(rng, seed); }
export function rngNext(): u64 { return randomNext(rng); }
export function rngBelow(bound: u32): u32 { return randomBelow(rng, bound); }
