// Host tests of the foundation's pure modules, built from the same AssemblyScript sources as
// the kernel (test/support/entry/foundation.ts), with property-based checks against models in TS.
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import { loadHostModule, HostModule, propertyParams } from "../support/wasm";
import { encodeTable } from "../../scripts/gensyms";

const uBits = (bits: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });

let m: HostModule;
let scratch: number;
beforeAll(() => { m = loadHostModule("foundation"); scratch = m.exports.scratchAddress(); });

const ascii = (at: number, length: number) => Buffer.from(m.bytes().subarray(at, at + length)).toString("latin1");
function writeBytes(at: number, text: string): number { m.bytes().set(Buffer.from(text, "latin1"), at); return text.length; }
/** Lays out an AssemblyScript string at `at` (byte length in the 4 bytes before it). */
function writeAsString(at: number, text: string): number {
  new DataView(m.memory.buffer).setUint32(at - 4, text.length * 2, true);
  const units = new Uint16Array(m.memory.buffer, at, text.length);
  for (let i = 0; i < text.length; i++) units[i] = text.charCodeAt(i);
  return at;
}

describe("format", () => {
  it("decimal matches BigInt for any u64", () => {
    fc.assert(fc.property(uBits(64), (v) => {
      const n = m.exports.fmtDecimal(v, scratch);
      expect(ascii(scratch, n)).toBe(v.toString());
    }), propertyParams());
  });
  it("hex matches BigInt, zero-padded to the minimum", () => {
    fc.assert(fc.property(uBits(64), fc.integer({ min: 1, max: 16 }), (v, digits) => {
      const n = m.exports.fmtHex(v, digits, scratch);
      expect(ascii(scratch, n)).toBe(v.toString(16).padStart(digits, "0"));
    }), propertyParams());
  });
  it("fixed two decimals rounds half up", () => {
    fc.assert(fc.property(uBits(40), fc.bigInt({ min: 0n, max: 1n << 20n }).filter((d) => d > 0n), (num, den) => {
      const n = m.exports.fmtFixed2(num, den, scratch);
      const hundredths = (num * 100n + den / 2n) / den;
      expect(ascii(scratch, n)).toBe(`${hundredths / 100n}.${String(hundredths % 100n).padStart(2, "0")}`);
    }), propertyParams());
    expect(ascii(scratch, m.exports.fmtFixed2(5n, 0n, scratch))).toBe("0");
  });
});

