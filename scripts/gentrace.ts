// Generates heap traces (the format: docs/heap.md, "Traces") from a seed, so that any size of
// workload can be made and remade exactly. The traces in test/traces/ were made by this script;
// each one's first line is the command that remakes it (test/scripts/scripts.test.ts checks that).
//
//   gentrace.ts <workload> [--seed N] [--ops N] [--out file]     (default: stdout)
//
// Workloads:
//   lifetimes   small objects (16 B - 512 B): most die within a few operations, about one in five
//               in three lives long (until late in the trace)
//   queue       a producer/consumer queue: messages of 64 B - 8 KiB made at one end and freed
//               in order at the other; the queue's depth swings between 200 and 4,000
//   growbuf     growing buffers: 64 buffers at a time, each grown through `r` by half again
//               from 64 B to a random final size up to 256 KiB, then freed and replaced
//   aligned     a mix of aligned requests: sizes 32 B - 16 KiB, alignments 16 - 4096, random
//               lifetimes
import { writeFileSync } from "node:fs";

/** mulberry32: a small seeded generator, the same sequence everywhere for the same seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Ids: the smallest free one, so that ids stay dense (the replay's table is indexed by id). */
class Ids {
  private free: number[] = [];
  private next = 0;
  take(): number { return this.free.length ? this.free.pop()! : this.next++; }
  give(id: number): void { this.free.push(id); }
}

type Emit = (line: string) => void;

function lifetimes(random: () => number, ops: number, emit: Emit): void {
  const ids = new Ids();
  const short: number[] = [];
  const long: number[] = [];
  let n = 0;
  while (n < ops) {
    const roll = random();
    if (roll < 0.5 || (short.length === 0 && long.length === 0)) {
      const id = ids.take();
      const size = 16 + Math.floor(random() * random() * 497);   // skewed to small sizes
      emit(`a ${id} ${size}`); n++;
      (random() < 0.35 ? long : short).push(id);
    } else if (short.length > 0 && (roll < 0.95 || long.length === 0)) {
      // a short-lived object: one of the last few made
      const i = Math.max(0, short.length - 1 - Math.floor(random() * 4));
      const [id] = short.splice(i, 1);
      emit(`f ${id}`); n++; ids.give(id);
    } else if (n > ops * 0.7) {
      // late in the trace, long-lived objects start to die
      const [id] = long.splice(Math.floor(random() * long.length), 1);
      emit(`f ${id}`); n++; ids.give(id);
    }
  }
  for (const id of [...short, ...long]) emit(`f ${id}`);
}

function queue(random: () => number, ops: number, emit: Emit): void {
  const ids = new Ids();
  const q: number[] = [];
  let target = 200, n = 0;
  while (n < ops) {
    if (n % 2000 === 0) target = 200 + Math.floor(random() * 3800);
    const produce = q.length < target ? random() < 0.7 : random() < 0.3;
    if (produce || q.length === 0) {
      const id = ids.take();
      const size = 64 + Math.floor(Math.pow(random(), 2) * 8129);
      emit(`a ${id} ${size}`); q.push(id);
    } else {
      const id = q.shift()!;
      emit(`f ${id}`); ids.give(id);
    }
    n++;
  }
  for (const id of q) emit(`f ${id}`);
}

function growbuf(random: () => number, ops: number, emit: Emit): void {
  const ids = new Ids();
  const buffers: Array<{ id: number; size: number; final: number }> = [];
  let n = 0;
  const start = (): void => {
    const id = ids.take();
    const final = 256 + Math.floor(Math.pow(random(), 3) * (256 * 1024 - 256));
    buffers.push({ id, size: 64, final }); emit(`a ${id} 64`); n++;
  };
  while (buffers.length < 64) start();
  while (n < ops) {
    const i = Math.floor(random() * buffers.length);
    const b = buffers[i];
    if (b.size >= b.final) {
      emit(`f ${b.id}`); n++; ids.give(b.id); buffers.splice(i, 1);
      start();
    } else {
      b.size = Math.min(b.final, Math.ceil(b.size * 1.5));
      emit(`r ${b.id} ${b.size}`); n++;
    }
  }
  for (const b of buffers) emit(`f ${b.id}`);
}

function aligned(random: () => number, ops: number, emit: Emit): void {
  const ids = new Ids();
  const live: number[] = [];
  const aligns = [0, 16, 32, 64, 128, 256, 512, 1024, 4096];
  let n = 0;
  while (n < ops) {
    if (live.length < 500 || (live.length < 3000 && random() < 0.55)) {
      const id = ids.take();
      const size = 32 + Math.floor(Math.pow(random(), 2) * (16 * 1024 - 32));
      const align = aligns[Math.floor(random() * aligns.length)];
      emit(align ? `a ${id} ${size} ${align}` : `a ${id} ${size}`); live.push(id);
    } else {
      const [id] = live.splice(Math.floor(random() * live.length), 1);
      emit(`f ${id}`); ids.give(id);
    }
    n++;
  }
  for (const id of live) emit(`f ${id}`);
}

export const WORKLOADS: Record<string, (random: () => number, ops: number, emit: Emit) => void> = {
  lifetimes, queue, growbuf, aligned,
};

/** The trace text for `workload` with `seed` and about `ops` operations (plus the final frees). */
export function generateTrace(workload: string, seed: number, ops: number): string {
  const make = WORKLOADS[workload];
  if (!make) throw new Error(`gentrace: unknown workload '${workload}' (known: ${Object.keys(WORKLOADS).join(", ")})`);
  const lines = [`# scripts/gentrace.ts ${workload} --seed ${seed} --ops ${ops}`];
  make(rng(seed), ops, (line) => lines.push(line));
  return lines.join("\n") + "\n";
}

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

if (process.argv[1]?.endsWith("gentrace.ts")) {
  const workload = process.argv[2];
  if (!workload || workload.startsWith("--")) {
    console.error(`usage: gentrace.ts <${Object.keys(WORKLOADS).join("|")}> [--seed N] [--ops N] [--out file]`);
    process.exit(2);
  }
  const text = generateTrace(workload, Number(option("--seed", "1")), Number(option("--ops", "40000")));
  const out = option("--out", "");
  if (out) writeFileSync(out, text); else process.stdout.write(text);
}
