// Host tests of the PMM (kernel/boot/memmap.ts, kernel/mm/{summary,reserved,frames,frames-init}.ts),
// built from the kernel's own sources, against the reference model in pmm-model.ts. Physical
// memory is simulated: the allocator only ever touches its bitmap block.
import { describe, it, expect, beforeEach } from "vitest";
import fc from "fast-check";
import { loadHostModule, HostModule, propertyParams } from "../../support/wasm";
import { MapEntry, Range, encodeMap, modelFrameCount, modelRam, modelBitmapPlace, modelIgnoredBytes, ModelPmm, PHYS_LIMIT, clipTo } from "../../support/pmm-model";

const MiB = 1n << 20n;

let m: HostModule;
beforeEach(() => {
  m = loadHostModule("pmm");
  m.archCalls.length = 0;
});

function loadMap(entries: MapEntry[] | Uint8Array): void {
  const bytes = entries instanceof Uint8Array ? entries : encodeMap(entries);
  m.bytes().set(bytes, m.exports.mapAddress());
  m.exports.mapSet(bytes.length);
}
function loadReserved(ranges: Range[]): void {
  m.exports.reservedClear();
  for (const r of ranges) expect(m.exports.reservedPush(r.start, r.end)).toBe(1);
}

interface Built { count: number; lowLimit: number; model: ModelPmm; bitmapPhys: number; bitmapFrames: number }

/** Plans and builds the allocator, checking the plan and the result against the model. */
function buildAndCompare(entries: MapEntry[], reserved: Range[], lowLimit: number): Built | { error: number } {
  loadMap(entries);
  loadReserved(reserved);
  const error = m.exports.plan(lowLimit);
  const count = modelFrameCount(entries);
  if (entries.length === 0) { expect(error).toBe(1); return { error }; }   // an empty map cannot be walked
  if (count === 0) { expect(error).toBe(2); return { error }; }
  const low = Math.min(lowLimit - (lowLimit % 32), count);
  const bitmapFrames = Math.ceil(m.exports.bitmapBytes() / 4096);
  expect(m.exports.bitmapBytes()).toBe(m.exports.blockBytesFor(count));
  const place = modelBitmapPlace(entries, reserved, count, low, bitmapFrames);
  if (place === 0) { expect(error).toBe(3); return { error }; }
  expect(error).toBe(0);
  expect(m.exports.bitmapPhys()).toBe(place * 4096);
  expect(m.exports.ignoredBytes()).toBe(modelIgnoredBytes(entries));
  expect(m.exports.build()).toBe(1);
  const ram = modelRam(entries, count);
  const usable = ram.reduce((a, x) => a + x, 0);
  const initial = ram.slice();
  const clip = (f: bigint) => clipTo(f, count);
  initial[0] = 0;
  for (const r of reserved) if (r.end > r.start) initial.fill(0, clip(r.start / 4096n), clip((r.end + 4095n) / 4096n));
  initial.fill(0, place, place + bitmapFrames);
  const model = new ModelPmm(count, low, initial);
  expect(m.exports.total()).toBe(count);
  expect(m.exports.usableCount()).toBe(usable);
  expect(m.exports.freeCount()).toBe(model.freeCount());
  expect(m.exports.freeLowCount()).toBe(model.freeLowCount());
  expect(m.exports.reservedCount()).toBe(count - model.freeCount());
  expect(m.exports.check()).toBe(0);
  return { count, lowLimit: low, model, bitmapPhys: place * 4096, bitmapFrames };
}

// --- generators ---------------------------------------------------------------------------
const SPACE = 24n * MiB;   // most maps live below this, so the model stays small
const addr = (limit: bigint) => fc.bigInt({ min: 0n, max: limit });
const entryArb: fc.Arbitrary<MapEntry> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ base: addr(SPACE), length: addr(SPACE / 2n), type: fc.constant(1) }) },
  { weight: 3, arbitrary: fc.record({ base: addr(SPACE), length: addr(MiB), type: fc.constantFrom(2, 3, 4, 5, 7, 0xf00) }) },
  { weight: 1, arbitrary: fc.record({ base: addr(SPACE), length: fc.constant(0n), type: fc.constantFrom(1, 2) }) },   // zero length
  { weight: 1, arbitrary: fc.record({ base: fc.bigInt({ min: PHYS_LIMIT, max: 1n << 40n }), length: addr(1n << 32n), type: fc.constant(1) }) },   // above 4 GiB
  { weight: 1, arbitrary: fc.record({ base: fc.bigInt({ min: (1n << 64n) - (1n << 20n), max: (1n << 64n) - 1n }), length: addr(1n << 30n), type: fc.constantFrom(1, 2) }) },   // wraps 2^64
).chain((e) => fc.constantFrom(20, 20, 24).map((size) => ({ ...e, size })));
const rangeArb: fc.Arbitrary<Range> = fc.record({ start: addr(SPACE), length: addr(2n * MiB) }).map((r) => ({ start: r.start, end: r.start + r.length }));
const mapArb = fc.array(entryArb, { minLength: 0, maxLength: 12 });
const lowLimitArb = fc.constantFrom(1 << 20, 2048, 4096, 1000);   // frames: all memory, 8 MiB, 16 MiB, unaligned

