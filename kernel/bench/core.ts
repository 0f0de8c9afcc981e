// Foundation benchmarks: the cost of a filtered-out log call and of an interrupt round trip.
import { rdtsc, softInterruptBench } from "../arch/x86";
import { registerBench, benchReport } from "./bench";
import { logLine, LogLevel, logLevel, setLogLevel } from "../console/log";

const ITERATIONS: u32 = 10000;

registerBench("log.filtered_call", () => {
  const saved = logLevel();
  setLogLevel(LogLevel.Info);
  const start = rdtsc();
  for (let i: u32 = 0; i < ITERATIONS; i++) logLine(LogLevel.Debug, "bench", "filtered out");
  const total = rdtsc() - start;
  setLogLevel(saved);
  benchReport("log.filtered_call", total, ITERATIONS);
});

registerBench("irq.round_trip", () => {
  // int 0x81 -> stub -> isr_common -> isrDispatch -> empty handler -> iret (call included)
  const start = rdtsc();
  for (let i: u32 = 0; i < ITERATIONS; i++) softInterruptBench();
  const total = rdtsc() - start;
  benchReport("irq.round_trip", total, ITERATIONS);
});
