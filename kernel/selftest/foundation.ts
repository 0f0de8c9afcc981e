// Self-tests of the foundation: native formatting, interrupts, the timer, the boot page
// tables, the symbol table, the command-line parser and the seeded generator.
import { registerTest, registerOnDemandTest, check, checkEqual, testRng, skipTest } from "./harness";
import { formatDecimal, formatHex, formatFixed2 } from "../lib/format";
import { softInterruptBench, waitForInterrupt, linkerAddress, LinkerSymbol, KERNEL_VMA_OFFSET, framePointer } from "../arch/x86";
import { setInterruptHandler, clearInterruptHandler, VECTOR_BENCH } from "../arch/idt";
import { InterruptFrame } from "../arch/frame";
import { pitTicks } from "../arch/pit";
import { symbolCount, symbolAddress, symbolLookup, symbolNameAddress } from "../diag/symbols";
import { parseCommandLine, BootOptions, BOOT_OPTIONS_BYTES, TestSelection, ProblemKind, problemKind } from "../boot/cmdline";
import { Random, randomSeed, randomNext } from "../lib/random";
import { cStringLength } from "../boot/multiboot";

const buffer = memory.data(64);

function bufferIs(length: u32, text: string): bool {
  if (length != <u32>text.length) return false;
  for (let i: u32 = 0; i < length; i++) if (<u32>load<u8>(buffer + i) != <u32>text.charCodeAt(i)) return false;
  return true;
}

registerTest("format.native_u64", () => {
  // u64 division goes through __udivdi3 in boot/libc.c: check the native path, not just wasm
  check(bufferIs(formatDecimal(0, buffer), "0"), "0");
  check(bufferIs(formatDecimal(18446744073709551615, buffer), "18446744073709551615"), "u64 max");
  check(bufferIs(formatDecimal(10000000000, buffer), "10000000000"), "1e10");
  check(bufferIs(formatHex(0xC0100000, 8, buffer), "c0100000"), "hex");
  check(bufferIs(formatHex(0x1234567890ABCDEF, 1, buffer), "1234567890abcdef"), "hex u64");
  check(bufferIs(formatFixed2(1, 3, buffer), "0.33"), "1/3");
  check(bufferIs(formatFixed2(250, 10, buffer), "25.00"), "25");
});

let benchVectorHits: u32 = 0;
let benchVectorSeen: u32 = 0;
registerTest("idt.soft_interrupt", () => {
  benchVectorHits = 0;
  setInterruptHandler(VECTOR_BENCH, (frame: InterruptFrame) => { benchVectorHits++; benchVectorSeen = frame.vector; });
  softInterruptBench();
  softInterruptBench();
  clearInterruptHandler(VECTOR_BENCH);
  setInterruptHandler(VECTOR_BENCH, (frame: InterruptFrame) => {});
  checkEqual(benchVectorHits, 2, "handler calls");
  checkEqual(benchVectorSeen, VECTOR_BENCH, "vector in the frame");
});

registerTest("pit.ticks", () => {
  const start = pitTicks();
  for (let i = 0; i < 1000 && pitTicks() < start + 3; i++) waitForInterrupt();
  check(pitTicks() >= start + 3, "the timer ticked three times");
});

registerTest("paging.boot_map", () => {
  const directory = linkerAddress(LinkerSymbol.BootPageDirectory);
  checkEqual(load<u32>(directory), 0, "identity map removed (PDE 0)");
  checkEqual(load<u32>(directory + 4), 0, "identity map removed (PDE 1)");
  const kernelPde = load<u32>(directory + 768 * 4);
  check((kernelPde & 1) != 0, "higher-half PDE present");
  const table = <usize>(kernelPde & 0xFFFFF000) + KERNEL_VMA_OFFSET;
  const guard = linkerAddress(LinkerSymbol.BootStackGuard) - KERNEL_VMA_OFFSET;
  checkEqual(load<u32>(table + (guard >> 12) * 4), 0, "stack guard page unmapped");
  const stack = linkerAddress(LinkerSymbol.BootStackBottom) - KERNEL_VMA_OFFSET;
  check((load<u32>(table + (stack >> 12) * 4) & 1) != 0, "stack bottom page mapped");
});

