// The self-tests with more than one CPU (docs/smp.md, "Tests"): test=all at -smp 2 and 4, under
// -icount (deterministic: QEMU runs the CPUs in turn on one host thread) and under multi-threaded
// TCG (one host thread per CPU, really in parallel: where races show).
import { describe, it, expect } from "vitest";
import { bootKernel, tail } from "../support/qemu-helpers";

describe("test=all on more than one CPU", () => {
  for (const smp of [2, 4]) {
    for (const mode of ["icount", "mttcg"] as const) {
      it(`-smp ${smp}, ${mode === "icount" ? "-icount" : "-accel tcg,thread=multi"}: every self-test passes, every CPU online`, async () => {
        const r = await bootKernel("test=all", { smp, icount: mode === "icount", mttcg: mode === "mttcg", timeoutMs: 120_000 });
        expect(r.status, tail(r)).toBe("pass");
        expect(r.serial).toContain(`cpu: ${smp} processors online`);
        expect(r.tap.find((t) => t.name === "smp.cpus_online")?.comment ?? "missing", "smp.cpus_online ran, not skipped").toBe("");
        expect(r.summary?.failed).toBe(0);
      });
    }
  }
});
