// The QEMU launcher: builds the command line, boots, enforces a timeout, and parses what the
// kernel printed on serial (TAP results, BENCH records, the panic text). `make run`, `make
// bench`, `make debug` and the kernel tests (the QEMU tests, test/**/*.qemu.test.ts) all boot through here.
import { spawn } from "node:child_process";
import { readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";

/**
 * The user programs the Makefile builds (`dir`/NAME, one ELF file each), to boot as multiboot
 * modules: what execve, the monitor's `run` and init=NAME find by name. Empty when none are built.
 */
export function userPrograms(dir = "build/user"): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).sort().map((f) => join(dir, f)).filter((f) => statSync(f).isFile());
}

/** QEMU's exit status for each value the kernel writes to isa-debug-exit (kernel/arch/qemu.ts). */
export const EXIT_PASS = 33, EXIT_FAIL = 35, EXIT_PANIC = 37;

export interface LaunchOptions {
  kernel?: string;          // boot this ELF through QEMU's multiboot loader (-kernel)
  iso?: string;             // or this GRUB ISO (-cdrom); the command line is then GRUB's
  memoryMiB?: number;       // -m, default 128
  smp?: number;             // -smp, default 1 (QEMU's): the CPUs the machine has
  cmdline?: string;         // -append (with kernel)
  modules?: string[];       // multiboot modules (-initrd), with kernel
  icount?: boolean;         // -icount shift=0: rdtsc counts guest instructions exactly
  mttcg?: boolean;          // -accel tcg,thread=multi: one host thread per CPU, really in parallel
  gdb?: boolean;            // -s -S: halted, gdb stub on tcp::1234
  gdbPort?: number;         // as gdb, on this port instead (tests, so as not to meet `make debug`)
  timeoutMs?: number;       // kill QEMU after this long (default 120 s)
  interactive?: boolean;    // serial and monitor on this terminal (Ctrl-A X quits)
  echo?: boolean;           // also copy serial output to stdout while capturing
  serialFile?: string;      // write serial to this file instead of stdout (with gdb)
}

export interface TapResult { number: number; name: string; ok: boolean; comment: string; diagnostics: string[] }
/** One benchmark figure; a value of null is "not applicable" (a ratio over zero). */
export interface BenchRecord { name: string; unit: string; value: number | null }
export type BootStatus = "pass" | "fail" | "panic" | "timeout" | "crashed";

export interface BootResult {
  status: BootStatus;
  exitCode: number | null;
  serial: string;
  tap: TapResult[];
  summary: { passed: number; failed: number; skipped: number } | null;
  benches: BenchRecord[];
  panicText: string | null;
  bootInstructions: number | null;
  durationMs: number;
}

/** The qemu-system-i386 arguments for `options`. */
export function qemuArgs(options: LaunchOptions): string[] {
  const args = ["-m", String(options.memoryMiB ?? 128), "-no-reboot",
    "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"];
  if (options.smp) args.push("-smp", String(options.smp));
  if (options.iso) args.push("-cdrom", options.iso, "-boot", "d");
  else if (options.kernel) {
    args.push("-kernel", options.kernel);
    if (options.cmdline) args.push("-append", options.cmdline);
    if (options.modules?.length) args.push("-initrd", options.modules.join(","));
  } else throw new Error("qemuArgs: give a kernel or an iso");
  // sleep=off: while the guest halts, virtual time jumps to the next timer deadline instead of
  // following the host clock, so even runs that wait for timer ticks count exactly the same
  if (options.icount) args.push("-icount", "shift=0,sleep=off");
  else if (options.mttcg) args.push("-accel", "tcg,thread=multi");
  if (options.gdbPort) args.push("-gdb", `tcp:127.0.0.1:${options.gdbPort}`, "-S");
  else if (options.gdb) args.push("-s", "-S");
  if (options.interactive) args.push("-nographic");
  else args.push("-display", "none", "-serial", options.serialFile ? `file:${options.serialFile}` : "stdio", "-monitor", "none");
  return args;
}

