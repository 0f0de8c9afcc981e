// The PMM on real loaders: QEMU's -kernel and GRUB, with a multiboot module whose frames must
// never be handed out, and the memory map print a user reads at boot.
import { describe, it, expect, beforeAll } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { boot, BootResult } from "../../../scripts/qemu";
import { buildIso } from "../../../scripts/mkiso";
import { bootKernel, tail, BOOT_KERNEL } from "../../support/qemu-helpers";

const dir = mkdtempSync(join(tmpdir(), "askern-pmm-"));
const MODULE_BYTES = 300_000 + 123;   // not a whole number of frames
const module = Buffer.alloc(MODULE_BYTES);
for (let i = 0, x = 12345; i < MODULE_BYTES; i++) { x = (x * 1103515245 + 12345) >>> 0; module[i] = x >>> 24; }
const modulePath = join(dir, "module.bin");
writeFileSync(modulePath, module);

function fnv1a(bytes: Uint8Array): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) { h ^= BigInt(b); h = (h * 0x100000001b3n) & 0xffffffffffffffffn; }
  return h;
}
const TESTS = "test=pmm.alloc_all,pmm.invariants,pmm.map_iteration";

function checkModuleRun(r: BootResult): void {
  expect(r.status, tail(r)).toBe("pass");
  expect(r.summary).toEqual({ passed: 3, failed: 0, skipped: 0 });
  const line = r.serial.match(/# module at 0x([0-9a-f]+)-0x([0-9a-f]+), (\d+) bytes, fnv1a 0x([0-9a-f]+)/);
  expect(line, tail(r)).not.toBeNull();
  expect(Number(line![3])).toBe(MODULE_BYTES);
  expect(BigInt("0x" + line![4])).toBe(fnv1a(module));   // the kernel reads what the host wrote
  // the module is in the reserved table, and alloc_all found none of its frames handed out
  const start = BigInt("0x" + line![1]);
  expect(r.serial).toContain(`[mem 0x${start.toString(16).padStart(16, "0")}-`);
  expect(r.serial).toMatch(/\] 293 KiB\s+module/);
}

describe("PMM with a multiboot module", () => {
  it("-kernel with -initrd: the module's frames are reserved and never handed out", async () => {
    checkModuleRun(await bootKernel(`${TESTS} seed=3`, { modules: [modulePath] }));
  });
  it("GRUB with a module line: the same, on GRUB's memory map", async () => {
    const iso = join(dir, "module.iso");
    buildIso(BOOT_KERNEL, iso, `${TESTS} seed=3`, [modulePath]);
    checkModuleRun(await boot({ iso, timeoutMs: 150_000 }));
  });
});

describe("a loader without a memory map (memmap=memfields)", () => {
  it("builds the PMM from mem_lower/mem_upper, warns, and passes the PMM tests", async () => {
    const r = await bootKernel("memmap=memfields test=pmm.*", { memoryMiB: 256 });
    expect(r.status, tail(r)).toBe("pass");
    expect(r.serial).toContain("no usable memory map: using mem_lower 639 KiB and mem_upper");
    expect(r.serial).toMatch(/pmm: memory map from mem_lower\/mem_upper, 2 entries:/);
    expect(r.summary!.failed).toBe(0);
  });
});

describe("the boot memory-map print", () => {
  let r: BootResult;
  beforeAll(async () => { r = await bootKernel("test=pmm.invariants", { memoryMiB: 3584 }); });
  it("lists the loader's map like e820, the reserved ranges and a summary", () => {
    expect(r.status, tail(r)).toBe("pass");
    expect(r.serial).toMatch(/pmm: memory map from the multiboot loader, \d+ entries:/);
    expect(r.serial).toMatch(/pmm:   \[mem 0x0000000000100000-0x00000000bffdffff\] 3070 MiB\s+available/);
    expect(r.serial).toMatch(/pmm:   \[mem 0x0000000000100000-0x[0-9a-f]{16}\] \d+ KiB\s+kernel image/);
    expect(r.serial).toMatch(/PMM bitmap/);
    expect(r.serial).toMatch(/pmm: total 786400 frames \(3071 MiB\), usable \d+ \(\d+ MiB\), reserved \d+ \(\d+ MiB\), free \d+/);
    expect(r.serial).toContain("512 MiB of RAM above 4 GiB is not used");
  });
});
