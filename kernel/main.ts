// The kernel: boot, the memory subsystem's bring-up, and what the command line asks for.
// boot/entry.asm sets up the higher half and calls kernel_entry (boot/runtime.c), which
// instantiates the module (running every file's top-level code, so that tests and benchmarks
// register) and then calls kmain. The module's entry is all.ts (this file with every self-test
// and benchmark) or, in a release build (make RELEASE=1), this file alone.
import { sti, waitForInterrupt, rdtsc, linkerAddress, LinkerSymbol, setDebugRoots } from "./arch/x86";
import { gdtInit } from "./arch/gdt";
import { klockStart, klockEnter, klockLeave, klockContended } from "./arch/klock";
import { tlbShootdowns, tlbIpisSent } from "./arch/tlb";
import { bootCpu, cpuRecords, cpuRecordInit, cpuRegister, CpuState, CPU_STATE } from "./arch/percpu";
import { idtInit, setInterruptHandler, setInterruptExitHook } from "./arch/idt";
import { picInit, picUnmask, IRQ_BASE_VECTOR } from "./arch/pic";
import { pitInit, pitTick, pitTicks } from "./arch/pit";
import { qemuExit, ExitCode } from "./arch/qemu";
import { InterruptFrame } from "./arch/frame";
import { contextGoLive, preemptDisable, preemptEnable } from "./arch/context";
import { serialInit } from "./console/serial";
import { puts, putDec, putHex, newline, putBytes, consoleEnableVga, putCString, putSigned } from "./console/console";
import { LogLevel, logBegin, logLine, setLogLevel, logLevel, logLevelName } from "./console/log";
import { setExitOnPanic, panic, panicOnException } from "./diag/panic";
import {
  MultibootInfo, MB_INFO_CMDLINE, MB_INFO_MEMORY, MB_INFO_MEMORY_MAP, MB_INFO_MODULES, MB_INFO_LOADER_NAME,
  bootPhysToVirt,
} from "./boot/multiboot";
import {
  parseCommandLine, BootOptions, BOOT_OPTIONS_BYTES, TestSelection, ProblemKind, MAX_PROBLEMS,
  problemKind, problemStart, problemLength,
} from "./boot/cmdline";
import { runSelfTests, listTests, watchdogTick, setTestTimeout, registeredTestCount, lockdepUnexpected } from "./selftest/harness";
import { runBenchmarks, registeredBenchCount } from "./bench/bench";
import { pmmInit, pmmStateAddress, pmmPrintTotals, pmmListedFrames, pmmListsDrain } from "./mm/phys/pmm";
import { registerShrinker } from "./mm/alloc/shrink";
import { vmmInit, vmmEarlyLinearMap } from "./mm/virt/vmm";
import { faultInit } from "./mm/virt/fault";
import { kmallocInit, kernelSlabRegions, kernelHeapInstance, kmallocSetSampling, kmallocSampled } from "./mm/alloc/kmalloc";
import { guardInit, guardPrintStats } from "./mm/alloc/guard";
import { physmapPrint } from "./mm/debug/physmap";
import { heapPrintStats } from "./mm/core/heap/heap";
import { slabPrintInfo } from "./mm/debug/slabinfo";
import { slabDebugSelect } from "./mm/core/slab/debug";
import { transientArenaInit } from "./mm/alloc/arena";
import { bootModulesInit } from "./boot/modules";
import { schedInit, threadListAddress, currentHeldLocks } from "./sched/scheduler";
import { schedTimerTick, schedPreempt } from "./sched/clock";
import { schedSwitches, schedMigrations, threadsPrint } from "./sched/listing";
import { lockdepEnable, lockdepReportsTotal, lockdepClasses } from "./sched/lockdep";
import { monitorStart, monitorServeBootThread } from "./monitor/monitor";
import { syscallInit } from "./proc/syscall";
import { userFaultInit } from "./proc/fault";
import { processInit, processWaitKernel } from "./proc/process";
import { reclaimerInit } from "./sched/reclaimd";
import { cpusFindRoot, cpusDiscover } from "./boot/cpus";
import { firmwareMap, iounmap } from "./mm/virt/ioremap";
import { smpStart } from "./smp/start";
import { oomInit } from "./proc/oom";
import { meminfoInit } from "./mm/debug/meminfo";
import { execInit, spawnProgram, spawnError, argsCreate, argsAdd } from "./proc/exec";
import { LoaderProblem, loaderStringLength, reportLoaderProblem } from "./boot/loader-data";
import { linearVirt, layoutSetRangeArea, lowMemoryEnd, vrangeStart, VRANGE_END, RANGE_AREA_DEFAULT_MIB, RANGE_AREA_MIN_MIB, RANGE_AREA_MAX_MIB } from "./mm/layout";

