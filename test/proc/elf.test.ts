// Host tests of reading an executable (kernel/proc/elf.ts): the real user programs the Makefile
// builds are accepted with the segments readelf would show, and every kind of broken file is
// refused with its own reason, whatever its bytes (a fuzz over mutated programs never crashes
// it and never accepts a segment outside the program area).
import { describe, it, expect, beforeAll } from "vitest";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { loadHostModule, HostModule, propertyParams } from "../support/wasm";

const OK = 0, TRUNCATED = 1, NOT_ELF = 2, WRONG_CLASS = 3, NOT_EXEC = 4, WRONG_MACHINE = 5, NO_SEGMENTS = 6,
  MISALIGNED = 7, OUTSIDE = 8, OVERLAP = 9, BAD_ENTRY = 10;
const LOW = 0x1000, HIGH = 0x40000000;
let m: HostModule;
let hello: Uint8Array;
beforeAll(() => { m = loadHostModule("elf"); hello = new Uint8Array(readFileSync("build/user/hello")); });

function read(file: Uint8Array, low = LOW, high = HIGH): number {
  new Uint8Array(m.memory.buffer, m.exports.fileAddress(), file.length).set(file);
  return m.exports.read(file.length, low, high);
}
function edited(edit: (v: DataView) => void): Uint8Array {
  const copy = new Uint8Array(hello);
  edit(new DataView(copy.buffer));
  return copy;
}
const phoff = () => new DataView(hello.buffer, hello.byteOffset).getUint32(28, true);
/** The offset of load segment `n`'s program header (the Makefile's programs: the first ones are loads). */
const ph = (n: number) => phoff() + 32 * n;

describe("ELF32 executables", () => {
  it("accepts a real program: its entry and its three loadable segments", () => {
    expect(read(hello)).toBe(OK);
    expect(m.exports.entry() >>> 0).toBeGreaterThanOrEqual(0x00400000);
    expect(m.exports.count()).toBeGreaterThanOrEqual(2);
    expect(m.exports.address(0) >>> 0).toBe(0x00400000);
    expect(m.exports.offset(0)).toBe(0);
    expect(m.exports.flags(0)).toBe(5);   // R X
  });

  it("refuses each kind of broken file with its reason", () => {
    expect(read(hello.subarray(0, 30))).toBe(TRUNCATED);
    expect(read(hello.subarray(0, 3))).toBe(TRUNCATED);
    expect(read(new Uint8Array(100).fill(0x41))).toBe(NOT_ELF);
    expect(read(edited((v) => v.setUint8(4, 2)))).toBe(WRONG_CLASS);           // 64-bit
    expect(read(edited((v) => v.setUint8(5, 2)))).toBe(WRONG_CLASS);           // big-endian
    expect(read(edited((v) => v.setUint16(16, 3, true)))).toBe(NOT_EXEC);      // a shared object
    expect(read(edited((v) => v.setUint16(18, 62, true)))).toBe(WRONG_MACHINE); // x86-64
    expect(read(edited((v) => v.setUint16(44, 1000, true)))).toBe(TRUNCATED);  // program headers past the end
    expect(read(hello.subarray(0, ph(0) + 64))).toBe(TRUNCATED);              // a segment's bytes past the end
    expect(read(edited((v) => { for (let i = 0; i < v.getUint16(44, true); i++) v.setUint32(ph(i), 6, true); }))).toBe(NO_SEGMENTS);
    expect(read(edited((v) => v.setUint32(ph(0) + 8, 0x00400010, true)))).toBe(MISALIGNED);
    expect(read(edited((v) => v.setUint32(ph(0) + 16, v.getUint32(ph(0) + 20, true) + 1, true)))).toBe(MISALIGNED);
    expect(read(edited((v) => v.setUint32(ph(0) + 8, 0xC0000000, true)))).toBe(OUTSIDE);   // the kernel half
    expect(read(edited((v) => v.setUint32(ph(0) + 8, 0, true)))).toBe(OUTSIDE);            // page 0
    expect(read(edited((v) => v.setUint32(ph(0) + 20, 0xFFFFF000, true)))).toBe(OUTSIDE);  // absurd: 4 GiB
    expect(read(edited((v) => v.setUint32(ph(1) + 8, 0x00400000 + (v.getUint32(ph(1) + 4, true) & 0xFFF), true)))).toBe(OVERLAP);
    expect(read(edited((v) => v.setUint32(24, 0x00300000, true)))).toBe(BAD_ENTRY);
  });

  it("never accepts a segment outside the program area, whatever the bytes", () => {
    fc.assert(fc.property(fc.array(fc.record({ at: fc.nat({ max: 52 + 32 * 4 - 1 }), value: fc.nat({ max: 255 }) }), { minLength: 1, maxLength: 8 }), (edits) => {
      const file = new Uint8Array(hello);
      for (const e of edits) file[e.at] = e.value;
      const r = read(file);
      expect(r).toBeGreaterThanOrEqual(OK);
      expect(r).toBeLessThanOrEqual(BAD_ENTRY);
      if (r !== OK) return;
      for (let i = 0; i < m.exports.count(); i++) {
        const start = m.exports.address(i) >>> 0, end = start + (m.exports.memBytes(i) >>> 0);
        expect(start).toBeGreaterThanOrEqual(LOW & ~0xfff);
        expect(end).toBeLessThanOrEqual(HIGH);
        expect((m.exports.offset(i) >>> 0) + (m.exports.fileBytes(i) >>> 0)).toBeLessThanOrEqual(file.length);
      }
    }), propertyParams(300));
  });
});