/** Parses a serial log: TAP lines, the selftest summary, BENCH records and any panic text. */
export function parseSerial(serial: string): Pick<BootResult, "tap" | "summary" | "benches" | "panicText" | "bootInstructions"> {
  const lines = serial.split(/\r?\n/);
  const tap: TapResult[] = [];
  const benches: BenchRecord[] = [];
  let summary: BootResult["summary"] = null;
  let bootInstructions: number | null = null;
  let pending: string[] = [];
  for (const line of lines) {
    const t = line.match(/^(not ok|ok) (\d+) - (\S+)(?: # (.*))?$/);
    if (t) {
      tap.push({ ok: t[1] === "ok", number: Number(t[2]), name: t[3], comment: t[4] ?? "", diagnostics: pending });
      pending = [];
      continue;
    }
    if (line.startsWith("# ")) { pending.push(line.slice(2)); continue; }
    const s = line.match(/^selftest: (\d+) passed, (\d+) failed, (\d+) skipped$/);
    if (s) { summary = { passed: Number(s[1]), failed: Number(s[2]), skipped: Number(s[3]) }; continue; }
    const b = line.match(/^BENCH (\{.*\})$/);
    if (b) { benches.push(JSON.parse(b[1]) as BenchRecord); continue; }
    const i = line.match(/^boot: (\d+) instructions from kernel entry/);
    if (i) bootInstructions = Number(i[1]);
  }
  const at = serial.indexOf("*** KERNEL PANIC");
  const panicText = at >= 0 ? serial.slice(at) : null;
  return { tap, summary, benches, panicText, bootInstructions };
}

function statusOf(exitCode: number | null, timedOut: boolean): BootStatus {
  if (timedOut) return "timeout";
  if (exitCode === EXIT_PASS) return "pass";
  if (exitCode === EXIT_FAIL) return "fail";
  if (exitCode === EXIT_PANIC) return "panic";
  return "crashed";
}

/** Boots QEMU, captures serial until QEMU exits or the timeout kills it, and parses it. */
export function boot(options: LaunchOptions): Promise<BootResult> {
  const started = Date.now();
  const args = qemuArgs({ ...options, interactive: false });
  return new Promise((resolve, reject) => {
    const child = spawn("qemu-system-i386", args, { stdio: ["ignore", "pipe", "pipe"] });
    let serial = "", errors = "", timedOut = false;
    child.stdout.on("data", (chunk: Buffer) => { serial += chunk.toString("latin1"); if (options.echo) process.stdout.write(chunk); });
    child.stderr.on("data", (chunk: Buffer) => { errors += chunk.toString(); });
    const timer = setTimeout(() => { timedOut = true; child.kill("SIGKILL"); }, options.timeoutMs ?? 120_000);
    child.on("error", (e) => { clearTimeout(timer); reject(e); });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (errors.trim() && code !== EXIT_PASS && code !== EXIT_FAIL && code !== EXIT_PANIC && !timedOut) serial += `\n[qemu stderr] ${errors}`;
      resolve({ status: statusOf(code, timedOut), exitCode: code, serial, ...parseSerial(serial), durationMs: Date.now() - started });
    });
  });
}

/** Boots with serial and QEMU's monitor on this terminal; resolves with QEMU's exit status. */
export function bootInteractive(options: LaunchOptions): Promise<number | null> {
  const child = spawn("qemu-system-i386", qemuArgs({ ...options, interactive: true }), { stdio: "inherit" });
  return new Promise((resolve) => child.on("close", resolve));
}

/** A live boot whose serial port a test types into (the monitor's tests). */
export interface Session {
  /** Everything the kernel printed so far. */
  output(): string;
  /** Types `text` a byte at a time, `delayMs` apart (a person's pace). */
  type(text: string, delayMs?: number): Promise<void>;
  /** Resolves with the output from `from` on once it matches `pattern`; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, from?: number, timeoutMs?: number): Promise<string>;
  /** QEMU's exit status, once it has exited (null while it runs). */
  exitCode(): number | null;
  /** Kills QEMU (if it still runs) and resolves when it is gone. */
  close(): Promise<void>;
}

/** Boots with serial on a pipe both ways, for a test that types at the monitor's prompt. */
export function bootSession(options: LaunchOptions): Session {
  const child = spawn("qemu-system-i386", qemuArgs({ ...options, interactive: false }), { stdio: ["pipe", "pipe", "pipe"] });
  let serial = "", code: number | null = null, exited = false;
  child.stdout.on("data", (chunk: Buffer) => { serial += chunk.toString("latin1"); });
  child.stderr.on("data", (chunk: Buffer) => { serial += chunk.toString("latin1"); });
  const gone = new Promise<void>((resolve) => child.on("close", (c) => { code = c; exited = true; resolve(); }));
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 120_000);
  gone.then(() => clearTimeout(timer));
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  return {
    output: () => serial,
    async type(text, delayMs = 15) {
      for (const ch of text) { if (!exited) child.stdin.write(Buffer.from(ch, "latin1")); await sleep(delayMs); }
    },
    async waitFor(pattern, from = 0, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const seen = serial.slice(from);
        if (pattern.test(seen)) return seen;
        if (exited || Date.now() > deadline) throw new Error(`waitFor ${pattern}: not seen (${exited ? "QEMU exited" : "timeout"}); output:\n${serial.slice(-3000)}`);
        await sleep(20);
      }
    },
    exitCode: () => code,
    async close() { if (!exited) child.kill("SIGKILL"); await gone; },
  };
}
