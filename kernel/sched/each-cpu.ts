// onEachCpu's runner (mm/each-cpu.ts): the calling thread moves to each CPU that schedules
// threads in turn (its affinity narrowed to that CPU, then a yield until it runs there) and runs
// the work there with interrupts off, in the manner of Linux's schedule_on_each_cpu. What it is
// for: the object caches' per-CPU parts, which only their own CPU may empty.
import { cpuLoad } from "../arch/x86";
import { CPU_INDEX, cpuRecords, cpuAt } from "../arch/percpu";
import { inThreadContext } from "../arch/context";
import { eachCpuSetRunner, onThisCpu } from "../mm/each-cpu";
import { currentThread, threadSetAffinity, threadYield } from "./scheduler";
import { onlineSched } from "./runqueue";

/**
 * Runs `work` on every CPU that schedules (with smp=park: the bootstrap processor alone), the
 * calling thread moving from one to the next; its affinity is as it was afterwards. Outside
 * thread context (a caller that may not sleep) only here. Thread context; sleeps (yields).
 */
function runOnEachCpu(work: () => void): void {
  if (!inThreadContext()) { onThisCpu(work); return; }
  const me = currentThread();
  const kept = me.affinity;
  for (let i: u32 = 0; i < cpuRecords(); i++) {
    if (changetype<usize>(onlineSched(cpuAt(i))) == 0 || !threadSetAffinity(me, 1 << i)) continue;   // (it does not schedule)
    while (cpuLoad(CPU_INDEX) != i) threadYield();
    onThisCpu(work);
  }
  threadSetAffinity(me, kept);
  if (kept != 0 && (kept & (1 << cpuLoad(CPU_INDEX))) == 0) threadYield();   // (back where it may run)
}

/** Installs the runner: from the scheduler's start (schedInit). Boot, once. */
export function eachCpuInit(): void { eachCpuSetRunner(changetype<usize>(runOnEachCpu)); }
