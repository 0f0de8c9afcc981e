// Work that must run on every CPU in turn (draining the object caches' per-CPU parts: each CPU
// uses its own without a lock, so only it may empty it). The memory manager lies below the
// scheduler, which knows how to move a thread from CPU to CPU: the scheduler installs that here
// (eachCpuSetRunner) once it schedules; before, and with one CPU, the work runs here alone.
import { saveFlagsAndCli, restoreFlags } from "../arch/x86";

/** Runs `work` once on each CPU that schedules threads, interrupts off while it runs. */
export type EachCpuRunner = (work: () => void) => void;
let runner: usize = 0;

/** Installs the scheduler's runner (sched/each-cpu.ts). Boot, once. */
export function eachCpuSetRunner(run: usize): void { runner = run; }

/**
 * Runs `work` (interrupts off while it runs) on every CPU that schedules threads, one after the
 * other, on that CPU; on the running CPU alone before the scheduler installs its runner, or
 * outside thread context (a caller that may not move). Thread context to reach every CPU: the
 * calling thread moves from CPU to CPU and may sleep meanwhile.
 */
export function onEachCpu(work: () => void): void {
  if (runner != 0) changetype<EachCpuRunner>(runner)(work);
  else onThisCpu(work);
}

/** Runs `work` here, interrupts off while it runs (what a runner does on each CPU). Any context. */
export function onThisCpu(work: () => void): void {
  const flags = saveFlagsAndCli();
  work();
  restoreFlags(flags);
}