export { isrDispatch } from "./arch/idt";
export { apMain } from "./smp/start";   // an application processor's first kernel code (boot/runtime.c)
export { threadStart } from "./sched/scheduler";   // a new thread's first code (boot/runtime.c)
export { userKilled } from "./proc/process";
export { userFrameFree } from "./proc/user-frame";   // where a thread killed in ring 3 ends; a first ring-3 frame given back (boot/runtime.c)
export { syscallDispatch } from "./arch/idt";     // int 0x80 (boot/runtime.c)
export { onWasmTrap, onDoubleFault } from "./diag/panic";
export { reportBegin, reportWrite } from "./console/report-sink";   // the cores' reports (boot/runtime.c)

const TIMER_HZ: u32 = 100;
/** The longest command line taken (a longer one is refused whole: options past a cut would vanish). */
const CMDLINE_LIMIT: u32 = 4096;
/** How far a command line is read to say how long a refused one is. */
const CMDLINE_SCAN_LIMIT: u32 = 65536;
const options = changetype<BootOptions>(memory.data(BOOT_OPTIONS_BYTES, 8));

/** The PIT's IRQ 0 (the bootstrap processor's): a section of the kernel lock (arch/klock.ts). */
function onTimer(frame: InterruptFrame): void {
  klockEnter();
  pitTick();
  watchdogTick(pitTicks());
  schedTimerTick();
  klockLeave();
}

function reportOptionProblems(): void {
  const count = options.problemCount;
  for (let i: u32 = 0; i < count && i < MAX_PROBLEMS; i++) {
    logBegin(LogLevel.Warn, "cmdline");
    const kind = problemKind(options, i);
    if (kind == ProblemKind.Repeated) {
      puts("'"); putBytes(problemStart(options, i), problemLength(options, i)); puts("' repeats an earlier option: the last one given wins\n");
      continue;
    }
    puts(kind == ProblemKind.UnknownOption ? "unknown option '" : "bad value in '");
    putBytes(problemStart(options, i), problemLength(options, i));
    puts(kind == ProblemKind.UnknownOption ? "' (known: test= seed= bench loglevel= watchdog= memmap= slabinfo slab_debug kmalloc=guard kfence= physmap hz= lockdep commit= init= vmalloc= smp=)" : "': not applied");
    newline();
  }
  if (count > MAX_PROBLEMS) { logBegin(LogLevel.Warn, "cmdline"); putDec(count - MAX_PROBLEMS); puts(" more problems not shown\n"); }
}

function printBootInfo(info: MultibootInfo, cmdline: usize, cmdlineLength: u32, loaderName: usize): void {
  if (logBegin(LogLevel.Info, "boot")) {
    puts("multiboot info at "); putHex(changetype<usize>(info) - 0xC0000000); puts(", flags "); putHex(info.flags);
    if (loaderName != 0) { puts(", loader '"); putCString(loaderName, 64); puts("'"); }
    newline();
  }
  if (logBegin(LogLevel.Info, "boot")) { puts("command line '"); putBytes(cmdline, cmdlineLength); puts("'\n"); }
  if ((info.flags & MB_INFO_MEMORY) != 0 && logBegin(LogLevel.Info, "boot")) {
    puts("mem_lower "); putDec(info.memLowerKiB); puts(" KiB, mem_upper "); putDec(info.memUpperKiB); puts(" KiB");
    puts((info.flags & MB_INFO_MEMORY_MAP) != 0 ? ", memory map present" : ", no memory map");
    puts(", "); putDec((info.flags & MB_INFO_MODULES) != 0 ? info.moduleCount : 0); puts(" module(s)\n");
  }
  if (logBegin(LogLevel.Info, "boot")) {
    puts("kernel image "); putHex(linkerAddress(LinkerSymbol.KernelStart)); puts("-"); putHex(linkerAddress(LinkerSymbol.KernelEnd));
    puts(", AssemblyScript data "); putHex(linkerAddress(LinkerSymbol.AsDataStart)); puts("-"); putHex(linkerAddress(LinkerSymbol.AsDataEnd));
    newline();
  }
}

