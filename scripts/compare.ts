// `make compare`: replays heap traces natively through askern's heap and kmalloc (built from the
// kernel's sources through asc + wasm2c + clang) and through glibc's malloc, jemalloc, mimalloc and
// AssemblyScript's TLSF, in one run, with the programs of scripts/compare/ (docs/compare.md).
//
//   compare.ts --programs build/compare --out build/compare.json --trace file [--trace file]...
//
// Every trace is first checked with the kernel's decoder; a malformed one is reported with its
// line and column and the run fails (after checking the others). For each trace and allocator:
//   instructions per operation  callgrind's count of compare_replay (the replay loop and the
//                               allocator, nothing else) over the trace's operations; valgrind
//                               counts guest instructions, so the figure does not vary by run
//   peak footprint              the most the allocator held beyond what it held at the start,
//                               read after every operation (each allocator's own measure:
//                               docs/compare.md), natively
//   footprint / peak live       over the largest sum of live requested bytes
// and the ratios of each to the best of the peers (glibc, jemalloc, mimalloc, TLSF). Prints a
// table per trace and writes everything, with the footprint over time, to the JSON file.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { inPairs } from "./parallel.ts";

const run = promisify(execFile);

/** Each allocator and the program it is measured in (jemalloc and mimalloc replace malloc in theirs). */
export const ALLOCATORS: Array<{ name: string; program: string; ours: boolean }> = [
  { name: "askern-heap", program: "compare-main", ours: true },
  { name: "askern-kmalloc", program: "compare-main", ours: true },
  { name: "glibc", program: "compare-main", ours: false },
  { name: "jemalloc", program: "compare-jemalloc", ours: false },
  { name: "mimalloc", program: "compare-mimalloc", ours: false },
  { name: "tlsf", program: "compare-main", ours: false },
];

export interface Result {
  trace: string;
  allocator: string;
  ours: boolean;
  ops: number;
  failed: number;              // operations the allocator refused (the replay went on without them)
  crashed?: string;            // the program stopped (the TLSF traps when its memory cannot grow): no figures
  firstFailure: number | null; // the first of them (0-based), or null
  instructions: number;
  instrPerOp: number | null;   // null: not applicable (no operations)
  peakLive: number;
  peakFootprint: number;
  footprintRatio: number | null;   // null: not applicable (nothing was ever live)
  footprintMeans: string;
  series: Array<[number, number, number]>;   // [operations done, footprint, live bytes]
  instrVsBestPeer?: number | null;       // null: not applicable (this allocator or every peer failed, or over zero)
  footprintVsBestPeer?: number | null;
}

function option(name: string, fallback = ""): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
function options(name: string): string[] {
  return process.argv.flatMap((a, i) => (a === name && i + 1 < process.argv.length ? [process.argv[i + 1]] : []));
}

