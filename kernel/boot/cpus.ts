// Which CPUs the machine has, from the ACPI tables (acpi.ts). At boot, before the VMM unmaps
// physical page 0 from the linear map, the root pointer is looked for where the firmware puts it
// (the first KiB of the EBDA, whose segment the BIOS data area keeps at 0x40E, then
// 0xE0000-0xFFFFF); once the VMM runs, the RSDT is walked and the MADT read, through the linear
// map or, beyond it, through mappings of their own. The others are started later
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

/** How cpusDiscover reads a table outside the linear map: maps [phys, phys + bytes) read-only (0 if it cannot), and unmaps it. */
export type TableMap = (phys: u32, bytes: u32) => usize;
export type TableUnmap = (virt: usize) => void;

let rsdpPhys: u32 = 0;

/**
 * The table of `bytes` bytes at physical `phys`, readable: through the linear map when it lies
 * there, else mapped by `map` (0 if it cannot be). tableClose gives back what this mapped.
 */
function tableOpen(phys: u32, bytes: u32, map: TableMap): usize {
  return readable(phys) >= bytes ? linearVirt(phys) : map(phys, bytes);
}
function tableClose(virt: usize, unmap: TableUnmap): void {
  if (virt >= linearVirt(0) + lowMemoryEnd()) unmap(virt);
}

/** The length of the table at `phys` if its header is readable, it has `signature` and its length fits MAX_TABLE_BYTES; else 0. */
function tableLengthAt(phys: u32, signature: string, map: TableMap, unmap: TableUnmap): u32 {
  const header = tableOpen(phys, TABLE_HEADER_BYTES, map);
  if (header == 0) return 0;
  const length = acpiSignatureIs(header, signature) ? load<u32>(header, 4) : 0;
  tableClose(header, unmap);
  return length >= TABLE_HEADER_BYTES && length <= MAX_TABLE_BYTES ? length : 0;
}

/** Tables longer than this are taken for corrupt (a MADT for 16 CPUs is well under 1 KiB). */
const MAX_TABLE_BYTES: u32 = 64 << 10;

/** Why no MADT could be read ("" when it was). */
function readTables(map: TableMap, unmap: TableUnmap): string {
  if (rsdpPhys == 0) return "no ACPI root pointer (RSDP) in the EBDA or at 0xE0000-0xFFFFF";
  const rsdtPhys = acpiRsdtAddress(linearVirt(rsdpPhys));
  const declared = tableLengthAt(rsdtPhys, "RSDT", map, unmap);
  const rsdt = declared != 0 ? tableOpen(rsdtPhys, declared, map) : 0;
  if (rsdt == 0) return "the RSDT is out of reach or corrupt";
  const rsdtLength = acpiTableLength(rsdt, declared);
  let problem = rsdtLength == 0 ? "the RSDT is out of reach or corrupt" : "the RSDT lists no MADT";
  for (let i: u32 = 0; rsdtLength != 0 && i < acpiRsdtEntries(rsdtLength); i++) {
    const tablePhys = acpiRsdtEntry(rsdt, i);
    const length = tableLengthAt(tablePhys, "APIC", map, unmap);
    if (length == 0) continue;
    const madt = tableOpen(tablePhys, length, map);
    if (madt == 0 || acpiTableLength(madt, length) == 0) problem = "the MADT is out of reach or corrupt (its length or checksum)";
    else problem = acpiReadMadt(madt, length, info) ? "" : "the MADT has an entry that runs past its end";
    if (madt != 0) tableClose(madt, unmap);
    break;
  }
  tableClose(rsdt, unmap);
  return problem;
}

/**
 * Finds the ACPI root pointer. Boot, once, before vmmInit: it reads page 0's BIOS data (the
 * EBDA's segment) through the boot linear map.
 */
export function cpusFindRoot(): void { rsdpPhys = findRsdp(); }

/**
 * Reads the MADT the root pointer leads to, and logs the CPUs, one line. Boot, once, after
 * cpusFindRoot and vmmInit, in thread context: tables outside the linear map (the firmware puts
 * them at the top of RAM: above 896 MiB with 1 GiB or more) are read through `map` and `unmap`.
 */
export function cpusDiscover(map: TableMap, unmap: TableUnmap): void {
  const problem = readTables(map, unmap);
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
