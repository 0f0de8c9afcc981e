// `make report`: the visual report, build/report/index.html with hand-written SVG charts beside it.
//
//   report.ts --out build/report --bench build/bench.json --compare build/compare.json
//             --sweep build/sweep.json --kernel build/askern.elf [--mem 128]
//
// It shows the benchmark table of `make bench` with the ratios to the TLSF; bars of instructions
// per operation and of footprint over peak live per trace and allocator (`make compare`); the
// footprint over time of each allocator on each trace; a picture of physical memory after boot
// and the self-tests (the kernel's `physmap` dump from a boot made here); and the RAM sweep
// (`make sweep`). Every chart is its own .svg file, so a missing one shows as a broken image
// (test/scripts/report.test.ts opens the page in headless Chromium and checks every image).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { boot, BenchRecord } from "./qemu.ts";
import type { Result } from "./compare.ts";
import type { SweepSummary } from "./sweep.ts";

// --- charts ---------------------------------------------------------------------------------

const FONT = `font-family="sans-serif" font-size="12"`;
const escape = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
/** A number for a label: at most 3 significant digits after the point, thousands grouped. */
export const label = (v: number) => (Math.abs(v) >= 100 ? Math.round(v).toLocaleString("en") : String(Math.round(v * 100) / 100));

export interface Bar { label: string; value: number; ours: boolean }

/** A horizontal bar chart, one bar per row; ours in a darker colour. */
export function barChart(title: string, unit: string, bars: Bar[]): string {
  const rowHeight = 22, left = 130, width = 530, top = 30, chart = width - left - 80;   // two fit side by side
  const max = Math.max(...bars.map((b) => b.value), 1e-9);
  const height = top + bars.length * rowHeight + 10;
  const rows = bars.map((b, i) => {
    const y = top + i * rowHeight, w = Math.max(1, (b.value / max) * chart);
    return `<text x="${left - 8}" y="${y + 15}" text-anchor="end" ${FONT}>${escape(b.label)}</text>` +
      `<rect x="${left}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowHeight - 6}" fill="${b.ours ? "#1f5fa8" : "#9db4cc"}"/>` +
      `<text x="${(left + w + 6).toFixed(1)}" y="${y + 15}" ${FONT}>${label(b.value)}</text>`;
  });
  return svg(width, height, `<text x="10" y="18" ${FONT} font-weight="bold">${escape(title)} (${escape(unit)})</text>${rows.join("")}`);
}

export interface Series { name: string; points: Array<[number, number]>; colour: string; dashed?: boolean }

