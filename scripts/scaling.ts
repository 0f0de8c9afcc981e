// `make scaling`: throughput at 1, 2 and 4 CPUs under multi-threaded TCG (docs/smp.md, "The
// stress on every CPU, and scaling"). Boots the kernel once per CPU count, one boot after
// another (two at once would share the host's cores), with `smp=on`, for each of
//   concurrency.stress    the threads issue's stress: 8 threads, the timer interrupt, the
//                         mailbox and processes, every allocator (most of it under the kernel lock)
//   concurrency.scaling   a worker pinned to each CPU, the per-CPU caches' mix only
// and reports each one's throughput (operations per million rdtsc ticks: under MTTCG rdtsc
// follows the host's clock; the best of --runs boots, since a shared host's load moves single
// runs by half) and its ratio to one CPU. The ratios say what the host allows: with
// two host cores, four virtual CPUs take turns on them.
//
//   scaling.ts --kernel build/askern.elf --out build/scaling.json [--cpus 1,2,4] [--runs 3]
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { boot, BenchRecord, userPrograms } from "./qemu.ts";

/** RAM for the boots: with high memory, single frames come from the per-CPU frame lists (below 896 MiB every frame is the bitmap's, under the kernel lock). */
const MEMORY_MIB = 3584;

function option(name: string, fallback = ""): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** The two throughputs one boot printed, or null for a line that is missing. */
export function throughputs(serial: string): { stress: number | null; scaling: number | null } {
  const stress = serial.match(/# stress: throughput (\d+) thread operations per million rdtsc ticks/);
  const scaling = serial.match(/# scaling: throughput (\d+) operations per million rdtsc ticks/);
  return { stress: stress ? Number(stress[1]) : null, scaling: scaling ? Number(scaling[1]) : null };
}

/** Records for each CPU count: the throughputs and their ratios to the first count's (null without a base). */
export function scalingRecords(points: Array<{ cpus: number; stress: number | null; scaling: number | null }>): BenchRecord[] {
  const out: BenchRecord[] = [];
  const base = points[0];
  const ratio = (v: number | null, b: number | null) => (v === null || b === null || b <= 0 ? null : Math.round((v / b) * 100) / 100);
  for (const p of points) {
    for (const what of ["stress", "scaling"] as const) {
      out.push({ name: `scaling.${what}.cpus${p.cpus}`, unit: "ops/Mtick", value: p[what] });
      out.push({ name: `scaling.${what}.cpus${p.cpus}_ratio`, unit: "ratio", value: ratio(p[what], base[what]) });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const kernel = option("--kernel", "build/askern.elf");
  const out = option("--out", "build/scaling.json");
  const counts = option("--cpus", "1,2,4").split(",").map(Number);
  const runs = Number(option("--runs", "3"));
  const tests = ["concurrency.scaling", "concurrency.stress"];
  console.log(`scaling: booting ${kernel} with 'test=T smp=on seed=1' for T in ${tests.join(", ")}, at -smp ${counts.join(", ")} under -accel tcg,thread=multi, one boot after another`);
  const points: Array<{ cpus: number; stress: number | null; scaling: number | null }> = [];
  for (const cpus of counts) {
    const point: { cpus: number; stress: number | null; scaling: number | null } = { cpus, stress: null, scaling: null };
    for (const test of tests) {   // (a boot each: neither runs on what the other left)
      for (let run = 0; run < runs; run++) {
        const r = await boot({ kernel, cmdline: `test=${test} smp=on seed=1 watchdog=600`, smp: cpus, mttcg: true, memoryMiB: MEMORY_MIB, modules: userPrograms(join(dirname(kernel), "user")), timeoutMs: 1_800_000 });
        if (r.status !== "pass") {
          console.error(r.serial.split(/\r?\n/).slice(-40).join("\n"));
          throw new Error(`scaling: ${test} at -smp ${cpus} ended with status ${r.status}`);
        }
        const t = throughputs(r.serial);
        for (const what of ["stress", "scaling"] as const) {
          const v = t[what];
          if (v !== null && (point[what] === null || v > point[what]!)) point[what] = v;
        }
        console.log(`scaling: ${test} at -smp ${cpus}, run ${run + 1}: ${(r.durationMs / 1000).toFixed(1)} s`);
      }
    }
    points.push(point);
  }
  const records = scalingRecords(points);
  writeFileSync(out, JSON.stringify(records, null, 2) + "\n");
  const width = Math.max(...records.map((r) => r.name.length));
  for (const r of records) console.log(`${r.name.padEnd(width)}  ${String(r.value ?? "n/a").padStart(8)}  ${r.unit}`);
  console.log(`scaling: ${records.length} records written to ${out}`);
}

if (process.argv[1]?.endsWith("scaling.ts")) await main();
