// make profile's parsing (scripts/profile.ts): blocks from QEMU's in_asm log, their executions
// from its exec lines (capped by icount's count in cflags), and symbols by address.
import { describe, it, expect } from "vitest";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { blockCounts, bySymbol, symbolAt } from "../../scripts/profile";

const LOG = `----------------
IN: 
0xc0100000:  55                    pushl    %ebp
0xc0100001:  89 e5                 movl     %esp, %ebp
0xc0100003:  c3                    retl

Trace 0: 0x7f0000000100 [00000000/c0100000/000000b0/ff000000] 
Trace 0: 0x7f0000000100 [00000000/c0100000/000000b0/ff000000] 
----------------
IN: 
0xc0100010:  90                    nop
0xc0100011:  90                    nop
0xc0100012:  c3                    retl

Trace 0: 0x7f0000000200 [00000000/c0100010/000000b0/ff000002] 
Trace 0: 0x7f0000000200 [00000000/c0100010/000000b0/ff000000] 
`;

describe("make profile", () => {
  it("counts each block's instructions per execution, as icount caps it", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "askern-profile-test-")), "q.log");
    writeFileSync(file, LOG);
    const counts = await blockCounts(file);
    expect(counts.get(0xc0100000)).toBe(6);       // 3 instructions, twice
    expect(counts.get(0xc0100010)).toBe(2 + 3);   // capped at 2 once, then whole
  });
  it("names an address by the symbol at or below it", () => {
    const list = [{ address: 0xc0100000, name: "a" }, { address: 0xc0100010, name: "b" }];
    expect(symbolAt(list, 0xc0100005)).toBe("a");
    expect(symbolAt(list, 0xc0100010)).toBe("b");
    expect(symbolAt(list, 0xc00fffff)).toBe("?");
    expect(bySymbol(list, new Map([[0xc0100000, 6], [0xc0100003, 1], [0xc0100012, 4]]))).toEqual(new Map([["a", 7], ["b", 4]]));
  });
});