/** A line chart of several series over the same x axis, from zero, with a legend. */
export function lineChart(title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const width = 640, height = 300, left = 80, right = 150, top = 30, bottom = 40;
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(...all.map((p) => p[0]), 1), yMax = Math.max(...all.map((p) => p[1]), 1e-9);
  const x = (v: number) => left + (v / xMax) * (width - left - right);
  const y = (v: number) => height - bottom - (v / yMax) * (height - top - bottom);
  const lines = series.map((s, i) => {
    const d = s.points.map((p, j) => `${j ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join("");
    return `<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="1.6"${s.dashed ? ` stroke-dasharray="4 3"` : ""}/>` +
      `<line x1="${width - right + 10}" x2="${width - right + 30}" y1="${top + 8 + i * 18}" y2="${top + 8 + i * 18}" stroke="${s.colour}" stroke-width="2"${s.dashed ? ` stroke-dasharray="4 3"` : ""}/>` +
      `<text x="${width - right + 36}" y="${top + 12 + i * 18}" ${FONT}>${escape(s.name)}</text>`;
  });
  const axes = `<line x1="${left}" y1="${height - bottom}" x2="${width - right}" y2="${height - bottom}" stroke="#444"/>` +
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${height - bottom}" stroke="#444"/>` +
    `<text x="${left}" y="${height - bottom + 16}" ${FONT}>0</text>` +
    `<text x="${width - right}" y="${height - bottom + 16}" text-anchor="end" ${FONT}>${label(xMax)}</text>` +
    `<text x="${(left + width - right) / 2}" y="${height - 8}" text-anchor="middle" ${FONT}>${escape(xLabel)}</text>` +
    `<text x="${left - 6}" y="${top + 4}" text-anchor="end" ${FONT}>${label(yMax)}</text>` +
    `<text x="${left - 6}" y="${height - bottom}" text-anchor="end" ${FONT}>0</text>` +
    `<text x="14" y="${(top + height - bottom) / 2}" transform="rotate(-90 14 ${(top + height - bottom) / 2})" text-anchor="middle" ${FONT}>${escape(yLabel)}</text>`;
  return svg(width, height, `<text x="10" y="18" ${FONT} font-weight="bold">${escape(title)}</text>${axes}${lines.join("")}`);
}

function svg(width: number, height: number, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    `<rect width="100%" height="100%" fill="#fff"/>${body}</svg>\n`;
}

// --- the physical memory picture ------------------------------------------------------------

export interface PhysRun { first: number; frames: number; kind: string }
export const PHYS_COLOURS: Record<string, string> = {
  free: "#e8eef3", kernel: "#c0392b", reserved: "#7f8c8d", heap: "#1f5fa8", slab: "#27ae60", other: "#e67e22",
};

/** The runs of a `physmap` dump in a boot's serial output (kernel/mm/debug/physmap.ts). */
export function parsePhysmap(serial: string): { total: number; runs: PhysRun[] } {
  const total = serial.match(/^physmap: frames (\d+)/m);
  if (!total || !/^physmap: end/m.test(serial)) throw new Error("report: no complete physmap dump in the boot's output");
  const runs = [...serial.matchAll(/^physmap: 0x([0-9a-f]+) (\d+) (\w+)/gm)].map((m) => ({ first: parseInt(m[1], 16), frames: Number(m[2]), kind: m[3] }));
  return { total: Number(total[1]), runs };
}

/** Physical memory as rows of 1 MiB (256 frames), each frame a cell coloured by its kind. */
export function physmapChart(total: number, runs: PhysRun[]): string {
  const perRow = 256, cell = 2, left = 70, top = 30;
  const rows = Math.ceil(total / perRow);
  // tall memories fold into several columns of rows, so the picture stays on a screen
  const rowsPerColumn = Math.min(rows, 256), columns = Math.ceil(rows / rowsPerColumn);
  const columnWidth = perRow * cell + left;
  const rects: string[] = [];
  for (const r of runs) {
    let f = r.first;
    const end = r.first + r.frames;
    while (f < end) {
      const row = Math.floor(f / perRow), rowEnd = Math.min(end, (row + 1) * perRow);
      const column = Math.floor(row / rowsPerColumn);
      const x = column * columnWidth + left + (f % perRow) * cell, y = top + (row % rowsPerColumn) * cell;
      rects.push(`<rect x="${x}" y="${y}" width="${(rowEnd - f) * cell}" height="${cell}" fill="${PHYS_COLOURS[r.kind] ?? "#000"}"/>`);
      f = rowEnd;
    }
  }
  const marks: string[] = [];
  for (let row = 0; row < rows; row += 16) {
    const column = Math.floor(row / rowsPerColumn);
    marks.push(`<text x="${column * columnWidth + left - 6}" y="${top + (row % rowsPerColumn) * cell + 8}" text-anchor="end" ${FONT}>${row} MiB</text>`);
  }
  const legendY = top + rowsPerColumn * cell + 20;
  const counts = new Map<string, number>();
  for (const r of runs) counts.set(r.kind, (counts.get(r.kind) ?? 0) + r.frames);
  const legend = Object.entries(PHYS_COLOURS).map(([kind, colour], i) =>
    `<rect x="${10 + i * 150}" y="${legendY}" width="12" height="12" fill="${colour}" stroke="#444"/>` +
    `<text x="${28 + i * 150}" y="${legendY + 11}" ${FONT}>${kind} (${counts.get(kind) ?? 0})</text>`);
  const width = Math.max(columns * columnWidth + 10, 920), height = legendY + 30;
  return svg(width, height, `<text x="10" y="18" ${FONT} font-weight="bold">Physical memory: ${total} frames, 1 MiB a row, a frame a cell (frames of each kind in the legend)</text>${rects.join("")}${marks.join("")}${legend.join("")}`);
}

// --- the page -------------------------------------------------------------------------------

const ALLOCATOR_COLOURS: Record<string, string> = {
  "askern-heap": "#1f5fa8", "askern-kmalloc": "#5dade2", glibc: "#c0392b", jemalloc: "#8e44ad", mimalloc: "#27ae60", tlsf: "#e67e22",
};

function option(name: string, fallback = ""): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

/** The TLSF's record for our record `name`, if it has one: trace.T.x -> trace.T.tlsf_x, heap.x -> tlsf.x, kmalloc64.x -> tlsf64.x. */
export function tlsfPeerName(name: string): string | null {
  const trace = name.match(/^trace\.([^.]+)\.(.+)$/);
  if (trace) return `trace.${trace[1]}.tlsf_${trace[2]}`;
  if (name.startsWith("heap.")) return `tlsf.${name.slice(5)}`;
  if (name.startsWith("kmalloc64.")) return `tlsf64.${name.slice(10)}`;
  return null;
}

/** A record's value as recorded (every decimal kept), thousands grouped. */
const figure = (v: number | null) => (v === null ? "n/a" : v.toLocaleString("en", { maximumFractionDigits: 2 }));

/** The benchmark records as an HTML table, with the TLSF's figure and ours / TLSF beside each that has them. */
export function benchTableHtml(records: BenchRecord[]): string {
  const value = new Map(records.map((r) => [r.name, r]));
  const ours = records.filter((r) => !/_vs_(tlsf|heap)$/.test(r.name) && !/\.tlsf_|^tlsf/.test(r.name));
  const rows = ours.map((r) => {
    const peerName = tlsfPeerName(r.name);
    const tlsf = peerName ? value.get(peerName) : undefined;
    const ratio = value.get(`${r.name.replace(/\.peak_footprint$/, ".footprint")}_vs_tlsf`);
    return `<tr><td>${escape(r.name)}</td><td class="n">${figure(r.value)}</td><td>${escape(r.unit)}</td>` +
      `<td class="n">${tlsf ? figure(tlsf.value) : ""}</td><td class="n">${ratio ? (ratio.value === null ? "n/a" : ratio.value.toFixed(2)) : ""}</td></tr>`;
  });
  return `<table><tr><th>record</th><th>value</th><th>unit</th><th>TLSF</th><th>ours / TLSF</th></tr>${rows.join("")}</table>`;
}

export interface ReportInputs { bench: BenchRecord[]; compare: Result[]; sweep: SweepSummary; physmap: { total: number; runs: PhysRun[] }; memoryMiB: number }

/** Writes index.html and its SVG files into `dir`; returns the SVG files' names. */
export function writeReport(dir: string, inputs: ReportInputs): string[] {
  mkdirSync(dir, { recursive: true });
  const files: Array<[string, string]> = [];
  const traces = [...new Set(inputs.compare.map((r) => r.trace))];
  for (const t of traces) {
    const rows = inputs.compare.filter((r) => r.trace === t);
    files.push([`instr-${t}.svg`, barChart(`${t}: instructions per operation`, "callgrind", rows.flatMap((r) => (r.instrPerOp === null ? [] : [{ label: r.allocator, value: r.instrPerOp, ours: r.ours }])))]);
    files.push([`footprint-${t}.svg`, barChart(`${t}: peak footprint / peak live`, "ratio", rows.flatMap((r) => (r.footprintRatio === null ? [] : [{ label: r.allocator, value: r.footprintRatio, ours: r.ours }])))]);
    const series: Series[] = rows.map((r) => ({ name: r.allocator, colour: ALLOCATOR_COLOURS[r.allocator] ?? "#000", points: r.series.map((p) => [p[0], p[1] / 1048576] as [number, number]) }));
    if (rows[0]) series.push({ name: "live bytes", colour: "#333", dashed: true, points: rows[0].series.map((p) => [p[0], p[2] / 1048576] as [number, number]) });
    files.push([`over-time-${t}.svg`, lineChart(`${t}: footprint over the replay`, "operations", "MiB", series)]);
  }
  files.push(["physmap.svg", physmapChart(inputs.physmap.total, inputs.physmap.runs)]);
  const sizes = inputs.sweep.sizes;
  files.push(["sweep-init.svg", lineChart("PMM initialisation against RAM", "MiB of RAM", "instructions",
    [{ name: "pmm.init", colour: "#1f5fa8", points: inputs.sweep.init.map((i) => [i.memoryMiB, i.instructions] as [number, number]) }])]);
  const palette = ["#1f5fa8", "#c0392b", "#27ae60", "#8e44ad", "#e67e22", "#16a085", "#7f8c8d"];
  files.push(["sweep-ops.svg", lineChart("Per-operation costs against RAM", "MiB of RAM", "instructions",
    inputs.sweep.perOperation.map((r, i) => ({ name: r.name, colour: palette[i % palette.length], points: r.values.flatMap((v, j) => (v === null ? [] : [[sizes[j], v] as [number, number]])) })))]);
  for (const [name, text] of files) writeFileSync(join(dir, name), text);

  const img = (name: string, alt: string) => `<img src="${name}" alt="${escape(alt)}">`;
  const compareRows = inputs.compare.map((r) => `<tr><td>${r.trace}</td><td>${r.allocator}</td><td class="n">${figure(r.instrPerOp)}</td><td class="n">${r.instrVsBestPeer === null ? "n/a" : r.instrVsBestPeer?.toFixed(2) ?? ""}</td>` +
    `<td class="n">${figure(r.peakFootprint)}</td><td class="n">${r.footprintRatio === null ? "n/a" : r.footprintRatio.toFixed(2)}</td><td class="n">${r.footprintVsBestPeer === null ? "n/a" : r.footprintVsBestPeer?.toFixed(2) ?? ""}</td></tr>`).join("");
  const sweepRows = inputs.sweep.perOperation.map((r) => `<tr><td>${r.name}</td>${r.values.map((v) => `<td class="n">${v === null ? "-" : figure(v)}</td>`).join("")}<td class="n">${r.spread.toFixed(2)}</td></tr>`).join("");
  const initRow = `<tr><td>pmm.init</td>${sizes.map((m) => `<td class="n">${figure(inputs.sweep.init.find((i) => i.memoryMiB === m)?.instructions ?? 0)}</td>`).join("")}<td></td></tr>`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>askern: allocator report</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:2px 8px;font-size:13px}td.n{text-align:right}img{display:block;margin:1em 0;border:1px solid #ddd}
.charts{display:flex;flex-wrap:wrap;gap:12px}</style></head><body>
<h1>askern: allocator report</h1>
<p>Made by <code>make report</code> from <code>build/bench.json</code> (<code>make bench</code>, i386 under QEMU <code>-icount</code>),
<code>build/compare.json</code> (<code>make compare</code>, native x86-64, callgrind), <code>build/sweep.json</code> (<code>make sweep</code>)
and a boot at ${inputs.memoryMiB} MiB with <code>test=all physmap</code>. See docs/compare.md and docs/testing.md.</p>
<h2>Against production allocators (make compare)</h2>
<p>Darker bars are askern's. Ratios are to the best of glibc, jemalloc, mimalloc and AssemblyScript's TLSF on that trace.</p>
${traces.map((t) => `<h3>${t}</h3><div class="charts">${img(`instr-${t}.svg`, `${t}: instructions per operation`)}${img(`footprint-${t}.svg`, `${t}: footprint over peak live`)}</div>${img(`over-time-${t}.svg`, `${t}: footprint over time`)}`).join("\n")}
<table><tr><th>trace</th><th>allocator</th><th>instr/op</th><th>vs best peer</th><th>peak footprint (B)</th><th>footprint / live</th><th>vs best peer</th></tr>${compareRows}</table>
<h2>Physical memory after boot and the self-tests</h2>
<p>The kernel's <code>physmap</code> dump (kernel/mm/debug/physmap.ts): kernel image and data, other reserved frames, the kernel heap's spans and large blocks, the slab arena's regions, other allocations (page tables, range pages, DMA pools), and free frames.</p>
${img("physmap.svg", "physical memory map")}
<h2>RAM sweep (make sweep)</h2>
<p>Initialisation should grow linearly with RAM and every per-operation cost stay flat; spread is the largest value over the smallest.</p>
<div class="charts">${img("sweep-init.svg", "PMM initialisation against RAM")}${img("sweep-ops.svg", "per-operation costs against RAM")}</div>
<table><tr><th>record</th>${sizes.map((m) => `<th>${m} MiB</th>`).join("")}<th>spread</th></tr>${initRow}${sweepRows}</table>
<h2>Benchmarks (make bench)</h2>
${benchTableHtml(inputs.bench)}
</body></html>
`;
  writeFileSync(join(dir, "index.html"), html);
  return files.map(([name]) => name);
}

async function main(): Promise<void> {
  const out = option("--out", "build/report");
  const memoryMiB = Number(option("--mem", "128"));
  const kernel = option("--kernel", "build/askern.elf");
  const read = (file: string) => JSON.parse(readFileSync(file, "utf8"));
  const bench: BenchRecord[] = read(option("--bench", "build/bench.json"));
  const compare: Result[] = read(option("--compare", "build/compare.json")).results;
  const sweep: SweepSummary = read(option("--sweep", "build/sweep.json")).summary;
  console.log(`report: booting ${kernel} at ${memoryMiB} MiB with 'test=all physmap' for the physical memory picture`);
  const r = await boot({ kernel, memoryMiB, cmdline: "test=all physmap seed=1", timeoutMs: 300_000 });
  if (r.status !== "pass") throw new Error(`report: the physmap boot ended ${r.status}`);
  const names = writeReport(out, { bench, compare, sweep, physmap: parsePhysmap(r.serial), memoryMiB });
  console.log(`report: ${join(out, "index.html")} and ${names.length} charts`);
}

if (process.argv[1]?.endsWith("report.ts")) {
  main().catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
}