/**
 * The allocators' state after `test=all`, as `# ` lines: the PMM's totals, the kernel heap's
 * statistics, the slabinfo table (the gdb commands print the same lines; see
 * docs/debugging.md) and the guard allocator's counters.
 */
function printAllocatorSummary(): void {
  threadsPrint();
  puts("# smp: "); putDec(cpuRecords()); puts(" CPUs; the kernel lock waited for "); putDec(klockContended()); puts(" times; ");
  putDec(tlbShootdowns()); puts(" TLB shootdowns, "); putDec(tlbIpisSent()); puts(" IPIs; "); putDec(schedSwitches()); puts(" context switches, ");
  putDec(schedMigrations()); puts(" migrations\n");
  pmmPrintTotals();
  heapPrintStats(kernelHeapInstance(), "kernel heap");
  slabPrintInfo(kernelSlabRegions());
  guardPrintStats();
  puts("# kmalloc: "); putDec(kmallocSampled()); puts(" allocations sampled into the guard allocator\n");
  if (lockdepClasses() != 0) {
    puts("# lockdep: "); putDec(lockdepClasses()); puts(" lock classes, "); putDec(lockdepReportsTotal()); puts(" reports, ");
    putDec(lockdepUnexpected()); puts(" not expected by the tests that provoke them\n");
  }
}

/** vmalloc=N: the range area's size (mm/layout.ts), or one line saying why it stays as it is. */
function applyRangeAreaSize(mib: u32): void {
  if (layoutSetRangeArea(mib)) {
    vmmEarlyLinearMap();
    if (logBegin(LogLevel.Info, "boot")) {
      puts("vmalloc="); putDec(mib); puts(": ranges "); putHex(vrangeStart()); puts("-"); putHex(VRANGE_END - 1);
      puts(", low memory (the linear map) ends at "); putDec(lowMemoryEnd() >> 20); puts(" MiB\n");
    }
  } else if (logBegin(LogLevel.Error, "boot")) {
    puts("vmalloc="); putDec(mib); puts(": the range area must be "); putDec(RANGE_AREA_MIN_MIB); puts(" to ");
    putDec(RANGE_AREA_MAX_MIB); puts(" MiB, a multiple of 4; refused, it stays "); putDec(RANGE_AREA_DEFAULT_MIB); puts(" MiB\n");
  }
}

/**
 * init=NAME: runs the program NAME (its name as its only argument) as the first process and
 * waits for it; the monitor takes the console when it ends, or at once if it cannot start.
 */
function runInit(name: usize, length: u32): void {
  const args = argsCreate();
  if (args == 0 || !argsAdd(args, name, length)) { logLine(LogLevel.Error, "init", "no memory for its arguments"); return; }
  const p = spawnProgram(name, length, args);
  preemptDisable();   // (the program runs already: its output must not cut the line)
  if (logBegin(LogLevel.Info, "init")) {
    puts("'"); putBytes(name, length); puts("'");
    if (p == null) { puts(" could not start (error "); putSigned(spawnError()); puts("): the monitor takes the console\n"); }
    else { puts(" started as process "); putDec(p.pid); newline(); }
  }
  preemptEnable();
  if (p == null) return;
  const code = processWaitKernel(p);
  if (logBegin(LogLevel.Info, "init")) { puts("'"); putBytes(name, length); puts("' exited with "); putSigned(code); puts(": the monitor takes the console\n"); }
}

