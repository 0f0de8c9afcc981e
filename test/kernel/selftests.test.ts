// The in-kernel self-tests: one boot per configuration runs test=all, and every kernel test
// appears here as its own test case.
import { describe, it, expect, beforeAll } from "vitest";
import { listKernelTests, bootKernel, tail } from "./qemu-helpers";
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
    for (const name of tests) {
      it(name, () => {
        const result = run.tap.find((t) => t.name === name);
        expect(result, tail(run)).toBeDefined();
        expect(result!.ok, [result!.comment, ...result!.diagnostics].join("\n")).toBe(true);
      });
    }
  });
}
