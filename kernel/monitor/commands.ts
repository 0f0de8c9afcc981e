// The monitor's commands (docs/monitor.md). Each has a name, a usage line and a description
// (`help`, `help NAME`), and runs in the monitor's thread (thread context). Bad input gets one
// line that says what is wrong, never a panic: the addresses a user may free, touch or release
// are only those this prompt handed out (kmalloc, reserve), kept in two small tables.
import { puts, putDec, putHex, newline, putBytes } from "../console/console";
import { LogLevel, setLogLevel, logLevel, logLevelName } from "../console/log";
import { qemuExit, ExitCode, haltForever } from "../arch/qemu";
import { uptimeMilliseconds, pitTicks } from "../arch/pit";
import { touchRead } from "../arch/x86";
import { preemptDisable, preemptEnable } from "../arch/context";
import { parseNumber, parseLogLevel, TestSelection } from "../boot/cmdline";
import { bytesEqual } from "../lib/names";
import {
  reserveRange, releaseRange, kernelRanges, vmmCommittedPages, rangeFlags, rangeCommitted, rangeName,
  rangePages, RANGE_WRITABLE, RANGE_PROMISED, RANGE_RETIRED, RangeError,
} from "../mm/virt/vmm";
import { vrangeSpan, vrangeIsFree, vrangeAddress } from "../mm/core/vrange";
import { vrangeAreaPages, vrangeAreaStart } from "../mm/layout";
import { kmalloc, kfree, ksize, kernelSlabRegions } from "../mm/alloc/kmalloc";
import { AllocError, allocErrorText } from "../mm/core/alloc-error";
import { slabPrintInfo } from "../mm/debug/slabinfo";
import { physmapPrint } from "../mm/debug/physmap";
import { threadSleep } from "../sched/clock";
import { threadsTable, cpusTable } from "../sched/listing";
import { runSelfTests, panicTestSelected, registeredTestCount } from "../selftest/harness";
import { runBenchmarks, registeredBenchCount } from "../bench/bench";
import { inputClearInterrupt, inputInterruptRequested } from "./input";
import { reclaim, shrinkersPrint } from "../mm/alloc/shrink";
import { meminfoPrint } from "../mm/debug/meminfo";
import {
  Process, ProcessState, processFirst, processNext, processFind, processKill, processWaitKernel, processDetach,
  processMemory, processName, processNameLength, KILLED,
} from "../proc/process";
import { spawnProgram, spawnError, argsCreate, argsAdd } from "../proc/exec";
import { mapsPrint } from "../proc/maps";
import { Thread } from "../sched/thread";

// --- the words of a line ----------------------------------------------------------------------

const MAX_WORDS: u32 = 8;
const wordStarts = memory.data(MAX_WORDS * 4, 4);
const wordLengths = memory.data(MAX_WORDS * 4, 4);
let wordCount: u32 = 0;

/** Splits the line into words (spaces and tabs between them). False if it has too many. */
function splitWords(text: usize, length: u32): bool {
  wordCount = 0;
  let i: u32 = 0;
  while (i < length) {
    while (i < length && (load<u8>(text + i) == 32 || load<u8>(text + i) == 9)) i++;
    if (i >= length) break;
    const start = i;
    while (i < length && load<u8>(text + i) != 32 && load<u8>(text + i) != 9) i++;
    if (wordCount == MAX_WORDS) return false;
    store<u32>(wordStarts + wordCount * 4, <u32>(text + start));
    store<u32>(wordLengths + wordCount * 4, i - start);
    wordCount++;
  }
  return true;
}
@inline function word(i: u32): usize { return <usize>load<u32>(wordStarts + i * 4); }
@inline function wordLength(i: u32): u32 { return load<u32>(wordLengths + i * 4); }

/** Word `i` as a number (decimal or 0x hex), or -1 (and a line saying so) if it is not one. */
function numberArg(i: u32, what: string): i64 {
  const n = wordCount > i ? parseNumber(word(i), wordLength(i)) : -1;
  if (n < 0) { puts(what); puts(": expected a number (decimal or 0x hex)"); if (wordCount > i) { puts(", not '"); putBytes(word(i), wordLength(i)); puts("'"); } newline(); }
  return n;
}

// --- the table ----------------------------------------------------------------------------

