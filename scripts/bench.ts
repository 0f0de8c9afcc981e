// `make bench` and `make replay`. Every boot runs under -icount shift=0 (rdtsc counts guest
// instructions, so every figure repeats exactly); BENCH records are collected from serial.
//
//   bench.ts --kernel build/askern.elf --tlsf-kernel build/tlsf/askern.elf --out build/bench.json
//            [--trace file]... [--mem 3584] [--filter name,prefix.*]
//     boots the kernel once with `test=all bench` and the traces as multiboot modules, once with
//     `bench=smp.* smp=on` at -smp 4 (the SMP benchmarks), and the
//     TLSF variant (Makefile) once per heap workload, since AssemblyScript's TLSF cannot be reset
//     between workloads; adds the comparison records, prints a table and the targets of the
//     issues, and writes every record to the JSON file.
//   bench.ts --replay --kernel ... --tlsf-kernel ... --trace file
//     replays one trace through both allocators (exit status 1 if the trace is malformed).
import { existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { boot, BenchRecord, BootResult, userPrograms } from "./qemu.ts";
import { inPairs } from "./parallel.ts";

function option(name: string, fallback = ""): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
function options(name: string): string[] {
  return process.argv.flatMap((a, i) => (a === name && i + 1 < process.argv.length ? [process.argv[i + 1]] : []));
}

/** Formats records as an aligned text table. */
export function benchTable(records: BenchRecord[]): string {
  const width = Math.max(4, ...records.map((r) => r.name.length));
  const rows = records.map((r) => `${r.name.padEnd(width)}  ${(r.value === null ? "n/a" : String(r.value)).padStart(14)}  ${r.unit}`);
  return [`${"name".padEnd(width)}  ${"value".padStart(14)}  unit`, ...rows].join("\n");
}

/** A trace's record name: the file name without directories and extension. */
export function traceName(file: string): string {
  return file.replace(/^.*\//, "").replace(/\.[^.]*$/, "").replace(/ .*/, "");
}

/**
 * The records comparing our heap with the TLSF: ours / theirs for each pair that both have. A
 * ratio over zero, or of a figure that is itself not applicable, is null: "not applicable".
 */
export function comparisons(records: BenchRecord[]): BenchRecord[] {
  const value = (name: string) => records.find((r) => r.name === name)?.value;
  const out: BenchRecord[] = [];
  const ratio = (name: string, ours: string, theirs: string) => {
    const a = value(ours), b = value(theirs);
    if (a === undefined || b === undefined) return;
    out.push({ name, unit: "ratio", value: a === null || b === null || b <= 0 ? null : Math.round((a / b) * 100) / 100 });
  };
  ratio("heap.alloc_free_pair_vs_tlsf", "heap.alloc_free_pair", "tlsf.alloc_free_pair");
  ratio("heap.alloc_free_pair_uniform_vs_tlsf", "heap.alloc_free_pair_uniform", "tlsf.alloc_free_pair_uniform");
  ratio("kmalloc64.alloc_free_pair_vs_heap", "kmalloc64.alloc_free_pair", "heap64.alloc_free_pair");
  ratio("kmalloc64.alloc_free_pair_vs_tlsf", "kmalloc64.alloc_free_pair", "tlsf64.alloc_free_pair");
  ratio("slab.alloc_free_pair_vs_tlsf", "slab.alloc_free_pair", "tlsf64.alloc_free_pair");
  const traces = new Set(records.flatMap((r) => { const m = r.name.match(/^trace\.(.+)\.instr_per_op$/); return m ? [m[1]] : []; }));
  for (const t of traces) {
    ratio(`trace.${t}.instr_per_op_vs_tlsf`, `trace.${t}.instr_per_op`, `trace.${t}.tlsf_instr_per_op`);
    ratio(`trace.${t}.footprint_vs_tlsf`, `trace.${t}.peak_footprint`, `trace.${t}.tlsf_peak_footprint`);
  }
  return out;
}

/** The hot paths with a C twin (kernel/bench/fidelity.ts): each reports fidelity.NAME.as, .c and .ratio. */
export const FIDELITY_PATHS = ["slab_pair", "kmalloc_pair", "pmm_pair", "heap_pair"];

/**
 * The issues' targets, checked against the records: one line each, "met" or "MISSED". A record
 * that is absent is MISSED (unless `filtered`: the run left it out on purpose), and one that is
 * not applicable (null) is MISSED too: neither ever counts as met.
 */
export function targetReport(records: BenchRecord[], filtered = false): string[] {
  const find = (name: string) => records.find((r) => r.name === name);
  const lines: string[] = [];
  const check = (what: string, name: string, ok: (v: number) => boolean) => {
    const r = find(name);
    if (r === undefined) { if (!filtered) lines.push(`MISSED  ${what}: ${name} is absent`); return; }
    if (r.value === null) { lines.push(`MISSED  ${what}: ${name} is not applicable`); return; }
    lines.push(`${ok(r.value) ? "met   " : "MISSED"}  ${what}: ${name} = ${r.value}`);
  };
  check("<= 100", "pmm.alloc_free_pair", (v) => v <= 100);
  check("<= 150", "vmm.map_unmap_pair", (v) => v <= 150);
  check("<= 1500", "vmm.fault_lazy_fa0", (v) => v <= 1500);
  check("<= 200", "heap.alloc_free_pair", (v) => v <= 200);
  check("<= 400", "heap.op_worst", (v) => v <= 400);
  check("< 1 (fewer instructions than the TLSF)", "heap.alloc_free_pair_vs_tlsf", (v) => v < 1);
  check("<= 40", "slab.alloc_free_pair", (v) => v <= 40);
  check("<= 60", "kmalloc64.alloc_free_pair", (v) => v <= 60);
  check("<= 12", "arena.alloc", (v) => v <= 12);
  check("<= 20", "arena.mark_release_pair", (v) => v <= 20);
  check("<= 3", "kfence.fastpath_cost", (v) => v <= 3);
  check("<= 1.10", "slab.footprint_ratio_100k_64", (v) => v <= 1.1);
  // the threads issue: the safety in every context must cost little
  check("<= 250", "sched.switch", (v) => v <= 250);
  check("<= 400", "sched.wakeup", (v) => v <= 400);
  check("<= 60", "irq.kmalloc64_pair", (v) => v <= 60);
  check("<= 20", "mutex.uncontended_pair", (v) => v <= 20);
  check("<= 12", "spin.irqsave_pair", (v) => v <= 12);
  check("<= 110", "irq.round_trip", (v) => v <= 110);
  // the SMP issue: per-CPU fast paths at most 3 instructions above the single-CPU figures
  // measured before it (4715b05: 31, 50, 93), and a shootdown with 3 other CPUs
  check("<= 34 (31 before SMP, + 3)", "slab.alloc_free_pair", (v) => v <= 34);
  check("<= 53 (50 before SMP, + 3)", "kmalloc64.alloc_free_pair", (v) => v <= 53);
  check("<= 96 (93 before SMP, + 3)", "pmm.alloc_free_pair", (v) => v <= 96);
  check("<= 3000", "smp.shootdown", (v) => v <= 3000);
  check("reported", "smp.remote_free_pair", () => true);
  // the memory-pressure issue
  check("<= 500", "reclaim.cost_per_page", (v) => v <= 500);
  // the processes issue
  check("<= 150", "proc.syscall_round_trip", (v) => v <= 150);
  check("<= 500", "proc.anon_fault", (v) => v <= 500);
  check("<= 800", "proc.cow_fault", (v) => v <= 800);
  check("<= 600", "proc.mmap_munmap_pair", (v) => v <= 600);
  check("<= 60000", "proc.fork_exit_wait_1m", (v) => v <= 60000);
  // the real-workloads issue (25): raised targets, and the AssemblyScript within 10 % of its C twins
  check("<= 24", "slab.alloc_free_pair", (v) => v <= 24);
  check("<= 32", "kmalloc64.alloc_free_pair", (v) => v <= 32);
  check("<= 150", "heap.alloc_free_pair", (v) => v <= 150);
  check("<= 350", "heap.op_worst", (v) => v <= 350);
  check("<= 80", "pmm.alloc_free_pair", (v) => v <= 80);
  check("<= 350", "vmm.fault_lazy_fa0", (v) => v <= 350);
  check("<= 400", "vmm.range_pair_1000", (v) => v <= 400);
  for (const name of FIDELITY_PATHS) check("<= 1.10 (AssemblyScript / C twin)", `fidelity.${name}.ratio`, (v) => v <= 1.1);
  for (const r of records) {
    const m = r.name.match(/^trace\.(.+)\.footprint_ratio$/);
    if (m) check("<= 1.25", r.name, (v) => v <= 1.25);
    const c = r.name.match(/^trace\.(.+)\.instr_per_op_vs_tlsf$/);
    if (c) check("< 1 (fewer instructions than the TLSF)", r.name, (v) => v < 1);
    const f = r.name.match(/^trace\.(.+)\.footprint_vs_tlsf$/);
    if (f) check("<= 1 (no more footprint than the TLSF)", r.name, (v) => v <= 1);
    if (f) check("<= 1.10 (issue 25: every trace)", r.name, (v) => v <= 1.1);
  }
  return lines;
}

function mustPass(result: BootResult, what: string): void {
  if (result.status !== "pass") {
    console.error(result.serial);
    throw new Error(`bench: ${what} ended with status ${result.status}`);
  }
}

/** The lines of a replay boot worth showing: the replay's own messages and the heap statistics. */
function replayLines(serial: string): string {
  return serial.split(/\r?\n/).filter((l) => l.startsWith("replay") || l.startsWith("# replay heap")).join("\n");
}

/** The CPUs of the SMP benchmarks' boot (the issue's "3 other CPUs running"). */
const SMP_CPUS = 4;

async function bench(): Promise<void> {
  const kernel = option("--kernel", "build/askern.elf");
  const tlsfKernel = option("--tlsf-kernel", "build/tlsf/askern.elf");
  const out = option("--out", "build/bench.json");
  const memoryMiB = Number(option("--mem", "3584"));
  const filter = option("--filter");
  const traces = options("--trace");
  const missing = traces.filter((t) => !existsSync(t));
  if (missing.length) throw new Error(`bench: no such trace file: ${missing.join(", ")}`);
  const cmdline = `test=all bench${filter ? `=${filter}` : ""} seed=1`;
  console.log(`bench: booting ${kernel} with '${cmdline}', ${memoryMiB} MiB, -icount shift=0, ${traces.length} trace(s) as modules`);
  const tlsfRuns: Array<{ what: string; cmdline: string; modules: string[] }> = filter ? [] : [
    { what: "heap.steady", cmdline: "bench=heap.steady", modules: [] },
    { what: "heap.steady_uniform", cmdline: "bench=heap.steady_uniform", modules: [] },
    { what: "slab.kmalloc64", cmdline: "bench=slab.kmalloc64", modules: [] },
    ...traces.map((t) => ({ what: `trace ${t}`, cmdline: "bench=trace", modules: [t] })),
  ];
  if (tlsfRuns.length) console.log(`bench: and ${tlsfKernel} (AssemblyScript's TLSF) once per workload: ${tlsfRuns.length} boots`);
  // the SMP benchmarks need CPUs that schedule: a boot of their own at -smp 4 with smp=on
  const smpCmdline = `bench=smp.* smp=on seed=1`;
  const smpRun = !filter || filter.split(",").some((f) => f.startsWith("smp"));
  if (smpRun) console.log(`bench: and ${kernel} with '${smpCmdline}' at -smp ${SMP_CPUS}`);
  const jobs: Array<() => Promise<BootResult>> = [
    () => boot({ kernel, memoryMiB, cmdline, icount: true, modules: [...userPrograms(join(dirname(kernel), "user")), ...traces], timeoutMs: 1_200_000 }),
    ...(smpRun ? [() => boot({ kernel, memoryMiB, cmdline: smpCmdline, icount: true, smp: SMP_CPUS, timeoutMs: 600_000 })] : []),
    ...tlsfRuns.map((r) => () => boot({ kernel: tlsfKernel, memoryMiB, cmdline: r.cmdline, icount: true, modules: r.modules, timeoutMs: 600_000 })),
  ];
  const results = await inPairs(jobs);
  mustPass(results[0], "the benchmark boot");
  if (smpRun) {
    mustPass(results[1], "the SMP benchmark boot");
    results.splice(1, 1).forEach((r) => results[0].benches.push(...r.benches));
  }
  results.slice(1).forEach((r, i) => mustPass(r, `the TLSF boot for ${tlsfRuns[i].what}`));
  const records: BenchRecord[] = [...results[0].benches];
  if (results[0].bootInstructions !== null) {
    records.push({ name: "boot.entry_to_selftest_end", unit: "instr", value: results[0].bootInstructions });
  }
  for (const r of results.slice(1)) records.push(...r.benches);
  // every trace must have been replayed by both allocators (a module the loader dropped, say)
  for (const t of traces) {
    for (const name of [`trace.${traceName(t)}.instr_per_op`, `trace.${traceName(t)}.tlsf_instr_per_op`]) {
      if (!filter && !records.some((r) => r.name === name)) throw new Error(`bench: no record ${name} for ${t}`);
    }
  }
  records.push(...comparisons(records));
  writeFileSync(out, JSON.stringify(records, null, 2) + "\n");
  console.log(benchTable(records));
  console.log(`bench: ${records.length} records written to ${out}`);
  const targets = targetReport(records, filter !== "");
  if (targets.length) console.log(["bench: targets", ...targets.map((t) => `  ${t}`)].join("\n"));
}

async function replay(): Promise<void> {
  const kernel = option("--kernel", "build/askern.elf");
  const tlsfKernel = option("--tlsf-kernel", "build/tlsf/askern.elf");
  const memoryMiB = Number(option("--mem", "3584"));
  const [trace] = options("--trace");
  if (!trace || !existsSync(trace)) {
    console.error(`replay: no such trace file: ${trace ?? "(none given: make replay TRACE=file)"}`);
    process.exitCode = 1;
    return;
  }
  console.log(`replay: ${trace} through our heap (${kernel}) and AssemblyScript's TLSF (${tlsfKernel}), ${memoryMiB} MiB, -icount shift=0`);
  const [ours, theirs] = await Promise.all([kernel, tlsfKernel].map((k) =>
    boot({ kernel: k, memoryMiB, cmdline: "bench=trace", icount: true, modules: [trace], timeoutMs: 1_200_000 })));
  console.log(replayLines(ours.serial));
  if (ours.status !== "pass" || theirs.status !== "pass") {
    if (ours.status === "pass") console.log(replayLines(theirs.serial));
    console.error(`replay: failed (our heap: ${ours.status}, TLSF: ${theirs.status})`);
    process.exitCode = 1;
    return;
  }
  const records = [...ours.benches, ...theirs.benches];
  records.push(...comparisons(records));
  console.log(benchTable(records));
}

if (process.argv[1]?.endsWith("bench.ts")) await (process.argv.includes("--replay") ? replay() : bench());
