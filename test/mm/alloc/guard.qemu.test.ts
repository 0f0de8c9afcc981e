// The guard-page debug allocator from the boot command line: kmalloc=guard sends every kmalloc
// there and the whole self-test suite still passes; kfence=N samples one in N in a normal run.
// (The misuses it catches are panic tests, one boot each, in panics.test.ts.)
import { describe, it, expect } from "vitest";
import { bootKernel, tail } from "../../support/qemu-helpers";

/** The `# guard allocator:` and `# kmalloc:` counters printed after test=all. */
function counters(serial: string): { allocations: number; frees: number; live: number; sampled: number } {
  const g = serial.match(/# guard allocator: (\d+) allocations, (\d+) frees, (\d+) live/);
  const k = serial.match(/# kmalloc: (\d+) allocations sampled into the guard allocator/);
  expect(g, "the guard allocator's counters").not.toBeNull();
  expect(k, "kmalloc's sample count").not.toBeNull();
  return { allocations: Number(g![1]), frees: Number(g![2]), live: Number(g![3]), sampled: Number(k![1]) };
}

describe("guard allocator boot options", () => {
  it("kmalloc=guard: every kmalloc is a guard object, and test=all passes", async () => {
    const run = await bootKernel("test=all kmalloc=guard seed=1", { timeoutMs: 300_000 });
    expect(run.status, tail(run)).toBe("pass");
    expect(run.serial).toContain("every allocation through the guard allocator (kmalloc=guard)");
    const c = counters(run.serial);
    expect(c.sampled).toBeGreaterThan(10_000);
    expect(c.live).toBe(2);   // the records of the reaper and the reclaimer threads: they live for good
    expect(c.frees).toBe(c.allocations - 2);
    const guarded = await bootKernel("test=guard.every_kmalloc kmalloc=guard seed=1");
    expect(guarded.status, tail(guarded)).toBe("pass");
  }, 400_000);
  it("kfence=50: about one kmalloc in 50 sampled, and test=all passes", async () => {
    const run = await bootKernel("test=all kfence=50 seed=1", { timeoutMs: 300_000 });
    expect(run.status, tail(run)).toBe("pass");
    expect(run.serial).toContain("one allocation in 50 through the guard allocator (kfence)");
    const c = counters(run.serial);
    expect(c.sampled).toBeGreaterThan(100);
    expect(c.live).toBe(0);
  }, 400_000);
  it("a bad kmalloc= or kfence= value is reported by name", async () => {
    const run = await bootKernel("test=guard.placement kmalloc=slab kfence=x");
    expect(run.status, tail(run)).toBe("pass");
    expect(run.serial).toContain("bad value in 'kmalloc=slab'");
    expect(run.serial).toContain("bad value in 'kfence=x'");
  }, 200_000);
});
