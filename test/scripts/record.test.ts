// The recorder (`make record`: scripts/record/record.c, scripts/record.ts): the conversion of
// records into trace lines, a real program's calls recorded end to end (forked children and
// threads included), the command line's errors, and the shipped real traces.
import { describe, it, expect, beforeAll } from "vitest";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { convert, RECORD_BYTES } from "../../scripts/record";
import { validate } from "../../scripts/compare";

const run = promisify(execFile);
const LIB = join(process.cwd(), "build/record/librecord.so");
let dir = "";
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), "askern-record-test-")); });

/** Records as librecord.so writes them: [op, arg0, arg1, result] each. */
function records(list: Array<[string, number, number, number]>): Buffer {
  const b = Buffer.alloc(list.length * RECORD_BYTES);
  list.forEach(([op, a0, a1, r], i) => {
    b[i * RECORD_BYTES] = op.charCodeAt(0);
    b.writeBigUInt64LE(BigInt(a0), i * RECORD_BYTES + 8);
    b.writeBigUInt64LE(BigInt(a1), i * RECORD_BYTES + 16);
    b.writeBigUInt64LE(BigInt(r), i * RECORD_BYTES + 24);
  });
  return b;
}

describe("from records to a trace", () => {
  it("turns each call into its operation, with dense ids reused last freed first", () => {
    const c = convert(records([
      ["m", 24, 0, 0x1000], ["c", 3, 8, 0x2000], ["a", 64, 100, 0x3000], ["a", 8, 10, 0x4000],
      ["r", 0x1000, 200, 0x5000], ["f", 0x2000, 0, 0], ["f", 0x3000, 0, 0], ["m", 0, 0, 0x6000],
      ["m", 5, 0, 0x7000], ["r", 0, 9, 0x8000],
    ]));
    expect(c.lines).toEqual([
      "a 0 24", "a 1 24", "a 2 100 64", "a 3 10", "r 0 200", "f 1", "f 2",
      "a 2 1",      // malloc(0): size 1; the last freed id first
      "a 1 5", "a 4 9",
    ]);
    expect(c.peakLiveBlocks).toBe(5);
    expect(c.skipped).toEqual({ failed: 0, tooLarge: 0, unknownFree: 0, alignClamped: 0, reusedLive: 0 });
  });

  it("leaves out what the format cannot say, and counts it", () => {
    const c = convert(records([
      ["m", 16, 0, 0],                      // failed
      ["m", 2 ** 31, 0, 0x1000],            // above 1 GiB
      ["f", 0x1000, 0, 0],                  // so its free is of a block not recorded
      ["a", 65536, 32, 0x2000],             // alignment clamped to 4096
      ["m", 8, 0, 0x3000], ["r", 0x3000, 64, 0],   // a realloc that failed keeps the block
      ["r", 0x3000, 0, 0],                  // realloc(p, 0) that returned NULL frees it
      ["m", 8, 0, 0x4000], ["m", 8, 0, 0x4000],    // an address handed out twice: the first freed
    ]));
    expect(c.lines).toEqual(["a 0 32 4096", "a 1 8", "f 1", "a 1 8", "f 1", "a 1 8"]);
    expect(c.skipped).toEqual({ failed: 2, tooLarge: 1, unknownFree: 1, alignClamped: 1, reusedLive: 1 });
  });

  it("stops after the operations asked for, and refuses a cut record file", () => {
    expect(convert(records([["m", 1, 0, 0x10], ["m", 1, 0, 0x20], ["m", 1, 0, 0x30]]), 2).lines).toEqual(["a 0 1", "a 1 1"]);
    expect(() => convert(Buffer.alloc(RECORD_BYTES + 5))).toThrow(/whole number of 32-byte records/);
    expect(() => convert(records([["x", 0, 0, 0]]))).toThrow(/unknown operation 0x78/);
  });
});

