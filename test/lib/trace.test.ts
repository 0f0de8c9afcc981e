// Host tests of the trace decoder (kernel/lib/trace.ts): the format of docs/heap.md ("Traces"),
// every kind of bad line with its line and column, and a property test against a model decoder
// written here in TypeScript.
import { describe, it, expect, beforeEach } from "vitest";
import fc from "fast-check";
import { loadHostModule, HostModule, propertyParams } from "../support/wasm";

const ALLOC = 1, FREE = 2, REALLOC = 3;
const E = {
  None: 0, UnknownOperation: 1, MissingField: 2, NotANumber: 3, NumberTooLarge: 4, ExtraField: 5,
  IdTooLarge: 6, SizeZero: 7, SizeTooLarge: 8, BadAlign: 9, AlreadyLive: 10, NotLive: 11,
};
let m: HostModule;
beforeEach(() => { m = loadHostModule("trace"); });

function decode(text: string): number {
  const bytes = Buffer.from(text, "latin1");
  m.bytes().set(bytes, m.exports.textBuffer());
  return m.exports.decode(bytes.length);
}

function ops(): Array<[number, number, number, number]> {
  const out: Array<[number, number, number, number]> = [];
  for (let i = 0; i < m.exports.opCount(); i++) out.push([m.exports.opKind(i), m.exports.opId(i), m.exports.opSize(i), m.exports.opAlign(i)]);
  return out;
}

describe("trace decoder", () => {
  it("reads every operation, comments, blank lines, tabs and CRLF", () => {
    const text = "# a header comment\n\na 0 16\na 1 100 64   # aligned\r\n\tr 0  4000\nf 1\nf 0\na 0 5 0\n";
    expect(decode(text)).toBe(2);
    expect(ops()).toEqual([
      [ALLOC, 0, 16, 0], [ALLOC, 1, 100, 64], [REALLOC, 0, 4000, 0], [FREE, 1, 0, 0], [FREE, 0, 0, 0], [ALLOC, 0, 5, 0],
    ]);
    expect(m.exports.maxId()).toBe(1);
    expect(m.exports.liveAtEnd()).toBe(1);
    expect(m.exports.peakLiveBytes()).toBe(4100);   // after `r 0 4000`: 4000 + 100
  });

  it("accepts a last line without a newline, and an empty trace", () => {
    expect(decode("a 7 1")).toBe(2);
    expect(ops()).toEqual([[ALLOC, 7, 1, 0]]);
    expect(decode("")).toBe(2);
    expect(m.exports.opCount()).toBe(0);
  });

  const bad: Array<[string, string, number, number, number]> = [
    // trace, what, error, line, column
    ["a 0 16\nx 1 2\n", "an unknown operation", E.UnknownOperation, 2, 1],
    ["a 0 16\nalloc 1 2\n", "a word, not a letter", E.UnknownOperation, 2, 1],
    ["a 0\n", "a missing size", E.MissingField, 1, 4],
    ["f\n", "a missing id", E.MissingField, 1, 2],
    ["a 0 1x\n", "junk in a number", E.NotANumber, 1, 5],
    ["a -1 16\n", "a negative id", E.NotANumber, 1, 3],
    ["a 0 4294967296\n", "a size that overflows 32 bits", E.NumberTooLarge, 1, 5],
    ["f 0 16\n", "an extra field", E.ExtraField, 1, 5],
    ["a 0 16 16 1\n", "five fields", E.ExtraField, 1, 11],
    ["a 4194304 16\n", "an id at the limit", E.IdTooLarge, 1, 3],
    ["a 0 0\n", "size 0", E.SizeZero, 1, 5],
    ["a 0 1073741825\n", "a size above 1 GiB", E.SizeTooLarge, 1, 5],
    ["a 0 16 24\n", "an alignment that is not a power of two", E.BadAlign, 1, 8],
    ["a 0 16 8192\n", "an alignment above 4096", E.BadAlign, 1, 8],
    ["a 0 16\na 0 32\n", "an id allocated twice", E.AlreadyLive, 2, 1],
    ["a 0 16\nf 1\n", "a free of an id never allocated", E.NotLive, 2, 1],
    ["a 0 16\nf 0\nf 0\n", "a double free", E.NotLive, 3, 1],
    ["a 0 16\nf 0\nr 0 20\n", "a realloc of a freed id", E.NotLive, 3, 1],
  ];
  for (const [text, what, error, line, column] of bad) {
    it(`reports ${what} with its line and column`, () => {
      const outcome = decode(text);
      expect(outcome === 0 || outcome === 1).toBe(true);
      expect(m.exports.error()).toBe(error);
      expect(m.exports.errorLine()).toBe(line);
      expect(m.exports.errorColumn()).toBe(column);
    });
  }

  it("names the line that allocated a live id", () => {
    expect(decode("# x\na 3 16\na 3 32\n")).toBe(1);
    expect(m.exports.errorOther()).toBe(2);
  });

  it("agrees with a model decoder on random traces with random corruptions", () => {
    type Line = { text: string };
    const lineArb: fc.Arbitrary<Line> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ id: fc.nat(40), size: fc.integer({ min: 0, max: 70000 }), align: fc.constantFrom(-1, 0, 1, 16, 24, 4096, 8192) })
        .map(({ id, size, align }) => ({ text: `a ${id} ${size}${align >= 0 ? ` ${align}` : ""}` })) },
      { weight: 4, arbitrary: fc.nat(40).map((id) => ({ text: `f ${id}` })) },
      { weight: 2, arbitrary: fc.record({ id: fc.nat(40), size: fc.integer({ min: 0, max: 70000 }) }).map(({ id, size }) => ({ text: `r ${id} ${size}` })) },
      { weight: 1, arbitrary: fc.constantFrom("", "# c", "  ", "q 1", "a 1", "f 1 2", "a 1 2x").map((text) => ({ text })) },
    );
    fc.assert(fc.property(fc.array(lineArb, { maxLength: 200 }), (lines) => {
      const text = lines.map((l) => l.text).join("\n");
      const expected = modelDecode(lines.map((l) => l.text));
      const outcome = decode(text);
      if (expected.errorLine === 0) {
        expect(outcome).toBe(2);
        expect(ops()).toEqual(expected.ops);
        expect(m.exports.peakLiveBytes()).toBe(expected.peak);
        expect(m.exports.liveAtEnd()).toBe(expected.live);
      } else {
        expect(outcome === 0 || outcome === 1).toBe(true);
        expect(m.exports.errorLine()).toBe(expected.errorLine);
      }
    }), propertyParams(300));
  });
});

