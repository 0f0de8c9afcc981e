// `make report`: the page and its charts, opened in headless Chromium. Every image must load and
// draw something (pixels other than the white background); a missing chart and an empty one are
// both caught (the test breaks two on purpose and sees them reported). The inputs are small: a
// short generated trace through two allocators of the comparison program, a physmap boot, and
// benchmark and sweep records.
import { describe, it, expect, beforeAll } from "vitest";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { generateTrace } from "../../scripts/gentrace";
import { ALLOCATORS, measure, addRatios } from "../../scripts/compare";
import { summarize } from "../../scripts/sweep";
import { writeReport, parsePhysmap, benchTableHtml, ReportInputs } from "../../scripts/report";
import { bootKernel, tail } from "../support/qemu-helpers";

const run = promisify(execFile);
let dir = "";
let charts: string[] = [];

/** Opens `page` in headless Chromium and returns what its script left in the DOM. */
async function checkInChromium(page: string): Promise<Array<{ src: string; ok: boolean; width: number; inked: number }>> {
  const checker = join(dir, "check.html");
  writeFileSync(checker, `<!doctype html><html><body><pre id="out">pending</pre>
<iframe id="f" src="${page}" width="1200" height="800"></iframe>
<script>
document.getElementById("f").onload = async () => {
  const doc = document.getElementById("f").contentDocument;
  const results = [];
  for (const img of doc.images) {
    if (!img.complete || img.naturalWidth === 0) await new Promise((r) => { img.onload = img.onerror = r; setTimeout(r, 3000); });
    const entry = { src: img.getAttribute("src"), ok: img.complete && img.naturalWidth > 0, width: img.naturalWidth, inked: 0 };
    if (entry.ok) {
      const c = document.createElement("canvas");
      c.width = img.naturalWidth; c.height = img.naturalHeight;
      const g = c.getContext("2d");
      g.drawImage(img, 0, 0);
      const px = g.getImageData(0, 0, c.width, c.height).data;
      for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && (px[i] < 240 || px[i + 1] < 240 || px[i + 2] < 240)) entry.inked++;
    }
    results.push(entry);
  }
  document.getElementById("out").textContent = "RESULT " + JSON.stringify(results);
};
</script></body></html>`);
  const { stdout } = await run("chromium", [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files", "--virtual-time-budget=15000",
    "--dump-dom", `file://${resolve(checker)}`,
  ], { maxBuffer: 1 << 24, timeout: 90_000 });
  const m = stdout.match(/RESULT (\[.*?\])<\/pre>/s);
  if (!m) throw new Error(`the checker page did not finish:\n${stdout.slice(0, 2000)}`);
  return JSON.parse(m[1].replace(/&quot;/g, '"').replace(/&amp;/g, "&"));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "askern-report-test-"));
  const trace = join(dir, "small.trace");
  writeFileSync(trace, generateTrace("queue", 5, 1500));
  const compare = await Promise.all(ALLOCATORS.filter((a) => a.name === "askern-heap" || a.name === "glibc").map((a) => measure("build/compare", a, trace, dir)));
  addRatios(compare);
  const boot = await bootKernel("test=arena.scopes physmap seed=1");
  if (boot.status !== "pass") throw new Error(tail(boot));
  const point = (memoryMiB: number, scale: number) => ({ memoryMiB, records: [
    { name: `pmm.init_${memoryMiB}m`, unit: "instr", value: memoryMiB * 700 },
    { name: "pmm.alloc_free_pair", unit: "instr/op", value: 98 * scale }, { name: "heap.alloc_free_pair", unit: "instr/pair", value: 190.4 },
  ] });
  const inputs: ReportInputs = {
    bench: [{ name: "heap.alloc_free_pair", unit: "instr/pair", value: 190.4 }, { name: "tlsf.alloc_free_pair", unit: "instr/pair", value: 354.5 },
      { name: "heap.alloc_free_pair_vs_tlsf", unit: "ratio", value: 0.54 }],
    compare, sweep: summarize([point(16, 1.3), point(128, 1.3), point(1024, 1)]), physmap: parsePhysmap(boot.serial), memoryMiB: 128,
  };
  charts = writeReport(join(dir, "report"), inputs);
}, 180_000);