describe("command line", () => {
  function parse(text: string) {
    m.exports.cmdlineParse(scratch, writeBytes(scratch, text));
    const problems = [];
    for (let i = 0; i < Math.min(8, m.exports.optProblemCount()); i++) {
      problems.push({ kind: m.exports.optProblemKind(i), text: ascii(m.exports.optProblemStart(i), m.exports.optProblemLength(i)) });
    }
    return {
      test: m.exports.optTestSelection(), names: ascii(m.exports.optTestNames(), m.exports.optTestNamesLength()),
      seed: m.exports.optSeed() as bigint, seedGiven: m.exports.optSeedGiven(), bench: m.exports.optBench(),
      logLevel: m.exports.optLogLevel(), problemCount: m.exports.optProblemCount(), problems,
    };
  }
  it("reads every known option", () => {
    const o = parse("/boot/askern.elf test=pmm.*,heap.chaos seed=0xff bench=slab.* loglevel=trace");
    expect(o).toMatchObject({ test: 3, names: "pmm.*,heap.chaos", seed: 255n, seedGiven: 1, bench: 1, logLevel: 4, problemCount: 0 });
    expect(parse("test=all").test).toBe(1);
    expect(parse("test=list loglevel=0").logLevel).toBe(0);
    expect(parse("").problemCount).toBe(0);
    expect(m.exports.optMemmapFromMemFields()).toBe(0);
    parse("memmap=memfields");
    expect(m.exports.optMemmapFromMemFields()).toBe(1);
    expect(parse("memmap=loader memmap=e820").problems).toEqual([{ kind: 4, text: "memmap=e820" }, { kind: 2, text: "memmap=e820" }]);
    expect(m.exports.optSlabinfo()).toBe(0);
    expect(parse("test=all slabinfo").problemCount).toBe(0);
    expect(m.exports.optSlabinfo()).toBe(1);
    expect(parse("slabinfo=yes").problems).toEqual([{ kind: 1, text: "slabinfo=yes" }]);
    expect(parse("kmalloc=guard kfence=100").problemCount).toBe(0);
    expect([m.exports.optKmallocGuard(), m.exports.optKfence()]).toEqual([1, 100]);
    expect(parse("kfence=0x10 physmap").problemCount).toBe(0);
    expect([m.exports.optKmallocGuard(), m.exports.optKfence(), m.exports.optPhysmap()]).toEqual([0, 16, 1]);
    expect(parse("physmap=yes").problems).toEqual([{ kind: 1, text: "physmap=yes" }]);
    expect(parse("kmalloc=slab kfence=-1 kfence=4294967296 kfence").problems).toEqual([
      { kind: 2, text: "kmalloc=slab" }, { kind: 2, text: "kfence=-1" }, { kind: 4, text: "kfence=4294967296" },
      { kind: 2, text: "kfence=4294967296" }, { kind: 1, text: "kfence" }]);
    expect(parse("   ").problemCount).toBe(0);
  });
  it("reports unknown options and bad values, not silently", () => {
    const o = parse("build/askern.elf frobnicate seed=12x loglevel=loud test= bench= x=1");
    expect(o.problems).toEqual([
      { kind: 1, text: "frobnicate" }, { kind: 2, text: "seed=12x" }, { kind: 2, text: "loglevel=loud" },
      { kind: 2, text: "test=" }, { kind: 2, text: "bench=" }, { kind: 1, text: "x=1" },
    ]);
    expect(o.seedGiven).toBe(0);
    expect(o.logLevel).toBe(-1);
    expect(o.test).toBe(0);
    expect(o.bench).toBe(0);   // a bad value is not applied: `bench=` does not run every benchmark
    expect(parse("slab_debug=").problems).toEqual([{ kind: 2, text: "slab_debug=" }]);
    expect(m.exports.optSlabDebug()).toBe(0);
    expect(parse("bench slab_debug").bench).toBe(1);
    expect(m.exports.optSlabDebug()).toBe(1);
  });
  it("takes hz= from 20 to 1000 and refuses the rest", () => {
    expect(parse("hz=250").problemCount).toBe(0);
    expect(m.exports.optHz()).toBe(250);
    expect(parse("hz=19 hz=1001 hz=fast").problems.filter((p) => p.kind === 2).map((p) => p.text)).toEqual(["hz=19", "hz=1001", "hz=fast"]);
    expect(m.exports.optHz()).toBe(0);
  });
  it("takes lockdep as a flag, and refuses a value", () => {
    expect(parse("lockdep").problemCount).toBe(0);
    expect(m.exports.optLockdep()).toBe(1);
    expect(parse("lockdep=1").problems).toEqual([{ kind: 1, text: "lockdep=1" }]);
    expect(m.exports.optLockdep()).toBe(0);
  });
  it("takes commit=strict|overcommit and init=NAME, and refuses bad values", () => {
    expect(parse("commit=strict init=cowtest").problemCount).toBe(0);
    expect(m.exports.optCommitStrict()).toBe(1);
    expect(m.exports.optInitLength()).toBe(7);
    expect(parse("commit=overcommit").problemCount).toBe(0);
    expect(m.exports.optCommitStrict()).toBe(0);
    expect(parse("commit=maybe init=").problems.map((p) => p.text)).toEqual(["commit=maybe", "init="]);
    expect(parse("init=" + "x".repeat(32)).problems.map((p) => p.text)).toEqual(["init=" + "x".repeat(32)]);
    expect(m.exports.optInitLength()).toBe(0);
  });
  it("takes vmalloc=N and vmalloc=NM (MiB; the kernel checks the bounds), and refuses a value that is no size", () => {
    expect(parse("vmalloc=64").problemCount).toBe(0);
    expect(m.exports.optVmallocMiB()).toBe(64);
    expect(parse("vmalloc=128M").problemCount).toBe(0);
    expect(m.exports.optVmallocMiB()).toBe(128);
    for (const bad of ["vmalloc=abc", "vmalloc=0", "vmalloc=M", "vmalloc=70000"]) {
      expect(parse(bad).problems).toEqual([{ kind: 2, text: bad }]);
      expect(m.exports.optVmallocMiB()).toBe(0);
    }
  });
  it("separates options by any whitespace", () => {
    const o = parse("seed=5\ttest=all\nloglevel=warn\r\x0bbench\x0cphysmap");
    expect(o).toMatchObject({ seed: 5n, test: 1, logLevel: 1, bench: 1, problemCount: 0 });
    expect(m.exports.optPhysmap()).toBe(1);
  });
  it("reports an option given twice; the last one wins", () => {
    const o = parse("seed=1 test=all seed=2 loglevel=warn loglevel=bogus");
    expect(o.problems).toEqual([{ kind: 4, text: "seed=2" }, { kind: 4, text: "loglevel=bogus" }, { kind: 2, text: "loglevel=bogus" }]);
    expect(o.seed).toBe(2n);
    expect(o.logLevel).toBe(1);   // the bad second value is not applied
  });
  it("skips a path only as the first word", () => {
    expect(parse("/boot/askern.elf").problemCount).toBe(0);
    expect(parse("test=all /boot/askern.elf").problems).toEqual([{ kind: 1, text: "/boot/askern.elf" }]);
  });
  it("counts problems past the stored eight", () => {
    const o = parse(Array.from({ length: 11 }, (_, i) => `bad${i}`).join(" "));
    expect(o.problemCount).toBe(11);
    expect(o.problems.length).toBe(8);
  });
  it("agrees with a model on random option lines", () => {
    const option = fc.oneof(
      uBits(63).map((v) => ({ text: `seed=${v}`, seed: v })),
      fc.constantFrom("error", "warn", "info", "debug", "trace").map((l) => ({ text: `loglevel=${l}`, level: ["error", "warn", "info", "debug", "trace"].indexOf(l) })),
      fc.stringMatching(/^[a-z]{1,8}$/).filter((w) => !["test", "seed", "bench", "loglevel"].includes(w)).map((w) => ({ text: w, unknown: true })),
    );
    fc.assert(fc.property(fc.array(option, { maxLength: 6 }), fc.integer({ min: 1, max: 3 }), (opts, gap) => {
      const o = parse(opts.map((x) => x.text).join(" ".repeat(gap)));
      const seeds = opts.filter((x) => "seed" in x);
      const levels = opts.filter((x) => "level" in x);
      const unknown = opts.filter((x) => "unknown" in x);
      const repeats = Math.max(0, seeds.length - 1) + Math.max(0, levels.length - 1);
      expect(o.seedGiven).toBe(seeds.length ? 1 : 0);
      if (seeds.length) expect(o.seed).toBe((seeds[seeds.length - 1] as { seed: bigint }).seed);
      expect(o.logLevel).toBe(levels.length ? (levels[levels.length - 1] as { level: number }).level : -1);
      expect(o.problemCount).toBe(unknown.length + repeats);
    }), propertyParams());
  });
  it("parses numbers and rejects overflow", () => {
    const num = (t: string) => m.exports.number(scratch, writeBytes(scratch, t));
    expect(num("0")).toBe(0n);
    expect(num("0x7fffffffffffffff")).toBe(0x7fffffffffffffffn);
    expect(num("9223372036854775808")).toBe(-1n);
    expect(num("")).toBe(-1n);
    expect(num("0x")).toBe(-1n);
    expect(num("12a")).toBe(-1n);
  });
  it("matches names, prefixes and 'all' in a list", () => {
    const list = "pmm.alloc,heap.*,x";
    const listAt = scratch, nameAt = scratch + 4096;
    writeBytes(listAt, list);
    const has = (name: string) => m.exports.listContains(listAt, list.length, writeAsString(nameAt, name));
    expect(has("pmm.alloc")).toBe(1);
    expect(has("pmm.allo")).toBe(0);
    expect(has("heap.chaos")).toBe(1);
    expect(has("heap")).toBe(0);
    expect(has("x")).toBe(1);
    writeBytes(listAt, "all");
    expect(m.exports.listContains(listAt, 3, writeAsString(nameAt, "anything"))).toBe(1);
    // how: exactly (2) beats a pattern (1); "all" and prefixes are patterns
    const how = (l: string, name: string) => { writeBytes(listAt, l); return m.exports.listMatch(listAt, l.length, writeAsString(nameAt, name)); };
    expect(how("all", "panic.x")).toBe(1);
    expect(how("panic.*", "panic.x")).toBe(1);
    expect(how("*", "panic.x")).toBe(1);
    expect(how("all,panic.x", "panic.x")).toBe(2);
    expect(how("pmm.*,heap.chaos", "heap.chaos")).toBe(2);
    expect(how("pmm.*", "heap.chaos")).toBe(0);
  });
});

