// The ACPI readers (kernel/boot/acpi.ts) on tables built here: the root pointer found only with
// its checksum, a table trusted only within its length and checksum, the MADT's processors
// (enabled, online capable, disabled, more than are recorded), its I/O APIC and the local
// APIC's address override, and an entry that runs past the table.
import { describe, it, expect, beforeEach } from "vitest";
import { loadHostModule, HostModule } from "../support/wasm";

let m: HostModule;
let base = 0;
beforeEach(() => { m = loadHostModule("acpi"); base = m.exports.bufferAddress() >>> 0; m.bytes().fill(0, base, base + m.exports.bufferBytes()); });

/** Sets byte `at + checksumAt` so that `bytes` bytes from `at` sum to 0. */
function checksum(bytes: Uint8Array, at: number, length: number, checksumAt: number): void {
  bytes[at + checksumAt] = 0;
  let sum = 0;
  for (let i = 0; i < length; i++) sum += bytes[at + i];
  bytes[at + checksumAt] = (256 - (sum & 0xff)) & 0xff;
}

function put(at: number, data: number[]): void { m.bytes().set(data, base + at); }
function u32(v: number): number[] { return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]; }
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** A table with `signature` and `body` (after the 36-byte header) at `at`: its length. */
function table(at: number, signature: string, body: number[]): number {
  const length = 36 + body.length;
  put(at, [...ascii(signature), ...u32(length), 1, 0, ...ascii("ASKERN"), ...new Array(36 - 16).fill(0), ...body]);
  checksum(m.bytes(), base + at, length, 9);
  return length;
}

const cpu = (apicId: number, flags: number) => [0, 8, apicId, apicId, ...u32(flags)];
const ioApic = (address: number) => [1, 12, 0, 0, ...u32(address), ...u32(0)];
const override = (address: number) => [5, 12, 0, 0, ...u32(address), ...u32(0)];

describe("ACPI tables", () => {
  it("finds the RSDP on a 16-byte boundary, only with its signature and checksum", () => {
    const rsdp = [...ascii("RSD PTR "), 0, ...ascii("ASKERN"), 0, ...u32(0x1000)];
    put(0x40, rsdp); put(0x80, rsdp);
    checksum(m.bytes(), base + 0x80, 20, 8);
    expect(m.exports.findRsdp(0, 0x100)).toBe(0x80);   // the first one's checksum is wrong
    put(0x48, rsdp); checksum(m.bytes(), base + 0x48, 20, 8);
    expect(m.exports.findRsdp(0, 0x100)).toBe(0x80);   // (not on a 16-byte boundary)
    expect(m.exports.findRsdp(0, 0x80)).toBe(-1);
  });
  it("trusts a table only within its length and with its checksum", () => {
    const length = table(0, "RSDT", [...u32(0x2000), ...u32(0x3000)]);
    expect(m.exports.tableLength(0, 4096)).toBe(length);
    expect(m.exports.rsdtEntries(length)).toBe(2);
    expect(m.exports.rsdtEntry(0, 1)).toBe(0x3000);
    expect(m.exports.tableLength(0, length - 1)).toBe(0);   // it runs past what may be read
    m.bytes()[base + 40] ^= 1;
    expect(m.exports.tableLength(0, 4096)).toBe(0);          // a corrupt byte
  });
  it("reads the MADT: usable processors, disabled ones, the I/O APIC and an address override", () => {
    const length = table(0, "APIC", [...u32(0xfee00000), ...u32(1), ...cpu(0, 1), ...cpu(2, 1), ...cpu(5, 0), ...cpu(7, 2), ...ioApic(0xfec00000), ...override(0xfee10000)]);
    expect(m.exports.isApic(0)).toBe(1);
    expect(m.exports.tableLength(0, 4096)).toBe(length);
    expect(m.exports.readMadt(0, length)).toBe(1);
    expect(m.exports.cpus()).toBe(3);   // enabled 0 and 2, online-capable 7
    expect([0, 1, 2].map((i) => m.exports.apicId(i))).toEqual([0, 2, 7]);
    expect(m.exports.disabled()).toBe(1);
    expect(m.exports.ioApics()).toBe(1);
    expect(m.exports.ioApicAddress() >>> 0).toBe(0xfec00000);
    expect(m.exports.lapicAddress() >>> 0).toBe(0xfee10000);
  });
  it("records 16 processors and counts the rest; refuses an entry that runs past the table", () => {
    const cpus = Array.from({ length: 20 }, (_, i) => cpu(i, 1)).flat();
    const length = table(0, "APIC", [...u32(0xfee00000), ...u32(0), ...cpus]);
    expect(m.exports.readMadt(0, length)).toBe(1);
    expect(m.exports.cpus()).toBe(16);
    expect(m.exports.cpusLeftOut()).toBe(4);
    const bad = table(0x1000, "APIC", [...u32(0xfee00000), ...u32(0), ...cpu(0, 1), 0, 30, 0, 0]);
    expect(m.exports.readMadt(0x1000, bad)).toBe(0);
    expect(m.exports.cpus()).toBe(1);   // what came before the bad entry
    const zero = table(0x2000, "APIC", [...u32(0xfee00000), ...u32(0), 0, 0, ...cpu(1, 1)]);
    expect(m.exports.readMadt(0x2000, zero)).toBe(0);   // a length below 2 would never move on
  });
});