describe("the report", () => {
  it("has every chart, and each loads and draws in headless Chromium", async () => {
    expect(charts.sort()).toEqual(["footprint-small.svg", "instr-small.svg", "over-time-small.svg", "physmap.svg", "sweep-init.svg", "sweep-ops.svg"]);
    const html = readFileSync(join(dir, "report", "index.html"), "utf8");
    for (const c of charts) expect(html).toContain(`src="${c}"`);
    const results = await checkInChromium("report/index.html");
    expect(results.map((r) => r.src).sort()).toEqual(charts);
    for (const r of results) {
      expect(r.ok, `${r.src} loaded`).toBe(true);
      expect(r.inked, `${r.src} draws something`).toBeGreaterThan(200);
    }
  }, 120_000);
  it("a missing chart and an empty chart are both caught", async () => {
    rmSync(join(dir, "report", "instr-small.svg"));
    writeFileSync(join(dir, "report", "physmap.svg"), `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="100"><rect width="100%" height="100%" fill="#fff"/></svg>`);
    const results = await checkInChromium("report/index.html");
    const bySrc = new Map(results.map((r) => [r.src, r]));
    expect(bySrc.get("instr-small.svg")?.ok).toBe(false);
    expect(bySrc.get("physmap.svg")?.ok).toBe(true);
    expect(bySrc.get("physmap.svg")?.inked).toBe(0);
    expect(bySrc.get("sweep-ops.svg")?.inked).toBeGreaterThan(200);
  }, 120_000);
  it("the benchmark table puts the TLSF's figure and the ratio beside ours, not in rows of their own", () => {
    const table = benchTableHtml([
      { name: "heap.alloc_free_pair", unit: "instr/pair", value: 190.4 }, { name: "tlsf.alloc_free_pair", unit: "instr/pair", value: 354.5 },
      { name: "heap.alloc_free_pair_vs_tlsf", unit: "ratio", value: 0.54 },
      { name: "trace.q.peak_footprint", unit: "B", value: 1000 }, { name: "trace.q.tlsf_peak_footprint", unit: "B", value: 900 },
      { name: "trace.q.footprint_vs_tlsf", unit: "ratio", value: 1.11 }, { name: "pmm.alloc_free_pair", unit: "instr/op", value: 98 },
    ]);
    expect(table).toContain("<td>heap.alloc_free_pair</td><td class=\"n\">190.4</td><td>instr/pair</td><td class=\"n\">354.5</td><td class=\"n\">0.54</td>");
    expect(table).toContain("<td>trace.q.peak_footprint</td><td class=\"n\">1,000</td><td>B</td><td class=\"n\">900</td><td class=\"n\">1.11</td>");
    expect(table).toContain("<td>pmm.alloc_free_pair</td><td class=\"n\">98</td><td>instr/op</td><td class=\"n\"></td><td class=\"n\"></td>");
    expect(table).not.toMatch(/<td>tlsf\.|_vs_tlsf<\/td>|tlsf_peak/);
  });
  it("parses the kernel's physmap dump: runs that cover every frame once", async () => {
    const boot = await bootKernel("test=heap.kmalloc_api,slab.kmalloc_classes physmap seed=1", { memoryMiB: 64 });
    const { total, runs } = parsePhysmap(boot.serial);
    expect(total).toBeGreaterThan(16000);
    let next = 0;
    for (const r of runs) { expect(r.first).toBe(next); next += r.frames; }
    expect(next).toBe(total);
    const kinds = new Set(runs.map((r) => r.kind));
    for (const k of ["free", "kernel", "reserved", "heap", "slab", "other"]) expect(kinds).toContain(k);   // the heap keeps its reserve, the caches a slab
    for (const k of kinds) expect(["free", "kernel", "reserved", "heap", "slab", "other"]).toContain(k);
  }, 60_000);
});
