// Loads a host build of AssemblyScript modules (build/host/<name>.wasm, made by the Makefile
// from test/support/entry/<name>.ts) with the arch imports mocked, and helpers to move bytes and
// strings in and out of its memory. The mock includes a serial port (COM1): its line status says
// "ready to send", and every byte written to its data register is kept; and the cores' report
// sink (kernel/mm/core/report.ts), whose lines go to the same text, so a test reads in
// m.serial() what the module logged either way; and the cores' section (kernel/mm/core/section.ts),
// which checks that sections are closed in order.
import { readFileSync } from "node:fs";
import fc from "fast-check";

export interface HostModule {
  exports: Record<string, any>;
  memory: WebAssembly.Memory;
  bytes(): Uint8Array;
  /** Records every arch call by name, for tests of hardware-facing code. */
  archCalls: Array<{ name: string; args: number[] }>;
  /** Sections (kernel/mm/core/section.ts) open now: 0 between calls, or one was left open. */
  openSections(): number;
  /** What the module wrote to the serial port since it was loaded (or since clearSerial). */
  serial(): string;
  clearSerial(): void;
}

const COM1_DATA = 0x3f8, COM1_LINE_STATUS = 0x3fd, LINE_STATUS_TRANSMIT_EMPTY = 0x20;
// kernel/mm/core/report.ts: ReportLevel and ReportPart
const REPORT_LEVELS = ["error", "warn", "info", "debug"], REPORT_PLAIN = -1, REPORT_FIRST = 1, REPORT_LAST = 2;

function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (!ptr) return "";
  const length = new Uint32Array(memory.buffer, ptr - 4, 1)[0];
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, length >> 1));
}

/** Instantiates build/host/<name>.wasm with mocked imports. */
export function loadHostModule(name: string, archOverrides: Record<string, (...a: number[]) => number | void> = {}): HostModule {
  const module = new WebAssembly.Module(readFileSync(`build/host/${name}.wasm`));
  const archCalls: HostModule["archCalls"] = [];
  let memory: WebAssembly.Memory | undefined;
  let serial = "";
  const serialPort: Record<string, (...a: number[]) => number | void> = {
    inb: (port) => (port === COM1_LINE_STATUS ? LINE_STATUS_TRANSMIT_EMPTY : 0),
    outb: (port, value) => { if (port === COM1_DATA) serial += String.fromCharCode(value); },
  };
  const arch = new Proxy({}, {
    get: (_t, prop: string) => (...args: number[]) => {
      archCalls.push({ name: prop, args });
      const handler = archOverrides[prop] ?? serialPort[prop];
      return handler ? handler(...args) : 0;
    },
  });
  const env = {
    abort(msg: number, file: number, line: number, column: number) {
      throw new Error(`abort: ${readAsString(memory!, msg)} at ${readAsString(memory!, file)}:${line}:${column}`);
    },
  };
  let reportLevel = 0, reportSubsystem = "";
  const report = {
    begin(level: number, subsystem: number) {
      reportLevel = level;
      reportSubsystem = readAsString(memory!, subsystem);
      return 1;   // every level: the tests read everything
    },
    write(bytes: number, length: number, part: number) {
      if (part & REPORT_FIRST && reportLevel !== REPORT_PLAIN) serial += `${REPORT_LEVELS[reportLevel] ?? reportLevel} ${reportSubsystem}: `;
      const text = Buffer.from(new Uint8Array(memory!.buffer, bytes, length)).toString("latin1");
      serial += text;
      if (part & REPORT_LAST && !text.endsWith("\n")) serial += "\n";
    },
  };
  // The cores' one-CPU section (kernel/mm/core/section.ts): nothing to turn off on the host, but
  // every leave must close the section its enter opened, innermost first.
  let sectionDepth = 0;
  const section = {
    enter() { return ++sectionDepth; },
    leave(saved: number) {
      if (saved !== sectionDepth) throw new Error(`section: leave(${saved}) while ${sectionDepth} section(s) are open`);
      sectionDepth--;
    },
  };
  const instance = new WebAssembly.Instance(module, { arch, env, report, section } as WebAssembly.Imports);
  memory = instance.exports.memory as WebAssembly.Memory;
  return {
    exports: instance.exports as Record<string, any>, memory, bytes: () => new Uint8Array(memory!.buffer), archCalls,
    serial: () => serial, clearSerial: () => { serial = ""; }, openSections: () => sectionDepth,
  };
}

/** The allocators' refusal reasons (kernel/mm/core/alloc-error.ts), read from a module that exports them. */
export function allocErrors(m: HostModule) {
  const value = (name: string): number => (m.exports[name] as WebAssembly.Global).value;
  return {
    OK: value("ALLOC_OK"), FOREIGN: value("ALLOC_FOREIGN"), MISALIGNED: value("ALLOC_MISALIGNED"),
    INTERIOR: value("ALLOC_INTERIOR"), DOUBLE_FREE: value("ALLOC_DOUBLE_FREE"), WRONG_CACHE: value("ALLOC_WRONG_CACHE"),
  };
}

/** fast-check parameters for this run: the seed printed by test/support/global-setup.ts. */
export function propertyParams(numRuns = 200): fc.Parameters<unknown> {
  return { seed: Number(process.env.ASKERN_SEED ?? 1), numRuns };
}
