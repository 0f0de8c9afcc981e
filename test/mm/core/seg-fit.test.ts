// Host tests of the segregated-fit class scheme (kernel/mm/core/seg-fit.ts) against a model of
// TLSF's classes, for the ranges' 3 second-level bits and the heap's 4, and of the bit helpers
// (kernel/lib/bits.ts) against plain arithmetic.
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import { loadHostModule, HostModule, propertyParams } from "../../support/wasm";

let m: HostModule;
beforeAll(() => { m = loadHostModule("seg-fit"); });

/** The model: below 2^sl one class per unit; above, 2^sl classes per power of two. */
function modelClass(n: number, sl: number): number {
  if (n < 2 ** sl) return n;
  const high = 31 - Math.clz32(n);
  return ((high - sl + 1) << sl) + ((n >>> (high - sl)) & (2 ** sl - 1));
}
function smallestOfClass(c: number, sl: number): number {
  if (c < 2 ** sl) return c;
  const high = (c >> sl) + sl - 1;
  return ((2 ** sl + (c & (2 ** sl - 1))) * 2 ** (high - sl)) >>> 0;
}

describe("seg-fit classes", () => {
  for (const sl of [3, 4]) {
    const classOf = (n: number) => m.exports[`classOf${sl}`](n) >>> 0;
    const roundUp = (n: number) => m.exports[`roundUp${sl}`](n) >>> 0;
    it(`${sl} second-level bits: the class of every size is the model's, and classes grow with sizes`, () => {
      let previous = 0;
      for (let n = 1; n < 1 << 16; n++) {
        const c = classOf(n);
        if (c !== modelClass(n, sl)) expect(c, `class of ${n}`).toBe(modelClass(n, sl));
        if (c < previous) expect(c, `classes are monotonic at ${n}`).toBeGreaterThanOrEqual(previous);
        previous = c;
      }
    });
    it(`${sl} second-level bits: a rounded-up size's class holds only sizes that fit it`, () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 30 }), (n) => {
        const r = roundUp(n);
        expect(r).toBeGreaterThanOrEqual(n);
        expect(smallestOfClass(classOf(r), sl)).toBeGreaterThanOrEqual(n);   // every block of that class fits
        expect(classOf(r)).toBe(modelClass(r, sl));
        if (r !== n) expect(smallestOfClass(classOf(r), sl)).toBe(r);        // it rounded to a class start
      }), propertyParams(500));
    });
  }
});

describe("bit helpers", () => {
  it("agree with plain arithmetic", () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 0, max: 12 }), (value, shift) => {
      const to = 2 ** shift;
      expect(m.exports.align(value, to) >>> 0).toBe((Math.ceil(value / to) * to) >>> 0);
      expect(m.exports.align64(value, to)).toBe(BigInt(Math.ceil(value / to) * to));
    }), propertyParams(300));
    for (let b = 0; b <= 32; b++) {
      expect(m.exports.from(b) >>> 0, `bitsFrom(${b})`).toBe(b >= 32 ? 0 : (0xffffffff << b) >>> 0);
      expect(m.exports.below(b) >>> 0, `bitsBelow(${b})`).toBe(b >= 32 ? 0xffffffff : (2 ** b - 1) >>> 0);
      if (b < 32) expect(m.exports.upTo(b) >>> 0, `bitsUpTo(${b})`).toBe((2 ** (b + 1) - 1) >>> 0);
      if (b < 32) expect(m.exports.highest((2 ** b) >>> 0), `highestBit(2^${b})`).toBe(b);
    }
    expect(m.exports.highest(0xffffffff)).toBe(31);
    expect([0, 1, 32, 33, 1024].map((n) => m.exports.words(n))).toEqual([0, 1, 1, 2, 32]);
  });

  it("tells multiples of a divisor apart without dividing (lib/bits.ts isMultiple), as % does", () => {
    const divisor = fc.oneof(fc.integer({ min: 1, max: 40000 }), fc.integer({ min: 1, max: 0xffffffff }));
    fc.assert(fc.property(divisor, fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 2000 }), (d, x, n) => {
      expect(Boolean(m.exports.multipleOf(x, d)), `${x} % ${d}`).toBe(x % d === 0);
      const k = n * d;   // a multiple, and its neighbours
      if (k <= 0xffffffff) {
        expect(Boolean(m.exports.multipleOf(k, d)), `${k} % ${d}`).toBe(true);
        if (k + 1 <= 0xffffffff) expect(Boolean(m.exports.multipleOf(k + 1, d)), `${k + 1} % ${d}`).toBe(d === 1);
      }
    }), propertyParams(2000));
    for (const d of [1, 2, 3, 16, 24, 48, 96, 192, 4096, 0xffffffff]) {
      for (let x = 0; x < 5000; x++) expect(Boolean(m.exports.multipleOf(x, d)), `${x} % ${d}`).toBe(x % d === 0);
    }
  });
});