type Command = () => void;
const MAX_COMMANDS: u32 = 24;
const names = memory.data(MAX_COMMANDS * 4, 4);
const usages = memory.data(MAX_COMMANDS * 4, 4);
const helps = memory.data(MAX_COMMANDS * 4, 4);
const handlers = memory.data(MAX_COMMANDS * 4, 4);
let commandCount: u32 = 0;

function command(name: string, usage: string, help: string, fn: Command): void {
  const i = commandCount++;
  store<usize>(names + i * 4, changetype<usize>(name));
  store<usize>(usages + i * 4, changetype<usize>(usage));
  store<usize>(helps + i * 4, changetype<usize>(help));
  store<usize>(handlers + i * 4, changetype<usize>(fn));
}
@inline function nameOf(i: u32): string { return changetype<string>(load<usize>(names + i * 4)); }

function findCommand(start: usize, length: u32): i32 {
  for (let i: u32 = 0; i < commandCount; i++) if (bytesEqual(start, length, nameOf(i))) return <i32>i;
  return -1;
}

/**
 * Runs one line typed at the prompt: its first word names the command, the rest are its
 * arguments. An unknown command or a bad argument gets one line. Thread context.
 */
export function monitorExecute(text: usize, length: u32): void {
  if (!splitWords(text, length)) { puts("too many words (at most "); putDec(MAX_WORDS); puts(")\n"); return; }
  if (wordCount == 0) return;
  const i = findCommand(word(0), wordLength(0));
  if (i < 0) { puts("unknown command '"); putBytes(word(0), wordLength(0)); puts("': 'help' lists the commands\n"); return; }
  inputClearInterrupt();
  changetype<Command>(load<usize>(handlers + <u32>i * 4))();
}

// --- what the prompt handed out ----------------------------------------------------------------

const HANDED: u32 = 64;
const blocks = memory.data(HANDED * 4, 4);   // kmalloc'd blocks (0: free slot)
const ranges = memory.data(HANDED * 4, 4);   // reserved ranges' first addresses (0: free slot)

function remember(table: usize, value: u32): bool {
  for (let i: u32 = 0; i < HANDED; i++) if (load<u32>(table + i * 4) == 0) { store<u32>(table + i * 4, value); return true; }
  return false;
}
function slotOf(table: usize, value: u32): i32 {
  for (let i: u32 = 0; i < HANDED; i++) if (load<u32>(table + i * 4) == value) return <i32>i;
  return -1;
}
/** The range this prompt reserved that holds `address`, or 0. */
function myRangeHolding(address: u32): u32 {
  for (let i: u32 = 0; i < HANDED; i++) {
    const first = load<u32>(ranges + i * 4);
    if (first != 0 && address >= first && address - first < rangePages(pageOf(first)) << 12) return first;
  }
  return 0;
}
@inline function pageOf(address: u32): u32 { return (address - vrangeAreaStart()) >> 12; }

// --- the commands ------------------------------------------------------------------------------

let testSeed: u64 = 1;

function help(): void {
  if (wordCount > 1) {
    const i = findCommand(word(1), wordLength(1));
    if (i < 0) { puts("help: no command '"); putBytes(word(1), wordLength(1)); puts("'\n"); return; }
    puts(changetype<string>(load<usize>(usages + <u32>i * 4))); newline();
    puts("  "); puts(changetype<string>(load<usize>(helps + <u32>i * 4))); newline();
    return;
  }
  for (let i: u32 = 0; i < commandCount; i++) {
    puts(changetype<string>(load<usize>(usages + i * 4)));
    puts(" -- "); puts(changetype<string>(load<usize>(helps + i * 4))); newline();
  }
  puts("Keys: Backspace, Ctrl-U erases the line, Ctrl-C abandons it or stops a test/bench run, Up/Down walk the history.\n");
}

function meminfo(): void { meminfoPrint(); }

function reclaimCommand(): void {
  const pages = wordCount > 1 ? numberArg(1, "reclaim") : <i64>0xFFFFFFFF;
  if (pages < 0) return;
  const got = reclaim(<u32>min<i64>(pages, 0xFFFFFFFF));
  puts("reclaim: "); putDec(got); puts(" pages given back ("); putDec(<u64>got << 2); puts(" KiB)\n");
  shrinkersPrint();
}

function slabinfo(): void { slabPrintInfo(kernelSlabRegions()); }
function physmap(): void { if (!physmapPrint()) puts("physmap: nothing to print\n"); }
function threads(): void { threadsTable(); }
function cpus(): void { cpusTable(); }

