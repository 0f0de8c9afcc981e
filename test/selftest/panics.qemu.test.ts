// Tests that must end in a panic: each boots alone and is judged by its panic text and QEMU's
// exit status (kernel/selftest/panics.ts registers them with the text they expect).
import { describe, it, expect } from "vitest";
import { listKernelTests, bootKernel, tail } from "../support/qemu-helpers";

const { panicTests } = await listKernelTests();

describe("panic tests (one boot each)", () => {
  it("there are panic tests to run", () => { expect(panicTests.length).toBeGreaterThanOrEqual(7); });
  for (const { name, expects } of panicTests) {
    it(name, async () => {
      const r = await bootKernel(`test=${name}`);
      expect(r.status, tail(r)).toBe("panic");
      expect(r.panicText, tail(r)).not.toBeNull();
      for (const part of expects) expect(r.panicText, tail(r)).toContain(part);
      expect(r.panicText).toMatch(/\*\*\* end of panic/);
    });
  }
});
