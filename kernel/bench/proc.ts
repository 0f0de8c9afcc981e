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
