// Host tests of the kernel heap (kernel/mm/core/heap/heap.ts) against a reference model: a map of live
// blocks with their sizes and fill bytes. After every step the heap's own checker must pass,
// live blocks must not overlap, keep their contents and honour their alignment.
import { describe, it, expect, beforeEach } from "vitest";
import fc from "fast-check";
import { loadHostModule, HostModule, propertyParams, allocErrors } from "../../support/wasm";

const SPAN = 128 * 1024;
// the refusal reasons, the kernel's own numbers (kernel/mm/core/alloc-error.ts)
let OK: number, FOREIGN: number, MISALIGNED: number, INTERIOR: number, DOUBLE_FREE: number;
let m: HostModule;
beforeEach(() => { m = loadHostModule("heap"); ({ OK, FOREIGN, MISALIGNED, INTERIOR, DOUBLE_FREE } = allocErrors(m)); });

type Live = { size: number; align: number; fill: number };
type Op =
  | { kind: "alloc"; size: number; align: number }
  | { kind: "free"; pick: number }
  | { kind: "realloc"; pick: number; size: number }
  | { kind: "bad"; pick: number; how: number };

const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 300 }) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 5000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 20000, max: 70000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 65537, max: 300000 }) },
);
const alignArb = fc.constantFrom(0, 0, 0, 1, 8, 16, 32, 64, 256, 4096);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("alloc" as const), size: sizeArb, align: alignArb }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("realloc" as const), pick: fc.nat(), size: sizeArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("bad" as const), pick: fc.nat(), how: fc.integer({ min: 0, max: 3 }) }) },
);

function verify(live: Map<number, Live>): void {
  expect(m.exports.check()).toBe(0);
  expect(m.exports.liveBlocks()).toBe(live.size);
  const spans = [...live].map(([p, b]) => [p, p + b.size] as const).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
  for (const [p, b] of live) {
    expect(m.exports.holds(p, b.fill, b.size), `block ${p} of ${b.size} kept its contents`).toBe(1);
    expect(m.exports.size(p)).toBeGreaterThanOrEqual(b.size);
  }
  expect(m.exports.heldBytes()).toBe(m.exports.providerPagesOut() * 4096);
}

function run(ops: Op[], useCache: number): void {
  m.exports.reset(1, 2048, useCache);
  const live = new Map<number, Live>();
  let fill = 1, freed: number[] = [];
  const pick = (n: number) => [...live.keys()][n % live.size];
  for (const op of ops) {
    if (op.kind === "alloc") {
      const p = m.exports.alloc(op.size, op.align) >>> 0;
      const align = op.align === 0 ? 16 : op.align;
      expect(p, `alloc(${op.size}, ${op.align})`).not.toBe(0);
      expect(p % Math.max(align, 16)).toBe(0);   // alignments below 16 are accepted and rounded up
      fill = (fill % 250) + 1;
      m.exports.fill(p, fill, op.size);
      live.set(p, { size: op.size, align, fill });
    } else if (op.kind === "free") {
      if (live.size === 0) continue;
      const p = pick(op.pick);
      expect(m.exports.free(p)).toBe(OK);
      live.delete(p);
      freed.push(p);
    } else if (op.kind === "realloc") {
      if (live.size === 0) continue;
      const p = pick(op.pick), b = live.get(p)!;
      const q = m.exports.realloc(p, op.size) >>> 0;
      expect(q).not.toBe(0);
      expect(q % 16).toBe(0);
      const kept = Math.min(b.size, op.size);
      expect(m.exports.holds(q, b.fill, kept), "realloc kept the contents").toBe(1);
      live.delete(p);
      m.exports.fill(q, b.fill, op.size);
      live.set(q, { size: op.size, align: 16, fill: b.fill });
    } else {
      const errorsBefore = m.exports.errors();
      const heldBefore = m.exports.heldBytes();
      let p: number, expected: number[];
      if (op.how === 0 && freed.length) {
        p = freed[op.pick % freed.length];
        if (live.has(p)) continue;   // handed out again since: not a bad pointer now
        expected = [DOUBLE_FREE, INTERIOR, FOREIGN];   // free, merged into a neighbour, or its span gone
      } else if (op.how === 1 && live.size) {
        const base = pick(op.pick);
        if (m.exports.size(base) <= 16) continue;        // base + 16 would be the next block
        p = base + 16; expected = live.get(base)!.size > 65536 ? [INTERIOR, FOREIGN] : [INTERIOR];
      } else if (op.how === 2 && live.size) {
        p = pick(op.pick) + 4; expected = [MISALIGNED];
      } else {
        p = 0x10 + (op.pick % 0x1000) * 16; expected = [FOREIGN];   // memory the heap never owned
      }
      const got = m.exports.free(p);
      expect(expected, `bad free of ${p}`).toContain(got);
      expect(m.exports.errors()).toBe(errorsBefore + 1);
      expect(m.exports.heldBytes()).toBe(heldBefore);
    }
    verify(live);
  }
  for (const p of [...live.keys()]) { expect(m.exports.free(p)).toBe(OK); live.delete(p); }
  verify(live);
  expect(m.exports.liveBytes()).toBe(0);
  expect(m.exports.cachedBytes()).toBeLessThanOrEqual(16 * 1024 + m.exports.peakLiveBytes() / 8 + 70000);
  m.exports.flushCache();                                          // cached blocks hold spans
  expect(m.exports.cachedBytes()).toBe(0);
  expect(m.exports.check()).toBe(0);
  expect(m.exports.spanCount()).toBeLessThanOrEqual(1);            // the reserve of one span
  expect(m.exports.heldBytes()).toBeLessThanOrEqual(SPAN);
}

