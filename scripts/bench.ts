// `make bench`: boots with `test=all bench` under -icount shift=0 (rdtsc counts guest
// instructions, so every figure repeats exactly), collects the BENCH records into a JSON array,
// and prints a table.
//   bench.ts --kernel build/askern.elf --out build/bench.json [--mem 3584] [--filter name,prefix.*]
import { writeFileSync } from "node:fs";
import { boot, BenchRecord } from "./qemu.ts";

function option(name: string, fallback = ""): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** Formats records as an aligned text table. */
export function benchTable(records: BenchRecord[]): string {
  const width = Math.max(4, ...records.map((r) => r.name.length));
  const rows = records.map((r) => `${r.name.padEnd(width)}  ${String(r.value).padStart(14)}  ${r.unit}`);
  return [`${"name".padEnd(width)}  ${"value".padStart(14)}  unit`, ...rows].join("\n");
}

async function main(): Promise<void> {
  const kernel = option("--kernel", "build/askern.elf");
  const out = option("--out", "build/bench.json");
  const memoryMiB = Number(option("--mem", "3584"));
  const filter = option("--filter");
  const cmdline = `test=all bench${filter ? `=${filter}` : ""} seed=1`;
  console.log(`bench: booting ${kernel} with '${cmdline}', ${memoryMiB} MiB, -icount shift=0`);
  const result = await boot({ kernel, memoryMiB, cmdline, icount: true, timeoutMs: 600_000 });
  if (result.status !== "pass") {
    console.error(result.serial);
    throw new Error(`bench: the benchmark boot ended with status ${result.status}`);
  }
  const records: BenchRecord[] = [...result.benches];
  if (result.bootInstructions !== null) {
    records.push({ name: "boot.entry_to_selftest_end", unit: "instr", value: result.bootInstructions });
  }
  writeFileSync(out, JSON.stringify(records, null, 2) + "\n");
  console.log(benchTable(records));
  console.log(`bench: ${records.length} records written to ${out}`);
}

if (process.argv[1]?.endsWith("bench.ts")) await main();
