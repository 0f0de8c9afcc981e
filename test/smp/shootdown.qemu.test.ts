// smp.stale_tlb on its own (kernel/selftest/shootdown.ts): a reader on CPU 1 reads a kernel
// page in a loop while CPU 0 unmaps it, frees its frame and writes a new owner's tag into the
// frame; no read may see that tag. Under -icount (deterministic) and multi-threaded TCG (the
// reader really runs while the page goes). test/smp/smp.qemu.test.ts runs it inside test=all too;
// this file is the quick one `make mutate` boots for the shootdown's mutants (and, below, for
// affinity's and the per-CPU interrupt arenas').
import { describe, it, expect } from "vitest";
import { bootKernel, tail } from "../support/qemu-helpers";

describe("smp.stale_tlb: a stale TLB entry is never used", () => {
  const cases = [
    { smp: 4, icount: true, mttcg: false },
    { smp: 2, icount: false, mttcg: true },
    { smp: 4, icount: false, mttcg: true },
  ];
  for (const c of cases) {
    it(`-smp ${c.smp}, ${c.icount ? "-icount" : "-accel tcg,thread=multi"}`, async () => {
      const r = await bootKernel("test=smp.stale_tlb smp=on", { ...c, timeoutMs: 90_000 });
      expect(r.status, tail(r)).toBe("pass");
      const t = r.tap.find((x) => x.name === "smp.stale_tlb");
      expect(t?.ok, tail(r)).toBe(true);
      expect(t?.comment ?? "missing", "ran, not skipped").toBe("");
      expect(r.serial).toMatch(/# \d+ rounds, \d+ reads, [1-9]\d* faulted/);
    });
  }
});

describe("smp.threads_on_every_cpu and smp.arenas_per_cpu: affinity, and an arena per thread and per CPU's interrupts", () => {
  it("-smp 4, -icount", async () => {
    const r = await bootKernel("test=smp.threads_on_every_cpu,smp.arenas_per_cpu smp=on", { smp: 4, icount: true, timeoutMs: 90_000 });
    expect(r.status, tail(r)).toBe("pass");
    for (const name of ["smp.threads_on_every_cpu", "smp.arenas_per_cpu"]) {
      expect(r.tap.find((x) => x.name === name)?.comment ?? "missing", `${name} ran, not skipped`).toBe("");
    }
  });
});

// waitpid from several threads of one process at once (user/threads.c "wait", on-demand
// proc.wait_together):
// on one CPU the waiters take turns, under MTTCG they really race for each ended child, and a
// child two of them took would be freed twice. The quick boot `make mutate` uses for the claim.
describe("proc.wait_together on four CPUs: each child reaped once by threads waiting at once", () => {
  it("-smp 4, -accel tcg,thread=multi", async () => {
    const r = await bootKernel("test=proc.wait_together smp=on", { smp: 4, mttcg: true, timeoutMs: 90_000 });
    expect(r.status, tail(r)).toBe("pass");
    expect(r.serial).toContain("threads: 4 threads waiting at once reaped 48 children, each once");
  });
});

// Four threads write to the same untouched pages at once (user/threads.c "touch",
// proc.touch_together, also in test=all): under MTTCG a thread writes to a page while another
// one's fault is still serving it. When a page was mapped before it was zeroed, a boot here lost
// a few words more often than not.
describe("proc.touch_together on four CPUs: a page is filled before another CPU can write to it", () => {
  it("-smp 4, -accel tcg,thread=multi", async () => {
    const r = await bootKernel("test=proc.touch_together smp=on", { smp: 4, mttcg: true, timeoutMs: 90_000 });
    expect(r.status, tail(r)).toBe("pass");
    expect(r.serial).toContain("threads: 4 threads wrote to 1024 untouched pages at once, nothing lost");
  });
});
