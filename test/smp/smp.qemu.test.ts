// The self-tests with more than one CPU (docs/smp.md, "Tests"), under -icount (deterministic:
// QEMU runs the CPUs in turn on one host thread) and under multi-threaded TCG (one host thread
// per CPU, really in parallel: where races show).
//
// By default (smp=park) the other processors start and park: test=all passes at -smp 2 and 4
// in both modes. With smp=on they schedule threads: test=all passes at -smp 2 and 4, under
// -icount and under MTTCG, concurrency.stress among it (a million operations on every CPU).
// (-smp 2 under -icount needs QEMU 10: QEMU 7.2 stopped giving the second CPU instructions
// during proc.threads; docs/smp.md, "Known problems".)
import { describe, it, expect } from "vitest";
import { bootKernel, listKernelTests, tail } from "../support/qemu-helpers";

const { tests: allTests } = await listKernelTests();

function modeArgs(mode: "icount" | "mttcg") { return { icount: mode === "icount", mttcg: mode === "mttcg" }; }
function modeName(mode: "icount" | "mttcg") { return mode === "icount" ? "-icount" : "-accel tcg,thread=multi"; }

describe("test=all with the other processors parked (the default)", () => {
  for (const smp of [2, 4]) {
    for (const mode of ["icount", "mttcg"] as const) {
      it(`-smp ${smp}, ${modeName(mode)}: every self-test passes, every CPU online`, async () => {
        const r = await bootKernel("test=all", { smp, ...modeArgs(mode), timeoutMs: 120_000 });
        expect(r.status, tail(r)).toBe("pass");
        expect(r.serial).toContain(`cpu: ${smp} processors online`);
        expect(r.serial).toContain("the application processors wait, parked");
        expect(r.tap.find((t) => t.name === "smp.cpus_online")?.comment ?? "missing", "smp.cpus_online ran, not skipped").toBe("");
      });
    }
  }
});

describe("smp=on: threads scheduled on every CPU", () => {
  const cases: Array<{ smp: number; mode: "icount" | "mttcg" }> = [
    { smp: 4, mode: "icount" },
    { smp: 2, mode: "mttcg" },
    { smp: 4, mode: "mttcg" },
    { smp: 2, mode: "icount" },
  ];
  for (const { smp, mode } of cases) {
    it(`-smp ${smp}, ${modeName(mode)}: test=all passes; threads ran on every CPU`, async () => {
      // (watchdog=120: under MTTCG on two host cores, four virtual CPUs take turns on them)
      const r = await bootKernel("test=all smp=on watchdog=120", { smp, ...modeArgs(mode), timeoutMs: 300_000 });
      expect(r.status, tail(r)).toBe("pass");
      expect(r.serial).toContain("they schedule threads (smp=on)");
      expect(r.tap.map((t) => t.name).sort()).toEqual([...allTests].sort());
      // the stress on every CPU: objects moved between threads, processes meanwhile
      const line = r.serial.match(/# stress: (\d+) handoffs through the mailbox, (\d+) processes run \(0 failed\) on (\d+) CPUs scheduling/);
      expect(line, tail(r)).not.toBeNull();
      expect(Number(line![1])).toBeGreaterThan(10_000);
      expect(Number(line![2])).toBeGreaterThan(0);
      expect(Number(line![3])).toBe(smp);
      expect(r.tap.find((t) => t.name === "smp.threads_on_every_cpu")?.comment ?? "missing", "smp.threads_on_every_cpu ran").toBe("");
    });
  }
});
