// Host tests of the virtual-range allocator (kernel/mm/core/vrange.ts) against a reference model:
// a plain list of live blocks, from which the free space is the gaps between them.
import { describe, it, expect, beforeEach } from "vitest";
import fc from "fast-check";
import { loadHostModule, HostModule, propertyParams } from "../../support/wasm";

const NONE = 0xffffffff;
const BASE = 0xf8000000;
let m: HostModule;
beforeEach(() => { m = loadHostModule("vrange"); });

/** The smallest span the allocator's rounded class search is sure to accept for `span`. */
function roundToClass(span: number): number {
  if (span < 8) return span;
  const log = 31 - Math.clz32(span);
  const step = (1 << (log - 3)) - 1;
  return (span + step) & ~step;
}

type Block = { start: number; span: number; free: boolean };

class Model {
  live = new Map<number, number>();   // start -> span
  constructor(public pages: number) {}
  /** Every block in address order: live ones and the maximal free gaps between them. */
  blocks(): Block[] {
    const out: Block[] = [];
    let at = 0;
    for (const [start, span] of [...this.live].sort((a, b) => a[0] - b[0])) {
      if (start > at) out.push({ start: at, span: start - at, free: true });
      out.push({ start, span, free: false });
      at = start + span;
    }
    if (at < this.pages) out.push({ start: at, span: this.pages - at, free: true });
    return out;
  }
  containing(page: number): number | undefined {
    for (const [start, span] of this.live) if (page >= start && page < start + span) return start;
    return undefined;
  }
}

/** Walks the allocator's blocks by span from page 0. */
function walk(pages: number): Block[] {
  const out: Block[] = [];
  for (let page = 0; page < pages; ) {
    const span = m.exports.span(page) >>> 0;
    out.push({ start: page, span, free: !!m.exports.isFree(page) });
    if (span === 0) break;
    page += span;
  }
  return out;
}

type Op =
  | { kind: "reserve"; span: number }
  | { kind: "release"; pick: number }
  | { kind: "releaseAny"; page: number }
  | { kind: "find"; page: number };

function opArb(pages: number): fc.Arbitrary<Op> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.record({ kind: fc.constant("reserve" as const), span: fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: pages + 2 })) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant("release" as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("releaseAny" as const), page: fc.integer({ min: 0, max: pages + 4 }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("find" as const), page: fc.integer({ min: 0, max: pages + 4 }) }) },
  );
}

function runAgainstModel(pages: number, ops: Op[]): void {
  expect(m.exports.init(BASE, pages)).toBe(1);
  const model = new Model(pages);
  let tag = 1;
  const tags = new Map<number, number>();
  for (const op of ops) {
    if (op.kind === "reserve") {
      const got = m.exports.reserve(op.span) >>> 0;
      const gaps = model.blocks().filter((b) => b.free);
      if (got === NONE) {
        const sure = op.span > 0 && op.span <= pages && gaps.some((g) => g.span >= roundToClass(op.span));
        expect(sure, `reserve(${op.span}) failed with a free gap of ${Math.max(0, ...gaps.map((g) => g.span))}`).toBe(false);
      } else {
        expect(op.span).toBeGreaterThan(0);
        expect(gaps.some((g) => got >= g.start && got + op.span <= g.start + g.span)).toBe(true);
        for (let i = 0; i < 3; i++) expect(m.exports.owner(got, i)).toBe(0);
        model.live.set(got, op.span);
        m.exports.setOwner(got, 2, tag);
        tags.set(got, tag++);
      }
    } else if (op.kind === "release" || op.kind === "releaseAny") {
      let page: number;
      if (op.kind === "release") {
        const starts = [...model.live.keys()];
        if (starts.length === 0) continue;
        page = starts[op.pick % starts.length];
      } else page = op.page;
      const owner = model.containing(page);
      const expected = page >= pages ? 1 : owner === undefined ? 2 : owner === page ? 0 : 3;
      if (expected === 0) expect(m.exports.owner(page, 2)).toBe(tags.get(page));
      expect(m.exports.release(page)).toBe(expected);
      if (expected === 0) { model.live.delete(page); tags.delete(page); }
    } else {
      const got = m.exports.find(op.page) >>> 0;
      expect(got).toBe(op.page >= pages ? NONE : model.containing(op.page) ?? NONE);
    }
    expect(m.exports.check()).toBe(0);
    const blocks = model.blocks();
    expect(walk(pages)).toEqual(blocks);
    expect(m.exports.freePages()).toBe(blocks.filter((b) => b.free).reduce((n, b) => n + b.span, 0));
    expect(m.exports.liveBlocks()).toBe(model.live.size);
  }
}

