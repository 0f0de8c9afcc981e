// Host tests of the DMA pool (kernel/mm/core/buddy.ts) against a reference model: a map of live
// chunks. After every step the pool's checker passes; chunks are powers of two at least the size
// asked for, aligned to their size virtually and physically, never across a 4 KiB boundary when
// they fit in one, inside the run, not overlapping, with their contents kept; their physical
// addresses translate back; freeing everything merges the run back into its top blocks.
import { describe, it, expect, beforeEach } from "vitest";
import fc from "fast-check";
import { loadHostModule, HostModule, propertyParams, allocErrors } from "../../support/wasm";

// the refusal reasons, the kernel's own numbers (kernel/mm/core/alloc-error.ts)
let OK: number, FOREIGN: number, NOT_CHUNK: number, DOUBLE_FREE: number;
let m: HostModule;
beforeEach(() => { m = loadHostModule("dma"); ({ OK, FOREIGN, INTERIOR: NOT_CHUNK, DOUBLE_FREE } = allocErrors(m)); });

type Op = { kind: "alloc"; size: number } | { kind: "free"; pick: number } | { kind: "bad"; pick: number; how: number };
const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 512 }) },
  { weight: 3, arbitrary: fc.integer({ min: 513, max: 8192 }) },
  { weight: 1, arbitrary: fc.integer({ min: 8193, max: 70000 }) },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("alloc" as const), size: sizeArb }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("bad" as const), pick: fc.nat(), how: fc.integer({ min: 0, max: 2 }) }) },
);

/** The top blocks of a run of `bytes`: powers of two, largest first (at most 4 MiB each). */
function topBlocks(bytes: number): number[] {
  const blocks: number[] = [];
  for (let rest = bytes; rest > 0;) { const b = Math.min(2 ** Math.floor(Math.log2(rest)), 4 << 20); blocks.push(b); rest -= b; }
  return blocks;
}

function run(pages: number, ops: Op[]): void {
  // the physical base: aligned to the largest top block, below 16 MiB (as the ISA pool would be)
  const phys = 0x200000;
  m.exports.init(pages, BigInt(phys));
  const base = m.exports.base() >>> 0, bytes = pages * 4096;
  const live = new Map<number, { size: number; chunk: number; fill: number }>();
  let fill = 1, lastFreed = 0;
  for (const op of ops) {
    if (op.kind === "alloc") {
      const v = m.exports.alloc(op.size) >>> 0;
      const chunk = 2 ** Math.max(4, Math.ceil(Math.log2(op.size)));
      if (v === 0) {
        // only when no free range of that size and alignment exists: the model agrees
        expect(canFit(base, bytes, live, chunk), `alloc(${op.size}) refused though it fits`).toBe(false);
        continue;
      }
      expect(m.exports.chunkSize(v)).toBe(chunk);
      const p = Number(m.exports.toPhys(v));
      expect(p - phys).toBe(v - base);
      expect(m.exports.toVirt(BigInt(p)) >>> 0).toBe(v);
      expect((v - base) % chunk, "aligned to its size").toBe(0);
      expect(p % chunk, "physically aligned to its size").toBe(0);
      if (chunk <= 4096) expect(Math.floor(p / 4096)).toBe(Math.floor((p + chunk - 1) / 4096));
      expect(v >= base && v + chunk <= base + bytes).toBe(true);
      fill = (fill % 250) + 1;
      m.exports.fill(v, fill, op.size);
      live.set(v, { size: op.size, chunk, fill });
    } else if (op.kind === "free") {
      if (live.size === 0) continue;
      const v = [...live.keys()][op.pick % live.size];
      expect(m.exports.free(v)).toBe(OK);
      live.delete(v);
      lastFreed = v;
    } else {
      const errors = m.exports.errors(), used = m.exports.usedBytes();
      let ptr: number, expected: number;
      if (op.how === 0) { ptr = base + bytes + 64; expected = FOREIGN; }
      else if (op.how === 1 && live.size) { const v = [...live.keys()][op.pick % live.size]; ptr = v + 8; expected = NOT_CHUNK; }
      else if (op.how === 2 && lastFreed && !live.has(lastFreed)) {
        ptr = lastFreed;
        // freed and merged: the address may now be the start of a bigger free chunk, or inside one
        expected = -1;
      } else continue;
      const got = m.exports.free(ptr);
      if (expected >= 0) expect(got).toBe(expected);
      else expect([DOUBLE_FREE, NOT_CHUNK]).toContain(got);
      expect(m.exports.errors()).toBe(errors + 1);
      expect(m.exports.usedBytes()).toBe(used);
    }
    expect(m.exports.check()).toBe(0);
    expect(m.exports.usedChunks()).toBe(live.size);
    expect(m.exports.usedBytes()).toBe([...live.values()].reduce((s, c) => s + c.chunk, 0));
    const sorted = [...live].sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i][0]).toBeGreaterThanOrEqual(sorted[i - 1][0] + sorted[i - 1][1].chunk);
    for (const [v, c] of live) expect(m.exports.holds(v, c.fill, c.size)).toBe(1);
  }
  for (const v of live.keys()) expect(m.exports.free(v)).toBe(OK);
  expect(m.exports.check()).toBe(0);
  // everything free again: each top block is one free chunk, so the largest one can be had whole
  const tops = topBlocks(bytes);
  for (const top of tops) expect(m.exports.alloc(top) >>> 0).not.toBe(0);
  expect(m.exports.usedBytes()).toBe(bytes);
}

