// The lock checker (kernel/sched/lockdep.ts) on: test=all passes with it, its own tests
// (kernel/selftest/lockdep.ts: each mistake made on purpose, the exact count of reports) run
// instead of being skipped, and no report comes that a test did not provoke.
import { describe, it, expect, beforeAll } from "vitest";
import { listKernelTests, bootKernel, tail } from "../support/qemu-helpers";
import type { BootResult } from "../../scripts/qemu";

const { tests } = await listKernelTests();
const OWN = ["lockdep.recursion", "lockdep.inversion", "lockdep.sleep_holding_lock", "lockdep.atomic_call", "lockdep.inversion_across_cpus", "lockdep.release_not_held"];
const seed = process.env.ASKERN_SEED ?? "1";

describe("test=all lockdep", () => {
  let run: BootResult;
  beforeAll(async () => { run = await bootKernel(`test=all lockdep seed=${seed}`); });

  it("passes every test, with the checker on", () => {
    expect(run.status, tail(run)).toBe("pass");
    expect(run.tap.map((t) => t.name)).toEqual(tests);
    expect(run.serial).toContain("lockdep: the lock checker is on");
  });
  it("runs the lock checker's own tests (not skipped)", () => {
    const own = run.tap.filter((t) => t.name.startsWith("lockdep."));
    expect(own.map((t) => t.name)).toEqual(OWN);
    for (const t of own) {
      expect(t.ok, [t.comment, ...t.diagnostics].join("\n")).toBe(true);
      if (t.name === "lockdep.inversion_across_cpus") expect(t.comment).toMatch(/SKIP needs a second CPU/);
      else expect(t.comment ?? "").not.toMatch(/SKIP/);
    }
  });
  it("reports nothing that no test provoked", () => {
    const m = run.serial.match(/# lockdep: (\d+) lock classes, (\d+) reports, (\d+) not expected/);
    expect(m, tail(run)).not.toBeNull();
    expect(Number(m![2])).toBeGreaterThanOrEqual(20);   // the provoked ones: 14 in lockdep.*, 8 elsewhere
    expect(Number(m![3])).toBe(0);
  });
  it("names both locks and both places in an inversion report", () => {
    const line = run.serial.split(/\r?\n/).find((l) => l.includes("lock order inversion: mutex 'inversion.b'"));
    expect(line, tail(run)).toMatch(/taken at 0x[0-9a-f]+ \S+\+0x[0-9a-f]+ while holding 'inversion.a' \(taken at 0x[0-9a-f]+ \S+/);
    expect(run.serial).toMatch(/lockdep: {3}before, 'inversion.a' was taken at 0x[0-9a-f]+ \S+ while holding 'inversion.b'/);
  });
});

// With every CPU scheduling (docs/smp.md): the checker's tests, the one across CPUs among them,
// under -icount and with the CPUs really in parallel.
// (test=all under -icount; the checker's own tests under MTTCG: see docs/smp.md "Known problems"
// for the longest tests there)
describe("lockdep smp=on at -smp 4", () => {
  for (const mode of ["icount", "mttcg"] as const) {
    const tests = mode === "icount" ? "all" : "lockdep.*";
    it(`${mode === "icount" ? "-icount" : "-accel tcg,thread=multi"}: test=${tests} passes, the checker's tests not skipped, nothing unprovoked reported`, async () => {
      const r = await bootKernel(`test=${tests} lockdep smp=on seed=${seed}`, { smp: 4, icount: mode === "icount", mttcg: mode === "mttcg" });
      expect(r.status, tail(r)).toBe("pass");
      const own = r.tap.filter((t) => t.name.startsWith("lockdep."));
      expect(own.map((t) => t.name)).toEqual(OWN);
      for (const t of own) expect(t.comment ?? "", t.name).not.toMatch(/SKIP/);
      // (a report no test provoked fails that test; test=all also prints the totals)
      if (tests === "all") expect(r.serial).toMatch(/# lockdep: \d+ lock classes, \d+ reports, 0 not expected/);
    });
  }
});
