// The multiboot (version 1) information structure, as the loader left it in physical memory.
// Only the fields askern reads are named; `flags` says which are valid.
//
//   +0 flags  +4 mem_lower  +8 mem_upper  +12 boot_device  +16 cmdline  +20 mods_count
//   +24 mods_addr  +28..+43 syms  +44 mmap_length  +48 mmap_addr  ...  +64 boot_loader_name
import { lowMemoryEnd, linearVirt } from "../mm/layout";

export const MB_INFO_MEMORY: u32 = 1 << 0;
export const MB_INFO_CMDLINE: u32 = 1 << 2;
export const MB_INFO_MODULES: u32 = 1 << 3;
export const MB_INFO_MEMORY_MAP: u32 = 1 << 6;
export const MB_INFO_LOADER_NAME: u32 = 1 << 9;

/** Size of the info structure we may read (through boot_loader_name). */
export const MB_INFO_BYTES: u32 = 68;
/** The whole structure (through the framebuffer fields): what the PMM keeps reserved. */
export const MB_INFO_FULL_BYTES: u32 = 120;

@unmanaged export class MultibootInfo {
  flags: u32;
  memLowerKiB: u32;
  memUpperKiB: u32;
  bootDevice: u32;
  cmdlinePhys: u32;
  moduleCount: u32;
  modulesPhys: u32;
  syms0: u32; syms1: u32; syms2: u32; syms3: u32;
  memoryMapBytes: u32;
  memoryMapPhys: u32;
  drivesBytes: u32;
  drivesPhys: u32;
  configTable: u32;
  loaderNamePhys: u32;
}

/** A module entry: [start, end) physical, and its string (the GRUB `module` line or -initrd). */
@unmanaged export class MultibootModule {
  startPhys: u32;
  endPhys: u32;
  stringPhys: u32;
  reserved: u32;
}

/** Virtual address of physical `phys` in the linear map (boot/entry.asm builds it), or 0 if it is not mapped. */
export function bootPhysToVirt(phys: u32): usize {
  if (phys >= lowMemoryEnd()) return 0;
  return linearVirt(phys);
}

/** Length of the NUL-terminated string at `virt`, at most `limit`. */
export function cStringLength(virt: usize, limit: u32): u32 {
  let n: u32 = 0;
  while (n < limit && load<u8>(virt + n) != 0) n++;
  return n;
}