describe("heap against a model", () => {
  it("random alloc/free/realloc/bad-pointer sequences keep every invariant (front cache on)", () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 150 }), (ops) => run(ops, 1)), propertyParams(150));
  });

  it("the same without the front cache (every free merges at once)", () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 150 }), (ops) => run(ops, 0)), propertyParams(100));
  });

  it("bad requests return 0 with a reason and change nothing", () => {
    m.exports.reset(1, 2048, 1);
    const p = m.exports.alloc(100, 0) >>> 0;
    expect(p).not.toBe(0);
    expect(m.exports.alloc(0, 0)).toBe(0);
    expect(m.exports.alloc(100, 24)).toBe(0);          // not a power of two
    expect(m.exports.alloc(100, 8192)).toBe(0);        // above 4 KiB
    expect(m.exports.alloc(0xffffffff, 0)).toBe(0);    // rounding would overflow
    expect(m.exports.alloc((1 << 30) + 1, 0)).toBe(0);
    expect(m.exports.errors()).toBe(5);
    expect(m.exports.check()).toBe(0);
    expect(m.exports.liveBlocks()).toBe(1);
    expect(m.exports.size(p)).toBe(108);               // 100 + header, rounded to 16, minus header
    expect(m.exports.size(p + 16)).toBe(0);
    expect(m.exports.size(12345)).toBe(0);
    expect(m.exports.realloc(p + 4, 10)).toBe(0);      // realloc of a bad pointer: 0, nothing moved
    expect(m.exports.free(p)).toBe(OK);
    expect(m.exports.free(p)).toBe(DOUBLE_FREE);
    expect(m.exports.check()).toBe(0);
  });

  it("running out of memory returns 0 and leaves the heap consistent", () => {
    m.exports.reset(0, 64, 1);   // two spans' worth of pages
    const got: number[] = [];
    for (;;) {
      const p = m.exports.alloc(1000, 0) >>> 0;
      if (p === 0) break;
      got.push(p);
      expect(got.length).toBeLessThan(1000);
    }
    expect(got.length).toBeGreaterThan(200);
    expect(m.exports.alloc(70000, 0)).toBe(0);         // no pages for a large block either
    expect(m.exports.check()).toBe(0);
    for (const p of got.slice(0, 16)) expect(m.exports.free(p)).toBe(OK);
    expect(m.exports.cachedBytes()).toBe(16 * 1008);   // all 16 wait, unmerged, in the front cache
    // Only merging those 16 neighbours makes room for 10,000 B: the heap must flush its cache
    // rather than answer 0.
    const big = m.exports.alloc(10000, 0) >>> 0;
    expect(big).not.toBe(0);
    expect(m.exports.cachedBytes()).toBe(0);
    expect(m.exports.check()).toBe(0);
    for (const p of [...got.slice(16), big]) expect(m.exports.free(p)).toBe(OK);
    m.exports.trim();
    expect(m.exports.spanCount()).toBe(0);             // no reserve: every span went back
    expect(m.exports.providerPagesOut()).toBe(0);
  });

  it("the front cache: a freed block comes back to the next request of its class; misuse is still caught", () => {
    m.exports.reset(1, 2048, 1);
    const a = m.exports.alloc(100, 0) >>> 0, b = m.exports.alloc(100, 0) >>> 0, c = m.exports.alloc(3000, 0) >>> 0;
    expect(m.exports.free(a)).toBe(OK);
    expect(m.exports.cachedBytes()).toBe(112);
    expect(m.exports.free(a)).toBe(DOUBLE_FREE);          // cached is not live
    expect(m.exports.size(a)).toBe(0);
    expect(m.exports.realloc(a, 10)).toBe(0);
    expect(m.exports.checkPointer(a)).toBe(DOUBLE_FREE);
    expect(m.exports.errors()).toBe(2);
    expect(m.exports.alloc(90, 0) >>> 0).toBe(a);         // same class: the cached block, unsplit
    expect(m.exports.free(c)).toBe(OK);
    expect(m.exports.alloc(2990, 0) >>> 0).toBe(c);       // its class (2944-3071), and it fits
    expect(m.exports.free(c)).toBe(OK);
    expect(m.exports.alloc(3050, 0) >>> 0).not.toBe(c);   // same class, but 3008 B do not hold 3050
    const d = m.exports.alloc(100, 256) >>> 0;            // moved up to 256 B: a free gap before it
    const held = m.exports.cachedBytes();
    expect(m.exports.free(d)).toBe(OK);
    expect(m.exports.cachedBytes()).toBe(held);           // an aligned block after a free gap merges at once
    expect(m.exports.check()).toBe(0);
    const spare: number[] = [];
    let x = m.exports.alloc(100, 0) >>> 0;
    while (x % 64 !== 0) { spare.push(x); x = m.exports.alloc(100, 0) >>> 0; }
    expect(m.exports.free(x)).toBe(OK);
    expect(m.exports.alloc(100, 64) >>> 0).toBe(x);       // an aligned request takes a cached block that is aligned
    for (const p of spare) expect(m.exports.free(p)).toBe(OK);
    expect(m.exports.cachedBytes()).toBe(3008 + 112 * spare.length);   // c and the spares
    expect(m.exports.free(b)).toBe(OK);                    // b (span + 1184) is not 4096-aligned
    const e = m.exports.alloc(100, 4096) >>> 0;
    expect(e).not.toBe(b);
    expect(e % 4096).toBe(0);
    expect(m.exports.alloc(90, 0) >>> 0).toBe(b);         // ... and b waited for a default one
    expect(m.exports.check()).toBe(0);
    expect(m.exports.free(b)).toBe(OK);
    const cached = m.exports.cachedBytes();
    expect(m.exports.flushCache()).toBe(2 + spare.length); // b, c and the spares, merged into the free lists
    expect(m.exports.cachedBytes()).toBe(0);
    expect(cached).toBe(3008 + 112 * (spare.length + 1));
    expect(m.exports.check()).toBe(0);
  });

  it("a free goes into the front cache only while it then holds at most live/8 + 16 KiB", () => {
    m.exports.reset(1, 2048, 1);
    const ps = [
      ...Array.from({ length: 40 }, () => m.exports.alloc(60000, 0) >>> 0),   // 2.4 MB live
      ...Array.from({ length: 2000 }, () => m.exports.alloc(40, 0) >>> 0),
    ];
    let pushed = 0, merged = 0;
    for (const p of ps) {
      const before = m.exports.cachedBytes();
      expect(m.exports.free(p)).toBe(OK);
      const after = m.exports.cachedBytes();
      if (after === before) { merged++; continue; }
      pushed++;
      expect(after).toBeLessThanOrEqual(16384 + Math.floor(m.exports.liveBytes() / 8));
    }
    expect(pushed).toBeGreaterThan(0);
    expect(merged).toBeGreaterThan(0);                 // the bound was reached
    expect(m.exports.check()).toBe(0);
  });

  it("free coalesces both neighbours: three adjacent blocks freed in any order leave one block", () => {
    for (const order of [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]) {
      m.exports.reset(1, 2048, 0);   // no front cache: every free merges at once
      const ps = [m.exports.alloc(200, 0) >>> 0, m.exports.alloc(200, 0) >>> 0, m.exports.alloc(200, 0) >>> 0];
      expect(ps[1] - ps[0]).toBe(208);
      for (const i of order) { expect(m.exports.free(ps[i])).toBe(OK); expect(m.exports.check()).toBe(0); }
      expect(m.exports.freeSpans()).toBe(1);            // one free block: the whole span, kept as the reserve
      expect(m.exports.alloc(129000, 0) >>> 0).not.toBe(0);   // above the large threshold: own pages
    }
  });

  it("aligned allocations up to 4 KiB keep the gap in front usable", () => {
    m.exports.reset(1, 2048, 1);
    const a = m.exports.alloc(16, 0) >>> 0;
    const b = m.exports.alloc(100, 4096) >>> 0;
    expect(b % 4096).toBe(0);
    const c = m.exports.alloc(16, 0) >>> 0;              // fits in the gap before b
    expect(c).toBeGreaterThan(a);
    expect(c).toBeLessThan(b);
    expect(m.exports.check()).toBe(0);
  });
  it("a large block grows in place when the provider can add the pages after it, and moves when not", () => {
    m.exports.reset(0, 2048, 1);
    const p = m.exports.alloc(100000, 0) >>> 0;
    m.exports.fill(p, 7, 100000);
    const held = Number(m.exports.heldBytes());
    // 25 pages in a 32-page chunk: the pages after it are free, so the block just gets longer
    const q = m.exports.realloc(p, 200000) >>> 0;
    expect(q).toBe(p);
    expect(m.exports.providerGrows()).toBe(1);
    expect(m.exports.size(q)).toBeGreaterThanOrEqual(200000);
    expect(Number(m.exports.heldBytes()) - held).toBe(Math.ceil((32 + 200000) / 4096) * 4096 - Math.ceil((32 + 100000) / 4096) * 4096);
    expect(m.exports.holds(q, 7, 100000)).toBe(1);
    expect(m.exports.check()).toBe(0);
    // a block right after it (the next chunk) stops it: the block moves, contents and all
    const next = m.exports.alloc(100000, 0) >>> 0;
    expect(next).toBeGreaterThan(q);
    m.exports.fill(q, 9, 200000);
    const r = m.exports.realloc(q, 300000) >>> 0;
    expect(r).not.toBe(q);
    expect(m.exports.holds(r, 9, 200000)).toBe(1);
    // a provider that cannot grow runs: the block moves too
    m.exports.setProviderGrows(false);
    const s = m.exports.realloc(r, 310000) >>> 0;
    expect(s).not.toBe(r);
    expect(m.exports.holds(s, 9, 200000)).toBe(1);
    expect(m.exports.providerGrows()).toBe(1);
    m.exports.free(s); m.exports.free(next);
    expect(m.exports.check()).toBe(0);
    expect(m.exports.providerPagesOut()).toBe(0);   // the grown run went back whole
  });
  it("a pointer into a fresh span is refused as interior: leftover start bits do not count", () => {
    // The start bitmap is never cleared as a whole: its groups count only once their valid bit
    // is set. The buffer provider hands out pages full of 0xCD, so a fresh span's start bitmap
    // and its would-be headers are garbage: start bits read as set for every payload whose bit
    // index is 0, 2, 3, 6 or 7 mod 8 (offsets 2048 and 100000, say), headers as free blocks.
    m.exports.reset(0, 2048, 0);
    const fresh = m.exports.alloc(100, 0) >>> 0;
    const span = fresh & ~0x1ffff;
    for (const offset of [2048, 4096, 40960, 100000]) {
      expect(m.exports.free(span + offset), `free of span + ${offset}: inside the span, no block there`).toBe(INTERIOR);
    }
    expect(m.exports.errors()).toBe(4);
    expect(m.exports.check()).toBe(0);
    expect(m.exports.free(fresh)).toBe(OK);
  });

  it("realloc copies only the old block's bytes when it moves one (no over-read of its neighbour)", () => {
    m.exports.reset(0, 2048, 0);
    const a = m.exports.alloc(100, 0) >>> 0;
    m.exports.fill(a, 0x11, 100);
    // the right neighbour, full of a pattern that must not travel with a
    let b = 0;
    for (let i = 0; i < 2000 && b !== a + m.exports.size(a) + 4; i++) b = m.exports.alloc(1000, 0) >>> 0;
    expect(b, "a block right after a").toBe(a + m.exports.size(a) + 4);
    m.exports.fill(b, 0xb7, 1000);
    const have = m.exports.size(a);
    const moved = m.exports.realloc(a, 6000) >>> 0;
    expect(moved).not.toBe(a);
    const bytes = new Uint8Array(m.memory.buffer, moved, 6000);
    expect(bytes.subarray(0, 100).every((x) => x === 0x11), "the old contents came along").toBe(true);
    expect(bytes.subarray(have).filter((x) => x === 0xb7).length, "bytes of the neighbour copied past the old block's end").toBe(0);
    expect(m.exports.check()).toBe(0);
  });

  it("realloc moves a block it grows past 8 KiB to its own pages, and one shrunk to 8 KiB back into a span", () => {
    m.exports.reset(0, 2048, 0);
    const inSpan = (p: number) => (p & 0x1ffff) !== 32;   // a large block's payload sits 32 B into its chunk
    /** Allocates 100-byte blocks until one is p's right neighbour, so that p cannot grow in place. */
    const wallAfter = (p: number): number[] => {
      const got: number[] = [];
      for (let i = 0; i < 2000; i++) {
        const q = m.exports.alloc(100, 0) >>> 0;
        got.push(q);
        if (q === p + m.exports.size(p) + 4) return got;
      }
      throw new Error("no block landed after " + p);
    };
    const a = m.exports.alloc(5000, 0) >>> 0;
    m.exports.fill(a, 5, 5000);
    const walls = wallAfter(a);
    const b = m.exports.realloc(a, 8000) >>> 0;            // must move, but not past 8 KiB: a span block
    expect(b).not.toBe(a);
    expect(inSpan(b)).toBe(true);
    walls.push(...wallAfter(b));
    const c = m.exports.realloc(b, 9000) >>> 0;            // must move, past 8 KiB: its own pages
    expect(inSpan(c)).toBe(false);
    expect(m.exports.holds(c, 5, 5000)).toBe(1);
    const grows = m.exports.providerGrows();
    const d = m.exports.realloc(c, 40000) >>> 0;           // grows where it is
    expect(d).toBe(c);
    expect(m.exports.providerGrows()).toBe(grows + 1);
    expect(m.exports.realloc(d, 20000) >>> 0).toBe(d);    // shrunk, still above 8 KiB: stays
    const e = m.exports.realloc(d, 6000) >>> 0;            // shrunk to 8 KiB or less: back into a span
    expect(inSpan(e)).toBe(true);
    expect(m.exports.holds(e, 5, 5000)).toBe(1);
    expect(m.exports.check()).toBe(0);
    m.exports.free(e);
    for (const w of walls) m.exports.free(w);
    expect(m.exports.check()).toBe(0);
    expect(m.exports.providerPagesOut()).toBe(0);
  });
});
