// Host tests of the transient arena's bump allocator (kernel/mm/core/bump.ts) against a model: a
// stack of scopes, each with the allocations made in it. Allocations are aligned, inside the
// arena, in order and non-overlapping, keep their contents until their scope is released; a
// release frees exactly what came after its mark; a full arena and a bad mark change nothing.
import { describe, it, expect, beforeEach } from "vitest";
import fc from "fast-check";
import { loadHostModule, HostModule, propertyParams } from "../../support/wasm";

let m: HostModule;
beforeEach(() => { m = loadHostModule("bump"); });

type Op = { kind: "alloc"; size: number; alignLog: number } | { kind: "enter" } | { kind: "leave" } | { kind: "badRelease"; above: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("alloc" as const), size: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 20000 })), alignLog: fc.integer({ min: 0, max: 12 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("enter" as const)}) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("leave" as const)}) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("badRelease" as const), above: fc.integer({ min: 1, max: 5000 }) }) },
);

describe("the bump allocator against a model", () => {
  it("random allocations in nested scopes", () => {
    fc.assert(fc.property(fc.integer({ min: 256, max: 65536 }), fc.array(opArb, { maxLength: 200 }), (bytes, ops) => {
      m.exports.init(bytes);
      const base = m.exports.base() >>> 0, limit = m.exports.limit() >>> 0;
      type A = { at: number; size: number; fill: number };
      const scopes: Array<{ mark: number; allocs: A[] }> = [{ mark: base, allocs: [] }];
      let top = base, fill = 1;
      for (const op of ops) {
        if (op.kind === "alloc") {
          const align = 1 << op.alignLog;
          const start = Math.ceil(top / align) * align;
          const got = m.exports.alloc(op.size, align) >>> 0;
          if (start + op.size > limit) {
            const errors = m.exports.errors();
            expect(got).toBe(0);
            expect(m.exports.top() >>> 0).toBe(top);
            expect(errors).toBeGreaterThan(0);
            continue;
          }
          expect(got).toBe(start);
          top = start + op.size;
          fill = (fill % 250) + 1;
          m.exports.fill(got, fill, op.size);
          scopes[scopes.length - 1].allocs.push({ at: got, size: op.size, fill });
        } else if (op.kind === "enter") {
          expect(m.exports.mark() >>> 0).toBe(top);
          scopes.push({ mark: top, allocs: [] });
        } else if (op.kind === "leave") {
          if (scopes.length === 1) continue;
          const scope = scopes.pop()!;
          m.exports.release(scope.mark);
          top = scope.mark;
        } else {
          const errors = m.exports.errors();
          m.exports.release(top + op.above);
          expect(m.exports.errors()).toBe(errors + 1);
        }
        expect(m.exports.top() >>> 0).toBe(top);
        for (const s of scopes) for (const a of s.allocs) expect(m.exports.holds(a.at, a.fill, a.size)).toBe(1);
      }
      m.exports.release(base);
      expect(m.exports.top() >>> 0).toBe(base);
    }), propertyParams(200));
  });

  it("refuses a mark outside the arena, and allocations that do not fit", () => {
    m.exports.init(1024);
    const base = m.exports.base() >>> 0;
    expect(m.exports.alloc(1000, 1) >>> 0).toBe(base);
    expect(m.exports.alloc(100, 1)).toBe(0);
    m.exports.release(base - 16);
    expect(m.exports.errors()).toBe(2);
    expect(m.exports.top() >>> 0).toBe(base + 1000);
    m.exports.release(base);
    expect(m.exports.peak() >>> 0).toBe(base + 1000);
  });
});
