// `make record`: runs a program with scripts/record/librecord.so preloaded and turns the heap calls
// it recorded into a trace (the format: docs/heap.md, "Traces"; the recorder: docs/traces.md).
//
//   record.ts --lib build/record/librecord.so --out file.trace[.gz] [--max-ops N] [--process largest|first]
//             [--input "what the command reads"] [-- command...]    (else the command is $RECORD_CMD)
//   record.ts --convert file.rec --out file.trace[.gz] [--max-ops N]
//
// The command runs under bash (so it may be a pipeline); every process it starts writes records of
// its own, and the trace is made from one of them: the one with the most (default) or the first
// to start. The trace's first lines say the command, the process, and what was left out.
//
// From the records to the trace:
//   malloc(n), calloc(c, n)    a <id> n (c * n); a size 0 becomes 1 (the format has no size 0);
//                              calloc's zeroing is not in the format
//   memalign and friends       a <id> n align; an alignment of 16 or less is the default (0), one
//                              above 4096 becomes 4096 (the format's limit; counted)
//   realloc(p, n)              r <id> n; realloc(NULL, n) is an allocation, realloc(p, 0) that
//                              returned NULL a free; a realloc that failed is left out
//   free(p)                    f <id>
// Left out, and counted on the trace's comment line: failed calls, sizes above 1 GiB, frees of
// pointers not handed out in the recording (made before the library was loaded, or of a block
// left out), and alignments clamped. An address handed out while the recording still holds it
// live (a race between threads, whose records are ordered by a lock after the call) frees the
// old block first, counted too. Blocks still live at the end stay live: real programs leave
// memory to the exit. Ids are reused last-freed-first, so they stay below the peak live count.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export const RECORD_BYTES = 32;
const MAX_SIZE = 1 << 30;
const MAX_ALIGN = 4096;
const MAX_IDS = 4_194_304;

export interface Conversion {
  lines: string[];
  ops: number;
  skipped: { failed: number; tooLarge: number; unknownFree: number; alignClamped: number; reusedLive: number };
  peakLiveBlocks: number;
}

/** Ids, last freed first: the replay indexes its table by id, so they must stay dense. */
class Ids {
  private free: number[] = [];
  private next = 0;
  take(): number {
    if (this.free.length) return this.free.pop()!;
    if (this.next >= MAX_IDS) throw new Error(`more than ${MAX_IDS} blocks live at once: the format's ids run out`);
    return this.next++;
  }
  give(id: number): void { this.free.push(id); }
}

/** Converts the records of one process into trace lines; stops after maxOps operations. */
export function convert(records: Buffer, maxOps = Infinity): Conversion {
  if (records.length % RECORD_BYTES !== 0) {
    throw new Error(`a record file is a whole number of ${RECORD_BYTES}-byte records; this one has ${records.length} bytes`);
  }
  const live = new Map<number, number>();   // address -> id
  const ids = new Ids();
  const lines: string[] = [];
  const skipped = { failed: 0, tooLarge: 0, unknownFree: 0, alignClamped: 0, reusedLive: 0 };
  let peakLiveBlocks = 0;

  const release = (address: number): number | undefined => {
    const id = live.get(address);
    if (id === undefined) return undefined;
    live.delete(address);
    ids.give(id);
    return id;
  };
  const allocate = (address: number, size: number, align: number): void => {
    if (address === 0) { skipped.failed++; return; }
    if (size > MAX_SIZE) { skipped.tooLarge++; return; }
    if (live.has(address)) { lines.push(`f ${release(address)}`); skipped.reusedLive++; }
    const id = ids.take();
    live.set(address, id);
    peakLiveBlocks = Math.max(peakLiveBlocks, live.size);
    lines.push(align ? `a ${id} ${Math.max(size, 1)} ${align}` : `a ${id} ${Math.max(size, 1)}`);
  };

  for (let at = 0; at < records.length && lines.length < maxOps; at += RECORD_BYTES) {
    const op = String.fromCharCode(records[at]);
    // sizes and addresses: a size above 2^53 is far above MAX_SIZE either way
    const arg0 = Number(records.readBigUInt64LE(at + 8));
    const arg1 = Number(records.readBigUInt64LE(at + 16));
    const result = Number(records.readBigUInt64LE(at + 24));
    switch (op) {
      case "m": allocate(result, arg0, 0); break;
      case "c": allocate(result, arg0 * arg1, 0); break;
      case "a": {
        let align = arg0 <= 16 ? 0 : arg0;
        if (align > MAX_ALIGN) { align = MAX_ALIGN; skipped.alignClamped++; }
        allocate(result, arg1, align);
        break;
      }
      case "f": {
        const id = release(arg0);
        if (id === undefined) skipped.unknownFree++; else lines.push(`f ${id}`);
        break;
      }
      case "r": {
        const [old, size] = [arg0, arg1];
        if (old === 0) { allocate(result, size, 0); break; }
        if (result === 0) {
          if (size === 0) {   // glibc's realloc(p, 0) frees p
            const id = release(old);
            if (id === undefined) skipped.unknownFree++; else lines.push(`f ${id}`);
          } else skipped.failed++;
          break;
        }
        const id = live.get(old);
        if (id === undefined) { skipped.unknownFree++; allocate(result, size, 0); break; }
        if (size > MAX_SIZE) { lines.push(`f ${release(old)}`); skipped.tooLarge++; break; }
        live.delete(old);
        if (live.has(result)) { lines.push(`f ${release(result)}`); skipped.reusedLive++; }
        live.set(result, id);
        lines.push(`r ${id} ${Math.max(size, 1)}`);
        break;
      }
      default:
        throw new Error(`record ${at / RECORD_BYTES}: unknown operation 0x${records[at].toString(16)}`);
    }
  }
  return { lines, ops: lines.length, skipped, peakLiveBlocks };
}

