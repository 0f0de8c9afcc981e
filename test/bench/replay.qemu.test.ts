// The trace replay end to end: a trace handed over as a multiboot module, as `make replay` does
// (bench=trace). A good trace gives the BENCH records; a malformed one is reported with its line
// and the boot ends with a failure, having replayed nothing.
import { describe, it, expect, beforeAll } from "vitest";
import { mkdirSync, writeFileSync } from "node:fs";
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
});
