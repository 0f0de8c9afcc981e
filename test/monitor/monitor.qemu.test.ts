// The monitor (kernel/monitor/), driven the way a person drives it: a boot with nothing to run,
// keystrokes typed into QEMU's serial port at a person's pace, and the echoed output read back.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { bootSession, Session } from "../../scripts/qemu";
import { KERNEL } from "../support/qemu-helpers";

const PROMPT = "askern> ";
let s: Session;

/** Types a line and returns what it printed up to the next prompt. */
async function run(line: string): Promise<string> {
  const from = s.output().length;
  await s.type(line + "\r");
  const seen = await s.waitFor(new RegExp(`${PROMPT}$`), from);
  return seen.slice(0, seen.length - PROMPT.length);
}

/** The "N B live in M blocks" figures of meminfo's kernel heap line. */
function heapLive(meminfo: string): number[] {
  const m = meminfo.match(/kernel heap: (\d+) B live in (\d+) blocks/);
  expect(m, meminfo).not.toBeNull();
  return [Number(m![1]), Number(m![2])];
}

describe("the monitor at the serial prompt", () => {
  beforeAll(async () => {
    s = bootSession({ kernel: KERNEL, timeoutMs: 300_000 });
    await s.waitFor(/askern> $/, 0, 60_000);
  });
  afterAll(async () => { await s.close(); });

  it("greets with a hint and the prompt", () => {
    expect(s.output()).toContain("askern monitor: 'help' lists the commands; Ctrl-A X quits QEMU");
    expect(s.output().endsWith(PROMPT)).toBe(true);
  });

  it("lists every command with help, and one with help NAME", async () => {
    const all = await run("help");
    for (const name of ["help", "meminfo", "slabinfo", "physmap", "ranges", "threads", "cpus", "test", "bench", "kmalloc", "kfree", "reserve", "touch", "release", "log", "seed", "uptime", "halt"]) {
      expect(all).toMatch(new RegExp(`^${name}\\b`, "m"));
    }
    expect(await run("help kmalloc")).toMatch(/kmalloc SIZE\r?\n  allocate SIZE bytes/);
    expect(await run("help nothing")).toContain("help: no command 'nothing'");
  });

  it("kmalloc shows in meminfo, and kfree takes it back", async () => {
    const before = heapLive(await run("meminfo"));
    const made = await run("kmalloc 100000");
    const address = made.match(/kmalloc\(100000\) = (0x[0-9a-f]+)/)?.[1];
    expect(address, made).toBeDefined();
    const during = heapLive(await run("meminfo"));
    expect(during[1]).toBe(before[1] + 1);
    expect(during[0]).toBeGreaterThanOrEqual(before[0] + 100000);
    expect(await run(`kfree ${address}`)).toContain(`freed ${address}`);
    expect(heapLive(await run("meminfo"))).toEqual(before);
    expect(await run(`kfree ${address}`)).toContain("is not a block kmalloc gave this prompt");   // (once only)
  });

  it("reserve, touch and release: a page committed on touch, everything back after", async () => {
    const made = await run("reserve 4");
    const first = made.match(/reserved (0x[0-9a-f]+)-/)?.[1];
    expect(first, made).toBeDefined();
    expect(await run("ranges")).toMatch(new RegExp(`${first}-0x[0-9a-f]+ 'monitor' 4 pages, 0 committed`));
    const second = "0x" + (Number(first) + 4096 + 8).toString(16);
    expect(await run(`touch ${second}`)).toMatch(/1 page\(s\) committed now, 1 in the range/);
    expect(await run(`touch ${second}`)).toMatch(/0 page\(s\) committed now, 1 in the range/);
    expect(await run(`release ${first}`)).toContain(`released ${first}`);
    expect(await run("ranges")).not.toContain("'monitor'");
  });

  it("refuses bad input with one line, never a panic", async () => {
    expect(await run("frobnicate")).toContain("unknown command 'frobnicate': 'help' lists the commands");
    expect(await run("kmalloc lots")).toContain("expected a number (decimal or 0x hex), not 'lots'");
    expect(await run("kmalloc 0")).toContain("SIZE must be 1 to");
    expect(await run("kfree 0xc0100000")).toContain("is not a block kmalloc gave this prompt");
    expect(await run("touch 0xc0100000")).toContain("is not in a range this prompt reserved");
    expect(await run("touch 0")).toContain("is not in a range this prompt reserved");
    expect(await run("release 0xf8001000")).toContain("is not the start of a range this prompt reserved");
    expect(await run("log loud")).toContain("log: unknown level 'loud'");
    expect(await run("test panic.null_deref")).toContain("refused: 'panic.null_deref' is a panic test");
    expect(await run("a b c d e f g h i")).toContain("too many words");
    expect(s.output()).not.toContain("KERNEL PANIC");
  });

  it("edits the line: backspace, Ctrl-U, Ctrl-C, and the history on the arrows", async () => {
    expect(await run("uptimx\x7fe")).toMatch(/up \d+\.\d s/);
    expect(await run("halt\x15seed")).toMatch(/seed: \d+ \(the seed the next test run uses\)/);
    let from = s.output().length;
    await s.type("halt\x03");
    expect(await s.waitFor(/\^C\r\naskern> $/, from)).toBeTruthy();   // the line is abandoned, not run
    expect(await run("\x1b[A\x1b[A")).toMatch(/up \d+\.\d s/);      // two back: uptime (seed was last)
    from = s.output().length;
    expect(await run("log warn")).toContain("log level warn");
    expect(await run("\x1b[A\x1b[A\x1b[B")).toContain("log level warn");   // up twice, down once
    expect(await run("log info")).toContain("log level info");
  });

  it("shows the threads and the slab, physical and range pictures", async () => {
    expect(await run("threads")).toMatch(/thread \d+ 'monitor' running, stack 0x[0-9a-f]+-0x[0-9a-f]+, on CPU \d+, cpu time \d+ ms/);
    expect(await run("slabinfo")).toContain("# slabinfo: kmalloc-64");
    expect(await run("physmap")).toMatch(/physmap: 0x[0-9a-f]+ \d+ free/);
    expect(await run("ranges")).toContain("'transient arena'");
  });

  it("runs self-tests and benchmarks by name, as at boot", async () => {
    const tests = await run("test arena.*,sched.sleep");
    expect(tests).toMatch(/ok \d+ - arena.scopes/);
    expect(tests).toMatch(/selftest: 5 passed, 0 failed, 0 skipped/);
    const bench = await run("bench arena");
    expect(bench).toMatch(/BENCH \{"name":"arena.alloc"/);
    expect(bench).toContain("bench: done");
  });

  it("stops a long test run on Ctrl-C and gives the prompt back", async () => {
    const from = s.output().length;
    await s.type("test all\r");
    await s.waitFor(/ok 3 - /, from, 60_000);
    await s.type("\x03");
    const seen = await s.waitFor(/askern> $/, from, 120_000);
    expect(seen).toContain("# interrupted: the remaining tests do not run");
    const summary = seen.match(/selftest: (\d+) passed, (\d+) failed, (\d+) skipped/);
    expect(summary).not.toBeNull();
    expect(Number(summary![1]) + Number(summary![2]) + Number(summary![3])).toBeLessThan(40);
  });

  it("halts: QEMU exits with the pass status", async () => {
    await s.type("halt\r");
    await s.waitFor(/halting/, 0);
    await s.close();
    expect(s.exitCode()).toBe(33);
  });
});
