// Reading the ACPI tables that say which CPUs the machine has (the first step of SMP): the root
// pointer (RSDP), the root table (RSDT) and the interrupt-controller table (MADT, signature
// "APIC"). Pure: every function reads the bytes at the addresses it is given and checks each
// table's length and checksum before trusting it, so the host tests run it over tables they
// build, and a corrupt table is refused, not followed. cpus.ts finds the tables in the machine.
// Every function here only reads (and fills the MadtInfo it is given): any context.
//
//   RSDP (20 bytes, ACPI 1.0; 36 from 2.0)
//     +0 "RSD PTR "   +8 checksum (the 20 bytes sum to 0)   +9 OEM id (6)   +15 revision
//     +16 RSDT's physical address   (2.0: +20 length  +24 XSDT address (8)  +32 extended checksum)
//
//   a table's header (36 bytes): +0 signature (4)  +4 length (the whole table)  +8 revision
//     +9 checksum (the whole table sums to 0)  +10 OEM id ...
//   RSDT: the header, then (length - 36) / 4 physical addresses of tables
//   MADT: the header, +36 the local APIC's physical address, +40 flags, +44 entries:
//     +0 type  +1 length (at least 2)
//     type 0, processor local APIC (8 bytes): +2 ACPI processor id  +3 APIC id  +4 flags
//             (bit 0 enabled; bit 1 online capable: may be enabled later)
//     type 1, I/O APIC (12 bytes): +2 id  +4 physical address  +8 first interrupt (GSI base)
//     type 5, local APIC address override (12 bytes): +4 the 64-bit address

export const RSDP_BYTES: u32 = 20;
export const TABLE_HEADER_BYTES: u32 = 36;
const MADT_ENTRIES: u32 = 44;

/** The most CPUs (local APICs) a MadtInfo records; more are counted and left out. */
export const MAX_CPUS: u32 = 16;

/** What the MADT says (MADT_INFO_BYTES; the APIC ids follow the fields). */
@unmanaged export class MadtInfo {
  lapicAddress: u32;   // the local APICs' physical address (an override's, if any below 4 GiB)
  cpus: u32;           // usable processors recorded (enabled or online capable), at most MAX_CPUS
  cpusLeftOut: u32;    // usable processors beyond MAX_CPUS
  disabled: u32;       // processor entries neither enabled nor online capable
  ioApics: u32;        // I/O APIC entries
  ioApicAddress: u32;  // the first I/O APIC's physical address (0: none)
}
export const MADT_INFO_BYTES: u32 = offsetof<MadtInfo>() + MAX_CPUS;

/** Recorded processor `i`'s APIC id. */
export function madtCpuApicId(info: MadtInfo, i: u32): u32 { return load<u8>(changetype<usize>(info) + offsetof<MadtInfo>() + i); }

/** Whether the `bytes` bytes at `at` sum to 0 (mod 256), as every ACPI checksum needs. */
export function acpiChecksumOk(at: usize, bytes: u32): bool {
  let sum: u32 = 0;
  for (let i: u32 = 0; i < bytes; i++) sum += load<u8>(at + i);
  return (sum & 0xFF) == 0;
}

/** Whether the four bytes at `at` are `signature` (four ASCII letters). */
export function acpiSignatureIs(at: usize, signature: string): bool {
  for (let i = 0; i < 4; i++) if (load<u8>(at + i) != <u8>signature.charCodeAt(i)) return false;
  return true;
}

/**
 * The offset in [at, at + bytes) of a valid RSDP ("RSD PTR " on a 16-byte boundary whose 20
 * bytes sum to 0), or -1. The firmware puts it in the first KiB of the EBDA or in the BIOS area
 * 0xE0000-0xFFFFF.
 */
export function acpiFindRsdp(at: usize, bytes: u32): i32 {
  for (let offset: u32 = 0; offset + RSDP_BYTES <= bytes; offset += 16) {
    const p = at + offset;
    if (load<u64>(p) == 0x2052545020445352 && acpiChecksumOk(p, RSDP_BYTES)) return <i32>offset;   // "RSD PTR "
  }
  return -1;
}

/** The RSDT's physical address from the RSDP at `rsdp`. */
export function acpiRsdtAddress(rsdp: usize): u32 { return load<u32>(rsdp, 16); }

/**
 * A table header at `at` that may be trusted as far as `limit` bytes of readable memory: its
 * length (at least the header) if the length fits and the checksum holds, else 0.
 */
export function acpiTableLength(at: usize, limit: u32): u32 {
  if (limit < TABLE_HEADER_BYTES) return 0;
  const length = load<u32>(at, 4);
  if (length < TABLE_HEADER_BYTES || length > limit || !acpiChecksumOk(at, length)) return 0;
  return length;
}

/** Entries in the RSDT at `rsdt` (of `length` bytes, checked), and entry `i`'s physical address. */
export function acpiRsdtEntries(length: u32): u32 { return (length - TABLE_HEADER_BYTES) >> 2; }
export function acpiRsdtEntry(rsdt: usize, i: u32): u32 { return load<u32>(rsdt + TABLE_HEADER_BYTES + (i << 2)); }

/**
 * Reads the MADT at `madt` (`length` bytes, checked by acpiTableLength) into `info`: true, or
 * false for an entry whose length runs past the table or is below 2 (the walk stops there and
 * `info` holds what came before).
 */
export function acpiReadMadt(madt: usize, length: u32, info: MadtInfo): bool {
  memory.fill(changetype<usize>(info), 0, MADT_INFO_BYTES);
  if (length < MADT_ENTRIES) return false;
  info.lapicAddress = load<u32>(madt, TABLE_HEADER_BYTES);
  for (let at = MADT_ENTRIES; at < length; ) {
    if (at + 2 > length) return false;
    const type = load<u8>(madt + at), size = <u32>load<u8>(madt + at + 1);
    if (size < 2 || at + size > length) return false;
    const e = madt + at;
    if (type == 0 && size >= 8) {
      const flags = load<u32>(e, 4);
      if ((flags & 3) == 0) info.disabled++;
      else if (info.cpus < MAX_CPUS) { store<u8>(changetype<usize>(info) + offsetof<MadtInfo>() + info.cpus, load<u8>(e, 3)); info.cpus++; }
      else info.cpusLeftOut++;
    } else if (type == 1 && size >= 12) {
      if (info.ioApics++ == 0) info.ioApicAddress = load<u32>(e, 4);
    } else if (type == 5 && size >= 12) {
      const address = load<u64>(e, 4);
      if (address < (<u64>1 << 32)) info.lapicAddress = <u32>address;
    }
    at += size;
  }
  return true;
}
