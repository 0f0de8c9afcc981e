// Builds a GRUB rescue ISO that boots the kernel through GRUB's multiboot loader.
//   mkiso.ts <askern.elf> <out.iso> [kernel command line] [--module file]...
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, copyFileSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, basename } from "node:path";

/** Writes `iso`: GRUB with one entry (timeout 0) loading `elf` with `cmdline` and `modules`. */
export function buildIso(elf: string, iso: string, cmdline = "", modules: string[] = []): void {
  const root = mkdtempSync(join(tmpdir(), "askern-iso-"));
  try {
    mkdirSync(join(root, "boot/grub"), { recursive: true });
    copyFileSync(elf, join(root, "boot/askern.elf"));
    const moduleLines = modules.map((m) => {
      copyFileSync(m, join(root, "boot", basename(m)));
      return `  module /boot/${basename(m)} ${basename(m)}`;
    });
    writeFileSync(join(root, "boot/grub/grub.cfg"), [
      "set timeout=0",
      "set default=0",
      'menuentry "askern" {',
      `  multiboot /boot/askern.elf ${cmdline}`.trimEnd(),
      ...moduleLines,
      "  boot",
      "}",
      "",
    ].join("\n"));
    execFileSync("grub-mkrescue", ["-o", iso, root], { stdio: ["ignore", "ignore", "pipe"] });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function main(): void {
  const args = process.argv.slice(2);
  const modules: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--module") modules.push(args[++i]); else rest.push(args[i]);
  }
  const [elf, iso, cmdline = ""] = rest;
  buildIso(elf, iso, cmdline, modules);
}

if (process.argv[1]?.endsWith("mkiso.ts")) main();
