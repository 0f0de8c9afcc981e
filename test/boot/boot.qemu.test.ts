// The two boot paths (GRUB ISO, QEMU -kernel), the command line, the watchdog, and gdb.
import { describe, it, expect } from "vitest";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { boot, qemuArgs, userPrograms } from "../../scripts/qemu";
import { buildIso } from "../../scripts/mkiso";
import { bootKernel, tail, KERNEL, BOOT_KERNEL, RELEASE_KERNEL } from "../support/qemu-helpers";

describe("boot paths", () => {
  it("boots from a GRUB ISO and passes its self-tests", async () => {
    const iso = join(mkdtempSync(join(tmpdir(), "askern-test-")), "test.iso");
    buildIso(BOOT_KERNEL, iso, "test=all seed=7", userPrograms());   // (GRUB module lines: the programs by name)
    const r = await boot({ iso, timeoutMs: 150_000 });
    expect(r.status, tail(r)).toBe("pass");
    expect(r.serial).toMatch(/loader 'GRUB/);
    expect(r.summary!.failed).toBe(0);
  });
  it("boots through QEMU's -kernel multiboot loader", async () => {
    const r = await bootKernel("test=idt.soft_interrupt");
    expect(r.status, tail(r)).toBe("pass");
    expect(r.serial).toContain("loader 'qemu'");
    expect(r.summary).toEqual({ passed: 1, failed: 0, skipped: 0 });
  });
  it("the shipped ISO (make iso) is a GRUB rescue image", () => {
    const out = execFileSync("file", ["build/askern.iso"], { encoding: "utf8" });
    expect(out).toMatch(/ISO 9660/);
  });
});

describe("the release build (make RELEASE=1)", () => {
  it("boots, brings up the memory subsystem and gives the monitor's prompt; test= and bench are refused, not ignored", async () => {
    const idle = await boot({ kernel: RELEASE_KERNEL, cmdline: "", timeoutMs: 5_000 });
    expect(idle.serial, tail(idle)).toContain("pmm: total");
    expect(idle.serial, tail(idle)).toContain("nothing to run (no test= or bench): the monitor takes the serial console");
    expect(idle.serial, tail(idle)).toMatch(/askern> $/);
    for (const cmdline of ["test=all", "bench"]) {
      const r = await boot({ kernel: RELEASE_KERNEL, cmdline, timeoutMs: 30_000 });
      expect(r.status, tail(r)).toBe("fail");
      expect(r.serial).toContain("this build has no self-tests or benchmarks (a release build): test= and bench cannot run");
    }
  });
  it("holds no self-test or benchmark", () => {
    const symbols = execFileSync("nm", [RELEASE_KERNEL], { encoding: "utf8" });
    expect(symbols).not.toMatch(/w2c_kernel_selftest_(pmm|heap|slab)|w2c_kernel_bench_(pmm|heap|slab)/);
    expect(execFileSync("nm", [KERNEL], { encoding: "utf8" })).toMatch(/w2c_kernel_selftest_heap/);
  });
});

describe("command line", () => {
  it("reports unknown options and bad values by name", async () => {
    const r = await bootKernel("test=random.replay frobnicate=1 loglevel=loud");
    expect(r.status, tail(r)).toBe("pass");
    expect(r.serial).toContain("unknown option 'frobnicate=1'");
    expect(r.serial).toContain("bad value in 'loglevel=loud'");
  });
  it("a name list that matches nothing fails the run", async () => {
    const r = await bootKernel("test=no.such.test");
    expect(r.status, tail(r)).toBe("fail");
    expect(r.serial).toContain("no test matches 'no.such.test'");
  });
  it("seed=N is taken as the run's seed and printed as the replay seed", async () => {
    const r = await bootKernel("test=random.replay seed=12345");
    expect(r.status, tail(r)).toBe("pass");
    expect(r.summary).toEqual({ passed: 1, failed: 0, skipped: 0 });
    expect(r.serial).toContain("# seed=12345 (replay with seed=12345)");
  });
});

describe("selectors", () => {
  it("a pattern selects only normal tests; a panic or on-demand test runs when named in full", async () => {
    const r = await bootKernel("test=idt.*,harness.skip_reports");
    expect(r.status, tail(r)).toBe("pass");
    expect(r.tap.map((t) => t.name)).toContain("harness.skip_reports");
    expect(r.tap.every((t) => t.name.startsWith("idt.") || t.name === "harness.skip_reports")).toBe(true);
  });
  it("every entry that matches nothing is named, and the boot fails", async () => {
    const r = await bootKernel("test=idt.*,panic.*,nosuch");
    expect(r.status, tail(r)).toBe("fail");
    expect(r.serial).toContain("# no test matches 'panic.*' (a pattern selects only the normal tests: name a panic or on-demand test in full)");
    expect(r.serial).toContain("# no test matches 'nosuch'");
  });
  it("a benchmark selector that matches nothing fails the boot, and nothing runs", async () => {
    const r = await bootKernel("bench=log.*,nosuch");
    expect(r.status, tail(r)).toBe("fail");
    expect(r.serial).toContain("bench: no benchmark matches 'nosuch'");
    expect(r.benches).toEqual([]);
  });
});

describe("hz=", () => {
  it("sets the PIT's rate: sleeps and preemption follow it", async () => {
    const r = await bootKernel("test=sched.sleep,sched.preemption,pit.* hz=1000");
    expect(r.status, tail(r)).toBe("pass");
    expect(r.summary!.failed).toBe(0);
  });
});

describe("watchdog", () => {
  it("fails a test that never returns, naming it", async () => {
    const r = await bootKernel("test=harness.watchdog_fires watchdog=1");
    expect(r.status, tail(r)).toBe("fail");
    expect(r.serial).toMatch(/not ok 1 - harness\.watchdog_fires # timeout: watchdog fired after 1 s/);
    expect(r.serial).toContain("selftest: 0 passed, 1 failed, 0 skipped");
  });
});

describe("gdb", () => {
  it("attaches to the halted kernel with symbols and breaks in kmain", async () => {
    const qemu = spawn("qemu-system-i386", qemuArgs({ kernel: KERNEL, cmdline: "test=random.replay", gdb: true }), { stdio: "ignore" });
    try {
      const out = execFileSync("gdb", ["-batch", "-nx", "-x", ".gdbinit",
        "-ex", "break w2c_kernel_main_kmain", "-ex", "continue", "-ex", "info symbol $pc", "-ex", "info breakpoints", KERNEL],
        { encoding: "utf8", timeout: 60_000 });
      expect(out).toMatch(/w2c_kernel_main_kmain/);
      expect(out).toMatch(/Z_archZ_panicHook/);
    } finally {
      qemu.kill("SIGKILL");
    }
  });
});
