// The gdb commands (scripts/gdb/askern.py) against the kernel's own printout: a test=all boot
// under QEMU's gdb stub stops where the kernel prints its allocator summary (slabPrintInfo),
// gdb prints askern-pmm, askern-heap and askern-slabinfo there, and every line must equal the
// line the kernel prints for the same state.
import { describe, it, expect } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { qemuArgs } from "../../scripts/qemu";
import { KERNEL } from "../support/qemu-helpers";

const seed = process.env.ASKERN_SEED ?? "1";

/**
 * Boots `cmdline` halted under the gdb stub, stops at the first slabPrintInfo, runs the three
 * commands there and lets the kernel finish. Returns the summary lines gdb printed and those the
 * kernel printed.
 */
async function compare(cmdline: string): Promise<{ fromGdb: string[]; fromKernel: string[] }> {
  const serialFile = join(mkdtempSync(join(tmpdir(), "askern-gdb-")), "serial.log");
  const port = 20000 + Math.floor(Math.random() * 20000);
  const qemu = spawn("qemu-system-i386", qemuArgs({ kernel: KERNEL, memoryMiB: 128, cmdline, gdbPort: port, serialFile }), { stdio: "ignore" });
  const exited = new Promise((resolve) => qemu.on("exit", resolve));
  try {
    await new Promise((resolve) => setTimeout(resolve, 500));   // the stub listening
    // (the last `continue` runs the kernel to its exit, which closes the connection: gdb then
    // exits with an error status, so the output is judged, not the status)
    const gdb = spawnSync("gdb", ["-q", "-nx", "-batch",
      "-ex", "source scripts/gdb/askern.py", "-ex", `target remote 127.0.0.1:${port}`,
      "-ex", "break w2c_kernel_mm_debug_slabinfo_slabPrintInfo", "-ex", "continue",
      "-ex", "askern-threads", "-ex", "askern-pmm", "-ex", "askern-heap", "-ex", "askern-slabinfo", "-ex", "continue", KERNEL],
    { encoding: "utf8", timeout: 240_000 });
    const out = gdb.stdout + gdb.stderr;
    await exited;
    expect(out).toContain("Breakpoint 1, w2c_kernel_mm_debug_slabinfo_slabPrintInfo");
    const summary = (text: string) => text.split(/\r?\n/).filter((l) => /^# (threads|pmm|kernel heap|slabinfo):/.test(l));
    return { fromGdb: summary(out), fromKernel: summary(readFileSync(serialFile, "utf8")) };
  } finally {
    qemu.kill("SIGKILL");
  }
}

describe("gdb commands on a halted kernel", () => {
  it("askern-threads, askern-pmm, askern-heap and askern-slabinfo print what the kernel prints after test=all", async () => {
    const { fromGdb, fromKernel } = await compare(`test=all seed=${seed}`);
    expect(fromGdb.length).toBe(41);   // four threads (the processes' reaper, the reclaimer, idle, main), pmm, two heap lines, the header, 32 classes, the regions
    expect(fromGdb.slice(0, 4).map((l) => l.replace(/ stack .*/, ""))).toEqual(["# threads: 3 reaper blocked", "# threads: 2 reclaimd blocked", "# threads: 1 idle ready", "# threads: 0 main running"]);
    expect(fromGdb).toEqual(fromKernel);
  }, 300_000);
  it("askern-slabinfo counts live objects in full, partial and active slabs as the kernel does", async () => {
    const { fromGdb, fromKernel } = await compare("test=slab.info_live seed=1");
    const gdbTable = fromGdb.filter((l) => l.startsWith("# slabinfo:"));
    expect(gdbTable.some((l) => /kmalloc-16\s+16\s+200\s/.test(l))).toBe(true);   // 300 taken, 100 freed
    expect(gdbTable).toEqual(fromKernel);
  }, 300_000);
});
