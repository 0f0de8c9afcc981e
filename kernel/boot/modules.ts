// The multiboot modules (GRUB `module` lines, QEMU -initrd files), kept after boot so that later
// code (the trace replay) can find them. The PMM reserves their memory for good and checks that
// the list and every module lie in low memory (pmm.ts), so they are read through the linear map.
import { MultibootInfo, MultibootModule, MB_INFO_MODULES, cStringLength } from "./multiboot";
import { linearVirt } from "../mm/layout";

const NAME_LIMIT: u32 = 4096;
let moduleCount: u32 = 0;
let moduleList: usize = 0;   // virtual address of the first MultibootModule

/** Records the module list of `info` (call after pmmInit, which validated it). */
export function bootModulesInit(info: MultibootInfo): void {
  if ((info.flags & MB_INFO_MODULES) == 0 || info.moduleCount == 0) return;
  moduleCount = info.moduleCount;
  moduleList = linearVirt(info.modulesPhys);
}

/** How many modules the loader passed. */
export function bootModuleCount(): u32 { return moduleCount; }

function entry(index: u32): MultibootModule { return changetype<MultibootModule>(moduleList + index * 16); }

/** Virtual address of module `index`'s first byte. */
export function bootModuleStart(index: u32): usize { return linearVirt(entry(index).startPhys); }

/** Module `index`'s length in bytes. */
export function bootModuleBytes(index: u32): u32 { return entry(index).endPhys - entry(index).startPhys; }

/** Virtual address of module `index`'s string (its file name or GRUB arguments), or 0. */
export function bootModuleName(index: u32): usize {
  const phys = entry(index).stringPhys;
  return phys == 0 ? 0 : linearVirt(phys);
}

/** Length of module `index`'s string. */
export function bootModuleNameLength(index: u32): u32 {
  const name = bootModuleName(index);
  return name == 0 ? 0 : cStringLength(name, NAME_LIMIT);
}
