// What the loader hands over, at its edges: a module QEMU loads past the end of RAM is refused
// with a line and never read (and a replay that needed it fails); a command line over the limit
// is refused whole, with its length and the limit.
import { describe, it, expect, beforeAll } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootKernel, tail, KERNEL } from "../support/qemu-helpers";

let bigModule: string;
beforeAll(() => {
  // 4,000,000 bytes: with 8 MiB QEMU puts it at 5 MiB, so it runs past the end of RAM (7.9 MiB)
  bigModule = join(mkdtempSync(join(tmpdir(), "askern-test-")), "big.trace");
  writeFileSync(bigModule, Buffer.alloc(4_000_000, "# a comment line that is far too long for this RAM\n"));
});

describe("modules", () => {
  it("a module past the end of RAM is refused with its name, range and why, and never read", async () => {
    const r = await bootKernel("test=pmm.invariants,pmm.alloc_all seed=1", { memoryMiB: 8, modules: [bigModule] });
    expect(r.status, tail(r)).toBe("pass");
    expect(r.serial).toMatch(/error boot: module 0 '[^']*big\.trace' at 0x00501000-0x008d1900 \(3906 KiB\) lies outside RAM .*: refused, never read/);
    expect(r.serial).not.toMatch(/\] module$/m);   // not in the PMM's reserved list
    expect(r.serial).not.toContain("# module at");   // pmm.alloc_all hashes the modules it was given
  });
  it("the same module with enough RAM is accepted and read", async () => {
    const r = await bootKernel("test=pmm.alloc_all seed=1", { memoryMiB: 16, modules: [bigModule] });
    expect(r.status, tail(r)).toBe("pass");
    expect(r.serial).not.toContain("refused");
    expect(r.serial).toContain("# module at 0x00501000-0x008d1900, 4000000 bytes");
  });
  it("a replay whose trace was refused says so and fails, reporting nothing", async () => {
    const r = await bootKernel("bench=trace", { memoryMiB: 8, modules: [bigModule] });
    expect(r.status, tail(r)).toBe("fail");
    expect(r.serial).toContain("replay: 1 module(s) refused at boot (see the boot log: outside RAM or out of reach): nothing replayed");
    expect(r.benches).toEqual([]);
  });
});

describe("the command line", () => {
  it("over 4096 bytes, it is refused whole, with its length and the limit", async () => {
    const cmdline = `loglevel=debug ${"x".repeat(5000)} test=pmm.invariants`;
    const r = await bootKernel(cmdline, { timeoutMs: 3_000 });
    // (QEMU puts the image's path and a space first)
    const said = r.serial.match(/error boot: the command line is (\d+) bytes, over the limit of 4096: refused, no option applies/);
    expect(said, tail(r)).not.toBeNull();
    expect(Number(said![1])).toBe(KERNEL.length + 1 + cmdline.length);
    expect(r.serial).toContain("nothing to run");   // test= was not applied
    expect(r.status).toBe("timeout");
  });
});
