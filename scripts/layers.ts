// The kernel's layers, lowest first (docs/source-tree.md draws them). A file may import files of
// its own layer and of any layer below it; the hardware-independent cores (mm/core) are stricter:
// they may import only cores and lib/, so that they build for the host unchanged and say what
// they have to say through a hook (mm/core/report.ts), not the console. test/layers.test.ts
// checks every import under kernel/ against this table.

export interface Layer {
  name: string;
  /** The files of the layer: paths relative to the project root. */
  match: RegExp;
  /** When given, the only layers this one may import (else: any layer at or below it). */
  onlyFrom?: string[];
}

/** Lowest first. */
export const LAYERS: Layer[] = [
  { name: "lib", match: /^kernel\/lib\// },
  { name: "mm/core", match: /^kernel\/mm\/core\//, onlyFrom: ["lib", "mm/core"] },
  { name: "arch", match: /^kernel\/arch\// },
  { name: "mm (the address map, the re-entry guard, the each-CPU seam)", match: /^kernel\/mm\/[^/]+\.ts$/ },
  { name: "console", match: /^kernel\/console\// },
  { name: "diag", match: /^kernel\/diag\// },
  { name: "boot", match: /^kernel\/boot\// },
  { name: "mm/phys", match: /^kernel\/mm\/phys\// },
  { name: "mm/virt", match: /^kernel\/mm\/virt\// },
  { name: "mm/alloc", match: /^kernel\/mm\/alloc\// },
  { name: "sched", match: /^kernel\/sched\// },
  { name: "smp", match: /^kernel\/smp\// },
  { name: "proc", match: /^kernel\/proc\// },
  { name: "mm/debug", match: /^kernel\/mm\/debug\// },
  { name: "bench", match: /^kernel\/bench\// },
  { name: "selftest", match: /^kernel\/selftest\// },
  { name: "monitor", match: /^kernel\/monitor\// },
  { name: "main", match: /^kernel\/main\.ts$/ },
  { name: "the entry (main with the self-tests and benchmarks)", match: /^kernel\/all\.ts$/ },
];

/** The layer of a path relative to the project root (with its rank, 0 lowest), or undefined. */
export function layerOf(path: string): (Layer & { rank: number }) | undefined {
  const rank = LAYERS.findIndex((layer) => layer.match.test(path));
  return rank < 0 ? undefined : { ...LAYERS[rank], rank };
}

/** Whether `from` may import `to` (both relative to the project root). */
export function importAllowed(from: string, to: string): boolean {
  const a = layerOf(from), b = layerOf(to);
  if (!a || !b) return false;
  if (a.onlyFrom) return a.onlyFrom.includes(b.name);
  return b.rank <= a.rank;
}