registerTest("symbols.table", () => {
  const table = linkerAddress(LinkerSymbol.KsymsStart);
  const count = symbolCount(table);
  check(count > 100, "the kernel symbol table has entries");
  let sorted = true;
  for (let i: u32 = 1; i < count; i++) if (symbolAddress(table, i) < symbolAddress(table, i - 1)) sorted = false;
  check(sorted, "sorted by address");
  // an exact hit: a native symbol's own address resolves to it with offset 0
  const entry = linkerAddress(LinkerSymbol.DoubleFaultEntry);
  const exact = symbolLookup(table, entry);
  check(exact >= 0 && symbolAddress(table, <u32>exact) == entry, "double_fault_task_entry resolves exactly");
  if (exact >= 0) check(nameIs(symbolNameAddress(table, <u32>exact), "double_fault_task_entry"), "and by name");
  // this test's caller is generated code: its name carries wasm2c's prefix
  const caller = symbolLookup(table, load<u32>(framePointer() + 4));
  check(caller >= 0 && nameIs(symbolNameAddress(table, <u32>caller), "w2c_*"), "the caller resolves to a w2c_ function");
});

/** Whether the C string at `name` equals `pattern` (a trailing '*' matches any rest). */
function nameIs(name: usize, pattern: string): bool {
  const length = cStringLength(name, 200);
  const prefix = pattern.endsWith("*") ? <u32>pattern.length - 1 : <u32>pattern.length;
  if (length < prefix || (!pattern.endsWith("*") && length != prefix)) return false;
  for (let i: u32 = 0; i < prefix; i++) if (<u32>load<u8>(name + i) != <u32>pattern.charCodeAt(i)) return false;
  return true;
}

const optionsBlock = memory.data(BOOT_OPTIONS_BYTES, 8);
const lineBlock = memory.data(128);
registerTest("cmdline.parse", () => {
  const text = "/boot/askern.elf test=pmm.*,heap seed=0x10 loglevel=debug bogus bench=a";
  for (let i = 0; i < text.length; i++) store<u8>(lineBlock + i, <u8>text.charCodeAt(i));
  const o = changetype<BootOptions>(optionsBlock);
  parseCommandLine(lineBlock, text.length, o);
  checkEqual(o.testSelection, TestSelection.Named, "test selection");
  checkEqual(o.seed, 16, "seed");
  checkEqual(o.logLevel, 3, "log level");
  checkEqual(o.bench, 1, "bench");
  checkEqual(o.problemCount, 1, "one unknown option");
  checkEqual(problemKind(o, 0), ProblemKind.UnknownOption, "reported as unknown");
});

registerTest("random.replay", () => {
  const a = changetype<Random>(memory.data(8, 8));
  randomSeed(a, 42);
  const first = randomNext(a);
  randomNext(a);
  randomSeed(a, 42);
  checkEqual(randomNext(a), first, "same seed, same sequence");
  check(randomNext(testRng()) != randomNext(testRng()), "the test generator moves");
});

// memory.copy and memory.fill become boot/libc.c's memmove and memset: check them natively for
// every overlap direction and alignment against a byte-at-a-time model.
const COPY_AREA: u32 = 256;
const copyArea = memory.data(COPY_AREA * 2, 16);
registerTest("libc.copy_fill", () => {
  const area = copyArea, model = copyArea + COPY_AREA;
  let bad: u32 = 0;
  for (let round: u32 = 0; round < 400; round++) {
    for (let i: u32 = 0; i < COPY_AREA; i++) {
      const byte = <u8>randomNext(testRng());
      store<u8>(area + i, byte);
      store<u8>(model + i, byte);
    }
    const n = <u32>randomNext(testRng()) % 96;
    const src = <u32>randomNext(testRng()) % (COPY_AREA - n), dst = <u32>randomNext(testRng()) % (COPY_AREA - n);
    if ((round & 3) == 0) {
      memory.fill(area + dst, <u8>round, n);
      for (let i: u32 = 0; i < n; i++) store<u8>(model + dst + i, <u8>round);
    } else {
      memory.copy(area + dst, area + src, n);
      if (dst <= src) for (let i: u32 = 0; i < n; i++) store<u8>(model + dst + i, load<u8>(model + src + i));
      else for (let i = n; i > 0; i--) store<u8>(model + dst + i - 1, load<u8>(model + src + i - 1));
    }
    for (let i: u32 = 0; i < COPY_AREA; i++) if (load<u8>(area + i) != load<u8>(model + i)) { bad++; break; }
  }
  checkEqual(bad, 0, "rounds that differ from the byte model");
});

// Never returns: the watchdog must fail the run (judged by the host, test/boot/boot.qemu.test.ts).
registerOnDemandTest("harness.watchdog_fires", () => {
  while (true) waitForInterrupt();
});

// Skips itself: the harness must print TAP's `# SKIP` with the reason and count it apart
// (judged by the host, test/boot/ram.qemu.test.ts).
registerOnDemandTest("harness.skip_reports", () => {
  skipTest("a demonstration: the machine lacks nothing");
});
