// RAM at the edges: below the minimum the boot stub refuses in one line (before paging and
// before the AssemblyScript data exists); at the minimum every self-test passes or skips, on
// both boot paths; and the harness's TAP skips.
import { describe, it, expect } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { boot } from "../../scripts/qemu";
import { buildIso } from "../../scripts/mkiso";
import { bootKernel, tail, BOOT_KERNEL } from "../support/qemu-helpers";

/** The least RAM, as README's Requirements and boot/entry.asm's MIN_RAM_MIB say. */
const MIN_RAM_MIB = 8;

describe("below the minimum RAM", () => {
  // 7: just below; 6: the command line is in RAM and says test mode; 4: QEMU put the command
  // line past the end of RAM, and the stub exits all the same.
  for (const mib of [7, 6, 4]) {
    it(`${mib} MiB: one line naming what was found and the minimum, then the failure status`, async () => {
      const r = await bootKernel("test=all", { memoryMiB: mib, timeoutMs: 30_000 });
      expect(r.status, tail(r)).toBe("fail");
      expect(r.serial.trim()).toBe(`askern: ${mib} MiB of RAM found; askern needs at least ${MIN_RAM_MIB} MiB. Halting.`);
    });
  }
  it("halts, without leaving QEMU, when the command line does not ask for tests", async () => {
    const r = await bootKernel("loglevel=info", { memoryMiB: 7, timeoutMs: 4_000 });
    expect(r.status, tail(r)).toBe("timeout");
    expect(r.serial).toContain(`askern: 7 MiB of RAM found; askern needs at least ${MIN_RAM_MIB} MiB. Halting.`);
    expect(r.serial).not.toContain("AssemblyScript kernel");
  });
});

describe("at the minimum RAM", () => {
  it(`${MIN_RAM_MIB} MiB through -kernel: every self-test passes or skips`, async () => {
    const r = await bootKernel("test=all seed=11", { memoryMiB: MIN_RAM_MIB, timeoutMs: 240_000 });
    expect(r.status, tail(r)).toBe("pass");
    expect(r.summary!.failed).toBe(0);
    expect(r.summary!.passed).toBeGreaterThan(30);
  });
  it(`${MIN_RAM_MIB} MiB through GRUB (whose mem_upper stops below QEMU's ACPI tables): it boots`, async () => {
    const iso = join(mkdtempSync(join(tmpdir(), "askern-test-")), "ram.iso");
    buildIso(BOOT_KERNEL, iso, "test=pmm.invariants,vmm.kernel_image_readonly,vmm.map_unmap,dma.isa_pool seed=11");
    const r = await boot({ iso, memoryMiB: MIN_RAM_MIB, timeoutMs: 120_000 });
    expect(r.status, tail(r)).toBe("pass");
    expect(r.summary).toEqual({ passed: 4, failed: 0, skipped: 0 });
  });
});

describe("TAP skips", () => {
  it("a skipped test prints `# SKIP` with its reason, counts apart, and the run passes", async () => {
    const r = await bootKernel("test=harness.skip_reports");
    expect(r.status, tail(r)).toBe("pass");
    expect(r.serial).toContain("ok 1 - harness.skip_reports # SKIP a demonstration: the machine lacks nothing");
    expect(r.summary).toEqual({ passed: 0, failed: 0, skipped: 1 });
    expect(r.tap[0]).toMatchObject({ ok: true, comment: "SKIP a demonstration: the machine lacks nothing" });
  });
});

// vmalloc=N moves the split between the linear map and the range area (mm/layout.ts): with
// 1 GiB of RAM, low memory grows past the 896 MiB the boot stub maps (vmalloc=32: 988 MiB, every
// frame of it handed out and written by pmm.alloc_all) or shrinks (vmalloc=128: 892 MiB).
describe("the range area's size (vmalloc=)", () => {
  const TESTS = "test=pmm.*,heap.*,slab.*,guard.*,vmalloc.populate_decommit,pressure.* seed=1";
  for (const [option, ranges, lowMiB, pages] of [["vmalloc=32", "0xfdc00000-0xffbfffff", 988, 8191], ["vmalloc=128M", "0xf7c00000-0xffbfffff", 892, 32767]] as const) {
    it(`${option}: ranges ${ranges}, low memory ${lowMiB} MiB, and the memory tests pass`, async () => {
      const r = await bootKernel(`${option} ${TESTS}`, { memoryMiB: 1024, timeoutMs: 120_000 });
      expect(r.status, tail(r)).toBe("pass");
      expect(r.serial).toContain(`boot: ${option.replace(/M$/, "")}: ranges ${ranges}, low memory (the linear map) ends at ${lowMiB} MiB`);
      expect(r.serial).toMatch(new RegExp(`vmm: linear map 0xc0000000-0x[0-9a-f]+ \\(${lowMiB} MiB\\)`));
      expect(r.serial).toContain(`(${pages} pages)`);
      expect(r.serial).toContain(`# low memory ends at frame ${(lowMiB << 20) / 4096}, high memory present`);
    });
  }
  it("a size outside 32-128 MiB is refused with one line, and the default split stays", async () => {
    const r = await bootKernel("vmalloc=200 test=pmm.invariants", { memoryMiB: 256 });
    expect(r.status, tail(r)).toBe("pass");
    expect(r.serial).toContain("boot: vmalloc=200: the range area must be 32 to 128 MiB, a multiple of 4; refused, it stays 124 MiB");
    expect(r.serial).toContain("vmm: ranges 0xf8001000-0xffbfffff (31743 pages)");
  });
});
