// The build and launcher tools' own logic.
import { describe, it, expect } from "vitest";
import { readFileSync, readdirSync } from "node:fs";
import { generateTrace, WORKLOADS } from "../../scripts/gentrace";
import { comparisons, targetReport, traceName } from "../../scripts/bench";
import { dataSegments } from "../../scripts/check-wasm";
import { encodeTable } from "../../scripts/gensyms";
import { parseSerial, qemuArgs } from "../../scripts/qemu";
import { throughputs, scalingRecords } from "../../scripts/scaling";

describe("check-wasm", () => {
  it("reads the kernel's data segments, all inside the AssemblyScript data region", () => {
    const segments = dataSegments(readFileSync("build/kernel.wasm"));
    expect(segments.length).toBeGreaterThan(10);
    for (const s of segments) {
      expect(s.offset).toBeGreaterThanOrEqual(0xc0400000);
      expect(s.offset + s.size).toBeLessThanOrEqual(0xc0500000);
    }
  });
});

describe("gensyms", () => {
  it("encodes the header, sorted entries and names", () => {
    const t = encodeTable([{ address: 0xc0100000, name: "a" }, { address: 0xc0100010, name: "bc" }]);
    expect(t.readUInt32LE(0)).toBe(0x4d59534b);
    expect(t.readUInt32LE(4)).toBe(2);
    expect(t.readUInt32LE(8)).toBe(0xc0100000);
    expect(t.toString("latin1", t.readUInt32LE(12), t.readUInt32LE(12) + 1)).toBe("a");
    expect(t.toString("latin1", t.readUInt32LE(20), t.readUInt32LE(20) + 2)).toBe("bc");
  });
});

describe("launcher", () => {
  it("parses TAP, the summary, BENCH records and the panic", () => {
    const serial = [
      "TAP version 13", "1..3", "ok 1 - a.b", "# check failed: x", "not ok 2 - c.d # 1 check(s) failed",
      "ok 3 - e.f # SKIP needs 16 MiB of RAM", "selftest: 1 passed, 1 failed, 1 skipped", "boot: 1234 instructions from kernel entry to the end of the self-tests",
      'BENCH {"name":"log.filtered_call","unit":"instr/op","value":12.5}', "*** KERNEL PANIC: boom", "*** end of panic",
    ].join("\r\n");
    const r = parseSerial(serial);
    expect(r.tap).toEqual([
      { ok: true, number: 1, name: "a.b", comment: "", diagnostics: [] },
      { ok: false, number: 2, name: "c.d", comment: "1 check(s) failed", diagnostics: ["check failed: x"] },
      { ok: true, number: 3, name: "e.f", comment: "SKIP needs 16 MiB of RAM", diagnostics: [] },
    ]);
    expect(r.summary).toEqual({ passed: 1, failed: 1, skipped: 1 });
    expect(r.benches).toEqual([{ name: "log.filtered_call", unit: "instr/op", value: 12.5 }]);
    expect(r.bootInstructions).toBe(1234);
    expect(r.panicText).toMatch(/^\*\*\* KERNEL PANIC: boom/);
  });
  it("builds the QEMU command for each mode", () => {
    expect(qemuArgs({ kernel: "k.elf", cmdline: "test=all", icount: true, memoryMiB: 16 })).toEqual(expect.arrayContaining(
      ["-kernel", "k.elf", "-append", "test=all", "-icount", "shift=0,sleep=off", "-m", "16", "isa-debug-exit,iobase=0xf4,iosize=0x04"]));
    expect(qemuArgs({ iso: "a.iso" })).toEqual(expect.arrayContaining(["-cdrom", "a.iso"]));
    expect(qemuArgs({ kernel: "k", gdb: true })).toEqual(expect.arrayContaining(["-s", "-S"]));
    expect(qemuArgs({ kernel: "k", serialFile: "s.log" })).toEqual(expect.arrayContaining(["-serial", "file:s.log"]));
    expect(qemuArgs({ kernel: "k" })).toEqual(expect.arrayContaining(["-serial", "stdio"]));
    expect(qemuArgs({ kernel: "k", modules: ["a", "b"] })).toEqual(expect.arrayContaining(["-initrd", "a,b"]));
    expect(() => qemuArgs({})).toThrow();
  });
});

describe("gentrace", () => {
  it("is deterministic for a seed and differs between seeds", () => {
    expect(generateTrace("lifetimes", 5, 2000)).toBe(generateTrace("lifetimes", 5, 2000));
    expect(generateTrace("lifetimes", 5, 2000)).not.toBe(generateTrace("lifetimes", 6, 2000));
  });

  it("remakes every shipped trace exactly from the command on its first line", () => {
    const files = readdirSync("test/traces").filter((f) => f.endsWith(".trace"));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const text = readFileSync(`test/traces/${f}`, "latin1");
      const m = text.match(/^# scripts\/gentrace\.ts (\w+) --seed (\d+) --ops (\d+)\n/);
      expect(m, f).not.toBeNull();
      expect(generateTrace(m![1], Number(m![2]), Number(m![3])) === text, `${f} is what its command makes`).toBe(true);
    }
  });

  it("makes traces whose ids are used in order and end with nothing live", () => {
    for (const workload of Object.keys(WORKLOADS)) {
      const live = new Set<number>();
      for (const line of generateTrace(workload, 1, 3000).split("\n")) {
        const [op, id] = line.split(" ");
        if (op === "a") { expect(live.has(Number(id))).toBe(false); live.add(Number(id)); }
        if (op === "f" || op === "r") expect(live.has(Number(id))).toBe(true);
        if (op === "f") live.delete(Number(id));
      }
      expect(live.size, workload).toBe(0);
    }
  });
});

