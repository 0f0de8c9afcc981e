// slab_debug from the boot command line: every cache in debug mode still passes the slab and
// kmalloc self-tests (the debug paths keep every cache working), and slab_debug=kmalloc-64
// makes that class, and no other, report a one-byte overflow of kmalloc(64) exactly once.
import { describe, it, expect } from "vitest";
import { bootKernel, tail } from "../../support/qemu-helpers";

describe("slab_debug boot option", () => {
  it("slab_debug: every cache in debug mode; the slab and kmalloc tests pass", async () => {
    const run = await bootKernel("test=heap.kmalloc_api,slab.kmalloc_classes,slab.chaos,slab.debug_reports slab_debug seed=1");
    expect(run.status, tail(run)).toBe("pass");
    expect(run.serial).toContain("slab_debug for every cache");
    expect(run.tap.map((t) => [t.name, t.ok])).toEqual([
      ["heap.kmalloc_api", true], ["slab.kmalloc_classes", true], ["slab.chaos", true], ["slab.debug_reports", true]]);
  }, 200_000);
  it("slab_debug=kmalloc-64: one report for a one-byte overflow, on that class only", async () => {
    const run = await bootKernel("test=slab.debug_kmalloc slab_debug=kmalloc-64 seed=1");
    expect(run.status, tail(run)).toBe("pass");
    expect(run.serial).toContain("slab_debug for kmalloc-64");
    expect(run.serial.match(/slab_debug: kmalloc-64: red zone after the object overwritten: object 0x[0-9a-f]+, byte \+64 is 0x41/g)?.length).toBe(1);
  }, 200_000);
});