/** The kernel's main function. Never returns. */
export function kmain(multibootInfoPhys: u32): void {
  serialInit();
  consoleEnableVga(true);
  cpuRecordInit(bootCpu, 0, 0);   // (its APIC id is read when the others are started)
  store<u32>(bootCpu, CpuState.Online, CPU_STATE);
  cpuRegister(bootCpu);
  gdtInit(bootCpu, linkerAddress(LinkerSymbol.BootStackTop), linkerAddress(LinkerSymbol.DoubleFaultStackTop));
  idtInit(panicOnException);   // an exception nobody handles panics
  picInit();
  pitInit(TIMER_HZ);   // (hz= sets another rate once the command line is read)
  setInterruptHandler(IRQ_BASE_VECTOR + 0, onTimer);
  picUnmask(0);

  puts("\naskern: AssemblyScript kernel, i386, higher half\n");
  const infoVirt = bootPhysToVirt(multibootInfoPhys);
  if (infoVirt == 0) panic("multiboot info above the boot linear map");
  const info = changetype<MultibootInfo>(infoVirt);
  let cmdline: usize = 0, cmdlineLength: u32 = 0;
  if ((info.flags & MB_INFO_CMDLINE) != 0) {
    const length = loaderStringLength(info, info.cmdlinePhys, CMDLINE_SCAN_LIMIT);
    if (length < 0) reportLoaderProblem("the command line", info.cmdlinePhys, <u64>info.cmdlinePhys + 1, <LoaderProblem>(<u32>-length));
    else { cmdline = linearVirt(info.cmdlinePhys); cmdlineLength = <u32>length; }
  }
  if (cmdlineLength > CMDLINE_LIMIT) {
    if (logBegin(LogLevel.Error, "boot")) {
      puts("the command line is "); putDec(cmdlineLength); puts(" bytes"); if (cmdlineLength == CMDLINE_SCAN_LIMIT) puts(" or more");
      puts(", over the limit of "); putDec(CMDLINE_LIMIT); puts(": refused, no option applies\n");
    }
    cmdlineLength = 0;
  }
  parseCommandLine(cmdline, cmdlineLength, options);
  let loaderName: usize = 0;
  if ((info.flags & MB_INFO_LOADER_NAME) != 0) {
    const length = loaderStringLength(info, info.loaderNamePhys, 256);
    if (length < 0) reportLoaderProblem("the loader's name", info.loaderNamePhys, <u64>info.loaderNamePhys + 1, <LoaderProblem>(<u32>-length));
    else loaderName = linearVirt(info.loaderNamePhys);
  }
  if (options.smpOn != 0) klockStart();   // (every section takes the kernel lock from here on: arch/klock.ts)
  if (options.logLevel >= 0) setLogLevel(<LogLevel>options.logLevel);
  if (options.watchdogSeconds != 0) setTestTimeout(options.watchdogSeconds);
  if (options.hz != 0) pitInit(options.hz);
  if (options.lockdep != 0) {
    lockdepEnable(currentHeldLocks);
    logLine(LogLevel.Info, "lockdep", "the lock checker is on");
  }
  printBootInfo(info, cmdline, cmdlineLength, loaderName);
  reportOptionProblems();
  logBegin(LogLevel.Info, "boot"); puts("log level "); puts(logLevelName(logLevel())); newline();
  const selection = <TestSelection>options.testSelection;
  if (options.bench != 0 || selection != TestSelection.None) setExitOnPanic(true);
  if (options.vmallocMiB != 0) applyRangeAreaSize(options.vmallocMiB);   // (before anything sizes itself by low memory)
  bootModulesInit(info);   // (before the PMM, which reserves the modules it accepts)
  cpusFindRoot();          // (ACPI's root pointer; before the VMM unmaps page 0, where the EBDA's segment is kept)
  pmmInit(multibootInfoPhys, options.memmapFromMemFields != 0);
  vmmInit();
  faultInit();
  transientArenaInit();
  if (options.slabDebug != 0) {
    slabDebugSelect(options.slabDebugNamesLength == 0, options.slabDebugNames, options.slabDebugNamesLength);
    if (logBegin(LogLevel.Info, "slab")) {
      puts("slab_debug for "); if (options.slabDebugNamesLength == 0) puts("every cache"); else putBytes(options.slabDebugNames, options.slabDebugNamesLength);
      newline();
    }
  }
  kmallocInit();
  registerShrinker("pmm (per-CPU frame lists)", pmmListedFrames, pmmListsDrain);
  if (options.kmallocGuard != 0 || options.kfenceInterval != 0) {
    if (guardInit()) kmallocSetSampling(options.kmallocGuard != 0 ? 1 : options.kfenceInterval);
    if (logBegin(LogLevel.Info, "kmalloc")) {
      if (options.kmallocGuard != 0) puts("every allocation through the guard allocator (kmalloc=guard)\n");
      else { puts("one allocation in "); putDec(options.kfenceInterval); puts(" through the guard allocator (kfence)\n"); }
    }
  }
  schedInit();   // the boot flow becomes thread 'main'; threads preempt at the end of each IRQ
  reclaimerInit();   // the reclaimer thread; from now on memory short in thread context is reclaimed (sched/reclaimd.ts)
  processInit(options.commitStrict != 0);   // the zero page, frame reference counts, the commit limit, the reaper (proc/)
  oomInit();       // the killer serves the kernel's own requests too, after reclaim (proc/oom.ts)
  meminfoInit();   // an out-of-memory panic prints the memory report (mm/debug/meminfo.ts)
  execInit();
  syscallInit();   // int 0x80 from ring 3 (proc/syscall.ts)
  userFaultInit();   // a page fault in ring 3 is served, any other exception kills the process (proc/fault.ts)
  setDebugRoots(pmmStateAddress(), changetype<usize>(kernelHeapInstance()), changetype<usize>(kernelSlabRegions()), threadListAddress());
  setInterruptExitHook(schedPreempt);

  contextGoLive();   // from here on, interrupts off is atomic context (arch/context.ts)
  sti();
  cpusDiscover((phys: u32, bytes: u32): usize => firmwareMap(phys, bytes), (virt: usize): void => { iounmap(virt); });   // (the MADT: thread context)
  smpStart(options.smpOn != 0);   // the other processors: parked, or scheduling with smp=on (smp/start.ts)

  if ((selection != TestSelection.None && registeredTestCount() == 0) || (options.bench != 0 && registeredBenchCount() == 0)) {
    logLine(LogLevel.Error, "boot", "this build has no self-tests or benchmarks (a release build): test= and bench cannot run");
    qemuExit(ExitCode.Fail);
  }
  if (selection == TestSelection.List) {
    listTests();
    qemuExit(ExitCode.Pass);
  }
  if (selection != TestSelection.None) {
    const seed = options.seedGiven != 0 ? options.seed : rdtsc() ^ 0x5DEECE66D;
    const ok = runSelfTests(selection, options.testNames, options.testNamesLength, seed);
    const entryTsc = load<u64>(linkerAddress(LinkerSymbol.BootEntryTsc));
    puts("boot: "); putDec(rdtsc() - entryTsc); puts(" instructions from kernel entry to the end of the self-tests\n");
    if (selection == TestSelection.All) printAllocatorSummary();
    else if (options.slabinfo != 0) slabPrintInfo(kernelSlabRegions());
    if (options.physmap != 0) physmapPrint();
    if (options.bench == 0) qemuExit(ok ? ExitCode.Pass : ExitCode.Fail);
  }
  if (options.bench != 0) {
    const ok = runBenchmarks(options.benchNames, options.benchNamesLength);
    if (options.slabinfo != 0) slabPrintInfo(kernelSlabRegions());
    qemuExit(ok ? ExitCode.Pass : ExitCode.Fail);
  }
  if (options.slabinfo != 0) slabPrintInfo(kernelSlabRegions());
  if (options.physmap != 0) physmapPrint();
  if (options.initNameLength != 0) runInit(options.initName, options.initNameLength);
  else logLine(LogLevel.Info, "boot", "nothing to run (no test= or bench): the monitor takes the serial console");
  if (monitorStart()) monitorServeBootThread();   // (the boot thread runs the tests and benchmarks the monitor hands it)
  logLine(LogLevel.Error, "boot", "no memory for the monitor's thread: idle; quit QEMU with Ctrl-A X");
  while (true) waitForInterrupt();
}
