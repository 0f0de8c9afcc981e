// The fidelity benchmark (bench=fidelity, kernel/bench/fidelity.ts): each hot path and its C twin
// (twins/) run in one boot, after the check of the layouts the twins assume. Its figures are
// make bench's; this checks that it runs, reports three records per path and that the ratio is
// the two figures' (the twins' answers, as well, through the heap checker the benchmark runs).
import { describe, it, expect } from "vitest";
import { bootKernel, tail } from "../support/qemu-helpers";
import { FIDELITY_PATHS } from "../../scripts/bench";

describe("fidelity: the hot paths beside their C twins (bench=fidelity)", () => {
  it("reports each path's AssemblyScript and C figures and their ratio, the layouts agreeing", async () => {
    // 3584 MiB, as make bench: with high memory, so that the PMM's per-CPU frame lists are used
    const r = await bootKernel("bench=fidelity", { icount: true, memoryMiB: 3584 });
    expect(r.status, tail(r)).toBe("pass");
    expect(r.serial).not.toMatch(/bench fidelity: twins/);
    for (const path of FIDELITY_PATHS) {
      const value = (suffix: string) => r.benches.find((b) => b.name === `fidelity.${path}.${suffix}`)?.value;
      const [as, c, ratio] = [value("as"), value("c"), value("ratio")];
      expect(as, `${path}: ${tail(r)}`).toBeGreaterThan(10);
      expect(c, path).toBeGreaterThan(10);
      expect(ratio, path).toBeCloseTo(as! / c!, 2);
    }
  }, 120_000);
});