describe("memory map walking", () => {
  it("accepts well-formed maps, with extended entries, and counts them", () => {
    loadMap([{ base: 0n, length: 0x9fc00n, type: 1 }, { base: MiB, length: 127n * MiB, type: 1, size: 36 }]);
    expect(m.exports.mapCheck()).toBe(0);
    expect(m.exports.mapCount()).toBe(2);
  });
  it("rejects an empty map, a short size field and an entry that runs past the end", () => {
    loadMap(new Uint8Array(0));
    expect(m.exports.mapCheck()).toBe(1);
    const bad = encodeMap([{ base: 0n, length: MiB, type: 1 }, { base: MiB, length: MiB, type: 1 }]);
    new DataView(bad.buffer).setUint32(24, 12, true);   // second entry's size field
    loadMap(bad);
    expect(m.exports.mapCheck()).toBe(2);
    expect(m.exports.mapProblemOffset()).toBe(24);
    loadMap(encodeMap([{ base: 0n, length: MiB, type: 1 }]).subarray(0, 20));
    expect(m.exports.mapCheck()).toBe(3);
    expect(m.exports.plan(1 << 20)).toBe(1);   // the PMM refuses it as well
  });
  it("builds the fallback map from mem_lower/mem_upper", () => {
    const bytes = m.exports.mapFromMemFields(639, 130944);
    m.exports.mapSet(bytes);
    expect(m.exports.mapCheck()).toBe(0);
    loadReserved([{ start: 0x100000n, end: 0x200000n }]);
    expect(m.exports.plan(1 << 20)).toBe(0);
    expect(m.exports.build()).toBe(1);
    expect(m.exports.total()).toBe(256 + 130944 / 4);   // frames up to 1 MiB + mem_upper
    expect(m.exports.usableCount()).toBe(159 + 130944 / 4);
  });
});

describe("summary tree", () => {
  it("summaryFirst skips a stale top bit (a 128 MiB group emptied below a marked one)", () => {
    m.exports.treeInit(32768);
    m.exports.treeSet(100); m.exports.treeSet(5000); m.exports.treeClear(100);
    expect(m.exports.treeFirst()).toBe(5000);
    m.exports.treeClear(5000);
    expect(m.exports.treeFirst() >>> 0).toBe(0xffffffff);
  });
  it("finds the first marked word (at or after any index) like a linear scan", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 32768 }), fc.array(fc.nat(), { maxLength: 300 }), fc.array(fc.nat(), { maxLength: 40 }), (words, marks, probes) => {
      m.exports.treeInit(words);
      const set = new Set<number>();
      for (const x of marks) {
        const w = x % words;
        if (set.has(w) && x % 3 === 0) { set.delete(w); m.exports.treeClear(w); } else if (!set.has(w)) { set.add(w); m.exports.treeSet(w); }
      }
      const sorted = [...set].sort((a, b) => a - b);
      expect(m.exports.treeFirst() >>> 0, "summaryFirst, with stale top bits").toBe(sorted[0] ?? 0xffffffff);
      for (const p of [0, words - 1, words, ...probes.map((x) => x % (words + 2))]) {
        const expected = sorted.find((w) => w >= p);
        expect(m.exports.treeFind(p) >>> 0).toBe(expected ?? 0xffffffff);
      }
    }), propertyParams(150));
  });
});

