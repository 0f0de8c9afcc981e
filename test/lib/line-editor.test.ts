// Host tests of the monitor's line editor (kernel/lib/line-editor.ts): keystrokes in, the line
// and the echo out, against a model of what a terminal shows.
import { describe, it, expect, beforeEach } from "vitest";
import fc from "fast-check";
import { loadHostModule, HostModule, propertyParams } from "../support/wasm";

const DONE = 1, CANCELLED = 2, LINE_MAX = 120, HISTORY = 16;
let m: HostModule;
beforeEach(() => { m = loadHostModule("line-editor"); m.exports.init(); });

const bytes = (at: number, n: number) => Buffer.from(new Uint8Array(m.memory.buffer, at, n)).toString("latin1");

/** Types `keys`; returns the finished lines, the results and everything echoed. */
function type(keys: string) {
  const lines: string[] = [], results: number[] = [];
  let screen = "";
  for (const ch of keys) {
    const r = m.exports.feed(ch.charCodeAt(0));
    results.push(r);
    screen += bytes(m.exports.echo(), m.exports.echoBytes());
    if (r === DONE) lines.push(bytes(m.exports.line(), m.exports.length()));
  }
  return { lines, results, screen };
}

/** What a terminal shows on the current line after `screen` (backspace moves left; CR LF ends it). */
function visible(screen: string): string {
  let row: string[] = [], col = 0;
  for (const ch of screen) {
    if (ch === "\n") { row = []; col = 0; } else if (ch === "\r") col = 0;
    else if (ch === "\b") col = Math.max(0, col - 1);
    else { row[col++] = ch; }
  }
  return row.join("").replace(/ +$/, "");
}

const UP = "\x1b[A", DOWN = "\x1b[B";

describe("line editor", () => {
  it("echoes, finishes on Enter (CR, LF or CR LF counts once), and erases", () => {
    const { lines, screen } = type("meminfo\r\nhelp x\x08\x08\rab\x7fc\n");
    expect(lines).toEqual(["meminfo", "help", "ac"]);
    expect(screen.startsWith("meminfo\n")).toBe(true);
    expect(screen).toContain("\b \b");
  });
  it("Ctrl-U erases the line, Ctrl-C abandons it", () => {
    const a = type("kmalloc 64\x15free\r");
    expect(a.lines).toEqual(["free"]);
    const b = type("halt\x03uptime\r");
    expect(b.results).toContain(CANCELLED);
    expect(b.lines).toEqual(["uptime"]);
    expect(b.screen).toContain("^C\n");
  });
  it("walks the history with the arrows, and gives the line being typed back", () => {
    type("one\rtwo\rtwo\rthree\r");
    expect(m.exports.history()).toBe(3);   // (a repeat of the newest is kept once)
    const r = type(`par${UP}${UP}${UP}${UP}${DOWN}\r`);
    expect(r.lines).toEqual(["two"]);
    expect(visible(r.screen.split("\n")[0])).toBe("two");
    const back = type(`x${UP}${DOWN}y\r`);
    expect(back.lines).toEqual(["xy"]);
  });
  it("keeps the last 16 lines", () => {
    for (let i = 0; i < 20; i++) type(`cmd${i}\r`);
    expect(m.exports.history()).toBe(HISTORY);
    const r = type(UP.repeat(30) + "\r");
    expect(r.lines).toEqual(["cmd4"]);
  });
  it("ignores other control bytes and escape sequences, and stops at the longest line", () => {
    expect(type("a\x01\x1b[C\x1b[1;5Db\r").lines).toEqual(["ab"]);
    expect(type("x".repeat(200) + "\r").lines).toEqual(["x".repeat(LINE_MAX)]);
  });
  it("shows exactly the line it returns, whatever is typed (random keystrokes)", () => {
    const key = fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
      { weight: 2, arbitrary: fc.constantFrom("\x08", "\x7f", "\x15", UP, DOWN, "\x1b[C", "\x00", "\x07") },
      { weight: 1, arbitrary: fc.constantFrom("\r", "\x03") },
    );
    fc.assert(fc.property(fc.array(key, { maxLength: 300 }), (keys) => {
      m.exports.init();
      let screen = "";
      for (const k of keys.join("")) {
        const r = m.exports.feed(k.charCodeAt(0));
        const echoed = bytes(m.exports.echo(), m.exports.echoBytes());
        if (r === DONE) {
          const line = bytes(m.exports.line(), m.exports.length());
          expect(visible(screen), "the terminal shows the line returned").toBe(line.replace(/ +$/, ""));   // (an erased character shows as a space)
          expect(line.length).toBeLessThanOrEqual(LINE_MAX);
          screen = "";
        } else if (r === CANCELLED) screen = "";
        else screen += echoed;
      }
    }), propertyParams(300));
  });
});