/** The trace's record name: its file name without directories and extension. */
export function traceName(file: string): string { return file.replace(/^.*\//, "").replace(/\.[^.]*$/, ""); }

const round2 = (x: number) => Math.round(x * 100) / 100;
/** a / b to two decimals, or null ("not applicable") over zero or when either is. */
export const over = (a: number | null, b: number | null): number | null => (a === null || b === null || b <= 0 ? null : round2(a / b));
const shown = (v: number | null | undefined, digits: number) => (v === undefined ? "-" : v === null ? "n/a" : v.toFixed(digits));

/** Checks a trace with the kernel's decoder: null, or the program's message (file:line:column: what). */
export async function validate(programs: string, trace: string): Promise<string | null> {
  try {
    await run(join(programs, "compare-main"), ["--validate", trace]);
    return null;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return (err.stderr || err.message).trim();
  }
}

/** Instructions callgrind counts in compare_replay for one allocator over one trace. */
export async function countInstructions(programs: string, program: string, allocator: string, trace: string, scratch: string): Promise<{ ops: number; failed: number; instructions: number }> {
  const out = join(scratch, `callgrind.${allocator}.${traceName(trace)}.out`);
  const { stdout } = await run("valgrind", [
    "--tool=callgrind", `--callgrind-out-file=${out}`, "--collect-atstart=no", "--toggle-collect=compare_replay",
    join(programs, program), "--allocator", allocator, "--mode", "count", trace,
  ], { maxBuffer: 1 << 26 });
  const totals = readFileSync(out, "utf8").match(/^totals:\s+(\d+)/m);
  if (!totals) throw new Error(`compare: no callgrind totals for ${allocator} on ${trace}`);
  const report = JSON.parse(stdout);
  return { ops: report.ops, failed: report.failed, instructions: Number(totals[1]) };
}

/**
 * One allocator over one trace. A program that stops (a trap, a crash) gives a result with no
 * figures and the reason, so that the other allocators are still compared.
 */
export async function measure(programs: string, a: (typeof ALLOCATORS)[number], trace: string, scratch: string): Promise<Result> {
  try {
    return await measureOrThrow(programs, a, trace, scratch);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    const why = (err.stderr || err.message).trim().split("\n").slice(-1)[0];
    return {
      trace: traceName(trace), allocator: a.name, ours: a.ours, ops: 0, failed: 0, crashed: why, firstFailure: null,
      instructions: 0, instrPerOp: null, peakLive: 0, peakFootprint: 0, footprintRatio: null, footprintMeans: "", series: [],
    };
  }
}

async function measureOrThrow(programs: string, a: (typeof ALLOCATORS)[number], trace: string, scratch: string): Promise<Result> {
  const [count, footprint] = await Promise.all([
    countInstructions(programs, a.program, a.name, trace, scratch),
    run(join(programs, a.program), ["--allocator", a.name, "--mode", "footprint", trace], { maxBuffer: 1 << 26 }),
  ]);
  const f = JSON.parse(footprint.stdout);
  return {
    trace: traceName(trace), allocator: a.name, ours: a.ours, ops: count.ops, failed: f.failed,
    firstFailure: f.first_failure ?? null, instructions: count.instructions,
    instrPerOp: over(count.instructions, count.ops), peakLive: f.peak_live, peakFootprint: f.peak_footprint,
    footprintRatio: over(f.peak_footprint, f.peak_live), footprintMeans: f.footprint_means, series: f.series,
  };
}

/**
 * Adds each result's ratios to the best peer on its trace (lower is better for both figures).
 * Only complete runs count: an allocator that refused an operation is no peer, and its own
 * ratios are not applicable (null); so is any ratio over zero.
 */
export function addRatios(results: Result[]): void {
  for (const trace of new Set(results.map((r) => r.trace))) {
    const complete = (r: Result) => r.failed === 0 && r.crashed === undefined;
    const peers = results.filter((r) => r.trace === trace && !r.ours && complete(r));
    const instrs = peers.flatMap((p) => (p.instrPerOp === null ? [] : [p.instrPerOp]));
    const bestInstr = instrs.length ? Math.min(...instrs) : null;
    const bestFootprint = peers.length ? Math.min(...peers.map((p) => p.peakFootprint)) : null;
    for (const r of results.filter((x) => x.trace === trace)) {
      r.instrVsBestPeer = complete(r) ? over(r.instrPerOp, bestInstr) : null;
      r.footprintVsBestPeer = complete(r) ? over(r.peakFootprint, bestFootprint) : null;
    }
  }
}

/** The table for one trace, as text. */
export function traceTable(results: Result[], trace: string): string {
  const rows = results.filter((r) => r.trace === trace);
  const head = ["allocator", "instr/op", "vs best peer", "peak footprint", "footprint/live", "vs best peer", "refused"];
  const body = rows.map((r) => [
    r.allocator, shown(r.instrPerOp, 1), shown(r.instrVsBestPeer, 2), String(r.peakFootprint),
    shown(r.footprintRatio, 2), shown(r.footprintVsBestPeer, 2),
    r.crashed !== undefined ? `stopped: ${r.crashed}` : r.failed === 0 ? "0" : `${r.failed} (first: op ${r.firstFailure})`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const full = rows.find((r) => r.crashed === undefined);
  const live = full ? `, ${full.ops} operations, peak live ${full.peakLive} B` : "";
  return [`compare: ${trace}${live}`, line(head), ...body.map(line)].join("\n");
}

async function main(): Promise<void> {
  const programs = option("--programs", "build/compare");
  const out = option("--out", "build/compare.json");
  const traces = [...new Set(options("--trace"))];
  if (!traces.length) throw new Error("compare: no --trace given");
  const missing = traces.filter((t) => !existsSync(t));
  if (missing.length) throw new Error(`compare: no such trace file: ${missing.join(", ")}`);
  const bad = (await Promise.all(traces.map((t) => validate(programs, t)))).filter((m): m is string => m !== null);
  for (const message of bad) console.error(`compare: malformed trace: ${message}`);
  if (bad.length) process.exit(1);
  console.log(`compare: ${traces.length} trace(s) through ${ALLOCATORS.map((a) => a.name).join(", ")}; instructions by callgrind, footprint natively`);
  const scratch = mkdtempSync(join(tmpdir(), "askern-compare-"));
  try {
    const results = await inPairs(traces.flatMap((t) => ALLOCATORS.map((a) => () => measure(programs, a, t, scratch))));
    addRatios(results);
    for (const t of traces) console.log(`\n${traceTable(results, traceName(t))}`);
    writeFileSync(out, JSON.stringify({ allocators: ALLOCATORS, results }, null, 1) + "\n");
    console.log(`\ncompare: ratios are to the best of glibc, jemalloc, mimalloc and the TLSF on each figure; written to ${out}`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith("compare.ts")) {
  main().catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
}