describe("building from a memory map", () => {
  it("QEMU's 128 MiB map with a kernel, modules and the bitmap reserved", () => {
    const entries: MapEntry[] = [
      { base: 0n, length: 0x9fc00n, type: 1 }, { base: 0x9fc00n, length: 0x400n, type: 2 },
      { base: 0xf0000n, length: 0x10000n, type: 2 }, { base: MiB, length: 0x7ee0000n, type: 1 },
      { base: 0x7fe0000n, length: 0x20000n, type: 2 }, { base: 0xfffc0000n, length: 0x40000n, type: 2 },
    ];
    const reserved = [{ start: 0x100000n, end: 0x126000n }, { start: 0x400000n, end: 0x500000n }, { start: 0x9000n, end: 0x9100n }, { start: 0x7fd0123n, end: 0x7fdf000n }];
    const built = buildAndCompare(entries, reserved, 229376) as Built;
    expect(built.count).toBe(0x7fe0);
    expect(built.bitmapPhys + built.bitmapFrames * 4096).toBe(0x7fd0000);   // top-down, below the module
  });
  it("matches the model on random maps: overlapping, unsorted, empty, above 4 GiB, over reserved ranges", () => {
    fc.assert(fc.property(mapArb, fc.array(rangeArb, { maxLength: 6 }), lowLimitArb, (entries, reserved, low) => {
      buildAndCompare(entries, reserved, low);
    }), propertyParams(300));
  });
  it("reports a map without RAM, and a map with no room for the bitmap", () => {
    expect(buildAndCompare([{ base: 0n, length: 64n * MiB, type: 2 }], [], 1 << 20)).toEqual({ error: 2 });
    expect(buildAndCompare([], [], 1 << 20)).toEqual({ error: 1 });
    // 4 GiB of RAM whose every 64 KiB run is interrupted by a reserved page in low memory
    const entries: MapEntry[] = [{ base: 0n, length: 1n << 32n, type: 1 }];
    for (let a = 0n; a < 64n * MiB; a += 0x10000n) entries.push({ base: a, length: 4096n, type: 2 });
    expect(buildAndCompare(entries, [], 16384)).toEqual({ error: 3 });
  });
  it("manages all of 4 GiB and ignores what lies above", () => {
    const entries: MapEntry[] = [{ base: MiB, length: (1n << 32n) - MiB, type: 1 }, { base: 1n << 32n, length: 512n * MiB, type: 1 }];
    const built = buildAndCompare(entries, [], 229376) as Built;
    expect(built.count).toBe(1 << 20);
    expect(m.exports.ignoredBytes()).toBe(512n * MiB);
    expect(m.exports.freeCount()).toBe((1 << 20) - 256 - built.bitmapFrames);
  });
});

