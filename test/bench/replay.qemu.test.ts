// The trace replay end to end: a trace handed over as a multiboot module, as `make replay` does
// (bench=trace). A good trace gives the BENCH records; a malformed one is reported with its line
// and the boot ends with a failure, having replayed nothing.
import { describe, it, expect, beforeAll } from "vitest";
import { mkdirSync, writeFileSync } from "node:fs";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { bootKernel, tail } from "../support/qemu-helpers";
import { generateTrace } from "../../scripts/gentrace";

const DIR = "build/test-traces";
beforeAll(() => { mkdirSync(DIR, { recursive: true }); });

describe("trace replay (bench=trace, the trace as a module)", () => {
  it("replays a generated trace and prints its records", async () => {
    const file = `${DIR}/small-queue.trace`;
    writeFileSync(file, generateTrace("queue", 9, 3000));
    const r = await bootKernel("bench=trace", { modules: [file] });
    expect(r.status, tail(r)).toBe("pass");
    const names = r.benches.map((b) => b.name);
    for (const suffix of ["instr_per_op", "op_worst", "footprint_ratio", "peak_live", "peak_footprint"]) {
      expect(names, tail(r)).toContain(`trace.small-queue.${suffix}`);
    }
    const ratio = r.benches.find((b) => b.name === "trace.small-queue.footprint_ratio")!.value;
    expect(ratio).toBeGreaterThanOrEqual(1);
    expect(r.serial).toMatch(/replay: \d+ operations replayed/);
  });

  it("reports a malformed line with its number and stops cleanly", async () => {
    const file = `${DIR}/bad.trace`;
    writeFileSync(file, "# two good lines, then a bad one\na 0 64\na 1 128\nf 0 7\nf 1\n");
    const r = await bootKernel("bench=trace", { modules: [file] });
    expect(r.status, tail(r)).toBe("fail");
    expect(r.serial).toContain("replay: bad: line 4, column 5: unexpected extra field");
    expect(r.serial).toContain("replay:   | f 0 7");
    expect(r.serial).toContain("nothing was replayed");
    expect(r.benches.filter((b) => b.name.startsWith("trace."))).toEqual([]);
    expect(r.panicText).toBeNull();
  });

  it("an empty trace has no ratio over zero: its records say not applicable (null)", async () => {
    const file = `${DIR}/empty.trace`;
    writeFileSync(file, "# no operations\n");
    const r = await bootKernel("bench=trace", { modules: [file] });
    expect(r.status, tail(r)).toBe("pass");
    const value = (suffix: string) => r.benches.find((b) => b.name === `trace.empty.${suffix}`)?.value;
    expect([value("instr_per_op"), value("footprint_ratio")]).toEqual([null, null]);
    expect([value("peak_live"), value("op_worst")]).toEqual([0, 0]);
    expect(r.serial).toContain("# trace.empty: no operations: the ratios are not applicable");
  });
});

describe("make replay", () => {
  it("names a trace file that does not exist, and fails", async () => {
    const run = promisify(execFile);
    const replay = run("node_modules/.bin/tsx", ["scripts/bench.ts", "--replay", "--trace", `${DIR}/no-such.trace`]);
    await expect(replay).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining(`replay: no such trace file: ${DIR}/no-such.trace`) });
  });
});
