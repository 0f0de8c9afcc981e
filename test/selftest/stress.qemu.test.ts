// concurrency.stress (kernel/selftest/stress.ts) under -icount: the timer ticks at the same
// instructions every run, so the interleaving of the worker threads and the timer interrupt
// follows from the seed, and so does the digest of every operation's result.
import { describe, it, expect, beforeAll } from "vitest";
import { bootKernel, tail } from "../support/qemu-helpers";
import type { BootResult } from "../../scripts/qemu";

const seed = process.env.ASKERN_SEED ?? "1";
const digestOf = (r: BootResult) => r.serial.match(/# stress: digest (0x[0-9a-f]+) \(seed (\d+)\)/);
const boot = (s: string) => bootKernel(`test=concurrency.stress seed=${s}`, { icount: true });

describe("concurrency.stress under -icount", () => {
  let first: BootResult, second: BootResult, other: BootResult;
  beforeAll(async () => {
    [first, second] = await Promise.all([boot(seed), boot(seed)]);
    other = await boot(String(BigInt(seed) + 1n));
  });

  it("passes, with the threads and the timer interrupt all allocating", () => {
    for (const r of [first, second, other]) {
      expect(r.status, tail(r)).toBe("pass");
      const line = r.serial.match(/# stress: (\d+) threads, (\d+) thread operations and (\d+) in timer interrupts/);
      expect(line, tail(r)).not.toBeNull();
      expect(Number(line![1])).toBe(8);
      expect(Number(line![2])).toBeGreaterThanOrEqual(1_000_000);
      expect(Number(line![3])).toBeGreaterThan(1000);
    }
  });

  it("gives the same digest twice for one seed, and another for another seed", () => {
    const a = digestOf(first), b = digestOf(second), c = digestOf(other);
    expect(a, tail(first)).not.toBeNull();
    expect(a![2]).toBe(seed);
    expect(b![1]).toBe(a![1]);
    expect(c![1]).not.toBe(a![1]);
  });
});

// The PMM against its own CPU's timer interrupt (kernel/selftest/pmm.ts pmm.timer_interrupts):
// the frame lists' fast paths and the bitmap's locked section. Only under -icount can a tick land
// inside a fast path's few instructions: plain TCG takes interrupts between translated blocks
// alone. 3584 MiB: the lists hold high memory only.
describe("pmm.timer_interrupts under -icount", () => {
  it("keeps every frame while the timer allocates and frees through the same list and bitmap", async () => {
    const r = await bootKernel(`test=pmm.timer_interrupts seed=${seed}`, { icount: true, memoryMiB: 3584 });
    expect(r.status, tail(r)).toBe("pass");
    const line = r.serial.match(/# (\d+) rounds in a thread, (\d+) in timer interrupts/);
    expect(line, tail(r)).not.toBeNull();
    expect(Number(line![2])).toBeGreaterThan(500);
  }, 300_000);
});

// The object caches against their own CPU's timer interrupt and preemption (kernel/selftest/
// slab-parts.ts): the fast paths run with interrupts on, a hardware interrupt's handler on its
// CPU's interrupt part. Under -icount, where a tick can land inside a fast path.
describe("slab.parts_under_interrupts under -icount", () => {
  it("hands no object out twice while two threads and the timer allocate on one CPU", async () => {
    const r = await bootKernel(`test=slab.parts_under_interrupts seed=${seed}`, { icount: true });
    expect(r.status, tail(r)).toBe("pass");
    const line = r.serial.match(/# (\d+) rounds in two threads, (\d+) in timer interrupts/);
    expect(line, tail(r)).not.toBeNull();
    expect(Number(line![2])).toBeGreaterThan(100);
  }, 120_000);
});

// Frees straight to their slabs on one CPU against its timer interrupt (kernel/selftest/
// slab-parts.ts): the cores' section around them is all that keeps a tick's free to the same
// slab out. Under -icount, where a tick can land inside the section's few instructions.
describe("slab.direct_frees_under_interrupts under -icount", () => {
  it("keeps every object while the timer frees the thread's objects to the same slabs", async () => {
    const r = await bootKernel(`test=slab.direct_frees_under_interrupts seed=${seed}`, { icount: true });
    expect(r.status, tail(r)).toBe("pass");
    const line = r.serial.match(/# (\d+) rounds in a thread, (\d+) in timer interrupts/);
    expect(line, tail(r)).not.toBeNull();
    expect(Number(line![2])).toBeGreaterThanOrEqual(2000);
  }, 120_000);
});
