// The multiboot modules (GRUB `module` lines, QEMU -initrd files), checked at boot and kept so
// that later code (the trace replay) can find them. A module is accepted only when its data and
// its name lie in RAM and in the linear map (loader-data.ts); one that does not is refused with
// a line (its name when that can be read, its range, why) and is never read again. The PMM
// reserves the accepted modules' memory for good, so they are read through the linear map.
import { MultibootInfo, MultibootModule, MB_INFO_MODULES } from "./multiboot";
import { LoaderProblem, loaderRangeProblem, loaderProblemText, loaderRangeUsable, loaderStringLength } from "./loader-data";
import { linearVirt } from "../mm/layout";
import { LogLevel, logBegin } from "../console/log";
import { puts, putHex, putDec, putBytes, putSize, newline } from "../console/console";

/** Most modules the kernel takes (the PMM reserves two ranges for each: data and name). */
export const MAX_MODULES: u32 = 32;
const NAME_LIMIT: u32 = 4096;

// The accepted modules, copied out of the loader's list: { startPhys, endPhys, namePhys, nameLength }.
const ACCEPTED_BYTES: u32 = 16;
const accepted = memory.data(MAX_MODULES * ACCEPTED_BYTES, 4);
let moduleCount: u32 = 0;
let refusedCount: u32 = 0;

/** Reports module `index` refused: it (or, with `ofName`, its name) lies where `problem` says. */
function refuse(index: u32, module: MultibootModule, name: usize, nameLength: u32, ofName: bool, problem: LoaderProblem): void {
  refusedCount++;
  if (!logBegin(LogLevel.Error, "boot")) return;
  puts("module "); putDec(index);
  if (nameLength != 0) { puts(" '"); putBytes(name, nameLength); puts("'"); }
  puts(" at "); putHex(module.startPhys); puts("-"); putHex(module.endPhys);
  puts(" ("); putSize(module.endPhys >= module.startPhys ? module.endPhys - module.startPhys : 0); puts(") ");
  if (ofName) puts("has a name that ");
  if (problem != LoaderProblem.Wraps) puts("lies ");
  puts(loaderProblemText(problem)); puts(": refused, never read\n");
}

/**
 * Checks the loader's module list and every module, keeping those that can be used. Call once,
 * before pmmInit (which reserves the accepted ones). Boot only.
 */
export function bootModulesInit(info: MultibootInfo): void {
  moduleCount = 0; refusedCount = 0;
  if ((info.flags & MB_INFO_MODULES) == 0 || info.moduleCount == 0) return;
  const count = info.moduleCount;
  const listEnd = <u64>info.modulesPhys + <u64>count * 16;
  if (!loaderRangeUsable(info, "the module list", info.modulesPhys, listEnd)) { refusedCount = count; return; }
  if (count > MAX_MODULES && logBegin(LogLevel.Error, "boot")) {
    putDec(count); puts(" modules: the kernel takes the first "); putDec(MAX_MODULES); puts("; the others are refused\n");
    refusedCount += count - MAX_MODULES;
  }
  for (let i: u32 = 0; i < min<u32>(count, MAX_MODULES); i++) {
    const module = changetype<MultibootModule>(linearVirt(info.modulesPhys + i * 16));
    // The name first (to say which module a refusal is about), when it can be read.
    let name: usize = 0, nameLength: u32 = 0, nameProblem = LoaderProblem.None;
    if (module.stringPhys != 0) {
      const length = loaderStringLength(info, module.stringPhys, NAME_LIMIT);
      if (length < 0) nameProblem = <LoaderProblem>(<u32>-length);
      else { name = linearVirt(module.stringPhys); nameLength = <u32>length; }
    }
    const dataProblem = loaderRangeProblem(info, module.startPhys, module.endPhys);
    if (dataProblem != LoaderProblem.None) {
      refuse(i, module, name, nameLength, false, dataProblem);
      continue;
    }
    if (nameProblem != LoaderProblem.None) {
      refuse(i, module, 0, 0, true, nameProblem);
      continue;
    }
    const at = accepted + moduleCount * ACCEPTED_BYTES;
    store<u32>(at, module.startPhys); store<u32>(at, module.endPhys, 4);
    store<u32>(at, module.stringPhys, 8); store<u32>(at, nameLength, 12);
    moduleCount++;
  }
}

/** How many modules were accepted. */
export function bootModuleCount(): u32 { return moduleCount; }

/** How many modules the loader passed that were refused (each reported at boot). */
export function bootModulesRefused(): u32 { return refusedCount; }

/** Physical [start, end) of accepted module `index`. */
export function bootModuleStartPhys(index: u32): u32 { return load<u32>(accepted + index * ACCEPTED_BYTES); }
export function bootModuleEndPhys(index: u32): u32 { return load<u32>(accepted + index * ACCEPTED_BYTES, 4); }
/** Physical address of accepted module `index`'s name (0: none). */
export function bootModuleNamePhys(index: u32): u32 { return load<u32>(accepted + index * ACCEPTED_BYTES, 8); }

/** Virtual address of module `index`'s first byte. */
export function bootModuleStart(index: u32): usize { return linearVirt(bootModuleStartPhys(index)); }

/** Module `index`'s length in bytes. */
export function bootModuleBytes(index: u32): u32 { return bootModuleEndPhys(index) - bootModuleStartPhys(index); }

/** Virtual address of module `index`'s string (its file name or GRUB arguments), or 0. */
export function bootModuleName(index: u32): usize {
  const phys = bootModuleNamePhys(index);
  return phys == 0 ? 0 : linearVirt(phys);
}

/** Length of module `index`'s string. */
export function bootModuleNameLength(index: u32): u32 { return load<u32>(accepted + index * ACCEPTED_BYTES, 12); }
