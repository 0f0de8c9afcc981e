// Host tests of the summary tree (kernel/mm/core/summary.ts), the multi-level bitmap the PMM
// and the range allocator share: random sets and clears against a model (a set of words), with
// every search compared after each step, and the checker shown to catch a broken upper level.
import { describe, it, expect, beforeAll } from "vitest";
import fc from "fast-check";
import { loadHostModule, HostModule, propertyParams } from "../../support/wasm";

const NONE = 0xffffffff;
let m: HostModule;
beforeAll(() => { m = loadHostModule("summary"); });

/** What the searches should return for a model `set` of words. */
function modelFrom(set: Set<number>, from: number, words: number): number {
  for (let w = from; w < words; w++) if (set.has(w)) return w;
  return NONE;
}
function modelAtOrBefore(set: Set<number>, from: number): number {
  for (let w = from; w >= 0; w--) if (set.has(w)) return w;
  return NONE;
}

describe("summary tree", () => {
  it("random sets and clears: every search agrees with the model, and the levels stay consistent", () => {
    // Sizes that end inside an l1 word, on an l2 boundary, and the full 32768 words; words drawn
    // from a few clusters so that whole l1 and l2 words empty and fill again (stale top bits).
    const sizes = fc.constantFrom(1, 31, 33, 1000, 1024, 1025, 5000, 32768);
    fc.assert(fc.property(sizes, fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.nat(), fc.nat()), { minLength: 1, maxLength: 300 }), (words, ops) => {
      m.exports.init(words);
      const set = new Set<number>();
      const clusters = [0, words >> 1, words - 1, Math.min(words - 1, 1023), Math.min(words - 1, 1024)];
      for (const [on, c, offset, probe] of ops) {
        const word = Math.min(words - 1, clusters[c % clusters.length] + (offset % 70));
        if (on) { m.exports.set(word); set.add(word); } else if (set.has(word)) { m.exports.clear(word); set.delete(word); }
        const at = probe % words;
        expect(m.exports.test(at), `test(${at})`).toBe(set.has(at) ? 1 : 0);
        expect(m.exports.findFrom(at) >>> 0, `findFrom(${at})`).toBe(modelFrom(set, at, words));
        expect(m.exports.findAtOrBefore(at) >>> 0, `findAtOrBefore(${at})`).toBe(modelAtOrBefore(set, at));
        expect(m.exports.first() >>> 0, "first()").toBe(modelFrom(set, 0, words));
        expect(m.exports.upperHolds(), "upperHolds()").toBe(1);
      }
      expect(m.exports.findFrom(words) >>> 0, "findFrom past the end").toBe(NONE);
    }), propertyParams(200));
  });

  it("the checker catches a wrong l2 bit and a missing top bit, and allows a stale top bit", () => {
    m.exports.init(32768);
    m.exports.set(5000);                      // l1 word 156, l2 word 4 bit 28, top bit 4
    expect(m.exports.upperHolds()).toBe(1);
    m.exports.corrupt(4, 28);                 // l2 loses the bit
    expect(m.exports.upperHolds()).toBe(0);
    m.exports.corrupt(4, 28);
    m.exports.corrupt(4, 3);                  // l2 gains one over an empty l1 word
    expect(m.exports.upperHolds()).toBe(0);
    m.exports.corrupt(4, 3);
    m.exports.corrupt(-1, 4);                 // top loses the bit over a non-empty l2 word
    expect(m.exports.upperHolds()).toBe(0);
    m.exports.corrupt(-1, 4);
    m.exports.clear(5000);                    // top bit 4 is now stale: allowed
    expect(m.exports.upperHolds()).toBe(1);
    expect(m.exports.findAtOrBefore(32767) >>> 0).toBe(NONE);   // and a search clears it
    expect(m.exports.findFrom(0) >>> 0).toBe(NONE);
  });
});