/** The reference: the format as docs/heap.md states it, written plainly. */
function modelDecode(lines: string[]): { ops: Array<[number, number, number, number]>; errorLine: number; peak: number; live: number } {
  const out: Array<[number, number, number, number]> = [];
  const live = new Map<number, number>();
  let liveBytes = 0, peak = 0;
  const num = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) && Number(s) <= 0xFFFFFFFF ? Number(s) : NaN);
  // syntax is checked for the whole trace before the ids are (two passes), as the decoder does
  const parsed: Array<[number, number, number, number] | null> = [];
  for (let i = 0; i < lines.length; i++) {
    const fields = lines[i].replace(/#.*/, "").trim().split(/[ \t]+/).filter((f) => f);
    if (!fields.length) { parsed.push(null); continue; }
    const [op, ...rest] = fields;
    const arity = op === "a" ? [2, 3] : op === "f" ? [1, 1] : op === "r" ? [2, 2] : null;
    const id = num(rest[0]), size = num(rest[1]), align = rest[2] === undefined ? 0 : num(rest[2]);
    const ok = arity && rest.length >= arity[0] && rest.length <= arity[1] && !isNaN(id) && id < 1 << 22 &&
      (op === "f" || (!isNaN(size) && size >= 1 && size <= 1 << 30)) &&
      (op !== "a" || (!isNaN(align) && (align === 0 || ((align & (align - 1)) === 0 && align <= 4096))));
    if (!ok) return { ops: [], errorLine: i + 1, peak: 0, live: 0 };
    parsed.push([op === "a" ? ALLOC : op === "f" ? FREE : REALLOC, id, op === "f" ? 0 : size, op === "a" ? align : 0]);
  }
  for (let i = 0; i < parsed.length; i++) {
    const p = parsed[i];
    if (!p) continue;
    const [kind, id, size] = p;
    if (kind === ALLOC) {
      if (live.has(id)) return { ops: [], errorLine: i + 1, peak: 0, live: 0 };
      live.set(id, size); liveBytes += size;
    } else {
      if (!live.has(id)) return { ops: [], errorLine: i + 1, peak: 0, live: 0 };
      liveBytes -= live.get(id)!;
      if (kind === FREE) live.delete(id); else { live.set(id, size); liveBytes += size; }
    }
    peak = Math.max(peak, liveBytes);
    out.push(p);
  }
  return { ops: out, errorLine: 0, peak, live: live.size };
}
