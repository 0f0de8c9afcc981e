// Which CPUs the machine has, from the ACPI tables (acpi.ts). At boot, before the VMM unmaps
// physical page 0 from the linear map, the root pointer is looked for where the firmware puts it
// (the first KiB of the EBDA, whose segment the BIOS data area keeps at 0x40E, then
// 0xE0000-0xFFFFF), the RSDT is walked and the MADT read. The others are started later
// (kernel/smp/start.ts). With no usable tables (an old firmware, a corrupt table) one processor
// is assumed, and the log says why.
import {
  MadtInfo, MADT_INFO_BYTES, RSDP_BYTES, TABLE_HEADER_BYTES, acpiFindRsdp, acpiRsdtAddress, acpiTableLength,
  acpiRsdtEntries, acpiRsdtEntry, acpiSignatureIs, acpiReadMadt, madtCpuApicId,
} from "./acpi";
import { lowMemoryEnd, linearVirt } from "../mm/layout";
import { LogLevel, logBegin } from "../console/log";
import { puts, putDec, putHex, newline } from "../console/console";

const info = changetype<MadtInfo>(memory.data(MADT_INFO_BYTES, 4));
let usable = false;

/** How many processors the MADT lists (enabled or online capable; at most 16): 0 without usable tables. Any context. */
export function cpusListed(): u32 { return usable ? info.cpus : 0; }
/** The local APIC id of the `i`th processor the MADT lists (below cpusListed()). */
export function cpusListedApicId(i: u32): u32 { return madtCpuApicId(info, i); }
/** The local APICs' physical address, from the MADT (0 without usable tables). */
export function cpusLapicPhys(): u32 { return usable ? info.lapicAddress : 0; }

/** Bytes readable through the linear map from physical `phys` (0 outside low memory). */
function readable(phys: u32): u32 { return phys < lowMemoryEnd() ? lowMemoryEnd() - phys : 0; }

/** The RSDP's physical address, or 0. */
function findRsdp(): u32 {
  const ebda = <u32>load<u16>(linearVirt(0x40E)) << 4;
  if (ebda >= 0x80000 && ebda < 0xA0000) {
    const offset = acpiFindRsdp(linearVirt(ebda), 1024);
    if (offset >= 0) return ebda + <u32>offset;
  }
  const offset = acpiFindRsdp(linearVirt(0xE0000), 0x20000);
  return offset >= 0 ? 0xE0000 + <u32>offset : 0;
}

/** Why no MADT could be read ("" when it was). */
function readTables(): string {
  const rsdp = findRsdp();
  if (rsdp == 0) return "no ACPI root pointer (RSDP) in the EBDA or at 0xE0000-0xFFFFF";
  const rsdt = acpiRsdtAddress(linearVirt(rsdp));
  const rsdtLength = acpiTableLength(linearVirt(rsdt), readable(rsdt));
  if (rsdtLength == 0 || !acpiSignatureIs(linearVirt(rsdt), "RSDT")) return "the RSDT is out of reach or corrupt";
  for (let i: u32 = 0; i < acpiRsdtEntries(rsdtLength); i++) {
    const table = acpiRsdtEntry(linearVirt(rsdt), i);
    if (readable(table) < TABLE_HEADER_BYTES || !acpiSignatureIs(linearVirt(table), "APIC")) continue;
    const length = acpiTableLength(linearVirt(table), readable(table));
    if (length == 0) return "the MADT is corrupt (its length or checksum)";
    if (!acpiReadMadt(linearVirt(table), length, info)) return "the MADT has an entry that runs past its end";
    return "";
  }
  return "the RSDT lists no MADT";
}

/**
 * Finds the CPUs and logs them, one line. Boot, once, before vmmInit (it reads page 0's BIOS
 * data through the boot linear map).
 */
export function cpusDiscover(): void {
  const problem = readTables();
  if (problem.length != 0 || info.cpus == 0) {
    if (logBegin(LogLevel.Warn, "cpu")) { puts(problem.length != 0 ? problem : "the MADT lists no usable processor"); puts(": one processor assumed\n"); }
    return;
  }
  usable = true;
  if (!logBegin(LogLevel.Info, "cpu")) return;
  putDec(info.cpus); puts(info.cpus == 1 ? " processor (ACPI MADT): APIC id" : " processors (ACPI MADT): APIC ids");
  for (let i: u32 = 0; i < info.cpus; i++) { puts(i == 0 ? " " : ", "); putDec(madtCpuApicId(info, i)); }
  if (info.cpusLeftOut != 0) { puts(" and "); putDec(info.cpusLeftOut); puts(" more, not recorded"); }
  if (info.disabled != 0) { puts("; "); putDec(info.disabled); puts(" disabled"); }
  puts("; local APIC at "); putHex(info.lapicAddress);
  if (info.ioApics != 0) { puts(", I/O APIC at "); putHex(info.ioApicAddress); }
  newline();
}
