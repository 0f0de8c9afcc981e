// Makes the kernel's function-name table (.ksyms; layout in kernel/diag/symbols.ts) from an
// ELF's symbols, and checks that the second link kept every function where the first put it.
//   gensyms.ts --empty <out.bin>               an empty table (for the first link)
//   gensyms.ts <pass1.elf> <out.bin>           the table of pass1's text symbols
//   gensyms.ts --verify <pass1.elf> <final.elf> exit 1 if a function moved
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";

const MAGIC = 0x4d59534b;

export interface KernelSymbol { address: number; name: string }

/** Function symbols of an ELF (nm's t/T), sorted by address, one per address. */
export function textSymbols(elf: string): KernelSymbol[] {
  const out = execFileSync("nm", ["-n", "--defined-only", elf], { encoding: "utf8" });
  const symbols: KernelSymbol[] = [];
  for (const line of out.split("\n")) {
    const m = line.match(/^([0-9a-f]+) ([tTwW]) (\S+)$/);
    if (!m) continue;
    const address = parseInt(m[1], 16);
    if (symbols.length && symbols[symbols.length - 1].address === address) continue;
    symbols.push({ address, name: m[3] });
  }
  return symbols;
}

/** Encodes a symbol table: header, sorted entries, NUL-terminated names. */
export function encodeTable(symbols: KernelSymbol[]): Buffer {
  const names = symbols.map((s) => Buffer.from(s.name + "\0", "latin1"));
  const header = 8 + symbols.length * 8;
  const table = Buffer.alloc(header + names.reduce((n, b) => n + b.length, 0));
  table.writeUInt32LE(MAGIC, 0);
  table.writeUInt32LE(symbols.length, 4);
  let nameOffset = header;
  symbols.forEach((s, i) => {
    table.writeUInt32LE(s.address >>> 0, 8 + i * 8);
    table.writeUInt32LE(nameOffset, 12 + i * 8);
    names[i].copy(table, nameOffset);
    nameOffset += names[i].length;
  });
  return table;
}

function main(): void {
  const args = process.argv.slice(2);
  if (args[0] === "--empty") { writeFileSync(args[1], encodeTable([])); return; }
  if (args[0] === "--verify") {
    const first = textSymbols(args[1]), final = new Map(textSymbols(args[2]).map((s) => [s.name, s.address]));
    const moved = first.filter((s) => final.get(s.name) !== s.address);
    if (moved.length) {
      console.error(`gensyms: ${moved.length} functions moved between the two links, e.g. ${moved[0].name}`);
      process.exit(1);
    }
    return;
  }
  const symbols = textSymbols(args[0]);
  writeFileSync(args[1], encodeTable(symbols));
  console.log(`gensyms: ${symbols.length} function names`);
}

if (process.argv[1]?.endsWith("gensyms.ts")) main();
