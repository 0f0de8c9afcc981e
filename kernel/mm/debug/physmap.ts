// A picture of physical memory: which frames are the kernel's image, reserved, the kernel heap's,
// the slab caches', otherwise in use, or free, printed as runs for `make report` to draw (boot
// option `physmap`, after the self-tests if any ran):
//
//   physmap: frames <total>
//   physmap: <first frame, hex> <frames> <kind>        one line per run of one kind
//   physmap: end
//
// kinds:  free      free in the PMM
//         kernel    reserved for the kernel image or the AssemblyScript data
//         reserved  any other reserved frame: frame 0, firmware, the loader's data, the PMM bitmap,
//                   and frames the memory map does not call usable
//         heap      the kernel heap's spans and large blocks (kmalloc above 2 KiB)
//         slab      the slab regions' regions (the kmalloc class caches and any cache made on it)
//         other     allocated for anything else: page tables, the range allocator's bookkeeping,
//                   committed range pages, DMA pools, this map itself
//
// The map is a byte per frame in frames taken from the PMM for the purpose (and given back).
import { puts, putHex, putDec, newline } from "../../console/console";
import { LogLevel, logBegin } from "../../console/log";
import {
  pmmTotalFrames, pmmFrameState, pmmFrameRunLength, pmmReservedList, allocFrames, freeFrames,
} from "../phys/pmm";
import { FrameState } from "../core/frames";
import { reservedStart, reservedEnd, reservedName } from "../core/reserved";
import { lowMemoryEnd, LINEAR_MAP_BASE, linearVirt } from "../layout";
import { heapEachRun } from "../core/heap/heap";
import { slabRegionsEach } from "../core/slab/regions";
import { kernelHeapInstance, kernelSlabRegions } from "../alloc/kmalloc";

export const enum PhysKind { Free = 0, Kernel = 1, Reserved = 2, Heap = 3, Slab = 4, Other = 5 }

/** The name a kind is printed with. */
export function physKindName(kind: PhysKind): string {
  switch (kind) {
    case PhysKind.Free: return "free";
    case PhysKind.Kernel: return "kernel";
    case PhysKind.Reserved: return "reserved";
    case PhysKind.Heap: return "heap";
    case PhysKind.Slab: return "slab";
    default: return "other";
  }
}

/** Marks the frames of `pages` pages at linear-map address `address` as `context` (a PhysKind) in the map. */
let map: usize = 0;
function markRun(context: usize, address: usize, pages: u32): void {
  const first = <u32>((address - LINEAR_MAP_BASE) >> 12);
  memory.fill(map + first, <u8>context, pages);
}

/** Whether reserved range `i` is the kernel's own (its image or its AssemblyScript data). */
function isKernelRange(i: u32): bool {
  const name = reservedName(pmmReservedList(), i);
  return name == "kernel image" || name == "AssemblyScript data";
}

/**
 * Prints the physical-memory map (see the top of this file). Returns false, printing a warning,
 * if the PMM cannot lend the frames for the map (a byte per frame).
 */
export function physmapPrint(): bool {
  const total = pmmTotalFrames();
  const mapFrames = (total + 4095) >> 12;
  const mapPhys = allocFrames(mapFrames, 1, lowMemoryEnd());
  if (mapPhys == 0) {
    if (logBegin(LogLevel.Warn, "physmap")) { puts("no "); putDec(mapFrames); puts(" frames for the map; not printed\n"); }
    return false;
  }
  map = linearVirt(mapPhys);
  for (let f: u32 = 0; f < total;) {
    const run = pmmFrameRunLength(f), state = pmmFrameState(f);
    memory.fill(map + f, <u8>(state == FrameState.Free ? PhysKind.Free : state == FrameState.Reserved ? PhysKind.Reserved : PhysKind.Other), run);
    f += run;
  }
  const reserved = pmmReservedList();
  for (let i: u32 = 0; i < reserved.count; i++) {
    if (!isKernelRange(i)) continue;
    const first = <u32>(reservedStart(reserved, i) >> 12), end = <u32>((reservedEnd(reserved, i) + 4095) >> 12);
    memory.fill(map + first, <u8>PhysKind.Kernel, min<u32>(end, total) - first);
  }
  heapEachRun(kernelHeapInstance(), markRun, PhysKind.Heap);
  slabRegionsEach(kernelSlabRegions(), markRun, PhysKind.Slab);
  puts("physmap: frames "); putDec(total); newline();
  let start: u32 = 0;
  for (let f: u32 = 1; f <= total; f++) {
    if (f < total && load<u8>(map + f) == load<u8>(map + start)) continue;
    puts("physmap: "); putHex(start, 5); puts(" "); putDec(f - start); puts(" "); puts(physKindName(<PhysKind>load<u8>(map + start))); newline();
    start = f;
  }
  puts("physmap: end\n");
  freeFrames(mapPhys, mapFrames);
  map = 0;
  return true;
}
