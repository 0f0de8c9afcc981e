// Build gate for the kernel's wasm, run right after asc. Fails the build (exit 1, with the
// reason) when the module breaks a rule the kernel depends on:
//   - every data segment lies inside the AssemblyScript data region [base, base + size)
//   - no runtime allocator (__alloc/__new/...): the kernel makes no managed allocations
//   - no shadow stack (__stack_pointer) and no SIMD (wasm2c 1.0.32 cannot translate it)
// Usage: check-wasm.ts <kernel.wasm> <kernel.wat> <base hex> <size hex>
import { readFileSync } from "node:fs";

export interface DataSegment { offset: number; size: number }

/** Reads the active data segments (offset, size) of a wasm binary. */
export function dataSegments(wasm: Uint8Array): DataSegment[] {
  let p = 8;
  const leb = (): number => {
    let result = 0, shift = 0, byte: number;
    do { byte = wasm[p++]; result += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
    return result;
  };
  const sleb32 = (): number => {
    let result = 0, shift = 0, byte: number;
    do { byte = wasm[p++]; result |= (byte & 0x7f) << shift; shift += 7; } while (byte & 0x80);
    if (shift < 32 && byte & 0x40) result |= -1 << shift;
    return result >>> 0;
  };
  const segments: DataSegment[] = [];
  while (p < wasm.length) {
    const id = wasm[p++];
    const length = leb();
    const end = p + length;
    if (id === 11) {
      const count = leb();
      for (let i = 0; i < count; i++) {
        const flags = leb();
        if (flags === 1) { const size = leb(); p += size; continue; }     // passive
        if (flags === 2) leb();                                           // memory index
        if (wasm[p++] !== 0x41) throw new Error("data segment offset is not an i32.const");
        const offset = sleb32();
        if (wasm[p++] !== 0x0b) throw new Error("data segment offset expression too long");
        const size = leb();
        segments.push({ offset, size });
        p += size;
      }
    }
    p = end;
  }
  return segments;
}

function main(): void {
  const [wasmPath, watPath, baseText, sizeText, flag] = process.argv.slice(2);
  // --allow-tlsf: the TLSF benchmark variant (Makefile) calls the runtime's TLSF through heap.alloc;
  // managed allocations (__new) stay forbidden there too.
  const allowTlsf = flag === "--allow-tlsf";
  const base = Number(baseText), size = Number(sizeText);
  const problems: string[] = [];
  const segments = dataSegments(readFileSync(wasmPath));
  let end = base;
  for (const s of segments) {
    if (s.offset < base || s.offset + s.size > base + size) {
      problems.push(`data segment at 0x${s.offset.toString(16)} (+${s.size}) is outside the region 0x${base.toString(16)}+0x${size.toString(16)}`);
    }
    end = Math.max(end, s.offset + s.size);
  }
  const wat = readFileSync(watPath, "utf8");
  for (const [pattern, why] of [
    [allowTlsf ? /\$~lib\/rt\/(stub|tlsf|itcms|tcms)\/__(new|renew)\b/ : /\$~lib\/rt\/(stub|tlsf|itcms|tcms)\/__(alloc|new|realloc|renew)\b/, "calls the AssemblyScript runtime allocator (the kernel makes no managed allocations: use static memory.data)"],
    [/__stack_pointer/, "has a shadow stack (__stack_pointer)"],
    [/\bv128\b/, "uses SIMD (wasm2c 1.0.32 cannot translate it)"],
  ] as const) {
    const m = wat.match(pattern);
    if (m) problems.push(`the kernel ${why}: found '${m[0]}' in ${watPath}`);
  }
  if (problems.length) {
    for (const p of problems) console.error(`check-wasm: ${p}`);
    process.exit(1);
  }
  console.log(`check-wasm: ${segments.length} data segments, ${end - base} of ${size} bytes of the data region used; ${allowTlsf ? "only the TLSF allocator (benchmark variant)" : "no allocator"}, no shadow stack`);
}

if (process.argv[1]?.endsWith("check-wasm.ts")) main();
