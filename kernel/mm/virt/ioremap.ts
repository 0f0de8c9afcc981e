// ioremap: a driver's window onto device memory (registers, a framebuffer). A physical range
// that is not RAM is mapped into a range of its own in the kernel's range area (vmm.ts
// reserveDeviceRange), with the caching a device needs: uncached for registers (every access
// reaches the device, in order), write-through for a framebuffer. The frames are the device's:
// the PMM never hands them out or takes them back, and iounmap only unmaps them. RAM is refused:
// a range that overlaps any part of the memory map that is not "reserved" (available RAM, ACPI
// tables, ACPI NVS, bad memory) could alias a frame the PMM owns with other caching. Device
// memory goes through mmioRead32/mmioWrite32 (arch/x86.ts): single accesses the compiler keeps.
// firmwareMap is the same window for the firmware's tables (ACPI's), read-only and cached: only
// available RAM is refused there.
// See docs/vmm.md. Thread context.
import { reserveDeviceRange, releaseRange, rangeContaining, rangeFlags, kernelRanges, RANGE_DEVICE } from "./vmm";
import { PAGE_WRITABLE, PAGE_WRITE_THROUGH, PAGE_CACHE_DISABLE } from "./paging";
import { pmmMemoryMap } from "../phys/pmm";
import { MemoryType, entryBase, entryLength, entryType, entryNext, memoryTypeName } from "../core/memory-map";
import { vrangeFind, NONE } from "../core/vrange";
import { vrangeAreaStart } from "../layout";
import { LogLevel, logBegin } from "../../console/log";
import { puts, putHex, putDec, newline } from "../../console/console";

/** How device memory is cached. */
export const enum IoCaching {
  Uncached = 0,       // registers: PCD and PWT, every access goes to the device in order
  WriteThrough = 1,   // a framebuffer: reads may hit the cache, every write reaches the device
}

let refused: u32 = 0;
/** ioremap calls refused so far (RAM, bad sizes). Any context. */
export function ioremapRefusals(): u32 { return refused; }

function refuse(phys: u64, bytes: u32, why: string, type: u32): usize {
  refused++;
  if (logBegin(LogLevel.Error, "ioremap")) {
    puts("ioremap("); putHex(phys); puts(", "); putDec(bytes); puts("): refused: "); puts(why);
    if (type != 0) { puts(" ("); puts(memoryTypeName(type)); puts(")"); }
    newline();
  }
  return 0;
}

/** Memory-map types ioremap and firmwareMap refuse to overlap: a bit per MemoryType, bit 31 for every type above 30. */
const NOT_DEVICE: u32 = ~(1 << MemoryType.Reserved);
const AVAILABLE_RAM: u32 = 1 << MemoryType.Available;

/** Maps [phys, phys + bytes) into a device range with `pageFlags`, unless it is empty, crosses 4 GiB or overlaps a memory-map entry of a type in `refused`. */
function mapPhysical(phys: u64, bytes: u32, pageFlags: u32, refused: u32, name: string): usize {
  if (bytes == 0) return refuse(phys, bytes, "an empty range", 0);
  const end = phys + bytes;
  if (end > 0x100000000) return refuse(phys, bytes, "past 4 GiB (no PAE)", 0);
  const map = pmmMemoryMap();
  for (let e = map.addr; e < map.addr + map.bytes; e = entryNext(e)) {
    const type = entryType(e), base = entryBase(e), length = entryLength(e);
    if (length == 0 || (refused & (1 << min<u32>(type, 31))) == 0) continue;
    if (phys < base + length && base < end) return refuse(phys, bytes, "it overlaps RAM", type);
  }
  const first = <u32>phys & ~0xFFF;
  const virt = reserveDeviceRange(first, <u32>((end - first + 0xFFF) >> 12), pageFlags, name);
  return virt != 0 ? <usize>virt + (<u32>phys & 0xFFF) : 0;
}

/**
 * Maps the `bytes` bytes of device memory at physical `phys` with `caching`: the virtual
 * address of `phys`, or 0 (logged with the reason) when the range is empty, crosses 4 GiB,
 * overlaps RAM (anything in the memory map but "reserved"), or no virtual run is free. Thread
 * context only.
 */
export function ioremap(phys: u64, bytes: u32, caching: IoCaching): usize {
  const flags = PAGE_WRITABLE | (caching == IoCaching.Uncached ? PAGE_CACHE_DISABLE | PAGE_WRITE_THROUGH : PAGE_WRITE_THROUGH);
  return mapPhysical(phys, bytes, flags, NOT_DEVICE, "ioremap");
}

/**
 * Maps the `bytes` bytes of firmware tables at physical `phys` (the ACPI tables: in ACPI, NVS or
 * reserved memory, which the PMM never owns) read-only and cached, as Linux's memremap does for
 * them: the virtual address of `phys`, or 0 (logged with the reason) when the range is empty,
 * crosses 4 GiB, overlaps available RAM, or no virtual run is free. Release with iounmap.
 * Thread context only.
 */
export function firmwareMap(phys: u64, bytes: u32): usize { return mapPhysical(phys, bytes, 0, AVAILABLE_RAM, "firmware"); }

/**
 * Unmaps what ioremap or firmwareMap mapped at `virt` (any address they returned): its pages go, its device
 * frames stay the device's. False (logged) if `virt` is not in an ioremap range. Thread context
 * only.
 */
export function iounmap(virt: usize): bool {
  const start = rangeContaining(<u32>virt);
  const page = start != 0 ? vrangeFind(kernelRanges(), (start - vrangeAreaStart()) >> 12) : NONE;
  if (page == NONE || (rangeFlags(page) & RANGE_DEVICE) == 0) {
    if (logBegin(LogLevel.Error, "ioremap")) { puts("iounmap("); putHex(virt); puts("): not a mapping ioremap or firmwareMap made; nothing changed\n"); }
    return false;
  }
  return releaseRange(start) == 0;
}
