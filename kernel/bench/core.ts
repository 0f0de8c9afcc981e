// Foundation benchmarks: the cost of a filtered-out log call and of an interrupt round trip,
// each the mean of a loop of ITERATIONS timed as one lap (the loop's own instructions included).
import { softInterruptBench } from "../arch/x86";
import { registerBench, benchReport } from "./bench";
import { stopwatchStart, stopwatchStop, stamp, lapEnd } from "./stopwatch";
import { logLine, LogLevel, logLevel, setLogLevel } from "../console/log";

const ITERATIONS: u32 = 10000;

registerBench("log.filtered_call", () => {
  const saved = logLevel();
  setLogLevel(LogLevel.Info);
  const watch = stopwatchStart();
  const start = stamp();
  for (let i: u32 = 0; i < ITERATIONS; i++) logLine(LogLevel.Debug, "bench", "filtered out");
  lapEnd(watch, start);
  stopwatchStop();
  setLogLevel(saved);
  benchReport("log.filtered_call", watch.total, ITERATIONS);
});

registerBench("irq.round_trip", () => {
  // int 0x81 -> stub -> isr_common -> isrDispatch -> empty handler -> iret (call included)
  // (interrupts off as for every lap: the software interrupt is taken all the same)
  const watch = stopwatchStart();
  const start = stamp();
  for (let i: u32 = 0; i < ITERATIONS; i++) softInterruptBench();
  lapEnd(watch, start);
  stopwatchStop();
  benchReport("irq.round_trip", watch.total, ITERATIONS);
});
