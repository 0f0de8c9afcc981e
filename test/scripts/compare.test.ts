// The native comparison program (scripts/compare/, `make compare`): every allocator it measures
// keeps every block's contents and alignment over generated traces of each workload; a
// malformed trace is refused with its line and column; callgrind's count repeats exactly; the
// ratios and the table.
import { describe, it, expect, beforeAll } from "vitest";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { generateTrace, WORKLOADS } from "../../scripts/gentrace";
import { ALLOCATORS, validate, countInstructions, addRatios, traceTable, traceName, measure, Result } from "../../scripts/compare";

const run = promisify(execFile);
const PROGRAMS = "build/compare";
let dir = "";
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), "askern-compare-test-")); });

function traceFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe("the comparison program", () => {
  for (const workload of Object.keys(WORKLOADS)) {
    it(`every allocator keeps contents and alignment on a ${workload} trace`, async () => {
      const text = generateTrace(workload, 7, 3000);
      const operations = text.split("\n").filter((line) => /^[afr] /.test(line)).length;
      const file = traceFile(`${workload}.trace`, text);
      for (const a of ALLOCATORS) {
        const { stdout } = await run(join(PROGRAMS, a.program), ["--allocator", a.name, "--mode", "check", file]);
        const r = JSON.parse(stdout);
        expect([a.name, r.wrong, r.end, r.ops]).toEqual([a.name, 0, 0, operations]);   // every operation of the trace ran
        expect(r.ops).toBeGreaterThan(2000);
      }
    }, 60_000);
  }
  it("each program has the allocators it is said to", async () => {
    for (const program of new Set(ALLOCATORS.map((a) => a.program))) {
      const { stdout } = await run(join(PROGRAMS, program), ["--list"]);
      for (const a of ALLOCATORS.filter((x) => x.program === program)) expect(stdout.split("\n")).toContain(a.name);
    }
  });
  it("a malformed trace is refused with its line and column, and nothing runs", async () => {
    const extra = traceFile("extra.trace", "a 0 16\nf 0\n# fine\nf 0 7\n");
    expect(await validate(PROGRAMS, extra)).toMatch(/extra\.trace:4:5: .*extra field/);
    const notLive = traceFile("notlive.trace", "a 0 16\nf 1\n");
    expect(await validate(PROGRAMS, notLive)).toMatch(/notlive\.trace:2:\d+: /);
    await expect(run(join(PROGRAMS, "compare-main"), ["--allocator", "glibc", "--mode", "count", notLive])).rejects.toMatchObject({ code: 2 });
    expect(await validate(PROGRAMS, traceFile("good.trace", "a 0 16 64\nr 0 100\nf 0\n"))).toBeNull();
  });
  it("an allocation one allocator refuses is counted for it, and the others are still compared", async () => {
    // legal by the format (at most 1 GiB) but more than askern's heap takes and than the TLSF can grow to
    const huge = traceFile("huge.trace", "a 0 16\na 1 1073741824\nr 0 32\nf 1\nf 0\n");
    const results = await Promise.all(ALLOCATORS.filter((a) => a.program === "compare-main").map((a) => measure(PROGRAMS, a, huge, dir)));
    const by = Object.fromEntries(results.map((r) => [r.allocator, r]));
    expect([by["askern-heap"].failed, by["askern-heap"].firstFailure]).toEqual([1, 1]);
    expect(by["askern-heap"].crashed).toBeUndefined();
    expect(by["glibc"]).toMatchObject({ failed: 0, ops: 5 });
    expect(by["tlsf"].crashed ?? `${by["tlsf"].failed} refused`).toMatch(/wasm trap|refused/);
    addRatios(results);
    expect(by["askern-heap"].instrVsBestPeer).toBeNull();   // an incomplete run has no ratio
    expect(by["glibc"].instrVsBestPeer).toBe(1);
    expect(traceTable(results, traceName(huge))).toMatch(/askern-heap .* 1 \(first: op 1\)/);
  }, 60_000);
  it("an empty trace gives no ratio over zero: not applicable", async () => {
    const empty = traceFile("empty.trace", "# nothing\n");
    const results = await Promise.all(ALLOCATORS.filter((a) => a.program === "compare-main").map((a) => measure(PROGRAMS, a, empty, dir)));
    addRatios(results);
    for (const r of results) {
      expect([r.allocator, r.instrPerOp, r.footprintRatio, r.instrVsBestPeer]).toEqual([r.allocator, null, null, null]);
    }
    expect(traceTable(results, traceName(empty))).not.toMatch(/NaN|Infinity/);
  }, 60_000);
  it("callgrind counts the same instructions twice, and only the replay's", async () => {
    const file = traceFile("count.trace", generateTrace("lifetimes", 3, 2000));
    const first = await countInstructions(PROGRAMS, "compare-main", "askern-kmalloc", file, dir);
    const second = await countInstructions(PROGRAMS, "compare-main", "askern-kmalloc", file, dir);
    expect(second).toEqual(first);
    expect(first.instructions / first.ops).toBeGreaterThan(20);
    expect(first.instructions / first.ops).toBeLessThan(1000);
  }, 60_000);
});

describe("ratios to the best peer", () => {
  const result = (allocator: string, ours: boolean, instrPerOp: number, peakFootprint: number): Result => ({
    trace: "t", allocator, ours, ops: 10, failed: 0, firstFailure: null, instructions: instrPerOp * 10, instrPerOp, peakLive: 100, peakFootprint,
    footprintRatio: peakFootprint / 100, footprintMeans: "", series: [],
  });
  it("divides by the lowest peer figure, each column on its own", () => {
    const rs = [result("askern-heap", true, 50, 120), result("glibc", false, 100, 110), result("mimalloc", false, 80, 150)];
    addRatios(rs);
    expect(rs.map((r) => [r.instrVsBestPeer, r.footprintVsBestPeer])).toEqual([[0.63, 1.09], [1.25, 1], [1, 1.36]]);
    const table = traceTable(rs, "t");
    expect(table).toMatch(/askern-heap\s+50\.0\s+0\.63\s+120\s+1\.20\s+1\.09/);
  });
});
