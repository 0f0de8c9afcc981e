// Host tests of the object caches (kernel/mm/core/slab/cache.ts over kernel/mm/core/slab/regions.ts) against a
// reference model: a map of live objects with their cache and fill byte. After every step the
// caches' and the regions' checkers must pass; live objects must not overlap, must keep their
// contents, honour their cache's alignment and lie in memory the provider handed out. Steps run
// on four CPUs' parts (one after another, as the kernel's CPUs would between their locks), so an
// object is often freed on another CPU than the one that allocated it.
import { describe, it, expect, beforeEach } from "vitest";
import fc from "fast-check";
import { loadHostModule, HostModule, propertyParams, allocErrors } from "../../support/wasm";

const REGION = 128 * 1024;
// the refusal reasons, the kernel's own numbers (kernel/mm/core/alloc-error.ts)
let OK: number, FOREIGN: number, WRONG_CACHE: number, NOT_OBJECT: number, DOUBLE_FREE: number;
let m: HostModule;
beforeEach(() => { m = loadHostModule("slab"); ({ OK, FOREIGN, WRONG_CACHE, INTERIOR: NOT_OBJECT, DOUBLE_FREE } = allocErrors(m)); });

type Spec = { size: number; align: number; ctor: boolean; debug: boolean };
type Live = { cache: number; fill: number; from: number; bytes: number };
const CPUS = 4;
type Op =
  | { kind: "alloc"; cache: number; count: number; cpu: number }
  | { kind: "free"; pick: number; cpu: number }
  | { kind: "drain"; cache: number; cpu: number }
  | { kind: "bad"; pick: number; how: number }
  | { kind: "shrink"; cache: number }
  | { kind: "lend" }
  | { kind: "destroy"; cache: number };

