// Processes seen from outside: the log lines of killed processes and of the out-of-memory killer
// as a person reads them, the killer under real pressure at 16 and 32 MiB, init=NAME, a module
// that is not a valid executable, and the monitor's ps, run, maps and kill.
import { describe, it, expect, afterAll } from "vitest";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootSession, Session, userPrograms } from "../../scripts/qemu";
import { bootKernel, tail, KERNEL } from "../support/qemu-helpers";

const killLines = (serial: string) => serial.split(/\r?\n/).filter((l) => l.includes("error user fault: "));

describe("processes", () => {
  it("a fault kills only its process, with one line that says what and where", async () => {
    const r = await bootKernel("test=proc.faults_kill_only_the_process,user.faults_kill_the_thread seed=1");
    expect(r.status, tail(r)).toBe("pass");
    const lines = killLines(r.serial);
    expect(lines.length, lines.join("\n")).toBe(7);
    const find = (what: RegExp) => lines.find((l) => what.test(l));
    expect(find(/process \d+ 'faults' killed: #PF page fault at 0x00000000 \(not-present page, read, user mode\), eip 0x004[0-9a-f]{5}: outside every region \(a null pointer\)$/)).toBeDefined();
    expect(find(/'faults' killed: #PF .*\(protection violation on a present page, write, user mode\), eip 0x[0-9a-f]+: the region forbids it: 0x00400000-0x00401000 r-x code$/)).toBeDefined();
    expect(find(/'faults' killed: #PF page fault at 0xc0100000 .*: a kernel address \(ring 3 may not touch the kernel half\)$/)).toBeDefined();
    expect(find(/'faults' killed: #PF page fault at 0x3ffbf[0-9a-f]{3} \(not-present page, write, user mode\), .*: the stack's guard page \(a stack overflow\): 0x3ffbf000-0x3ffc0000 --- guard$/)).toBeDefined();
    expect(find(/'program' killed: #GP general protection fault, eip 0x00400000$/)).toBeDefined();
  });

  for (const memoryMiB of [16, 32]) {
    it(`under pressure at ${memoryMiB} MiB the killer picks the largest, logs one line, and the kernel stays up`, async () => {
      const r = await bootKernel("test=proc.oom_killer_picks_the_largest seed=1", { memoryMiB });
      expect(r.status, tail(r)).toBe("pass");
      const oom = r.serial.split(/\r?\n/).filter((l) => l.includes(" oom: "));
      expect(oom.length, oom.join("\n")).toBe(1);
      const m = oom[0].match(/out of memory: killed process (\d+) 'memhog': resident (\d+) KiB, committed (\d+) KiB; the largest resident set of (\d+) processes \(process (\d+) 'memhog' faulted at 0x[0-9a-f]{8}\)$/);
      expect(m, oom[0]).not.toBeNull();
      expect(Number(m![1])).toBeLessThan(Number(m![5]));   // the first started, the largest: not the one that faulted
      expect(Number(m![2])).toBeGreaterThan(memoryMiB * 1024 * 0.3);
    });
  }

  it("init=NAME runs a program at the end of boot; the monitor follows; a bad executable is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "askern-"));
    writeFileSync(join(dir, "junk"), "not an executable, only text that happens to be a module\n");
    const s = bootSession({ kernel: KERNEL, cmdline: "init=hello", modules: [...userPrograms(), join(dir, "junk")], timeoutMs: 120_000 });
    try {
      const seen = await s.waitFor(/askern> $/, 0, 60_000);
      expect(seen).toContain("init: 'hello' started as process 1");
      expect(seen).toContain("hello from ring 3: pid 1, argv hello");
      expect(seen).toContain("init: 'hello' exited with 1: the monitor takes the console");
      const from = s.output().length;
      await s.type("run junk\r");
      const refused = await s.waitFor(/askern> $/, from);
      expect(refused).toContain("exec: module '");
      expect(refused).toContain("refused: not an ELF file");
      expect(refused).toContain("run: 'junk' could not start: not a valid executable");
    } finally { await s.close(); }
  });
});

describe("the monitor's process commands", () => {
  let s: Session;
  afterAll(async () => { await s?.close(); });
  async function run(line: string): Promise<string> {
    const from = s.output().length;
    await s.type(line + "\r");
    const seen = await s.waitFor(/askern> $/, from);
    return seen.slice(0, seen.length - "askern> ".length);
  }

  it("run, ps, maps and kill", async () => {
    s = bootSession({ kernel: KERNEL, modules: userPrograms(), timeoutMs: 180_000 });
    await s.waitFor(/askern> $/, 0, 60_000);
    const hello = await run("run hello a b");
    expect(hello).toMatch(/process \d+ started/);
    expect(hello).toContain("hello from ring 3");
    expect(hello).toContain("process exited with 3");
    expect(await run("run nosuch")).toContain("run: 'nosuch' could not start: no such program");
    // a program that would never end: Ctrl-C kills it and the prompt comes back
    const from = s.output().length;
    await s.type("run memhog 1 hold\r");
    await s.waitFor(/process \d+ started\r?\n/, from);
    await new Promise((r) => setTimeout(r, 300));
    await s.type("\x03");
    const stopped = await s.waitFor(/askern> $/, from);
    expect(stopped).toContain("^C: process killed");
    expect(stopped).toContain("process exited with 137");
    const started = await run("run memhog 4 hold &");
    const pid = started.match(/process (\d+) started/)?.[1];
    expect(pid, started).toBeDefined();
    // memhog writes its 4 MiB, then sleeps: ps shows it with them resident
    let ps = "";
    for (let i = 0; i < 50; i++) { ps = await run("ps"); if (/running\s+(4\d{3}) KiB/.test(ps)) break; await new Promise((r) => setTimeout(r, 100)); }
    expect(ps).toContain("PID  PPID  STATE    RESIDENT  COMMITTED  NAME");
    expect(ps).toMatch(new RegExp(`^\\s+${pid}\\s+0  running\\s+4\\d{3} KiB\\s+\\d+ KiB  memhog`, "m"));
    const maps = await run(`maps ${pid}`);
    expect(maps).toMatch(/0x00400000-0x00401000 r-x code\s+\d+ resident/);
    expect(maps).toMatch(/0x3ffbf000-0x3ffc0000 --- guard\s+0 resident/);
    expect(maps).toMatch(/0x40000000-0x40400000 rw- anonymous\s+1024 resident/);
    expect(await run(`kill ${pid}`)).toContain(`process ${pid} killed`);
    let after = "";
    for (let i = 0; i < 50; i++) { after = await run("ps"); if (!after.includes("memhog")) break; await new Promise((r) => setTimeout(r, 100)); }
    expect(after).not.toContain("memhog");   // (the reaper freed it)
    expect(await run("kill 9999")).toContain("kill: no running process 9999");
    expect(await run("maps x")).toContain("maps: expected a number");
  });
});
