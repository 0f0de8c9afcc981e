// Host tests of kernel/mm/virt/paging.ts against a model (a map from page to frame and flags), with
// the arch layer mocked to record every invlpg.
import { describe, it, expect, beforeEach } from "vitest";
import fc from "fast-check";
import { loadHostModule, HostModule, propertyParams } from "../../support/wasm";

const P = 1, W = 2, U = 4, WT = 8, CD = 16, G = 256;
const NOT_MAPPED = (1n << 64n) - 1n;
let m: HostModule;
let flushed: number[];
beforeEach(() => {
  flushed = [];
  m = loadHostModule("paging", {
    invlpg: (virt) => { flushed.push(virt >>> 0); },
  });
});

// A small virtual window: directory entries 768..771 (0xC0000000..0xC0FFFFFF); 770 is a large page.
const BASE = 0xc0000000;
const LARGE_INDEX = 770;
const pageArb = fc.integer({ min: 0, max: 4 * 1024 - 1 }).map((i) => (BASE + i * 4096) >>> 0);
const flagsArb = fc.constantFrom(0, W, W | G, U, W | U, WT | CD, W | CD);
// unmap, protect and translate mostly aim at a page that is mapped (`mapped`: the pick-th of
// them), so that the flushes they owe are exercised, not only their refusals
type Aim = { virt: number; mapped: boolean; pick: number };
type Op = { kind: "map"; virt: number; frame: number; flags: number } | ({ kind: "unmap" | "translate" } & Aim) | ({ kind: "protect"; flags: number } & Aim);
const mappedArb = fc.integer({ min: 0, max: 3 }).map((n) => n > 0);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("map" as const), virt: pageArb, frame: fc.integer({ min: 1, max: 0xfffff }), flags: flagsArb }),
  fc.record({ kind: fc.constant("unmap" as const), virt: pageArb, mapped: mappedArb, pick: fc.nat() }),
  fc.record({ kind: fc.constant("translate" as const), virt: pageArb, mapped: mappedArb, pick: fc.nat() }),
  fc.record({ kind: fc.constant("protect" as const), virt: pageArb, flags: flagsArb, mapped: mappedArb, pick: fc.nat() }),
);
const inLarge = (virt: number) => virt >>> 22 === LARGE_INDEX;

describe("page tables against a model", () => {
  it("map/unmap/protect/translate agree with a plain map of pages, and flush exactly what changed", () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 300 }), fc.integer({ min: 2, max: 8 }), (ops, tableLimit) => {
      m.exports.reset(tableLimit);
      m.exports.setLargePage(LARGE_INDEX, 0x800000);
      flushed.length = 0;
      const model = new Map<number, { phys: number; flags: number }>();
      const tablesPresent = new Set<number>();
      for (const drawn of ops) {
        const op = drawn.kind !== "map" && drawn.mapped && model.size ? { ...drawn, virt: [...model.keys()][drawn.pick % model.size] } : drawn;
        const dir = op.virt >>> 22;
        if (op.kind === "map") {
          const phys = op.frame * 4096;
          const got = m.exports.doMap(op.virt, phys, op.flags);
          let expected = 0;
          if (inLarge(op.virt)) expected = 4;
          else if (!tablesPresent.has(dir) && tablesPresent.size >= tableLimit - 2) expected = 5;
          else if (model.has(op.virt)) expected = 2;
          expect(got).toBe(expected);
          if (expected === 0) { model.set(op.virt, { phys, flags: op.flags }); tablesPresent.add(dir); }
          if (expected === 2) tablesPresent.add(dir);
          const now = model.get(op.virt);
          if (now) expect(m.exports.entry(op.virt) >>> 0).toBe((now.phys | now.flags | P) >>> 0);   // a refused map left it as it was
        } else if (op.kind === "unmap") {
          const before = flushed.length;
          const got = m.exports.doUnmap(op.virt) >>> 0;
          const had = model.get(op.virt);
          expect(got).toBe(had ? had.phys : 0);
          expect(flushed.length - before).toBe(had ? 1 : 0);
          if (had) { expect(flushed.at(-1)).toBe(op.virt); model.delete(op.virt); }
        } else if (op.kind === "protect") {
          const before = flushed.length;
          const got = m.exports.doProtect(op.virt, op.flags);
          const had = model.get(op.virt);
          expect(got).toBe(inLarge(op.virt) ? 4 : had ? 0 : 3);
          expect(flushed.length - before).toBe(had ? 1 : 0);
          if (had) had.flags = op.flags;
        } else {
          const got = BigInt.asUintN(64, BigInt(m.exports.doTranslate(op.virt + 123)));
          const had = model.get(op.virt);
          if (inLarge(op.virt)) expect(got).toBe(BigInt(0x800000 + ((op.virt + 123) & 0x3fffff)));
          else expect(got).toBe(had ? BigInt(had.phys + 123) : NOT_MAPPED);
        }
      }
      expect(m.exports.tables()).toBe(tablesPresent.size);
    }), propertyParams(200));
  });

  it("refuses bad input and changes nothing", () => {
    m.exports.reset(8);
    expect(m.exports.doMap(BASE + 12, 0x5000, W)).toBe(1);
    expect(m.exports.doMap(BASE, 0x5001, W)).toBe(1);
    expect(m.exports.doMap(BASE, 0, W)).toBe(6);          // frame 0 is the null frame
    expect(m.exports.doMap(BASE, 0x5000, PDE_ACCESSED_DIRTY())).toBe(6);
    expect(m.exports.tables()).toBe(0);
    expect(m.exports.doUnmap(BASE)).toBe(0);
    expect(m.exports.doProtect(BASE, W)).toBe(3);
    expect(m.exports.doMap(BASE, 0x5000, W)).toBe(0);
    expect(m.exports.doMap(BASE, 0x6000, W)).toBe(2);      // no silent remap
    expect(BigInt(m.exports.doTranslate(BASE))).toBe(0x5000n);
  });

  it("unmapLargePage removes a 4 MiB page, flushes it, and refuses anything else", () => {
    m.exports.reset(8);
    m.exports.setLargePage(LARGE_INDEX, 0x800000);
    expect(m.exports.doMap(BASE, 0x5000, W)).toBe(0);
    flushed.length = 0;
    expect(m.exports.doUnmapLargePage(BASE)).toBe(0);                          // a page table, not a large page
    expect(m.exports.doUnmapLargePage(((LARGE_INDEX + 1) << 22) >>> 0)).toBe(0); // nothing there
    expect(flushed).toEqual([]);
    expect(m.exports.doUnmapLargePage(((LARGE_INDEX << 22) + 0x1234) >>> 0)).toBe(1);
    expect(flushed).toEqual([(LARGE_INDEX << 22) >>> 0]);
    expect(BigInt.asUintN(64, BigInt(m.exports.doTranslate((LARGE_INDEX << 22) >>> 0)))).toBe(NOT_MAPPED);
    expect(BigInt(m.exports.doTranslate(BASE))).toBe(0x5000n);                  // the rest is untouched
  });

  it("creates zeroed tables: a fresh table maps nothing but the page asked for", () => {
    m.exports.reset(8);
    expect(m.exports.doMap(BASE + 5 * 4096, 0x7000, W)).toBe(0);
    for (let i = 0; i < 1024; i++) if (i !== 5) expect(BigInt.asUintN(64, BigInt(m.exports.doTranslate(BASE + i * 4096)))).toBe(NOT_MAPPED);
  });
});

