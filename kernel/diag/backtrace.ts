// Stack backtraces by the frame-pointer chain (all native code keeps frame pointers):
//
//   [ebp + 4]  return address into the caller
//   [ebp + 0]  the caller's saved ebp        (0 ends the chain: set by boot/entry.asm)
import { linkerAddress, LinkerSymbol, thisCpu } from "../arch/x86";
import { CPU_DF_STACK_TOP, CPU_STACK_LOW, CPU_STACK_HIGH, DF_STACK_BYTES } from "../arch/percpu";
import { puts, putHex, putByte, putCString, newline } from "../console/console";
import { symbolLookup, symbolAddress, symbolNameAddress } from "./symbols";

const MAX_FRAMES = 32;

/** Prints `address` as "0xc0101234 name+0x12" (or just the hex when no symbol covers it). */
export function putSymbolized(address: usize): void {
  putHex(address);
  const table = linkerAddress(LinkerSymbol.KsymsStart);
  const index = symbolLookup(table, address);
  if (index < 0 || address >= linkerAddress(LinkerSymbol.TextEnd)) return;
  putByte(32);
  putCString(symbolNameAddress(table, <u32>index), 128);
  puts("+");
  putHex(address - symbolAddress(table, <u32>index), 1);
}

/**
 * True when `ebp` lies inside a kernel stack we know: the boot stack, this CPU's double-fault
 * stack, or this CPU's own boot stack (an application processor's).
 */
function onKnownStack(ebp: usize): bool {
  const bootLow = linkerAddress(LinkerSymbol.BootStackBottom), bootHigh = linkerAddress(LinkerSymbol.BootStackTop);
  const cpu = thisCpu();
  const dfHigh = <usize>load<u32>(cpu, CPU_DF_STACK_TOP);
  const cpuLow = <usize>load<u32>(cpu, CPU_STACK_LOW), cpuHigh = <usize>load<u32>(cpu, CPU_STACK_HIGH);
  return (ebp >= bootLow && ebp + 8 <= bootHigh) || (ebp >= dfHigh - DF_STACK_BYTES && ebp + 8 <= dfHigh) ||
    (ebp >= cpuLow && ebp + 8 <= cpuHigh);
}

/** Prints the backtrace starting at `eip` with frame pointer `ebp`, one frame a line. */
export function printBacktrace(eip: usize, ebp: usize): void {
  puts("backtrace:\n");
  puts("  #00 "); putSymbolized(eip); newline();
  let frame = ebp;
  for (let depth = 1; depth < MAX_FRAMES; depth++) {
    if (frame == 0 || (frame & 3) != 0 || !onKnownStack(frame)) break;
    const returnAddress = load<u32>(frame + 4);
    if (returnAddress == 0) break;
    puts("  #"); putByte(48 + depth / 10); putByte(48 + depth % 10); puts(" ");
    putSymbolized(returnAddress); newline();
    const next = load<usize>(frame);
    if (next <= frame) break;   // frames only grow towards the stack top
    frame = next;
  }
}
