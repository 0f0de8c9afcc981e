// Loads a host build of AssemblyScript modules (build/host/<name>.wasm, made by the Makefile
// from test/support/entry/<name>.ts) with the arch imports mocked, and helpers to move bytes and
// strings in and out of its memory.
import { readFileSync } from "node:fs";
import fc from "fast-check";

export interface HostModule {
  exports: Record<string, any>;
  memory: WebAssembly.Memory;
  bytes(): Uint8Array;
  /** Records every arch call by name, for tests of hardware-facing code. */
  archCalls: Array<{ name: string; args: number[] }>;
}

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
  const arch = new Proxy({}, {
    get: (_t, prop: string) => (...args: number[]) => {
      archCalls.push({ name: prop, args });
      return archOverrides[prop] ? archOverrides[prop](...args) : 0;
    },
  });
  const env = {
    abort(msg: number, file: number, line: number, column: number) {
      throw new Error(`abort: ${readAsString(memory!, msg)} at ${readAsString(memory!, file)}:${line}:${column}`);
    },
  };
  const instance = new WebAssembly.Instance(module, { arch, env } as WebAssembly.Imports);
  memory = instance.exports.memory as WebAssembly.Memory;
  return { exports: instance.exports as Record<string, any>, memory, bytes: () => new Uint8Array(memory!.buffer), archCalls };
}

/** fast-check parameters for this run: the seed printed by test/support/global-setup.ts. */
export function propertyParams(numRuns = 200): fc.Parameters<unknown> {
  return { seed: Number(process.env.ASKERN_SEED ?? 1), numRuns };
}