describe("bench comparisons", () => {
  it("names traces after their files and compares ours with the TLSF", () => {
    expect(traceName("test/traces/queue.trace")).toBe("queue");
    const records = [
      { name: "heap.alloc_free_pair", unit: "instr/pair", value: 150 },
      { name: "tlsf.alloc_free_pair", unit: "instr/pair", value: 300 },
      { name: "trace.q.instr_per_op", unit: "instr/op", value: 90 },
      { name: "trace.q.tlsf_instr_per_op", unit: "instr/op", value: 100 },
      { name: "trace.q.peak_footprint", unit: "B", value: 1000 },
      { name: "trace.q.tlsf_peak_footprint", unit: "B", value: 800 },
      { name: "trace.q.footprint_ratio", unit: "ratio", value: 1.3 },
    ];
    const c = comparisons(records);
    expect(c).toEqual([
      { name: "heap.alloc_free_pair_vs_tlsf", unit: "ratio", value: 0.5 },
      { name: "trace.q.instr_per_op_vs_tlsf", unit: "ratio", value: 0.9 },
      { name: "trace.q.footprint_vs_tlsf", unit: "ratio", value: 1.25 },
    ]);
    const report = targetReport([...records, ...c]).join("\n");
    expect(report).toContain("met     <= 200: heap.alloc_free_pair = 150");
    expect(report).toContain("MISSED  <= 1.25: trace.q.footprint_ratio = 1.3");
    expect(report).toContain("MISSED  <= 1 (no more footprint than the TLSF): trace.q.footprint_vs_tlsf = 1.25");
    expect(report).toContain("MISSED  <= 100: pmm.alloc_free_pair is absent");
    expect(report).toContain("MISSED  <= 12: spin.irqsave_pair is absent");   // (the threads issue's targets too)
    expect(report).toContain("MISSED  <= 60000: proc.fork_exit_wait_1m is absent");   // (and the processes issue's)
    expect(targetReport(records, true).join("\n")).not.toContain("is absent");   // a filtered run left it out
  });
  it("never computes a ratio over zero: an empty trace's ratios are not applicable, and never met", () => {
    const records = [
      { name: "trace.e.instr_per_op", unit: "instr/op", value: null },
      { name: "trace.e.tlsf_instr_per_op", unit: "instr/op", value: null },
      { name: "trace.e.footprint_ratio", unit: "ratio", value: null },
      { name: "trace.e.peak_footprint", unit: "B", value: 0 },
      { name: "trace.e.tlsf_peak_footprint", unit: "B", value: 0 },
    ];
    const c = comparisons(records);
    expect(c).toEqual([
      { name: "trace.e.instr_per_op_vs_tlsf", unit: "ratio", value: null },
      { name: "trace.e.footprint_vs_tlsf", unit: "ratio", value: null },
    ]);
    const report = targetReport([...records, ...c], true);
    expect(report).toEqual([
      "MISSED  <= 1.25: trace.e.footprint_ratio is not applicable",
      "MISSED  < 1 (fewer instructions than the TLSF): trace.e.instr_per_op_vs_tlsf is not applicable",
      "MISSED  <= 1 (no more footprint than the TLSF): trace.e.footprint_vs_tlsf is not applicable",
      "MISSED  <= 1.10 (issue 25: every trace): trace.e.footprint_vs_tlsf is not applicable",
    ]);
  });
});

describe("make scaling", () => {
  it("reads both throughputs from a boot's lines, and null for one that is missing", () => {
    const serial = "# stress: throughput 480 thread operations per million rdtsc ticks (1 ticks ...)\n# scaling: throughput 1042 operations per million rdtsc ticks\n";
    expect(throughputs(serial)).toEqual({ stress: 480, scaling: 1042 });
    expect(throughputs("# scaling: throughput 7 operations per million rdtsc ticks")).toEqual({ stress: null, scaling: 7 });
  });
  it("gives each count's throughputs and their ratios to the first count's; none over a missing base", () => {
    const records = scalingRecords([{ cpus: 1, stress: 400, scaling: null }, { cpus: 2, stress: 500, scaling: 900 }]);
    const value = (name: string) => records.find((r) => r.name === name)?.value;
    expect(value("scaling.stress.cpus1_ratio")).toBe(1);
    expect(value("scaling.stress.cpus2_ratio")).toBe(1.25);
    expect(value("scaling.scaling.cpus2")).toBe(900);
    expect(value("scaling.scaling.cpus2_ratio")).toBeNull();
    expect(records).toHaveLength(8);
  });
});