const specArb: fc.Arbitrary<Spec> = fc.record({
  size: fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 1, max: 256 }) },
    { weight: 2, arbitrary: fc.integer({ min: 257, max: 4096 }) },
    { weight: 1, arbitrary: fc.integer({ min: 4097, max: 32768 }) },
  ),
  align: fc.constantFrom(0, 4, 8, 16, 64, 256, 4096),
  ctor: fc.boolean(),
  debug: fc.boolean(),
}).map((spec) => (spec.ctor && spec.size < 4 ? { ...spec, size: 4 } : spec));   // the test constructor writes 4 bytes
const CACHES = 4;
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("alloc" as const), cache: fc.nat({ max: CACHES - 1 }), count: fc.integer({ min: 1, max: 40 }), cpu: fc.nat({ max: CPUS - 1 }) }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat(), cpu: fc.nat({ max: CPUS - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("drain" as const), cache: fc.nat({ max: CACHES - 1 }), cpu: fc.nat({ max: CPUS - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("bad" as const), pick: fc.nat(), how: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("shrink" as const), cache: fc.nat({ max: CACHES - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("destroy" as const), cache: fc.nat({ max: CACHES - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("lend" as const) }) },
);

/** The size a cache's objects take (the model's copy of cacheCreate's rule and slab/debug.ts's layout). */
function roundedSize(spec: Spec): number {
  const align = spec.align === 0 ? 8 : spec.align;
  const own = Math.max(spec.size, 4);
  if (spec.debug) {   // red zone before, the object rounded to 4, red zone after, link and state
    const link = Math.max(8, align) + ((own + 3) & ~3) + 8;
    return Math.ceil((link + 8) / align) * align;
  }
  const link = spec.ctor ? (own + 3) & ~3 : 0;
  return Math.ceil((link + (spec.ctor ? 4 : own)) / align) * align;
}

function verify(specs: Spec[], alive: boolean[], live: Map<number, Live>): void {
  expect(m.exports.checkAll()).toBe(0);
  expect(m.openSections(), "every section closed").toBe(0);
  const ranges = [...live].map(([p, o]) => [p, p + specs[o.cache].size] as const).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) expect(ranges[i][0]).toBeGreaterThanOrEqual(ranges[i - 1][1]);
  for (const [p, o] of live) {
    expect(m.exports.holds(p + o.from, o.fill, o.bytes), `object ${p} kept its contents`).toBe(1);
    if (specs[o.cache].ctor) expect(m.exports.isConstructed(p), `object ${p} kept its constructed word`).toBe(1);
  }
  for (let c = 0; c < CACHES; c++) {
    if (alive[c]) expect(m.exports.active(c)).toBe([...live.values()].filter((o) => o.cache === c).length);
  }
  expect(m.exports.heldBytes()).toBe(m.exports.providerPagesOut() * 4096);
}

function run(specs: Spec[], ops: Op[], severalCpus: boolean): void {
  m.exports.reset(4096);
  if (severalCpus) m.exports.shareAmongCpus();
  const alive: boolean[] = [];
  specs.forEach((spec, c) => {
    // refused only when the object and its link (given a constructor) pass 32 KiB
    const fits = roundedSize(spec) <= 32768;
    expect(m.exports.create(c, spec.size, spec.align, spec.ctor ? 1 : 0, spec.debug ? 1 : 0)).toBe(fits ? 1 : 0);
    if (fits) expect(m.exports.objectSize(c)).toBe(roundedSize(spec));
    alive.push(fits);
  });
  const live = new Map<number, Live>();
  // the object freed by the step just before (a double free is caught while it is its slab's
  // newest free object, or, once its slab has gone, as not in a slab)
  let justFreed: { cache: number; p: number; cpu: number } | null = null;
  let fill = 1;
  const pool0 = m.exports.poolStart() >>> 0, pool1 = pool0 + m.exports.poolBytes();
  for (const op of ops) {
    const previousFree = justFreed;
    justFreed = null;
    if (op.kind === "alloc") {
      if (!alive[op.cache]) continue;
      const spec = specs[op.cache], align = spec.align === 0 ? 8 : spec.align;
      const constructedBefore = m.exports.constructed();
      for (let i = 0; i < op.count; i++) {
        const p = m.exports.allocOn(op.cache, op.cpu) >>> 0;
        expect(p, `alloc from cache ${op.cache}`).not.toBe(0);
        expect(p % align).toBe(0);
        expect(p >= pool0 && p + spec.size <= pool1).toBe(true);
        expect(p % REGION, "never in a region's header page").toBeGreaterThanOrEqual(4096);
        // with a constructor, an object comes back constructed (the caller kept it so)
        if (spec.ctor) expect(m.exports.isConstructed(p), "constructed").toBe(1);
        fill = (fill % 250) + 1;
        // a constructed object's first word stays as the constructor left it
        const from = spec.ctor ? Math.min(4, spec.size) : 0, bytes = spec.size - from;
        m.exports.fill(p + from, fill, bytes);
        live.set(p, { cache: op.cache, fill, from, bytes });
      }
      if (!spec.ctor) expect(m.exports.constructed()).toBe(constructedBefore);
    } else if (op.kind === "free") {
      if (live.size === 0) continue;
      const p = [...live.keys()][op.pick % live.size];
      const o = live.get(p)!;
      expect(m.exports.freeOn(o.cache, p, op.cpu)).toBe(OK);
      live.delete(p);
      justFreed = { cache: o.cache, p, cpu: op.cpu };
    } else if (op.kind === "bad") {
      const errors = m.exports.errors();
      const before = [0, 1, 2, 3].map((c) => (alive[c] ? m.exports.active(c) : 0));
      const keys = [...live.keys()];
      const c = op.how === 4 && previousFree ? previousFree.cache : op.pick % CACHES;
      if (!alive[c]) continue;
      let ptr = 0, expected = -1;
      if (op.how === 0) { ptr = pool0 + 8; expected = FOREIGN; }                       // a region's header page, or no region at all
      else if (op.how === 1) { ptr = 0x100; expected = FOREIGN; }                      // far outside
      else if (op.how === 2 && keys.length) {                                          // inside an object
        const p = keys[op.pick % keys.length], o = live.get(p)!;
        if (roundedSize(specs[o.cache]) < 8) continue;
        ptr = p + 4; expected = o.cache === c ? NOT_OBJECT : WRONG_CACHE;
      } else if (op.how === 3 && keys.length) {                                        // another cache's object
        const p = keys[op.pick % keys.length], o = live.get(p)!;
        if (o.cache === c) continue;
        ptr = p; expected = WRONG_CACHE;
      } else if (op.how === 4 && previousFree && previousFree.cache === c) {           // free it again at once
        ptr = previousFree.p; expected = m.exports.inSlab(ptr) ? DOUBLE_FREE : FOREIGN;
      } else continue;
      const got = m.exports.freeOn(c, ptr, previousFree ? previousFree.cpu : 0);   // (a double free on the CPU that freed it)
      expect(got, `bad free ${op.how} of ${ptr}`).toBe(expected);
      expect(m.exports.errors()).toBe(errors + 1);
      expect([0, 1, 2, 3].map((k) => (alive[k] ? m.exports.active(k) : 0))).toEqual(before);
    } else if (op.kind === "shrink") {
      if (!alive[op.cache]) continue;
      m.exports.shrink(op.cache);
      expect(m.exports.emptySlabs(op.cache)).toBe(0);
    } else if (op.kind === "drain") {
      if (!alive[op.cache]) continue;
      m.exports.drain(op.cache, op.cpu);
      expect(m.exports.cpuHeld(op.cache, op.cpu)).toBe(0);
      expect(m.exports.checkOn(op.cache, op.cpu)).toBe(0);
    } else if (op.kind === "lend") {
      const out = m.exports.providerPagesOut(), free = m.exports.freeRegionPages();
      expect(m.exports.lend()).toBe(free);
      expect(m.exports.providerPagesOut()).toBe(out - free);   // every free page went back
      expect(m.exports.freeRegionPages()).toBe(0);
    } else if (op.kind === "destroy") {
      if (!alive[op.cache]) continue;
      const mine = [...live.values()].filter((o) => o.cache === op.cache).length;
      expect(m.exports.destroy(op.cache)).toBe(mine === 0 ? 1 : 0);
      if (mine === 0) alive[op.cache] = false;
    }
    verify(specs, alive, live);
  }
  // Free everything, destroy every cache: every page goes back.
  for (const [p, o] of live) expect(m.exports.free(o.cache, p)).toBe(OK);
  for (let c = 0; c < CACHES; c++) if (alive[c]) expect(m.exports.destroy(c)).toBe(1);
  expect(m.exports.checkRegions()).toBe(0);
  expect(m.exports.regionCount()).toBe(0);
  expect(m.exports.providerPagesOut()).toBe(0);
}

describe("object caches against a model", () => {
  it("random alloc/free/bad-free/shrink/destroy sequences over four caches keep every invariant, with frees straight to their slabs or through stashes", () => {
    fc.assert(fc.property(fc.array(specArb, { minLength: CACHES, maxLength: CACHES }), fc.array(opArb, { maxLength: 120 }), fc.boolean(), (specs, ops, severalCpus) => {
      run(specs, ops, severalCpus);
    }), propertyParams(150));
  });

  it("refuses impossible caches with a reason, and creates nothing", () => {
    m.exports.reset(4096);
    expect(m.exports.create(0, 0, 0, 0, 0)).toBe(0);
    expect(m.exports.create(0, 32769, 0, 0, 0)).toBe(0);
    expect(m.exports.create(0, 32768, 0, 1, 0)).toBe(0);        // no room for the link after it
    expect(m.exports.create(0, 64, 24, 0, 0)).toBe(0);           // not a power of two
    expect(m.exports.create(0, 64, 8192, 0, 0)).toBe(0);
    expect(m.exports.errors()).toBe(5);
    expect(m.exports.create(0, 32768, 0, 0, 0)).toBe(1);
    expect(m.exports.slabPages(0)).toBe(8);
    expect(m.exports.capacity(0)).toBe(1);
  });

  it("picks slab sizes that waste at most an eighth, and fills slabs densely", () => {
    m.exports.reset(4096);
    for (const [size, pages, count] of [[64, 1, 64], [96, 1, 42], [2048, 1, 2], [3000, 3, 4], [5000, 4, 3]] as const) {
      expect(m.exports.create(0, size, 0, 0, 0)).toBe(1);
      expect([m.exports.slabPages(0), m.exports.capacity(0)]).toEqual([pages, count]);
      expect(m.exports.destroy(0)).toBe(1);
    }
  });

  it("lends scattered free pages to the provider, and claims them back when no new region can be had", () => {
    m.exports.reset(4096);
    expect(m.exports.create(0, 256, 0, 0, 0)).toBe(1);
    const perPage = 16, objects: number[] = [];
    for (let i = 0; i < 4 * 31 * perPage; i++) objects.push(m.exports.alloc(0) >>> 0);
    expect(m.exports.regionCount()).toBe(4);
    // keep one object in every other page: half the pages empty, no region empty
    const kept = objects.filter((p, i) => Math.floor(i / perPage) % 2 === 0 && i % perPage === 0);
    for (const p of objects) if (!kept.includes(p)) expect(m.exports.free(0, p)).toBe(OK);
    m.exports.shrink(0);
    const out = m.exports.providerPagesOut(), free = m.exports.freeRegionPages();
    expect(free).toBeGreaterThanOrEqual(4 * 15);
    expect(m.exports.lend()).toBe(free);
    expect(m.exports.providerPagesOut()).toBe(out - free);
    expect(m.exports.lentPages()).toBe(free);
    expect(m.exports.checkRegions()).toBe(0);
    // no new region: allocations claim lent pages back
    m.exports.providerGets(0);
    const more: number[] = [];
    // (the kept objects' slabs fill first, then the lent pages, claimed back region by region)
    const room = kept.length * (perPage - 1) + free * perPage;
    for (let i = 0; i < room; i++) { const p = m.exports.alloc(0) >>> 0; expect(p).not.toBe(0); more.push(p); }
    expect(m.exports.recalledPages()).toBe(free);
    expect(m.exports.lentPages()).toBe(0);
    expect(m.exports.alloc(0) >>> 0).toBe(0);   // every page in use, none to claim, none new
    expect(m.exports.checkRegions()).toBe(0);
    m.exports.providerGets(1);
    for (const p of [...kept, ...more]) expect(m.exports.free(0, p)).toBe(OK);
    m.exports.lend();   // (a region whose pages are all free or lent goes back whole)
    expect(m.exports.destroy(0)).toBe(1);
    expect(m.exports.regionCount()).toBe(0);
    expect(m.exports.providerPagesOut()).toBe(0);
  });

  it("keeps at most maxEmpty empty slabs; shrink gives the rest back; destroy refuses while objects live", () => {
    m.exports.reset(4096);
    expect(m.exports.create(0, 1000, 0, 0, 0)).toBe(1);        // 4 a slab
    const objs: number[] = [];
    for (let i = 0; i < 40; i++) objs.push(m.exports.alloc(0) >>> 0);
    expect(m.exports.slabCount(0)).toBe(10);
    m.exports.setMaxEmpty(0, 3);
    for (const p of objs.splice(0, 24)) expect(m.exports.free(0, p)).toBe(OK);   // 6 slabs empty, each as its last object comes back
    expect(m.exports.stashed(0, 0)).toBe(0);
    expect(m.exports.emptySlabs(0)).toBe(3);
    m.exports.drain(0, 0);
    expect(m.exports.emptySlabs(0)).toBe(3);
    expect(m.exports.slabCount(0)).toBe(7);
    expect(m.exports.destroy(0)).toBe(0);                    // 16 objects still live
    expect(m.exports.slabCount(0)).toBe(7);
    expect(m.exports.shrink(0)).toBe(3);
    expect(m.exports.slabCount(0)).toBe(4);
    for (const p of objs) expect(m.exports.free(0, p)).toBe(OK);
    expect(m.exports.destroy(0)).toBe(1);
    expect(m.exports.providerPagesOut()).toBe(0);
    expect(m.exports.checkRegions()).toBe(0);
  });

  it("runs the constructor once per object when its slab is made, and keeps its state across free", () => {
    m.exports.reset(4096);
    expect(m.exports.create(0, 60, 0, 1, 0)).toBe(1);
    const per = m.exports.capacity(0);
    const a = m.exports.alloc(0) >>> 0;
    expect(m.exports.constructed()).toBe(per);
    expect(m.exports.isConstructed(a)).toBe(1);
    expect(m.exports.free(0, a)).toBe(OK);
    expect(m.exports.isConstructed(a)).toBe(1);              // the link is after the object
    expect(m.exports.alloc(0) >>> 0).toBe(a);
    expect(m.exports.constructed()).toBe(per);               // no new slab, no new constructor call
  });

  it("runs out of pages with 0, not a panic, and works again when pages come back", () => {
    m.exports.reset(64);                                     // two regions
    expect(m.exports.create(0, 4096, 0, 0, 0)).toBe(1);
    const objs: number[] = [];
    for (let p; (p = m.exports.alloc(0) >>> 0) !== 0;) objs.push(p);
    expect(objs.length).toBe(62);                            // 31 slab pages a region
    expect(m.exports.checkAll()).toBe(0);
    expect(m.exports.free(0, objs.pop()!)).toBe(OK);
    expect(m.exports.alloc(0) >>> 0).not.toBe(0);
  });
  it("refuses each kind of bad free with its reason, and changes nothing", () => {
    m.exports.reset(4096);
    expect(m.exports.create(0, 100, 0, 0, 0)).toBe(1);
    expect(m.exports.create(1, 100, 0, 0, 0)).toBe(1);
    const a = m.exports.alloc(0) >>> 0, b = m.exports.alloc(0) >>> 0, c = m.exports.alloc(1) >>> 0;
    expect(m.exports.free(0, a)).toBe(OK);
    expect(m.exports.free(0, a)).toBe(DOUBLE_FREE);
    expect(m.exports.free(0, b + 8)).toBe(NOT_OBJECT);
    expect(m.exports.free(0, c)).toBe(WRONG_CACHE);
    expect(m.exports.free(0, (b & ~(REGION - 1)) + 16)).toBe(FOREIGN);   // the region's header page
    expect(m.exports.free(0, 0x1000)).toBe(FOREIGN);
    expect(m.exports.errors()).toBe(5);
    expect([m.exports.active(0), m.exports.active(1)]).toEqual([1, 1]);
    expect(m.exports.checkAll()).toBe(0);
  });
  it("a free of the object just past the active slab goes to that object's own slab", () => {
    m.exports.reset(4096);
    expect(m.exports.create(0, 64, 0, 0, 0)).toBe(1);           // 64 objects a one-page slab
    const objs: number[] = [];
    for (let i = 0; i < 129; i++) objs.push(m.exports.alloc(0) >>> 0);   // slabs 1 and 2 full, 3 active
    expect(m.exports.free(0, objs[5])).toBe(OK);             // slab 1 partial
    for (let i = 0; i < 63; i++) objs.push(m.exports.alloc(0) >>> 0);    // slab 3 full
    const again = m.exports.alloc(0) >>> 0;                  // slab 1 active again
    expect(again).toBe(objs[5]);
    expect(objs[64]).toBe(objs[0] + 4096);                   // slab 2 starts where slab 1's objects end
    expect(m.exports.free(0, objs[64])).toBe(OK);
    expect(m.exports.checkAll()).toBe(0);
    expect(m.exports.active(0)).toBe(129 - 1 + 63 + 1 - 1);
  });
});

describe("object caches' per-CPU parts", () => {
  it("gives each CPU an active slab of its own", () => {
    m.exports.reset(4096);
    expect(m.exports.create(0, 64, 0, 0, 0)).toBe(1);          // 64 objects a slab
    const a = m.exports.allocOn(0, 0) >>> 0, b = m.exports.allocOn(0, 1) >>> 0;
    expect(Math.floor(a / 4096)).not.toBe(Math.floor(b / 4096));
    expect(m.exports.activeSlabs(0)).toBe(2);
    expect([m.exports.cpuHeld(0, 0), m.exports.cpuHeld(0, 1)]).toEqual([63, 63]);
    expect(m.exports.active(0)).toBe(2);
    expect(m.exports.checkAll()).toBe(0);
    // each CPU frees its own on the fast path: the object comes back first on that CPU
    expect(m.exports.freeOn(0, b, 1)).toBe(OK);
    expect(m.exports.stashed(0, 1)).toBe(0);
    expect(m.exports.allocOn(0, 1) >>> 0).toBe(b);
  });

  it("on one CPU, sends an object freed outside the active slab straight back to its slab", () => {
    m.exports.reset(4096);
    expect(m.exports.create(0, 64, 0, 0, 0)).toBe(1);          // 64 objects a one-page slab
    m.exports.setMaxEmpty(0, 0);
    const objs: number[] = [];
    for (let i = 0; i < 64 * 3; i++) objs.push(m.exports.allocOn(0, 0) >>> 0);   // slabs 1 and 2 full, 3 full and active
    const out = m.exports.providerPagesOut();
    for (let i = 0; i < 63; i++) expect(m.exports.freeOn(0, objs[i], 1)).toBe(OK);   // another part: not its active slab
    expect(m.exports.stashed(0, 1)).toBe(0);
    expect(m.exports.active(0)).toBe(64 * 3 - 63);
    expect(m.exports.checkAll()).toBe(0);
    expect(m.exports.freeOn(0, objs[63], 0)).toBe(OK);       // slab 1's last object: the slab goes at once
    expect(m.exports.slabCount(0)).toBe(2);
    expect(m.exports.freeRegionPages()).toBeGreaterThan(0);
    expect(m.exports.providerPagesOut()).toBe(out);          // (its page stays in its region)
    expect(m.exports.freeOn(0, objs[63], 0)).toBe(FOREIGN);  // no slab there now
    expect(m.exports.freeOn(0, objs[64], 0)).toBe(OK);
    expect(m.exports.freeOn(0, objs[64], 2)).toBe(DOUBLE_FREE);   // the newest free object of its slab, on any part
    expect(m.exports.checkAll()).toBe(0);
    for (const p of objs.slice(65)) expect(m.exports.freeOn(0, p, 0)).toBe(OK);
    m.exports.drain(0, 0);
    expect(m.exports.active(0)).toBe(0);
    expect(m.exports.destroy(0)).toBe(1);
    expect(m.exports.providerPagesOut()).toBe(0);
  });

  it("gives an active slab back the objects other parts freed to it when it is deactivated, beside its own free ones", () => {
    m.exports.reset(4096);
    expect(m.exports.create(0, 64, 0, 0, 0)).toBe(1);          // 64 objects a one-page slab
    const objs: number[] = [];
    for (let i = 0; i < 10; i++) objs.push(m.exports.allocOn(0, 0) >>> 0);   // part 0's active slab: 54 free on its list
    expect(m.exports.freeOn(0, objs[0], 1)).toBe(OK);       // another part: onto the slab's own list
    expect(m.exports.freeOn(0, objs[1], 1)).toBe(OK);
    expect(m.exports.checkAll()).toBe(0);
    m.exports.drain(0, 0);                                   // its list and the slab's joined
    expect(m.exports.checkAll()).toBe(0);
    expect(m.exports.active(0)).toBe(8);
    const again: number[] = [];
    for (let i = 0; i < 56; i++) again.push(m.exports.allocOn(0, 0) >>> 0);
    expect(again).toContain(objs[0]);
    expect(again).toContain(objs[1]);
    expect(m.exports.slabCount(0)).toBe(1);                  // all 56 from the one slab
    for (const p of [...objs.slice(2), ...again]) expect(m.exports.freeOn(0, p, 0)).toBe(OK);
    m.exports.drain(0, 0);
    expect(m.exports.destroy(0)).toBe(1);
  });

  it("stashes objects freed on another CPU, hands them out there first, and sends a full stash back in one batch", () => {
    m.exports.reset(4096);
    m.exports.shareAmongCpus();
    expect(m.exports.create(0, 64, 0, 0, 0)).toBe(1);
    const capacity = m.exports.stashCapacity();
    const objs: number[] = [];
    for (let i = 0; i < 40; i++) objs.push(m.exports.allocOn(0, 0) >>> 0);   // all in CPU 0's active slab
    for (let i = 0; i < capacity; i++) expect(m.exports.freeOn(0, objs[i], 1)).toBe(OK);
    expect(m.exports.stashed(0, 1)).toBe(capacity);
    expect(m.exports.active(0)).toBe(40 - capacity);
    expect(m.exports.checkAll()).toBe(0);
    // CPU 1 has no active slab: its next allocation takes the newest stashed object
    expect(m.exports.allocOn(0, 1) >>> 0).toBe(objs[capacity - 1]);
    expect(m.exports.freeOn(0, objs[capacity - 1], 1)).toBe(OK);
    // one more remote free: the stash goes back to the slab, which CPU 0 still has active
    expect(m.exports.freeOn(0, objs[capacity], 1)).toBe(OK);
    expect(m.exports.stashed(0, 1)).toBe(0);
    expect(m.exports.active(0)).toBe(40 - capacity - 1);
    expect(m.exports.checkAll()).toBe(0);
    // CPU 0 keeps allocating from its own list; the objects others gave back come when it deactivates the slab
    for (let i = 0; i < 64 - 40; i++) objs.push(m.exports.allocOn(0, 0) >>> 0);
    const again = m.exports.allocOn(0, 0) >>> 0;
    expect(objs.slice(0, capacity + 1)).toContain(again);   // the same slab, active again with what CPU 1 gave back
    expect(m.exports.checkAll()).toBe(0);
    expect(m.exports.free(0, again)).toBe(OK);
    for (let i = capacity + 1; i < objs.length; i++) expect(m.exports.freeOn(0, objs[i], 2)).toBe(OK);
    for (let cpu = 0; cpu < 3; cpu++) m.exports.drain(0, cpu);
    expect(m.exports.active(0)).toBe(0);
    expect(m.exports.destroy(0)).toBe(1);
    expect(m.exports.providerPagesOut()).toBe(0);
  });

  it("refuses a second free of the stash's newest object, and a free of another cache's object on any CPU", () => {
    m.exports.reset(4096);
    m.exports.shareAmongCpus();
    expect(m.exports.create(0, 100, 0, 0, 0)).toBe(1);
    expect(m.exports.create(1, 100, 0, 0, 0)).toBe(1);
    const a = m.exports.allocOn(0, 0) >>> 0, c = m.exports.allocOn(1, 0) >>> 0;
    expect(m.exports.freeOn(0, a, 3)).toBe(OK);
    expect(m.exports.freeOn(0, a, 3)).toBe(DOUBLE_FREE);
    expect(m.exports.freeOn(0, c, 3)).toBe(WRONG_CACHE);
    expect(m.exports.freeOn(0, a + 4, 2)).toBe(NOT_OBJECT);
    expect(m.exports.errors()).toBe(3);
    expect(m.exports.stashed(0, 3)).toBe(1);
    expect([m.exports.active(0), m.exports.active(1)]).toEqual([0, 1]);
    expect(m.exports.checkAll()).toBe(0);
  });
});
