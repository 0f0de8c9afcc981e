// Host tests of the user frames' reference counts (kernel/mm/core/frame-refs.ts) against a
// model: a map from frame to the number of entries that hold it, under random map, share and
// unmap steps; a frame is "given back" exactly when its last entry goes.
import { describe, it, expect, beforeEach } from "vitest";
import fc from "fast-check";
import { loadHostModule, HostModule, propertyParams } from "../../support/wasm";

const FRAMES = 64, MAX = 0xffff;
let m: HostModule;
beforeEach(() => { m = loadHostModule("frame-refs"); m.exports.init(); });

describe("frame reference counts", () => {
  it("match a model under random first maps, shares and drops; a frame frees exactly at its last drop", () => {
    const op = fc.record({ kind: fc.constantFrom("first", "share", "share", "drop", "drop"), frame: fc.nat({ max: FRAMES - 1 }) });
    fc.assert(fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      m.exports.init();
      const model = new Array(FRAMES).fill(0);
      for (const o of ops) {
        if (o.kind === "first") {
          if (model[o.frame] !== 0) continue;          // (only a free frame is mapped the first time)
          m.exports.first(o.frame); model[o.frame] = 1;
        } else if (o.kind === "share") {
          if (model[o.frame] === 0) continue;          // (only a mapped frame is shared)
          expect(Boolean(m.exports.share(o.frame))).toBe(true); model[o.frame]++;
        } else {
          if (model[o.frame] === 0) { expect(m.exports.drop(o.frame), "a drop of a free frame is reported").toBe(MAX + 1); continue; }
          const left = m.exports.drop(o.frame); model[o.frame]--;
          expect(left, "the count left; 0 = give the frame back").toBe(model[o.frame]);
        }
        for (let f = 0; f < FRAMES; f++) expect(m.exports.count(f)).toBe(model[f]);
      }
    }), propertyParams(200));
  });

  it("refuses to share past the largest count, changing nothing", () => {
    m.exports.setCount(3, MAX - 1);
    expect(Boolean(m.exports.share(3))).toBe(true);
    expect(m.exports.count(3)).toBe(MAX);
    expect(Boolean(m.exports.share(3))).toBe(false);
    expect(m.exports.count(3)).toBe(MAX);
    expect(m.exports.saturated()).toBe(1);
    expect(m.exports.drop(3)).toBe(MAX - 1);
  });

  it("covers exactly its frames", () => {
    expect(Boolean(m.exports.covers((FRAMES - 1) * 4096))).toBe(true);
    expect(Boolean(m.exports.covers(FRAMES * 4096))).toBe(false);
  });
});