describe("parked entries (promised frames)", () => {
  const PARKED = 1 << 9;
  it("park, map, take: a parked entry is not present, map refuses it, takeEntry hands it back", () => {
    m.exports.reset(8);
    expect(m.exports.doEnsureTable(BASE)).toBe(0);
    expect(m.exports.tables()).toBe(1);
    expect(m.exports.doEnsureTable(BASE + 4096)).toBe(0);   // the same table: nothing new
    expect(m.exports.tables()).toBe(1);
    expect(m.exports.doEnsureTable(LARGE_INDEX << 22)).toBe(0);
    m.exports.setLargePage(LARGE_INDEX + 1, 0xc00000);
    expect(m.exports.doEnsureTable(((LARGE_INDEX + 1) << 22) >>> 0)).toBe(4);
    expect(m.exports.doPark(BASE, 0x9000)).toBe(0);
    expect(m.exports.entry(BASE) >>> 0).toBe(0x9000 | PARKED);
    expect(BigInt.asUintN(64, BigInt(m.exports.doTranslate(BASE)))).toBe(NOT_MAPPED);
    expect(m.exports.doMap(BASE, 0xa000, W)).toBe(7);          // refused: it holds a parked frame
    expect(m.exports.doPark(BASE, 0xa000)).toBe(7);
    expect(m.exports.doUnmap(BASE)).toBe(0);                    // not mapped
    flushed.length = 0;
    expect(m.exports.doTakeEntry(BASE) >>> 0).toBe(0x9000 | PARKED);
    expect(flushed).toEqual([]);                                // nothing was cached: no flush
    expect(m.exports.entry(BASE)).toBe(0);
    expect(m.exports.doMap(BASE, 0x9000, W)).toBe(0);
    expect(m.exports.doPark(BASE, 0xa000)).toBe(2);             // mapped: refused
    expect(m.exports.doTakeEntry(BASE) >>> 0).toBe(0x9000 | W | P);
    expect(flushed).toEqual([BASE]);                            // a present entry is flushed
    expect(m.exports.doTakeEntry(BASE)).toBe(0);                // empty: 0, no flush
    expect(m.exports.doTakeEntry(BASE + (8 << 22))).toBe(0);    // no table: 0
    expect(flushed).toEqual([BASE]);
    expect(m.exports.doPark(BASE + 4096, 0)).toBe(6);           // frame 0
    expect(m.exports.doPark(BASE + 4097, 0x9000)).toBe(1);      // unaligned
  });
});

function PDE_ACCESSED_DIRTY(): number { return 32 | 64; }