describe("make record", () => {
  // a program that makes every call the library records, forks a child and runs a thread
  const PROGRAM = `
    #define _GNU_SOURCE
    #include <malloc.h>
    #include <pthread.h>
    #include <stdlib.h>
    #include <sys/wait.h>
    #include <unistd.h>
    static void *worker(void *arg) { free(malloc(1000)); return arg; }
    int main(void) {
      void *a = malloc(100), *b = calloc(4, 25), *c = 0, *d, *e;
      a = realloc(a, 5000);
      if (posix_memalign(&c, 256, 40)) return 1;
      d = aligned_alloc(64, 128);
      e = memalign(8192, 16);
      free(b); free(c); free(d); free(e); free(0);
      pthread_t t; pthread_create(&t, 0, worker, 0); pthread_join(t, 0);
      if (fork() == 0) { for (int i = 0; i < 50; i++) free(malloc(i + 1)); _exit(0); }
      wait(0);
      free(a);
      return 0;
    }`;
  let program = "";
  beforeAll(async () => {
    writeFileSync(join(dir, "calls.c"), PROGRAM);
    program = join(dir, "calls");
    await run("clang", ["-O0", "-pthread", "-o", program, join(dir, "calls.c")]);
  }, 60_000);

  async function record(args: string[]): Promise<string[]> {
    const out = join(dir, `t${Math.random().toString(36).slice(2)}.trace`);
    await run("node_modules/.bin/tsx", ["scripts/record.ts", "--lib", LIB, "--out", out, ...args]);
    return readFileSync(out, "latin1").split("\n").filter((l) => /^[afr] /.test(l));
  }

  it("records the first process's calls in order, its thread's among them", async () => {
    const ops = await record(["--process", "first", "--", program]);
    // pthread_create allocates the thread's stack bookkeeping with calloc: its lines sit between
    expect(ops.slice(0, 9)).toEqual(["a 0 100", "a 1 100", "r 0 5000", "a 2 40 256", "a 3 128 64", "a 4 16 4096", "f 1", "f 2", "f 3"]);
    expect(ops.some((l) => /^a \d+ 1000$/.test(l))).toBe(true);   // the thread's
    expect(ops[ops.length - 1]).toMatch(/^f \d+$/);
    expect(ops.filter((l) => l.startsWith("a ")).length).toBeLessThan(20);   // not the child's 50
  }, 60_000);

  it("takes the process with the most records by default: here the forked child", async () => {
    const ops = await record(["--", program]);
    expect(ops.length).toBeGreaterThanOrEqual(100);
    expect(ops.slice(0, 4)).toEqual(["a 0 1", "f 0", "a 0 2", "f 0"]);
  }, 60_000);

  it("writes a gzip file when the name ends in .gz, with the command on its first line", async () => {
    const out = join(dir, "calls.trace.gz");
    await run("node_modules/.bin/tsx", ["scripts/record.ts", "--lib", LIB, "--out", out, "--max-ops", "5", "--", program]);
    const text = gunzipSync(readFileSync(out)).toString("latin1");
    expect(text.split("\n")[0]).toBe(`# make record CMD=${JSON.stringify(program)} MAX_OPS=5`);
    expect(text.split("\n").filter((l) => /^[afr] /.test(l))).toHaveLength(5);
  }, 60_000);

  it("refuses a bad option with exit status 2", async () => {
    const bad = (args: string[]) => run("node_modules/.bin/tsx", ["scripts/record.ts", "--lib", LIB, "--out", join(dir, "x.trace"), ...args]);
    await expect(bad(["--max-ops", "-3", "--", "true"])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("--max-ops -3: not a positive whole number") });
    await expect(bad(["--process", "last", "--", "true"])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("--process last: largest or first") });
    await expect(bad([])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("no command") });
  }, 60_000);
});

describe("the shipped real traces", () => {
  const files = readdirSync("test/traces/real").filter((f) => f.endsWith(".trace.gz"));
  it("are at least four, a few MB in all", () => {
    expect(files.length).toBeGreaterThanOrEqual(4);
    const bytes = files.reduce((sum, f) => sum + readFileSync(`test/traces/real/${f}`).length, 0);
    expect(bytes).toBeLessThan(5 << 20);
  });
  for (const f of files) {
    it(`${f} says the command that made it and passes the kernel's decoder`, async () => {
      const text = gunzipSync(readFileSync(`test/traces/real/${f}`)).toString("latin1");
      expect(text).toMatch(/^# make record CMD="/);
      expect(text.split("\n").filter((l) => /^[afr] /.test(l)).length).toBeGreaterThan(100_000);
      const unpacked = join(dir, f.replace(/\.gz$/, ""));
      writeFileSync(unpacked, text);
      expect(await validate("build/compare", unpacked)).toBeNull();
    }, 60_000);
  }
});
