// The in-kernel self-tests: one boot per configuration runs test=all, and every kernel test
// appears here as its own test case.
import { describe, it, expect, beforeAll } from "vitest";
import { listKernelTests, bootKernel, tail } from "../support/qemu-helpers";
import type { BootResult } from "../../scripts/qemu";

const { tests } = await listKernelTests();
const seed = process.env.ASKERN_SEED ?? "1";

for (const memoryMiB of [16, 128, 1024, 3584]) {
  describe(`test=all, -kernel boot, ${memoryMiB} MiB`, () => {
    let run: BootResult;
    beforeAll(async () => { run = await bootKernel(`test=all seed=${seed}`, { memoryMiB }); });

    it("boots, runs every test and exits with the pass status", () => {
      expect(run.summary, tail(run)).not.toBeNull();
      expect(run.status, tail(run)).toBe("pass");
      expect(run.tap.map((t) => t.name)).toEqual(tests);
      expect(run.serial).toContain(`# seed=${seed} `);
    });
    it("prints the slabinfo table of the kmalloc classes at the end", () => {
      const rows = run.serial.split(/\r?\n/).filter((l) => l.startsWith("# slabinfo: kmalloc-"));
      expect(rows.map((r) => r.split(/\s+/)[2]).sort()).toEqual(
        ["kmalloc-112", "kmalloc-1152", "kmalloc-128", "kmalloc-1280", "kmalloc-1408", "kmalloc-1536", "kmalloc-16", "kmalloc-160",
          "kmalloc-1664", "kmalloc-1792", "kmalloc-192", "kmalloc-1920", "kmalloc-1k", "kmalloc-224", "kmalloc-256", "kmalloc-2k",
          "kmalloc-32", "kmalloc-320", "kmalloc-384", "kmalloc-448", "kmalloc-48", "kmalloc-512", "kmalloc-576", "kmalloc-64",
          "kmalloc-640", "kmalloc-704", "kmalloc-768", "kmalloc-80", "kmalloc-832", "kmalloc-896", "kmalloc-96", "kmalloc-960"]);
      for (const r of rows) {
        const [objsize, active, total, slabs, pages, wasted] = r.split(/\s+/).slice(3).map(Number);
        expect(active).toBeLessThanOrEqual(total);
        expect(wasted).toBe(pages * 4096 - active * objsize);   // a class cache is asked for its own size
        expect(slabs).toBeLessThanOrEqual(pages);
      }
      expect(run.serial).toMatch(/# slabinfo: \d+ slab regions, \d+ slab pages free in them/);
    });
    for (const name of tests) {
      it(name, () => {
        const result = run.tap.find((t) => t.name === name);
        expect(result, tail(run)).toBeDefined();
        expect(result!.ok, [result!.comment, ...result!.diagnostics].join("\n")).toBe(true);
      });
    }
  });
}