describe("symbol table", () => {
  it("finds the greatest address at or below, like a linear scan", () => {
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 0x1000, max: 0xfffff }), { maxLength: 200 }), fc.array(fc.integer({ min: 0, max: 0x100fff }), { minLength: 1, maxLength: 50 }), (addresses, probes) => {
      const symbols = [...addresses].sort((a, b) => a - b).map((address, i) => ({ address, name: `f${i}` }));
      const table = encodeTable(symbols);
      m.bytes().set(table, scratch);
      expect(m.exports.symCount(scratch)).toBe(symbols.length);
      for (const p of probes) {
        let expected = -1;
        symbols.forEach((s, i) => { if (s.address <= p) expected = i; });
        expect(m.exports.symLookup(scratch, p)).toBe(expected);
      }
    }), propertyParams(100));
  });
  it("treats a missing or corrupt table as empty", () => {
    m.bytes().fill(0, scratch, scratch + 16);
    expect(m.exports.symCount(scratch)).toBe(0);
    expect(m.exports.symLookup(scratch, 0x1234)).toBe(-1);
    expect(m.exports.symLookup(0, 0x1234)).toBe(-1);
  });
});

describe("random", () => {
  // SplitMix64 reference in BigInt
  function* splitmix(seed: bigint) {
    const mask = (1n << 64n) - 1n;
    let s = seed;
    for (;;) {
      s = (s + 0x9e3779b97f4a7c15n) & mask;
      let z = s;
      z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask;
      z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask;
      yield z ^ (z >> 31n);
    }
  }
  it("is SplitMix64, so a seed replays the same sequence anywhere", () => {
    fc.assert(fc.property(uBits(64), (seed) => {
      m.exports.rngSeed(seed);
      const ref = splitmix(seed);
      for (let i = 0; i < 5; i++) expect(BigInt.asUintN(64, m.exports.rngNext())).toBe(ref.next().value);
    }), propertyParams());
  });
  it("randomBelow stays below its bound", () => {
    fc.assert(fc.property(uBits(64), fc.integer({ min: 1, max: 2 ** 32 - 1 }), (seed, bound) => {
      m.exports.rngSeed(seed);
      for (let i = 0; i < 20; i++) expect(m.exports.rngBelow(bound) >>> 0).toBeLessThan(bound);
    }), propertyParams());
  });
});