/** Whether a free range of `chunk` bytes aligned to `chunk` (within one top block) exists in the model. */
function canFit(base: number, bytes: number, live: Map<number, { chunk: number }>, chunk: number): boolean {
  let start = 0;
  for (const top of topBlocks(bytes)) {
    for (let off = start; top >= chunk && off + chunk <= start + top; off += chunk) {
      const a = base + off, b = a + chunk;
      if (![...live].some(([v, c]) => v < b && a < v + c.chunk)) return true;
    }
    start += top;
  }
  return false;
}

describe("DMA pool against a model", () => {
  it("random alloc/free/bad-free sequences keep every rule, over runs of 1 to 64 pages", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 64 }), fc.array(opArb, { maxLength: 150 }), (pages, ops) => {
      run(pages, ops);
    }), propertyParams(150));
  });

  it("splits and merges buddies: 16-byte chunks fill a page; freed, the page is whole again", () => {
    m.exports.init(1, 0x100000n);
    const chunks: number[] = [];
    for (let v; (v = m.exports.alloc(16) >>> 0) !== 0;) chunks.push(v);
    expect(chunks.length).toBe(256);
    expect(m.exports.alloc(1)).toBe(0);
    for (const v of chunks) expect(m.exports.free(v)).toBe(OK);
    expect(m.exports.check()).toBe(0);
    expect(m.exports.alloc(4096) >>> 0).toBe(m.exports.base() >>> 0);
  });

  it("refuses bad sizes and bad frees with a reason, changing nothing", () => {
    m.exports.init(4, 0x100000n);
    expect(m.exports.alloc(0)).toBe(0);
    expect(m.exports.alloc((4 << 20) + 1)).toBe(0);
    expect(m.exports.alloc(20000)).toBe(0);                  // 32 KiB chunk: larger than the pool
    const v = m.exports.alloc(100) >>> 0;
    expect(m.exports.free(v + 16)).toBe(NOT_CHUNK);
    expect(m.exports.free(v + 3)).toBe(NOT_CHUNK);
    expect(m.exports.free(m.exports.base() - 16)).toBe(FOREIGN);
    expect(m.exports.free(v)).toBe(OK);
    expect(m.exports.free(v)).toBe(DOUBLE_FREE);
    expect(m.exports.errors()).toBe(6);                      // (a size that does not fit is no error)
    expect(m.exports.check()).toBe(0);
  });
});
