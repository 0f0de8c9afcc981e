// Host tests of the guard allocator's hardware-independent part (kernel/mm/core/guard-layout.ts):
// placement puts the object against the guard page, aligned, in as few pages as hold it; the
// slack pattern is found intact after a fill and any one changed byte is found, exactly; the
// quarantine ring is a FIFO of bounded size (checked against an array).
import { describe, it, expect, beforeEach } from "vitest";
import fc from "fast-check";
import { loadHostModule, HostModule, propertyParams } from "../../support/wasm";

let m: HostModule;
beforeEach(() => { m = loadHostModule("guard"); });

const PAGE = 4096;
const roundUp = (n: number, a: number) => Math.ceil(n / a) * a;

describe("placement", () => {
  it("the object ends at the guard page, rounded to its alignment, in the fewest pages", () => {
    fc.assert(fc.property(fc.oneof(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 1 << 26 })), fc.integer({ min: 0, max: 12 }), (size, alignLog) => {
      const align = 1 << alignLog;
      const pages = m.exports.pagesFor(size, align) >>> 0;
      const rounded = roundUp(size, align);
      expect(pages).toBe(Math.max(1, Math.ceil(rounded / PAGE)));
      const offset = m.exports.objectOffset(size, align, pages) >>> 0;
      expect(offset % align).toBe(0);                         // aligned (pages start page-aligned)
      expect(offset + rounded).toBe(pages * PAGE);            // against the guard page
      expect(offset).toBeLessThan(PAGE);                      // no whole page of slack in front
      if (size % align === 0) expect(offset + size).toBe(pages * PAGE);   // one byte past faults
    }), propertyParams(500));
  });
  it("size 0, and a size whose pages would reach 4 GiB, get no pages", () => {
    expect(m.exports.pagesFor(0, 16)).toBe(0);
    expect(m.exports.pagesFor(0xFFFFFFFF, 4096)).toBe(0);
    expect(m.exports.pagesFor(0xFFFFF000, 16) >>> 0).toBe(0xFFFFF);
  });
});

describe("the slack pattern", () => {
  it("a filled run checks clean, and one changed byte anywhere is the first bad byte", () => {
    const base = m.exports.bufferBase() >>> 0;
    fc.assert(fc.property(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 4999 }), fc.integer({ min: 1, max: 255 }),
      (start, length, hit, flip) => {
        const from = base + 64 + start, to = from + length;
        m.exports.fill(base, 0, 6000);
        m.exports.fillPattern(from, to);
        expect(m.exports.peek(from - 1)).toBe(0);             // nothing outside touched
        expect(m.exports.peek(to)).toBe(0);
        for (let a = from; a < to; a += 97) expect(m.exports.peek(a)).toBe(m.exports.patternByte(a));
        expect(m.exports.firstBadByte(from, to) >>> 0).toBe(0);
        if (length === 0) return;
        const at = from + (hit % length);
        m.exports.poke(at, m.exports.patternByte(at) ^ flip);
        expect(m.exports.firstBadByte(from, to) >>> 0).toBe(at);
      }), propertyParams(500));
  });
  it("the pattern depends on the address: pattern bytes copied one byte along are caught", () => {
    const base = m.exports.bufferBase() >>> 0;
    m.exports.fillPattern(base, base + 64);
    for (let a = base + 63; a > base; a--) m.exports.poke(a, m.exports.peek(a - 1));
    expect(m.exports.firstBadByte(base, base + 64) >>> 0).toBe(base + 1);
  });
});

describe("the quarantine ring", () => {
  it("is a FIFO of its capacity: the oldest leaves when a new one comes to a full ring", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.array(fc.oneof(fc.integer({ min: 1, max: 1 << 30 }), fc.constant(0)), { maxLength: 300 }), (capacity, ops) => {
      m.exports.ringInit(capacity);
      const model: number[] = [];
      for (const op of ops) {
        if (op === 0) {
          expect(m.exports.ringTake() >>> 0).toBe(model.shift() ?? 0);
        } else {
          const evicted = model.length === capacity ? model.shift()! : 0;
          model.push(op);
          expect(m.exports.ringPut(op) >>> 0).toBe(evicted);
        }
        expect(m.exports.ringCount()).toBe(model.length);
      }
      for (const v of model) expect(m.exports.ringHolds(v)).toBe(1);
      expect(m.exports.ringHolds(0x7FFFFFFF + 1)).toBe(0);   // no value was that large
    }), propertyParams(300));
  });
});