function rangesList(): void {
  const area = kernelRanges();
  let live: u32 = 0;
  preemptDisable();   // (the VMM's lock: the list does not change under the walk)
  for (let page: u32 = 0; page < vrangeAreaPages(); page += vrangeSpan(area, page)) {
    if (vrangeIsFree(area, page)) continue;
    const first = vrangeAddress(area, page), pages = rangePages(page), flags = rangeFlags(page);
    putHex(first); puts("-"); putHex(first + (pages << 12) - 1); puts(" '"); puts(rangeName(page)); puts("' ");
    putDec(pages); puts(" pages, "); putDec(rangeCommitted(page)); puts(" committed, ");
    puts((flags & RANGE_WRITABLE) != 0 ? "writable" : "read-only");
    puts((flags & RANGE_RETIRED) != 0 ? ", retired" : (flags & RANGE_PROMISED) != 0 ? ", promised" : "");
    newline();
    live++;
    if (vrangeSpan(area, page) == 0) break;   // (a broken area: never loop)
  }
  preemptEnable();
  putDec(live); puts(" ranges\n");
}

// Tests and benchmarks run on the boot thread (monitor.ts hands them over), as at boot.
let bootThreadRunner: usize = 0;
/** How the commands run work on the boot thread (monitor.ts). */
export function setBootThreadRunner(runner: (fn: () => void) => void): void { bootThreadRunner = changetype<usize>(runner); }
@inline function onBootThread(fn: () => void): void { changetype<(fn: () => void) => void>(bootThreadRunner)(fn); }

let runNames: usize = 0, runLength: u32 = 0;

function runTests(): void {
  if (registeredTestCount() == 0) { puts("test: this build has no self-tests (a release build)\n"); return; }
  if (wordCount < 2) { puts("test: name the tests: test NAME,PREFIX.* (as test= on the command line; 'all' for every one)\n"); return; }
  const names = word(1), length = wordLength(1);
  const panicking = panicTestSelected(names, length);
  if (panicking != null) { puts("test: refused: '"); puts(panicking); puts("' is a panic test, and its panic would end this session\n"); return; }
  runNames = names; runLength = length;
  onBootThread((): void => {
    const all = bytesEqual(runNames, runLength, "all");
    runSelfTests(all ? TestSelection.All : TestSelection.Named, runNames, runLength, testSeed);
  });
}

function runBench(): void {
  if (registeredBenchCount() == 0) { puts("bench: this build has no benchmarks (a release build)\n"); return; }
  if (wordCount < 2) { puts("bench: name the benchmarks: bench NAME,PREFIX.* (as bench= on the command line; 'all' for every one)\n"); return; }
  const all = bytesEqual(word(1), wordLength(1), "all");
  runNames = all ? 0 : word(1); runLength = all ? 0 : wordLength(1);
  onBootThread((): void => { runBenchmarks(runNames, runLength); });
}

function kmallocCommand(): void {
  const size = numberArg(1, "kmalloc SIZE");
  if (size < 0) return;
  if (size == 0 || size > (64 << 20)) { puts("kmalloc: SIZE must be 1 to 67108864 bytes\n"); return; }
  const p = kmalloc(<u32>size);
  if (p == 0) { puts("kmalloc("); putDec(size); puts("): no memory; nothing allocated\n"); return; }
  if (!remember(blocks, <u32>p)) { kfree(p); puts("kmalloc: this prompt already holds "); putDec(HANDED); puts(" blocks; kfree some first\n"); return; }
  puts("kmalloc("); putDec(size); puts(") = "); putHex(p); puts(" (usable "); putDec(ksize(p)); puts(" B)\n");
}

/**
 * Word 1 as an address this prompt handed out and keeps in `table`: it leaves the table and is
 * returned; 0 after a line that refuses it (`command: refused: ADDR` and `what`).
 */
function takeHanded(table: usize, usage: string, command: string, what: string): u32 {
  const address = numberArg(1, usage);
  if (address < 0) return 0;
  const slot = address == 0 || address > 0xFFFFFFFF ? -1 : slotOf(table, <u32>address);
  if (slot < 0) { puts(command); puts(": refused: "); putHex(address); puts(what); newline(); return 0; }
  store<u32>(table + <u32>slot * 4, 0);
  return <u32>address;
}

