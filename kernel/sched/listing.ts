// What the scheduler shows: the thread and CPU listings (the monitor's `threads` and `cpus`,
// the `# threads:` lines after test=all, a watchdog's timeout) and the counts summed over CPUs.
import { pitHz } from "../arch/pit";
import { CPU_CURRENT, CPU_APIC_ID, cpuRecords, cpuAt, cpuState, cpuStateName } from "../arch/percpu";
import { klockIrqSave, klockIrqRestore } from "../arch/klock";
import { puts, putDec, putHex, newline } from "../console/console";
import { Thread, threadAt, threadStateName } from "./thread";
import { SchedCpu, schedCpuOf } from "./runqueue";
import { threadListAddress } from "./scheduler";

/** The sum over every CPU that schedules of `count` (of its SchedCpu). Any context. */
function sumOverCpus(count: (sc: SchedCpu) => u64): u64 {
  let total: u64 = 0;
  for (let i: u32 = 0; i < cpuRecords(); i++) {
    const sc = schedCpuOf(cpuAt(i));
    if (changetype<usize>(sc) != 0) total += count(sc);
  }
  return total;
}

/** Threads taken from another CPU's queue so far, on every CPU. Any context. */
export function schedMigrations(): u32 { return <u32>sumOverCpus((sc: SchedCpu): u64 => <u64>sc.migrations); }

/** Context switches so far, on every CPU. Any context. */
export function schedSwitches(): u64 { return sumOverCpus((sc: SchedCpu): u64 => sc.switches); }

/**
 * Prints every live thread, newest first, as `# ` lines (gdb's askern-threads prints the same):
 *   # threads: 2 idle ready stack 0xf8401000-0xf8405000
 * Thread context.
 */
export function threadsPrint(): void {
  for (let at = load<usize>(threadListAddress()); at != 0; at = threadAt(at).allNext) {
    const t = threadAt(at);
    puts("# threads: "); putDec(t.id); puts(" "); puts(changetype<string>(t.name)); puts(" "); puts(threadStateName(t.state));
    puts(" stack "); putHex(t.stackLow); puts("-"); putHex(t.stackHigh); newline();
  }
}

/**
 * Every live thread, a line each: id, name, state, stack, and CPU time (timer ticks it was
 * running at, in milliseconds). Thread context (the list is read with interrupts off).
 */
export function threadsTable(): void {
  const hz = <u64>pitHz();
  const flags = klockIrqSave();
  for (let at = load<usize>(threadListAddress()); at != 0; at = threadAt(at).allNext) {
    const t = threadAt(at);
    puts("thread "); putDec(t.id); puts(" '"); puts(changetype<string>(t.name)); puts("' "); puts(threadStateName(t.state));
    puts(", stack "); putHex(t.stackLow); puts("-"); putHex(t.stackHigh); puts(", on CPU "); putDec(t.cpu);
    if (t.affinity != 0) { puts(" (may run on "); putHex(t.affinity, 1); puts(")"); }
    puts(", cpu time "); putDec(<u64>t.ticks * 1000 / hz); puts(" ms\n");
  }
  klockIrqRestore(flags);
}

/**
 * Every CPU, a line each: index, APIC id, state, the thread it runs, how many wait in its
 * queue, its context switches and the threads it took from other queues. Thread context.
 */
export function cpusTable(): void {
  const flags = klockIrqSave();
  for (let i: u32 = 0; i < cpuRecords(); i++) {
    const cpu = cpuAt(i), sc = schedCpuOf(cpu);
    puts("cpu "); putDec(i); puts(": APIC id "); putDec(load<u32>(cpu, CPU_APIC_ID)); puts(i == 0 ? ", bootstrap" : "");
    puts(", "); puts(cpuStateName(cpuState(cpu)));
    if (changetype<usize>(sc) != 0 && sc.online != 0) {
      const t = changetype<Thread>(<usize>load<u32>(cpu, CPU_CURRENT));
      puts(", running '"); puts(changetype<string>(t.name)); puts("' ("); putDec(t.id); puts("), ");
      putDec(sc.queued); puts(" queued, "); putDec(sc.switches); puts(" switches, "); putDec(sc.migrations); puts(" migrations in");
    }
    newline();
  }
  klockIrqRestore(flags);
}
