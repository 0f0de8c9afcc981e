// Host tests of a process's regions (kernel/mm/core/regions.ts) against a model: an array of
// pages, each in no region or in one with its flags, kind and source (where its bytes come from
// and how many there are), over a window of 48 pages.
import { describe, it, expect, beforeEach } from "vitest";
import fc from "fast-check";
import { loadHostModule, HostModule, propertyParams } from "../../support/wasm";

const OK = 0, BAD = 1, OVERLAP = 2, FULL = 3, NOT_MAPPED = 4, NONE = 0xffffffff;
const PAGES = 48, BASE = 0x00400000, PAGE = 4096;
let m: HostModule;
beforeEach(() => { m = loadHostModule("regions"); });

type Page = { flags: number; kind: number; source: number; bytes: number } | null;
const SOURCE = 0x10000000;
const at = (p: number) => BASE + p * PAGE;

describe("regions", () => {
  it("keeps the map equal to a page model under random inserts, removals and protections", () => {
    const op = fc.record({
      kind: fc.constantFrom("insert", "insert", "remove", "protect"),
      from: fc.nat({ max: PAGES - 1 }), length: fc.integer({ min: 1, max: 12 }),
      flags: fc.nat({ max: 7 }), regionKind: fc.nat({ max: 4 }), sourced: fc.boolean(), sourceBytes: fc.nat({ max: 12 * PAGE }),
    });
    fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 60 }), (capacity, ops) => {
      m.exports.init(capacity);
      const model: Page[] = new Array(PAGES).fill(null);
      // the model's region count: runs of pages that came from one insert and were not split
      for (const o of ops) {
        const to = Math.min(PAGES, o.from + o.length);
        const before = model.map((p) => (p ? { ...p } : null));
        let r: number;
        if (o.kind === "insert") {
          const source = o.sourced ? SOURCE + o.from * 7 * PAGE : 0;
          r = m.exports.insert(at(o.from), at(to), o.flags, o.regionKind, source, o.sourceBytes);
          const free = model.slice(o.from, to).every((p) => p === null);
          if (r === OK) {
            expect(free).toBe(true);
            for (let p = o.from; p < to; p++) {
              const cut = (p - o.from) * PAGE;
              model[p] = { flags: o.flags, kind: o.regionKind, source: source ? source + cut : 0, bytes: source ? Math.max(0, o.sourceBytes - cut) : 0 };
            }
          }
          else if (r === OVERLAP) expect(free).toBe(false);
          else expect(r).toBe(FULL);
        } else if (o.kind === "remove") {
          r = m.exports.remove(at(o.from), at(to));
          if (r === OK) for (let p = o.from; p < to; p++) model[p] = null;
          else expect(r).toBe(FULL);
        } else {
          r = m.exports.protect(at(o.from), at(to), o.flags);
          const mapped = model.slice(o.from, to).every((p) => p !== null);
          if (r === OK) { expect(mapped).toBe(true); for (let p = o.from; p < to; p++) model[p] = { ...model[p]!, flags: o.flags }; }
          else if (r === NOT_MAPPED) expect(mapped).toBe(false);
          else expect(r).toBe(FULL);
        }
        if (r !== OK) expect(model).toEqual(before);   // (a refusal changes nothing: checked below against the map too)
        expect(Boolean(m.exports.valid()), "the map's invariants").toBe(true);
        expect(m.exports.count()).toBeLessThanOrEqual(capacity);
        for (let p = 0; p < PAGES; p++) {
          const i = m.exports.find(at(p) + 123) >>> 0;
          if (model[p] === null) { expect(i, `page ${p} in no region`).toBe(NONE); continue; }
          expect(i, `page ${p} in a region`).not.toBe(NONE);
          expect(m.exports.flags(i)).toBe(model[p]!.flags);
          expect(m.exports.kind(i)).toBe(model[p]!.kind);
          expect(m.exports.start(i) >>> 0).toBeLessThanOrEqual(at(p));
          expect(m.exports.end(i) >>> 0).toBeGreaterThan(at(p));
          // the page's source, from its region's: the region's first page's, advanced
          const cut = at(p) - (m.exports.start(i) >>> 0);
          const source = m.exports.source(i) >>> 0, bytes = m.exports.sourceBytes(i) >>> 0;
          expect(source === 0 ? 0 : source + cut, `page ${p}'s source`).toBe(model[p]!.source);
          expect(source === 0 ? 0 : Math.max(0, bytes - cut), `page ${p}'s source bytes`).toBe(model[p]!.bytes);
        }
      }
    }), propertyParams(300));
  });

  it("refuses bad ranges and reports a full map, changing nothing", () => {
    m.exports.init(2);
    expect(m.exports.insert(at(0), at(0), 1, 0, 0, 0)).toBe(BAD);
    expect(m.exports.insert(at(0) + 1, at(2), 1, 0, 0, 0)).toBe(BAD);
    expect(m.exports.insert(at(0), at(2), 8, 0, 0, 0)).toBe(BAD);
    expect(m.exports.insert(at(0), at(4), 3, 1, SOURCE, PAGE), "sourced: never joined").toBe(OK);
    expect(m.exports.insert(at(6), at(8), 3, 1, SOURCE, PAGE)).toBe(OK);
    expect(m.exports.insert(at(10), at(12), 3, 1, SOURCE, PAGE)).toBe(FULL);
    expect(m.exports.remove(at(1), at(2))).toBe(FULL);        // a split needs an entry
    expect(m.exports.protect(at(1), at(2), 1)).toBe(FULL);
    expect(m.exports.protect(at(3), at(7), 1)).toBe(NOT_MAPPED);   // a hole at pages 4-5
    expect(m.exports.count()).toBe(2);
    expect(m.exports.remove(at(0), at(4))).toBe(OK);
    expect(m.exports.remove(at(20), at(30))).toBe(OK);         // nothing there: not an error
    expect(m.exports.count()).toBe(1);
  });

  it("joins an anonymous region to a neighbour with the same flags and kind, never a sourced one", () => {
    m.exports.init(8);
    expect(m.exports.insert(at(4), at(6), 3, 0, 0, 0)).toBe(OK);
    expect(m.exports.insert(at(6), at(8), 3, 0, 0, 0)).toBe(OK);          // joins on the left
    expect(m.exports.insert(at(2), at(4), 3, 0, 0, 0)).toBe(OK);          // joins on the right
    expect(m.exports.count()).toBe(1);
    expect(m.exports.insert(at(10), at(12), 3, 0, 0, 0)).toBe(OK);
    expect(m.exports.insert(at(8), at(10), 3, 0, 0, 0)).toBe(OK);         // fills the hole: three become one
    expect(m.exports.count()).toBe(1);
    expect([m.exports.start(0) >>> 0, m.exports.end(0) >>> 0]).toEqual([at(2), at(12)]);
    expect(m.exports.insert(at(12), at(13), 1, 0, 0, 0)).toBe(OK);        // other flags: a region of its own
    expect(m.exports.insert(at(13), at(14), 1, 4, 0, 0)).toBe(OK);        // other kind: too
    expect(m.exports.insert(at(14), at(15), 1, 4, SOURCE, 10)).toBe(OK);  // a source: too
    expect(m.exports.insert(at(15), at(16), 1, 4, 0, 0)).toBe(OK);        // and nothing joins a sourced one
    expect(m.exports.count()).toBe(5);
    expect(m.exports.find(at(15)) >>> 0).toBe(4);
  });

  it("finds gaps (mmap)", () => {
    m.exports.init(8);
    expect(m.exports.insert(at(2), at(3), 3, 3, 0, 0)).toBe(OK);
    expect(m.exports.insert(at(8), at(9), 1, 1, SOURCE, 0)).toBe(OK);
    expect(m.exports.findGap(at(0), at(20), 2 * PAGE) >>> 0).toBe(at(0));
    expect(m.exports.findGap(at(2), at(20), 2 * PAGE) >>> 0).toBe(at(3));
    expect(m.exports.findGap(at(2), at(20), 5 * PAGE) >>> 0).toBe(at(3));
    expect(m.exports.findGap(at(2), at(20), 6 * PAGE) >>> 0).toBe(at(9));
    expect(m.exports.findGap(at(2), at(20), 11 * PAGE) >>> 0).toBe(at(9));
    expect(m.exports.findGap(at(2), at(20), 12 * PAGE) >>> 0).toBe(0);
  });
});