function kfreeCommand(): void {
  const address = takeHanded(blocks, "kfree ADDR", "kfree", " is not a block kmalloc gave this prompt");
  if (address == 0) return;
  const error = kfree(<usize>address);
  if (error != AllocError.Ok) { puts("kfree: "); puts(allocErrorText(error)); newline(); return; }
  puts("freed "); putHex(address); newline();
}

function reserve(): void {
  const pages = numberArg(1, "reserve PAGES");
  if (pages < 0) return;
  if (pages == 0 || pages > 65536) { puts("reserve: PAGES must be 1 to 65536\n"); return; }
  const first = reserveRange(<u32>pages << 12, RANGE_WRITABLE, "monitor");
  if (first == 0) { puts("reserve: refused (the line above says why); nothing reserved\n"); return; }
  if (!remember(ranges, first)) { releaseRange(first); puts("reserve: this prompt already holds "); putDec(HANDED); puts(" ranges; release some first\n"); return; }
  puts("reserved "); putHex(first); puts("-"); putHex(first + (<u32>pages << 12) - 1); puts(": "); putDec(pages);
  puts(" pages, none committed yet (touch ADDR commits one)\n");
}

function touch(): void {
  const address = numberArg(1, "touch ADDR");
  if (address < 0) return;
  const first = address > 0xFFFFFFFF ? 0 : myRangeHolding(<u32>address);
  if (first == 0) { puts("touch: refused: "); putHex(address); puts(" is not in a range this prompt reserved\n"); return; }
  const before = vmmCommittedPages();
  touchRead(<usize>address & ~(<usize>3));   // a read: the fault handler commits the page (zeroed)
  puts("touched "); putHex(address); puts(": "); putDec(vmmCommittedPages() - before); puts(" page(s) committed now, ");
  putDec(rangeCommitted(pageOf(first))); puts(" in the range\n");
}

function release(): void {
  const address = takeHanded(ranges, "release ADDR", "release", " is not the start of a range this prompt reserved");
  if (address == 0) return;
  const error = releaseRange(address);
  if (error != RangeError.Ok) { puts("release: refused\n"); return; }
  puts("released "); putHex(address); newline();
}

function log(): void {
  if (wordCount < 2) { puts("log: level "); puts(logLevelName(logLevel())); puts(" (log LEVEL: error, warn, info, debug, trace)\n"); return; }
  const level = parseLogLevel(word(1), wordLength(1));
  if (level < 0) { puts("log: unknown level '"); putBytes(word(1), wordLength(1)); puts("' (error, warn, info, debug, trace, or 0-4)\n"); return; }
  setLogLevel(<LogLevel>level);
  puts("log level "); puts(logLevelName(<LogLevel>level)); newline();
}

function seed(): void {
  if (wordCount < 2) { puts("seed: "); putDec(testSeed); puts(" (the seed the next test run uses)\n"); return; }
  const n = numberArg(1, "seed N");
  if (n < 0) return;
  testSeed = <u64>n;
  puts("seed "); putDec(testSeed); newline();
}

function uptime(): void {
  const ms = uptimeMilliseconds();
  puts("up "); putDec(ms / 1000); puts("."); putDec((ms % 1000) / 100); puts(" s ("); putDec(pitTicks()); puts(" ticks)\n");
}

function halt(): void {
  puts("halting\n");
  qemuExit(ExitCode.Pass);   // (QEMU leaves; on a real machine the CPU halts)
  haltForever();
}

// --- processes --------------------------------------------------------------------------------

function ps(): void {
  puts("  PID  PPID  STATE    RESIDENT  COMMITTED  NAME\n");
  for (let at = processFirst(); at != 0; at = processNext(changetype<Process>(at))) {
    const p = changetype<Process>(at);
    const m = processMemory(p);
    putColumn(p.pid, 5); putColumn(p.parent != 0 ? changetype<Process>(p.parent).pid : 0, 6);
    puts(p.state == ProcessState.Zombie ? "  zombie " : p.killed != 0 ? "  killed " : p.state == ProcessState.Running ? "  running" : "  created");
    putColumn(m.resident * 4, 8); puts(" KiB"); putColumn(m.committed * 4, 7); puts(" KiB  ");
    putBytes(processName(p), processNameLength(p));
    if (p.threadCount > 1) { puts("  ("); putDec(p.threadCount); puts(" threads)"); }
    newline();
  }
}
/** `value` right-aligned in `width` columns. */
function putColumn(value: u32, width: u32): void {
  let digits: u32 = 1;
  for (let v = value; v >= 10; v /= 10) digits++;
  for (let i = digits; i < width; i++) puts(" ");
  putDec(value);
}