/** The trace's text: the comment lines, then the operations. */
export function traceText(header: string[], c: Conversion): string {
  const s = c.skipped;
  const notes = [
    ...header.map((h) => `# ${h}`),
    `# ${c.ops} operations, at most ${c.peakLiveBlocks} blocks live; left out: ${s.failed} failed, ` +
      `${s.tooLarge} above 1 GiB, ${s.unknownFree} frees of blocks not recorded, ${s.reusedLive} addresses ` +
      `reused while live (freed first); ${s.alignClamped} alignments clamped to 4096`,
  ];
  return [...notes, ...c.lines].join("\n") + "\n";
}

function write(out: string, text: string): void {
  writeFileSync(out, out.endsWith(".gz") ? gzipSync(text, { level: 9 }) : text);
}

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : undefined;
}

function usage(message: string): never {
  console.error(`record: ${message}`);
  console.error("usage: make record CMD=\"command\" OUT=file.trace.gz [MAX_OPS=n] [PROCESS=largest|first] (docs/traces.md)");
  process.exit(2);
}

function main(): void {
  const out = option("--out") ?? usage("--out is missing");
  const maxOpsText = option("--max-ops");
  const maxOps = maxOpsText === undefined || maxOpsText === "" ? Infinity : Number(maxOpsText);
  if (!(maxOps > 0) || (maxOps !== Infinity && !Number.isInteger(maxOps))) usage(`--max-ops ${maxOpsText}: not a positive whole number`);

  const recFile = option("--convert");
  if (recFile !== undefined) {
    const c = convert(readFileSync(recFile), maxOps);
    write(out, traceText([`converted from ${recFile}`], c));
    console.log(`record: ${out}: ${c.ops} operations`);
    return;
  }

  const lib = option("--lib") ?? usage("--lib is missing");
  const which = option("--process") ?? "largest";
  if (which !== "largest" && which !== "first") usage(`--process ${which}: largest or first`);
  // the command: after "--", or (from make, which keeps its quoting intact) in RECORD_CMD
  const dash = process.argv.indexOf("--");
  const command = dash >= 0 ? process.argv.slice(dash + 1).join(" ") : process.env.RECORD_CMD ?? "";
  if (command.trim() === "") usage("no command (CMD=...)");

  const dir = mkdtempSync(join(tmpdir(), "askern-record-"));
  try {
    const run = spawnSync("bash", ["-c", command], {
      stdio: ["inherit", "ignore", "inherit"],
      env: { ...process.env, RECORD_CMD: undefined, LD_PRELOAD: lib, ASKERN_RECORD: join(dir, "run") },
    });
    if (run.error) throw run.error;
    if (run.status !== 0) console.error(`record: the command ended with status ${run.status}; its records are used all the same`);
    // run.<pid>.rec: by size (the most records) or by modification order (the first process)
    const files = readdirSync(dir).filter((f) => f.endsWith(".rec")).map((f) => {
      const path = join(dir, f), stat = statSync(path);
      return { path, pid: Number(f.split(".")[1]), size: stat.size, born: stat.birthtimeMs };
    });
    if (files.length === 0) usage("the command made no records: did it run a program that uses glibc's malloc?");
    files.sort(which === "largest" ? (a, b) => b.size - a.size : (a, b) => a.born - b.born || a.pid - b.pid);
    const chosen = files[0];
    const c = convert(readFileSync(chosen.path), maxOps);
    const header = [
      `make record CMD=${JSON.stringify(command)}${maxOps !== Infinity ? ` MAX_OPS=${maxOps}` : ""}${which !== "largest" ? ` PROCESS=${which}` : ""}`,
      `recorded on ${new Date().toISOString().slice(0, 10)}; ${files.length} process(es), this one the ${which === "largest" ? "largest" : "first"} (${chosen.size / RECORD_BYTES} records)`,
    ];
    const input = option("--input");
    if (input) header.push(`input: ${input}`);
    // the command's inputs may be files of this tree: say which version
    const head = spawnSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" });
    if (head.status === 0) header.push(`in the askern tree at commit ${head.stdout.trim()}`);
    write(out, traceText(header, c));
    console.log(`record: ${out}: ${c.ops} operations, at most ${c.peakLiveBlocks} blocks live`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith("record.ts")) main();
