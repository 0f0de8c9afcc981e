// Host tests of the lock checker's graph (kernel/lib/lock-graph.ts) against a model: a map of
// class names and a set of edges, with reachability by a plain depth-first search.
import { describe, it, expect, beforeEach } from "vitest";
import fc from "fast-check";
import { loadHostModule, HostModule, propertyParams } from "../support/wasm";

const CLASSES = 64, NO_CLASS = 0xffffffff;
let m: HostModule;
beforeEach(() => { m = loadHostModule("lock-graph"); m.exports.init(); });

function modelReaches(edges: Set<number>[], from: number, to: number): boolean {
  const seen = new Set<number>(), stack = [...edges[from]];
  while (stack.length > 0) {
    const c = stack.pop()!;
    if (c === to) return true;
    if (seen.has(c)) continue;
    seen.add(c);
    stack.push(...edges[c]);
  }
  return false;
}

describe("lock graph", () => {
  it("gives a class per name, the same one again for the same name, and none past the table", () => {
    for (let i = 0; i < CLASSES; i++) expect(m.exports.classOf(1000 + i * 4)).toBe(i);
    expect(m.exports.classOf(1000 + 7 * 4)).toBe(7);
    expect(m.exports.classOf(5000) >>> 0).toBe(NO_CLASS);
  });

  it("finds a cycle exactly when the new edge's target already reaches its source (random graphs)", () => {
    const op = fc.record({ from: fc.nat({ max: 11 }), to: fc.nat({ max: 11 }), site: fc.integer({ min: 1, max: 1 << 30 }) });
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      m.exports.init();
      for (let i = 0; i < 12; i++) m.exports.classOf(100 + i * 4);
      const edges = Array.from({ length: 12 }, () => new Set<number>());
      const sites = new Map<string, number>();
      for (const { from, to, site } of ops) {
        // what the checker asks before taking `to` while holding `from`
        expect(Boolean(m.exports.reaches(to, from)), `reaches ${to} -> ${from}`).toBe(modelReaches(edges, to, from));
        const fresh = !edges[from].has(to);
        expect(Boolean(m.exports.addEdge(from, to, site))).toBe(fresh);
        edges[from].add(to);
        if (fresh) sites.set(`${from},${to}`, site);
      }
      for (let a = 0; a < 12; a++) {
        for (let b = 0; b < 12; b++) {
          expect(Boolean(m.exports.hasEdge(a, b))).toBe(edges[a].has(b));
          expect(m.exports.site(a, b) >>> 0).toBe(sites.get(`${a},${b}`) ?? 0);
          expect(Boolean(m.exports.reaches(a, b))).toBe(modelReaches(edges, a, b));
          const hop = m.exports.nextHop(a, b) >>> 0;
          if (!modelReaches(edges, a, b)) expect(hop).toBe(NO_CLASS);
          else expect(edges[a].has(hop) && (hop === b || modelReaches(edges, hop, b)), `hop ${a} -> ${hop} -> ${b}`).toBe(true);
        }
      }
    }), propertyParams(200));
  });

  it("reaches along a long chain, and not backwards", () => {
    for (let i = 0; i < CLASSES; i++) m.exports.classOf(100 + i * 4);
    for (let i = 0; i + 1 < CLASSES; i++) m.exports.addEdge(i, i + 1, i + 1);
    expect(Boolean(m.exports.reaches(0, CLASSES - 1))).toBe(true);
    expect(Boolean(m.exports.reaches(CLASSES - 1, 0))).toBe(false);
    expect(m.exports.nextHop(0, CLASSES - 1)).toBe(1);
  });
});
