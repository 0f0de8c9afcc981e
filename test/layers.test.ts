// The kernel's layers (docs/source-tree.md): every import must point down or sideways within its
// own layer, never up. The test reads every import of every file under kernel/ and names each
// one that goes the wrong way, with the file, the line and the two layers.
import { describe, it, expect } from "vitest";
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { join, dirname, relative, resolve } from "node:path";
import { layerOf, importAllowed, LAYERS } from "../scripts/layers";

const root = resolve(__dirname, "..");
const kernel = join(root, "kernel");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith(".ts") ? [path] : [];
  });
}

/** Every relative import of `file`: the specifier, the file it names (relative to the root) and the line. */
function importsOf(file: string): { target: string; line: number; spec: string }[] {
  const text = readFileSync(file, "utf8");
  const found: { target: string; line: number; spec: string }[] = [];
  const pattern = /^\s*(?:import|export)\b[^;]*?["'](\.{1,2}\/[^"']+)["']/gms;
  for (const m of text.matchAll(pattern)) {
    const spec = m[1];
    const base = resolve(dirname(file), spec);
    const target = [base + ".ts", base, join(base, "index.ts")].find((p) => existsSync(p) && statSync(p).isFile());
    const line = text.slice(0, m.index! + m[0].length).split("\n").length;
    found.push({ target: target ? relative(root, target) : `${relative(root, base)} (missing)`, line, spec });
  }
  return found;
}

describe("kernel layers", () => {
  const files = sources(kernel).map((f) => relative(root, f));

  it("puts every kernel file in a layer", () => {
    expect(files.filter((f) => layerOf(f) === undefined)).toEqual([]);
  });

  it("has no import that goes up a layer, or out of the cores", () => {
    const wrong: string[] = [];
    for (const file of files) {
      for (const { target, line, spec } of importsOf(join(root, file))) {
        if (!importAllowed(file, target)) {
          wrong.push(`${file}:${line} imports ${spec} (${target}): ${layerOf(file)?.name} may not import ${layerOf(target)?.name}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it("catches a wrong import (the rule can fail)", () => {
    expect(importAllowed("kernel/arch/idt.ts", "kernel/mm/alloc/arena.ts")).toBe(false);
    expect(importAllowed("kernel/mm/core/heap/heap.ts", "kernel/console/console.ts")).toBe(false);
    expect(importAllowed("kernel/mm/core/slab/debug.ts", "kernel/boot/cmdline.ts")).toBe(false);
    expect(importAllowed("kernel/mm/phys/pmm.ts", "kernel/mm/virt/vmm.ts")).toBe(false);
    expect(importAllowed("kernel/mm/alloc/kmalloc.ts", "kernel/mm/core/heap/heap.ts")).toBe(true);
    expect(importAllowed("kernel/mm/core/heap/heap.ts", "kernel/lib/bits.ts")).toBe(true);
    expect(LAYERS.length).toBeGreaterThan(10);
  });
});
