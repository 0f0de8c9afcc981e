// Ring-3 benchmarks (instructions under -icount shift=0):
//   proc.syscall_round_trip   getpid through int 0x80 from ring 3 and back (the `mov eax, 2`
//                             included): a program times 1,000 calls with rdtsc, less the same
//                             loop without the call, and exits with the difference
import { registerBench, benchReport, benchFail } from "./bench";
import { stopwatchStart, stopwatchStop } from "./stopwatch";
import { runProgram } from "../proc/program";

const CALLS: u32 = 1000;
// rdtsc; mov esi, eax; mov ecx, 1000
// loop: push ecx; [mov eax, 2; int 0x80]; pop ecx; dec ecx; jnz loop
// rdtsc; sub eax, esi; mov ebx, eax; mov eax, 0; int 0x80 (exit with the instructions counted)
const withCall = memory.data<u8>([0x0F, 0x31, 0x89, 0xC6, 0xB9, 0xE8, 0x03, 0, 0,
  0x51, 0xB8, 2, 0, 0, 0, 0xCD, 0x80, 0x59, 0x49, 0x75, 0xF4,
  0x0F, 0x31, 0x29, 0xF0, 0x89, 0xC3, 0xB8, 0, 0, 0, 0, 0xCD, 0x80]);
const withoutCall = memory.data<u8>([0x0F, 0x31, 0x89, 0xC6, 0xB9, 0xE8, 0x03, 0, 0,
  0x51, 0x59, 0x49, 0x75, 0xFB,
  0x0F, 0x31, 0x29, 0xF0, 0x89, 0xC3, 0xB8, 0, 0, 0, 0, 0xCD, 0x80]);

registerBench("proc.syscall", () => {
  runProgram(withoutCall, 27);   // (the first program makes the user page table)
  stopwatchStart();              // (no timer tick inside the programs' loops)
  const loop = runProgram(withoutCall, 27), calls = runProgram(withCall, 34);
  stopwatchStop();
  if (loop < 0 || calls < loop) { benchFail(); return; }
  benchReport("proc.syscall_round_trip", <u64>(calls - loop), CALLS, "instr");
});

// Processes, from ring 3: user/bench.c times each operation with rdtsc and exits with the
// instructions per operation; what the kernel spends zeroing or copying a page (rep stosl and
// rep movsl: 1,024 counted iterations each) is measured here and taken out, as the issue asks.
//   proc.anon_fault           first write to an untouched anonymous page (zeroing excluded)
//   proc.cow_fault            first write to a page shared after fork (the copy excluded)
//   proc.mmap_munmap_pair     mmap and munmap of one page, never touched
//   proc.fork_exit_wait_1m    fork, the child's exit, waitpid: a process with 1 MiB touched
//   proc.exec_small           execve of a small program, from the call to its main
//   proc.page_zero, proc.page_copy   the page operations taken out
import { spawnProgram, argsCreate, argsAdd } from "../proc/exec";
import { processWaitKernel } from "../proc/process";
import { allocLowFrame, freeFrame } from "../mm/phys/pmm";
import { linearVirt } from "../mm/layout";
import { rdtsc } from "../arch/x86";
import { rdtscOverhead } from "./stopwatch";

const BENCH_NAME = memory.data<u8>([0x62, 0x65, 0x6E, 0x63, 0x68]);   // "bench"
const what = memory.data(16, 4);

/** Runs user/bench.c with `mode` (ASCII): its exit code, or -1 when it could not run. */
function runBench(mode: string): i32 {
  const args = argsCreate();
  if (args == 0) return -1;
  for (let i = 0; i < mode.length; i++) store<u8>(what + i, <u8>mode.charCodeAt(i));
  argsAdd(args, BENCH_NAME, 5);
  argsAdd(args, what, mode.length);
  const p = spawnProgram(BENCH_NAME, 5, args);
  return p != null ? processWaitKernel(p) : -1;
}

/** The instructions of `memory.fill` (zero) or `memory.copy` of one page, the lowest of 8. */
function pageOperation(copy: bool): u64 {
  const a = allocLowFrame(), b = allocLowFrame();
  if (a == 0 || b == 0) { if (a != 0) freeFrame(a); return 0; }
  let best: u64 = <u64>-1;
  const overhead = rdtscOverhead();
  for (let i = 0; i < 8; i++) {
    const t0 = rdtsc();
    if (copy) memory.copy(linearVirt(a), linearVirt(b), 4096); else memory.fill(linearVirt(a), 0, 4096);
    const t = rdtsc() - t0 - overhead;
    if (t < best) best = t;
  }
  freeFrame(a); freeFrame(b);
  return best;
}

registerBench("proc.memory", () => {
  const zero = pageOperation(false), copy = pageOperation(true);
  const anon = runBench("anon"), cow = runBench("cow"), pair = runBench("mmap"), fork = runBench("fork");
  if (anon <= 0 || cow <= 0 || pair <= 0 || fork <= 0 || zero == 0) { benchFail(); return; }
  benchReport("proc.page_zero", zero, 1, "instr");
  benchReport("proc.page_copy", copy, 1, "instr");
  benchReport("proc.anon_fault", <u64>anon - zero, 1, "instr");
  benchReport("proc.cow_fault", <u64>cow - copy, 1, "instr");
  benchReport("proc.mmap_munmap_pair", <u64>pair, 1, "instr");
  benchReport("proc.fork_exit_wait_1m", <u64>fork, 1, "instr");
});

registerBench("proc.exec", () => {
  const exec = runBench("exec-start");
  if (exec <= 0) { benchFail(); return; }
  benchReport("proc.exec_small", <u64>exec, 1, "instr");
});
