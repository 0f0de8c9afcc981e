// Shared by the kernel suites: what the kernel says it has (test=list), and a boot helper.
import { boot, BootResult, LaunchOptions, userPrograms } from "../../scripts/qemu";

export const KERNEL = "build/askern.elf";
/** The same kernel without debug sections: what goes on an ISO (GRUB reads the whole file into memory). */
export const BOOT_KERNEL = "build/askern.boot.elf";
/** The release build (make RELEASE=1): no self-tests, no benchmarks. */
export const RELEASE_KERNEL = "build/release/askern.elf";

export interface KernelTests { tests: string[]; panicTests: Array<{ name: string; expects: string[] }>; onDemand: string[] }

/** Boots with test=list and reads the registered tests. */
export async function listKernelTests(): Promise<KernelTests> {
  const r = await boot({ kernel: KERNEL, cmdline: "test=list", timeoutMs: 60_000 });
  if (r.status !== "pass") throw new Error(`test=list boot ended ${r.status}:\n${r.serial}`);
  const result: KernelTests = { tests: [], panicTests: [], onDemand: [] };
  for (const line of r.serial.split(/\r?\n/)) {
    let m = line.match(/^test: (\S+)$/);
    if (m) result.tests.push(m[1]);
    m = line.match(/^panictest: (\S+) expects (.*)$/);
    if (m) result.panicTests.push({ name: m[1], expects: m[2].split("|") });
    m = line.match(/^ondemand: (\S+)$/);
    if (m) result.onDemand.push(m[1]);
  }
  return result;
}

/** Boots the kernel (-kernel) with a command line, and the user programs as modules unless `extra` gives others. */
export function bootKernel(cmdline: string, extra: Partial<LaunchOptions> = {}): Promise<BootResult> {
  return boot({ kernel: KERNEL, cmdline, timeoutMs: 150_000, modules: userPrograms(), ...extra });
}

/** A readable failure message: every failed self-test with its diagnostics (CI keeps only this), then the serial log's tail. */
export function tail(r: BootResult, lines = 60): string {
  const failed = r.tap.filter((t) => !t.ok).map((t) => [`not ok ${t.number} - ${t.name} ${t.comment}`, ...t.diagnostics].join("\n"));
  return `status ${r.status} (exit ${r.exitCode})\n` + (failed.length ? failed.join("\n") + "\n...\n" : "") +
    r.serial.split(/\r?\n/).slice(-lines).join("\n");
}
