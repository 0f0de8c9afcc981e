// `make run` itself, as a new user meets it: run in a terminal emulator (tmux), its screen read
// back. It ends in the monitor's prompt, and the prompt works the same through GRUB.
import { describe, it, expect } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootSession } from "../../scripts/qemu";
import { buildIso } from "../../scripts/mkiso";
import { BOOT_KERNEL } from "../support/qemu-helpers";

const tmux = (...args: string[]) => execFileSync("tmux", args, { encoding: "utf8" });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the pane shows `pattern`; returns the screen. */
async function screenShows(session: string, pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const screen = tmux("capture-pane", "-p", "-t", session, "-S", "-200");
    if (pattern.test(screen)) return screen;
    if (Date.now() > deadline) throw new Error(`the screen never showed ${pattern}:\n${screen}`);
    await sleep(200);
  }
}

describe("make run", () => {
  it("boots in a terminal and ends in the monitor's prompt, which answers", async () => {
    const session = `askern-run-${process.pid}`;
    // (the pane stays after make run ends, so that its last lines can still be read)
    tmux("new-session", "-d", "-s", session, "-x", "160", "-y", "50", "make run; echo \"make run ended: $?\"; sleep 120");
    try {
      const boot = await screenShows(session, /^askern>/m);   // (the pane drops the prompt's trailing space)
      expect(boot).toContain("run: booting build/askern.elf");
      expect(boot).toContain("askern monitor: 'help' lists the commands; Ctrl-A X quits QEMU");
      tmux("send-keys", "-t", session, "meminfo", "Enter");
      const after = await screenShows(session, /given back by the last reclaim\naskern>/);   // (meminfo's last line: its shrinkers)
      expect(after).toMatch(/physical: \d+ MiB managed/);
      expect(after).toMatch(/watermarks \(low memory\): min \d+ KiB, low \d+ KiB, high \d+ KiB/);
      expect(after).toMatch(/transient arena: [^\n]*\nprocesses: \d+, [^\n]*\nreclaim: \d+ pages given back so far/);
      tmux("send-keys", "-t", session, "halt", "Enter");
      const end = await screenShows(session, /make run ended: \d+/);
      expect(end).toContain("halting");
      expect(end).toContain("make run ended: 0");   // (QEMU left with the pass status)
    } finally {
      try { tmux("kill-session", "-t", session); } catch { /* (gone with make run) */ }
    }
  });

  it("gives the same prompt through a GRUB ISO", async () => {
    const iso = join(mkdtempSync(join(tmpdir(), "askern-test-")), "monitor.iso");
    buildIso(BOOT_KERNEL, iso, "");
    const s = bootSession({ iso, timeoutMs: 120_000 });
    try {
      await s.waitFor(/askern> $/, 0, 90_000);
      expect(s.output()).toMatch(/loader 'GRUB/);
      const from = s.output().length;
      await s.type("uptime\r");
      expect(await s.waitFor(/up \d+\.\d s \(\d+ ticks\)\r?\naskern> $/, from)).toBeTruthy();
    } finally {
      await s.close();
    }
  });
});