describe("virtual-range allocator against a model", () => {
  it("random reserve/release/find sequences on small areas", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 200 }).chain((pages) => fc.tuple(fc.constant(pages), fc.array(opArb(pages), { maxLength: 200 }))),
      ([pages, ops]) => runAgainstModel(pages, ops)), propertyParams(300));
  });

  it("random sequences on a full-size area (32768 pages, the three-level starts bitmap)", () => {
    const pages = m.exports.maxPages();
    const spanArb = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1000, max: 5000 }));
    const ops = fc.array(fc.oneof(
      fc.record({ kind: fc.constant("reserve" as const), span: spanArb }),
      fc.record({ kind: fc.constant("release" as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant("find" as const), page: fc.integer({ min: 0, max: pages - 1 }) }),
    ), { maxLength: 60 });
    fc.assert(fc.property(ops, (o) => runAgainstModel(pages, o)), propertyParams(25));
  });

  it("releasing everything merges back to one free block, in any order", () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 60 }), fc.nat(), (spans, seed) => {
      expect(m.exports.init(BASE, 2048)).toBe(1);
      const starts = spans.map((s) => m.exports.reserve(s) >>> 0).filter((p) => p !== NONE);
      let state = seed;
      while (starts.length) {
        state = (state * 1103515245 + 12345) >>> 0;
        const [page] = starts.splice(state % starts.length, 1);
        expect(m.exports.release(page)).toBe(0);
        expect(m.exports.check()).toBe(0);
      }
      expect(m.exports.freeBlocks()).toBe(1);
      expect(m.exports.span(0)).toBe(2048);
      expect(m.exports.isFree(0)).toBe(1);
    }), propertyParams(100));
  });

  it("bad releases are refused with the reason and change nothing", () => {
    m.exports.init(BASE, 64);
    const a = m.exports.reserve(4), b = m.exports.reserve(4);
    expect([a, b]).toEqual([0, 4]);
    const before = walk(64);
    expect(m.exports.release(64)).toBe(1);      // outside the area
    expect(m.exports.release(9)).toBe(2);       // free space: never reserved
    expect(m.exports.release(2)).toBe(3);       // inside a live range
    expect(walk(64)).toEqual(before);
    expect(m.exports.release(0)).toBe(0);
    expect(m.exports.release(0)).toBe(2);       // the second release of the same range
    expect(m.exports.check()).toBe(0);
  });

  it("a live block's last word is not taken for a boundary tag, even when it names a stale free record", () => {
    m.exports.init(BASE, 16);
    expect([m.exports.reserve(2), m.exports.reserve(3), m.exports.reserve(1)]).toEqual([0, 2, 5]);
    expect(m.exports.release(2)).toBe(0);   // [2, 5) free: its record says "free, 3 pages"
    expect(m.exports.release(0)).toBe(0);   // merged into [0, 5): page 2's record stays behind, stale
    expect(m.exports.reserve(4)).toBe(0);   // [0, 4) live, [4, 5) free
    expect(m.exports.reserve(1)).toBe(4);
    m.exports.setOwner(4, 2, 2);            // the owner's word at [4, 5)'s last page names page 2
    expect(m.exports.release(5)).toBe(0);   // its left neighbour is live: no merge
    expect(m.exports.check()).toBe(0);
    expect(walk(16)).toEqual([
      { start: 0, span: 4, free: false }, { start: 4, span: 1, free: false }, { start: 5, span: 11, free: true },
    ]);
  });

  it("an impossible size fails cleanly: 0 pages, more than the area, more than the largest gap", () => {
    m.exports.init(BASE, 100);
    expect(m.exports.reserve(0) >>> 0).toBe(NONE);
    expect(m.exports.reserve(101) >>> 0).toBe(NONE);
    expect(m.exports.reserve(100)).toBe(0);
    expect(m.exports.reserve(1) >>> 0).toBe(NONE);
    expect(m.exports.check()).toBe(0);
  });

  it("bookkeeping for the kernel's area fits in a known number of frames", () => {
    // 0xF8001000..0xFFC00000: 31743 pages; the VMM takes this many bytes from the PMM.
    expect(m.exports.bookkeepingBytes(31743)).toBeLessThan(128 * 4096);
  });
});
