// The self-tests with more than one CPU (docs/smp.md, "Tests"), under -icount (deterministic:
// QEMU runs the CPUs in turn on one host thread) and under multi-threaded TCG (one host thread
// per CPU, really in parallel: where races show).
//
// By default (smp=park) the other processors start and park: test=all passes at -smp 2 and 4
// in both modes. With smp=on they schedule threads: test=all passes at -smp 4 under -icount (a
// deterministic run: the same every time) and at -smp 2 and 4 under MTTCG, concurrency.stress
// among it (a million operations on every CPU); at -smp 2 under -icount every test but
// proc.threads, during which QEMU 7.2 stops giving the second CPU instructions (docs/smp.md,
// "Known problems").
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
  // test=all everywhere but at -smp 2 under -icount, where QEMU 7.2 stops giving CPU 1
  // instructions during proc.threads (docs/smp.md "Known problems"): there every test but that one
  const ALL_BUT_THREADS = [
    "arena.*", "atomics.*", "cmdline.*", "concurrency.*", "dma.*", "format.*", "guard.*", "heap.*", "idt.*", "ioremap.*",
    "libc.*", "lockdep.*", "paging.*", "pit.*", "pmm.*", "pressure.*", "random.*", "reclaim.*", "sched.*", "slab.*", "smp.*",
    "symbols.*", "sync.*", "user.*", "vmalloc.*", "vmm.*", "proc.hello_args", "proc.memory_calls", "proc.faults_kill_only_the_process",
    "proc.execve", "proc.cowtest", "proc.fork_exit_wait_1000", "proc.forkbomb", "proc.strict_commit", "proc.oom_killer_picks_the_largest",
  ].join(",");
  const cases: Array<{ smp: number; mode: "icount" | "mttcg"; tests: string }> = [
    { smp: 4, mode: "icount", tests: "all" },
    { smp: 2, mode: "mttcg", tests: "all" },
    { smp: 4, mode: "mttcg", tests: "all" },
    { smp: 2, mode: "icount", tests: ALL_BUT_THREADS },
  ];
  for (const { smp, mode, tests } of cases) {
    it(`-smp ${smp}, ${modeName(mode)}: test=${tests === "all" ? "all" : "all but proc.threads"} passes; threads ran on every CPU`, async () => {
      // (watchdog=120: under MTTCG on two host cores, four virtual CPUs take turns on them)
      const r = await bootKernel(`test=${tests} smp=on watchdog=120`, { smp, ...modeArgs(mode), timeoutMs: 300_000 });
      expect(r.status, tail(r)).toBe("pass");
      expect(r.serial).toContain("they schedule threads (smp=on)");
      // (the list above leaves out proc.threads alone: a new test's prefix must join it)
      expect(r.tap.map((t) => t.name).sort()).toEqual(allTests.filter((t) => tests === "all" || t !== "proc.threads").sort());
      if (tests === "all" || tests.includes("concurrency.")) {
        // the stress on every CPU: objects moved between threads, processes meanwhile
        const line = r.serial.match(/# stress: (\d+) handoffs through the mailbox, (\d+) processes run \(0 failed\) on (\d+) CPUs scheduling/);
        expect(line, tail(r)).not.toBeNull();
        expect(Number(line![1])).toBeGreaterThan(10_000);
        expect(Number(line![2])).toBeGreaterThan(0);
        expect(Number(line![3])).toBe(smp);
      }
      expect(r.tap.find((t) => t.name === "smp.threads_on_every_cpu")?.comment ?? "missing", "smp.threads_on_every_cpu ran").toBe("");
    });
  }
});