function run(): void {
  if (wordCount < 2) { puts("run: usage: run NAME [ARGS...] [&]\n"); return; }
  const background = bytesEqual(word(wordCount - 1), wordLength(wordCount - 1), "&");
  const last = background ? wordCount - 1 : wordCount;
  const args = argsCreate();
  if (args == 0) { puts("run: no memory for the arguments\n"); return; }
  for (let i: u32 = 1; i < last; i++) argsAdd(args, word(i), wordLength(i));
  const p = spawnProgram(word(1), wordLength(1), args);
  if (p == null) {
    puts("run: '"); putBytes(word(1), wordLength(1)); puts("' could not start: ");
    const e = spawnError();
    puts(e == -2 ? "no such program (a module of that name)" : e == -8 ? "not a valid executable" : e == -11 ? "too many processes" : "no memory");
    newline();
    return;
  }
  puts("process "); putDec(p.pid); puts(" started"); newline();
  if (background) { processDetach(p); return; }
  // waits for it; Ctrl-C kills it
  inputClearInterrupt();
  while (p.state != ProcessState.Zombie) {
    if (inputInterruptRequested()) { inputClearInterrupt(); if (processKill(p, KILLED)) puts("^C: process killed\n"); }
    threadSleep(20);
  }
  const code = processWaitKernel(p);
  puts("process exited with "); putDec(<u32>code); newline();
}

/** The process word 1 names, or null (said). */
function processArg(what: string): Process | null {
  const pid = numberArg(1, what);
  if (pid < 0) return null;
  const p = processFind(<u32>pid);
  if (p == null || p.state == ProcessState.Zombie) { puts(what); puts(": no running process "); putDec(<u64>pid); newline(); return null; }
  return p;
}

function kill(): void {
  const p = processArg("kill");
  if (p == null) return;
  if (processKill(p, KILLED)) { puts("process "); putDec(p.pid); puts(" killed\n"); }
}

function maps(): void {
  const p = processArg("maps");
  if (p != null) mapsPrint(p);
}

command("help", "help [NAME]", "the commands, or one command's usage", help);
command("meminfo", "meminfo", "physical memory and the watermarks, the kernel heap, slabs, kmalloc, ranges, arenas, processes, the shrinkers", meminfo);
command("slabinfo", "slabinfo", "the slab caches' table (as the slabinfo boot option prints it)", slabinfo);
command("physmap", "physmap", "physical memory as runs of one kind (as the physmap boot option prints it)", physmap);
command("ranges", "ranges", "the live virtual ranges: address, name, pages, committed, flags", rangesList);
command("threads", "threads", "every thread: id, name, state, stack, its CPU, CPU time", threads);
command("cpus", "cpus", "every CPU: APIC id, state, the thread it runs, its queue, switches, migrations", cpus);
command("test", "test NAMES", "run self-tests by name or prefix (test=...); panic tests are refused", runTests);
command("bench", "bench NAMES", "run benchmarks by name or prefix (bench=...)", runBench);
command("kmalloc", "kmalloc SIZE", "allocate SIZE bytes; prints the address", kmallocCommand);
command("kfree", "kfree ADDR", "free a block kmalloc gave this prompt", kfreeCommand);
command("reserve", "reserve PAGES", "reserve a range of PAGES pages (committed on touch)", reserve);
command("touch", "touch ADDR", "read ADDR in a range this prompt reserved: the fault handler commits its page", touch);
command("release", "release ADDR", "release a range this prompt reserved", release);
command("log", "log LEVEL", "the console's log level: error, warn, info, debug, trace", log);
command("seed", "seed [N]", "the seed of the next test run", seed);
command("uptime", "uptime", "time since boot", uptime);
command("reclaim", "reclaim [PAGES]", "ask the shrinkers for PAGES pages (all they have by default); what each gave", reclaimCommand);
command("ps", "ps", "every process: pid, parent, state, resident and committed memory, name", ps);
command("run", "run NAME [ARGS] [&]", "run the program NAME (a module) as a process and wait for it (Ctrl-C kills it; & leaves it running)", run);
command("kill", "kill PID", "end a process (exit code 137)", kill);
command("maps", "maps PID", "a process's regions with their permissions and resident pages", maps);
command("halt", "halt", "stop the machine (QEMU exits)", halt);
