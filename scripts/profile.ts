// `make profile BENCH=name`: where a benchmark's guest instructions go, by function. Boots the
// kernel twice under -icount with QEMU's translation log (-d in_asm,exec,nochain): once with
// `bench=NAME`, once with a baseline benchmark that does next to nothing (log.filtered_call),
// and prints the instructions each symbol executed in the first boot less the second's, so that
// what boot itself costs cancels out (docs/testing.md, "Profiling a benchmark").
//
//   profile.ts --kernel build/askern.elf --bench NAME [--mem MiB] [--per N] [--top K]
//
// --per N divides every figure by N (the benchmark's operations). A translated block's
// instructions are read from the in_asm part of the log; each execution of the block counts
// them, or fewer when QEMU capped the block (icount: the count in its cflags). A string
// instruction with rep runs its block once per iteration, so memset and memcpy read as their
// iterations, not as one instruction each as -icount's rdtsc counts them.
import { spawnSync } from "node:child_process";
import { createReadStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { qemuArgs } from "./qemu.ts";

interface Symbol { address: number; name: string }

/** The kernel's function symbols, by address (nm -n). */
export function symbols(elf: string): Symbol[] {
  const out = spawnSync("nm", ["-n", elf], { encoding: "utf8" });
  if (out.status !== 0) throw new Error(`nm ${elf}: ${out.stderr}`);
  const list: Symbol[] = [];
  for (const line of out.stdout.split("\n")) {
    const [address, kind, name] = line.split(" ");
    if (name && "tTwW".includes(kind)) list.push({ address: parseInt(address, 16), name });
  }
  return list;
}

/** The symbol holding `pc` (the last one at or below it), by binary search. */
export function symbolAt(list: Symbol[], pc: number): string {
  let low = 0, high = list.length - 1, found = -1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (list[mid].address <= pc) { found = mid; low = mid + 1; } else high = mid - 1;
  }
  return found < 0 ? "?" : list[found].name;
}

/**
 * Instructions executed per block start (guest pc) in a log of -d in_asm,exec,nochain: each
 * "IN:" section gives a block's instructions, each "Trace" line an execution.
 */
export async function blockCounts(log: string): Promise<Map<number, number>> {
  const size = new Map<number, number>();
  const counts = new Map<number, number>();
  let start = -1, n = 0;
  const close = () => { if (start >= 0) size.set(start, n); start = -1; n = 0; };
  const lines = createInterface({ input: createReadStream(log, { encoding: "latin1" }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.startsWith("IN:")) { close(); continue; }
    const insn = /^0x([0-9a-f]+):/.exec(line);
    if (insn) { if (start < 0) start = parseInt(insn[1], 16); n++; continue; }
    const trace = /^Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+\/([0-9a-f]+)\/[0-9a-f]+\/([0-9a-f]+)\]/.exec(line);
    if (trace) {
      close();
      const pc = parseInt(trace[1], 16), cap = parseInt(trace[2], 16) & 0x1ff;
      const k = Math.min(size.get(pc) ?? 1, cap || Infinity);
      counts.set(pc, (counts.get(pc) ?? 0) + k);
    }
  }
  return counts;
}

/** Instructions per symbol from block counts. */
export function bySymbol(list: Symbol[], counts: Map<number, number>): Map<string, number> {
  const per = new Map<string, number>();
  for (const [pc, k] of counts) {
    const name = symbolAt(list, pc);
    per.set(name, (per.get(name) ?? 0) + k);
  }
  return per;
}

function option(name: string, fallback?: string): string {
  const i = process.argv.indexOf(name);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) { console.error(`profile: ${name} is missing (usage: make profile BENCH=name [MEM=MiB] [PER=n])`); process.exit(2); }
  return fallback;
}

async function boot(kernel: string, bench: string, mem: number, dir: string): Promise<Map<number, number>> {
  const log = join(dir, `${bench}.log`);
  const args = [...qemuArgs({ kernel, cmdline: `bench=${bench}`, memoryMiB: mem, icount: true, serialFile: join(dir, `${bench}.serial`) }),
    "-d", "in_asm,exec,nochain", "-D", log];
  const run = spawnSync("qemu-system-i386", args, { stdio: "inherit", timeout: 600_000 });
  if (run.status !== 33) throw new Error(`profile: the boot with bench=${bench} ended with status ${run.status} (33 is a pass)`);
  return blockCounts(log);
}

async function main(): Promise<void> {
  const kernel = option("--kernel"), bench = option("--bench");
  const mem = Number(option("--mem", "3584")), per = Number(option("--per", "1")), top = Number(option("--top", "30"));
  if (!(mem > 0) || !(per > 0) || !(top > 0)) { console.error("profile: --mem, --per and --top take positive numbers"); process.exit(2); }
  const list = symbols(kernel);
  const dir = mkdtempSync(join(tmpdir(), "askern-profile-"));
  try {
    console.log(`profile: bench=${bench} and the baseline bench=log.filtered_call, ${mem} MiB, -icount (the logs are large: a minute or two)`);
    const measured = bySymbol(list, await boot(kernel, bench, mem, dir));
    const baseline = bySymbol(list, await boot(kernel, "log.filtered_call", mem, dir));
    const rows = [...new Set([...measured.keys(), ...baseline.keys()])]
      .map((name) => ({ name, n: (measured.get(name) ?? 0) - (baseline.get(name) ?? 0) }))
      .filter((r) => r.n > 0).sort((a, b) => b.n - a.n);
    const total = rows.reduce((sum, r) => sum + r.n, 0);
    console.log(`${"instructions".padStart(14)}${per !== 1 ? `${"per op".padStart(10)}` : ""}  share  function (bench=${bench} less the baseline)`);
    for (const r of rows.slice(0, top)) {
      console.log(`${r.n.toLocaleString("en").padStart(14)}${per !== 1 ? (r.n / per).toFixed(1).padStart(10) : ""}  ${((100 * r.n) / total).toFixed(1).padStart(4)}%  ${r.name}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith("profile.ts")) main().catch((e) => { console.error(String(e)); process.exit(1); });