type Op =
  | { kind: "alloc"; zone: 0 | 1; more: number }
  | { kind: "free"; pick: number }
  | { kind: "badFree"; phys: number }
  | { kind: "allocRun"; count: number; alignLog: number; limit: number }
  | { kind: "freeRun"; pick: number }
  | { kind: "badFreeRun"; phys: number; count: number }
  | { kind: "claimRun"; phys: number; count: number; near: number; shift: number };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  // more: after a high-first allocation, that many more frames of its word (takeMoreOfWord), if > 0
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("alloc" as const), zone: fc.constantFrom(0 as const, 1 as const), more: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 })) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("badFree" as const), phys: fc.nat({ max: 40 << 20 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("allocRun" as const), count: fc.oneof(fc.integer({ min: 0, max: 80 }), fc.constant(32)), alignLog: fc.integer({ min: 0, max: 6 }), limit: fc.nat({ max: 8192 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("freeRun" as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("claimRun" as const), phys: fc.oneof(fc.nat({ max: 40 << 20 }), fc.nat({ max: 10240 }).map((f) => f * 4096)), count: fc.integer({ min: 0, max: 40 }), near: fc.nat(), shift: fc.integer({ min: -2, max: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("badFreeRun" as const), phys: fc.oneof(fc.nat({ max: 40 << 20 }), fc.nat({ max: 320 }).map((w) => w << 17)), count: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.constant(32)) }) },
);

describe("allocation against the model", () => {
  it("random operation sequences: never a reserved frame, never a frame twice, counts exact", () => {
    fc.assert(fc.property(mapArb, fc.array(rangeArb, { maxLength: 4 }), lowLimitArb, fc.array(opArb, { maxLength: 250 }), (entries, reserved, low, ops) => {
      const built = buildAndCompare(entries, reserved, low);
      if ("error" in built) return;
      const { model } = built;
      const held: number[] = [];
      const runs: Array<{ phys: number; count: number }> = [];
      ops.forEach((op, i) => {
        switch (op.kind) {
          case "alloc": {
            const expected = model.expectAlloc(op.zone);
            const got = m.exports.alloc(op.zone) >>> 0;
            expect(got).toBe(expected < 0 ? 0 : expected * 4096);
            if (expected >= 0) { model.free[expected] = 0; held.push(got); }
            if (expected >= 0 && op.zone === 1 && op.more > 0) {
              // the rest of a high word, lowest first: nothing for a low frame
              const word = expected >> 5, bits: number[] = [];
              for (let f = word * 32; f < Math.min(word * 32 + 32, model.count) && bits.length < op.more; f++) if (model.free[f]) bits.push(f);
              if (expected < model.lowLimit) bits.length = 0;
              const mask = m.exports.takeMore(got, op.more) >>> 0;
              expect(mask).toBe(bits.reduce((acc, f) => (acc | (1 << (f & 31))) >>> 0, 0));
              for (const f of bits) { model.free[f] = 0; held.push(f * 4096); }
            }
            break;
          }
          case "free": {
            if (held.length === 0) break;
            const [phys] = held.splice(op.pick % held.length, 1);
            expect(m.exports.free(phys)).toBe(0);
            model.free[phys / 4096] = 1;
            break;
          }
          case "badFree": {
            const expected = model.expectFree(op.phys);
            if (expected === 0) break;   // by chance a held frame: leave it to "free"
            const before = m.exports.freeCount();
            expect(m.exports.free(op.phys)).toBe(expected);
            expect(m.exports.freeCount()).toBe(before);
            break;
          }
          case "allocRun": {
            const align = 1 << op.alignLog;
            const got = m.exports.allocRun(op.count, align, BigInt(op.limit) * 4096n) >>> 0;
            if (got === 0) {
              if (op.count > 0) expect(model.hasRun(op.count, align, op.limit)).toBe(false);
              break;
            }
            const f = got / 4096;
            if (op.count === 32 && align <= 32) {
              // one whole word (the fast path): the lowest wholly free word below the limit, if any
              let w = 0;
              while ((w + 1) * 32 <= Math.min(op.limit, model.free.length) && !model.free.subarray(w * 32, w * 32 + 32).every((x) => x === 1)) w++;
              if ((w + 1) * 32 <= Math.min(op.limit, model.free.length)) expect(f).toBe(w * 32);
            }
            expect(f % align).toBe(0);
            expect(f + op.count).toBeLessThanOrEqual(op.limit);
            for (let k = f; k < f + op.count; k++) { expect(model.free[k]).toBe(1); model.free[k] = 0; }
            runs.push({ phys: got, count: op.count });
            break;
          }
          case "freeRun": {
            if (runs.length === 0) break;
            const [run] = runs.splice(op.pick % runs.length, 1);
            expect(m.exports.freeRun(run.phys, run.count)).toBe(0);
            model.free.fill(1, run.phys / 4096, run.phys / 4096 + run.count);
            break;
          }
          case "claimRun": {
            // taken exactly when every frame is free and in range (so never a reserved one);
            // half the time just after (or overlapping the end of) a run or frame held now,
            // which is how a heap grows a run in place
            let phys = op.phys;
            const ends = [...runs.map((r) => r.phys + r.count * 4096), ...held.map((h) => h + 4096)];
            if (op.near % 2 === 0 && ends.length > 0) phys = Math.max(0, ends[(op.near >> 1) % ends.length] + op.shift * 4096);
            const first = phys / 4096;
            const fits = op.count > 0 && phys % 4096 === 0 && first + op.count <= model.free.length &&
              model.free.subarray(first, first + op.count).every((x) => x === 1);
            expect(m.exports.claimRun(phys, op.count)).toBe(fits ? 1 : 0);
            if (fits) { model.free.fill(0, first, first + op.count); runs.push({ phys, count: op.count }); }
            break;
          }
          case "badFreeRun": {
            const expected = model.expectFreeRun(op.phys, op.count);
            if (expected === 0) break;
            const before = m.exports.freeCount();
            expect(m.exports.freeRun(op.phys, op.count)).toBe(expected);
            expect(m.exports.freeCount()).toBe(before);
            break;
          }
        }
        expect(m.exports.freeCount()).toBe(model.freeCount());
        expect(m.exports.freeLowCount()).toBe(model.freeLowCount());
        if (i % 25 === 0) expect(m.exports.check()).toBe(0);
      });
      expect(m.exports.check()).toBe(0);
      // iterating the map gives the model's states, run by run
      for (let f = 0; f < built.count;) {
        const n = m.exports.runLength(f);
        expect(n).toBeGreaterThan(0);
        const s = m.exports.state(f);
        for (let k = f; k < f + n; k++) expect(model.state(k)).toBe(s);
        if (f + n < built.count) expect(model.state(f + n)).not.toBe(s);
        f += n;
      }
    }), propertyParams(120));
  });

  it("allocates every free frame exactly once, then returns 0, and frees back to the start", () => {
    const entries: MapEntry[] = [{ base: 0n, length: 0x9fc00n, type: 1 }, { base: MiB, length: 63n * MiB, type: 1 }, { base: 40n * MiB, length: MiB, type: 2 }];
    const built = buildAndCompare(entries, [{ start: MiB, end: 2n * MiB }], 8192) as Built;
    const start = m.exports.freeCount();
    const seen = new Set<number>();
    for (let phys; (phys = m.exports.alloc(1) >>> 0) !== 0;) {
      expect(seen.has(phys)).toBe(false);
      expect(built.model.free[phys / 4096]).toBe(1);
      seen.add(phys);
    }
    expect(seen.size).toBe(start);
    expect(m.exports.freeCount()).toBe(0);
    expect(m.exports.alloc(0)).toBe(0);
    expect(m.exports.allocRun(1, 1, PHYS_LIMIT)).toBe(0);
    for (const phys of seen) expect(m.exports.free(phys)).toBe(0);
    expect(m.exports.freeCount()).toBe(start);
    expect(m.exports.check()).toBe(0);
  });

  it("logs a bad free with the address and the reason, and changes nothing", () => {
    buildAndCompare([{ base: 0n, length: 64n * MiB, type: 1 }], [{ start: MiB, end: 2n * MiB }], 1 << 20);
    const frame = m.exports.alloc(0) >>> 0;
    const before = m.exports.freeCount();
    expect(m.exports.free(frame + 12)).toBe(1);
    expect(m.exports.free(0x8000000)).toBe(2);
    expect(m.exports.free(0x100000)).toBe(3);
    expect(m.exports.free(frame)).toBe(0);
    expect(m.exports.free(frame)).toBe(4);
    expect(m.exports.freeRun(0x1ff000, 2)).toBe(3);
    // a whole bitmap word of reserved frames (they read as used): the one-word fast path must refuse it too
    expect(m.exports.freeRun(0x100000, 32)).toBe(3);
    expect(m.exports.freeRun(0x1e0000, 32)).toBe(3);
    expect(m.exports.allocRun(0, 1, PHYS_LIMIT)).toBe(0);
    expect(m.exports.allocRun(4, 3, PHYS_LIMIT)).toBe(0);
    expect(m.exports.freeCount()).toBe(before + 1);
    expect(m.serial()).toContain(`freeFrame(0x${(frame + 12).toString(16).padStart(8, "0")}): address is not frame-aligned; nothing changed`);
    expect(m.serial()).toContain("freeFrame(0x08000000): address is outside managed memory (frames end at 0x04000000)");
    expect(m.serial()).toContain("freeFrame(0x00100000): frame is reserved");
    expect(m.serial()).toContain(`freeFrame(0x${frame.toString(16).padStart(8, "0")}): frame is already free (double free)`);
    expect(m.serial()).toContain("freeFrames(0x001ff000, 2): frame is reserved");
    expect(m.serial()).toContain("freeFrames(0x00100000, 32): frame is reserved");
    expect(m.serial()).toContain("allocFrames(4, 3, 0x100000000): impossible request");
    expect(m.exports.check()).toBe(0);
  });

  it("the checker notices a corrupted bitmap", () => {
    buildAndCompare([{ base: 0n, length: 64n * MiB, type: 1 }], [], 1 << 20);
    m.exports.corrupt(5000);
    expect(m.exports.check()).not.toBe(0);
  });

  it("keeps the floor: no search takes low memory below it, and it refuses only near it", () => {
    // 16 MiB of RAM, the first 8 MiB low; a floor, then random frames and runs taken and given back.
    const opsArb = fc.array(fc.record({
      kind: fc.constantFrom("alloc", "alloc", "free", "run", "claim", "freeRun"),
      zone: fc.constantFrom(0, 1) as fc.Arbitrary<0 | 1>, count: fc.integer({ min: 1, max: 40 }),
      align: fc.constantFrom(1, 2, 8, 32), pick: fc.nat(),
    }), { maxLength: 400 });
    // (the floor a little below what low memory has free, so that the operations reach it)
    fc.assert(fc.property(fc.integer({ min: 32, max: 400 }), opsArb, (margin, ops) => {
      const built = buildAndCompare([{ base: 0n, length: 16n * MiB, type: 1 }], [], 2048) as Built;
      const model = built.model;
      const floor = m.exports.freeLowCount() - margin;
      m.exports.setFloor(floor);
      const held: number[] = [];
      const runs: Array<{ phys: number; count: number }> = [];
      const lowFree = () => m.exports.freeLowCount();
      const keeps = lowFree() >= floor + 32;   // (the floor set with the hint word's frames above it)
      for (const op of ops) {
        if (op.kind === "alloc") {
          for (let k = 0; k < op.count; k++) {   // (a burst of single frames)
            const got = m.exports.alloc(op.zone) >>> 0;
            const expected = model.expectAlloc(op.zone);
            if (got === 0) {
              // refused only for low memory, only near the floor
              if (expected >= 0) { expect(expected).toBeLessThan(2048); expect(lowFree()).toBeLessThan(floor + 32); }
              break;
            }
            expect(model.free[got / 4096]).toBe(1);
            if (op.zone === 1 && model.expectAlloc(1) >= 2048) expect(got / 4096).toBeGreaterThanOrEqual(2048);   // high memory first
            model.free[got / 4096] = 0; held.push(got);
            if (keeps) expect(lowFree()).toBeGreaterThanOrEqual(floor);
          }
        } else if (op.kind === "free" && held.length > 0) {
          const [phys] = held.splice(op.pick % held.length, 1);
          expect(m.exports.free(phys)).toBe(0);
          model.free[phys / 4096] = 1;
        } else if (op.kind === "run" || op.kind === "claim") {
          const got = op.kind === "run" ? m.exports.allocRun(op.count, op.align, PHYS_LIMIT) >>> 0
            : (m.exports.claimRun((op.pick % 4000) * 4096, op.count) ? (op.pick % 4000) * 4096 : 0);
          if (got === 0) {
            if (op.kind === "run" && model.hasRun(op.count, op.align, 4096)) {
              // a run was there: only low memory had it, and the floor refused it
              let high = false;
              for (let s = 2048; s + op.count <= 4096 && !high; s += op.align) high = model.free.subarray(s, s + op.count).every((x) => x === 1);
              expect(high).toBe(false);
              expect(lowFree()).toBeLessThan(floor + op.count + 32);
            }
            continue;
          }
          for (let f = got / 4096; f < got / 4096 + op.count; f++) { expect(model.free[f]).toBe(1); model.free[f] = 0; }
          runs.push({ phys: got, count: op.count });
        } else if (op.kind === "freeRun" && runs.length > 0) {
          const [run] = runs.splice(op.pick % runs.length, 1);
          expect(m.exports.freeRun(run.phys, run.count)).toBe(0);
          model.free.fill(1, run.phys / 4096, run.phys / 4096 + run.count);
        }
        expect(m.exports.freeLowCount()).toBe(model.freeLowCount());
        if (keeps) expect(lowFree()).toBeGreaterThanOrEqual(floor);
      }
      expect(m.exports.check()).toBe(0);
    }), propertyParams(60));
  });

  it("finds a contiguous run below a limit even when only a partly used word holds it", () => {
    buildAndCompare([{ base: 0n, length: 16n * MiB, type: 1 }], [], 1 << 20);
    const frames: number[] = [];
    for (let p; (p = m.exports.alloc(0) >>> 0) !== 0;) frames.push(p);
    // free frames 100..131 except 116: no wholly free word, and no free aligned run of 16
    for (let f = 100; f < 132; f++) if (f !== 116) m.exports.free(f * 4096);
    expect(m.exports.allocRun(16, 16, PHYS_LIMIT) >>> 0).toBe(0);   // 96..111 and 112..127 both broken
    expect(m.exports.allocRun(15, 1, PHYS_LIMIT) >>> 0).toBe(100 * 4096);   // first fit: 100..114
    expect(m.exports.allocRun(8, 8, 120n * 4096n) >>> 0).toBe(0);   // only 120..127 is left, and it ends past the limit
    expect(m.exports.allocRun(8, 8, 128n * 4096n) >>> 0).toBe(120 * 4096);
    expect(m.exports.check()).toBe(0);
  });
});
