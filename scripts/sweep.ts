// `make sweep`: the RAM sweep. Boots the kernel at several RAM sizes under -icount shift=0 with
// the PMM, VMM, heap and slab benchmarks, and reports how initialisation and per-operation costs
// grow with RAM: initialisation should grow linearly (the PMM's bitmap and trees are sized by
// RAM), and every per-operation figure should stay flat.
//
//   sweep.ts --kernel build/askern.elf --out build/sweep.json [--sizes 16,128,1024,3584] [--filter names]
//
// Prints a table (one row per record, one column per size), the initialisation cost per MiB, and
// the largest spread of each per-operation record across the sizes; writes the JSON file.
import { writeFileSync } from "node:fs";
import { boot, BenchRecord } from "./qemu.ts";
import { inPairs } from "./parallel.ts";

/** The benchmarks the sweep runs at every size. */
export const SWEEP_BENCHES = "pmm.*,vmm.map_unmap_pair,vmm.fault_lazy,vmm.range_pair_1000,heap.steady,slab.pair";
/** Per-operation records whose growth is judged (each should be flat across RAM sizes). */
export const PER_OPERATION = [
  "pmm.alloc_free_pair", "pmm.free_alloc_churn", "vmm.map_unmap_pair", "vmm.fault_lazy_fa0", "vmm.range_pair_1000",
  "heap.alloc_free_pair", "slab.alloc_free_pair",
];

export interface SweepPoint { memoryMiB: number; records: BenchRecord[] }
export interface SweepSummary {
  sizes: number[];
  init: Array<{ memoryMiB: number; instructions: number; perMiB: number }>;
  perOperation: Array<{ name: string; values: Array<number | null>; spread: number }>;
}

function option(name: string, fallback = ""): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/**
 * The sweep's findings from its points: the PMM's initialisation at each size (and per MiB), and
 * each per-operation record at each size with its spread (largest over smallest).
 */
export function summarize(points: SweepPoint[]): SweepSummary {
  const sizes = points.map((p) => p.memoryMiB);
  const init = points.flatMap((p) => {
    const r = p.records.find((x) => x.name === `pmm.init_${p.memoryMiB}m`);
    return r && r.value !== null ? [{ memoryMiB: p.memoryMiB, instructions: r.value, perMiB: Math.round(r.value / p.memoryMiB) }] : [];
  });
  const perOperation = PER_OPERATION.map((name) => {
    const values = points.map((p) => p.records.find((x) => x.name === name)?.value ?? null);
    const present = values.filter((v): v is number => v !== null && v > 0);
    const spread = present.length ? Math.round((Math.max(...present) / Math.min(...present)) * 100) / 100 : 0;
    return { name, values, spread };
  });
  return { sizes, init, perOperation };
}

/** The summary as text: the initialisation rows, then the per-operation rows. */
export function sweepTable(s: SweepSummary): string {
  const cell = (v: number | null | string) => String(v ?? "-").padStart(12);
  const lines = [`${"record".padEnd(28)}${s.sizes.map((m) => cell(`${m} MiB`)).join("")}${cell("spread")}`];
  lines.push(`${"pmm.init (instructions)".padEnd(28)}${s.sizes.map((m) => cell(s.init.find((i) => i.memoryMiB === m)?.instructions ?? null)).join("")}`);
  lines.push(`${"pmm.init per MiB".padEnd(28)}${s.sizes.map((m) => cell(s.init.find((i) => i.memoryMiB === m)?.perMiB ?? null)).join("")}`);
  for (const r of s.perOperation) lines.push(`${r.name.padEnd(28)}${r.values.map(cell).join("")}${cell(r.spread.toFixed(2))}`);
  return lines.join("\n");
}

async function main(): Promise<void> {
  const kernel = option("--kernel", "build/askern.elf");
  const out = option("--out", "build/sweep.json");
  const sizes = option("--sizes", "16,128,1024,3584").split(",").map(Number);
  const filter = option("--filter", SWEEP_BENCHES);
  console.log(`sweep: ${kernel} with 'bench=${filter}' at ${sizes.join(", ")} MiB, -icount shift=0`);
  const results = await inPairs(sizes.map((m) => () => boot({ kernel, memoryMiB: m, cmdline: `bench=${filter}`, icount: true, timeoutMs: 900_000 })));
  const points: SweepPoint[] = results.map((r, i) => {
    if (r.status !== "pass") { console.error(r.serial.split("\n").slice(-40).join("\n")); throw new Error(`sweep: the ${sizes[i]} MiB boot ended ${r.status}`); }
    return { memoryMiB: sizes[i], records: r.benches };
  });
  const summary = summarize(points);
  console.log(sweepTable(summary));
  writeFileSync(out, JSON.stringify({ points, summary }, null, 1) + "\n");
  console.log(`sweep: written to ${out}`);
}

if (process.argv[1]?.endsWith("sweep.ts")) {
  main().catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
}
