// Host build of kernel/boot/acpi.ts, exported for test/boot/acpi.test.ts: the tests write tables
// into a buffer here and call the readers on it.
import {
  MadtInfo, MADT_INFO_BYTES, acpiFindRsdp, acpiTableLength, acpiRsdtEntries, acpiRsdtEntry, acpiReadMadt,
  acpiSignatureIs, madtCpuApicId, acpiChecksumOk,
} from "../../../kernel/boot/acpi";

const BUFFER_BYTES: u32 = 256 << 10;
const buffer = memory.data(BUFFER_BYTES, 16);
const info = changetype<MadtInfo>(memory.data(MADT_INFO_BYTES, 4));

export function bufferAddress(): usize { return buffer; }
export function bufferBytes(): u32 { return BUFFER_BYTES; }
export function findRsdp(offset: u32, bytes: u32): i32 { return acpiFindRsdp(buffer + offset, bytes); }
export function checksumOk(offset: u32, bytes: u32): bool { return acpiChecksumOk(buffer + offset, bytes); }
export function tableLength(offset: u32, limit: u32): u32 { return acpiTableLength(buffer + offset, limit); }
export function isApic(offset: u32): bool { return acpiSignatureIs(buffer + offset, "APIC"); }
export function rsdtEntries(length: u32): u32 { return acpiRsdtEntries(length); }
export function rsdtEntry(offset: u32, i: u32): u32 { return acpiRsdtEntry(buffer + offset, i); }
export function readMadt(offset: u32, length: u32): bool { return acpiReadMadt(buffer + offset, length, info); }
export function lapicAddress(): u32 { return info.lapicAddress; }
export function cpus(): u32 { return info.cpus; }
export function cpusLeftOut(): u32 { return info.cpusLeftOut; }
export function disabled(): u32 { return info.disabled; }
export function ioApics(): u32 { return info.ioApics; }
export function ioApicAddress(): u32 { return info.ioApicAddress; }
export function apicId(i: u32): u32 { return madtCpuApicId(info, i); }
