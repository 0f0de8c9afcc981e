// Host build of kernel/mm/core/bump.ts over a buffer, exported for test/mm/core/bump.test.ts.
import { BumpArena, bumpInit, bumpAlloc, bumpMark, bumpRelease } from "../../../kernel/mm/core/bump";
export { fill, holds } from "../host-lib/buffer-provider";

const BYTES: u32 = 64 << 10;
const buffer = memory.data(BYTES, 16);
const state = memory.data(offsetof<BumpArena>(), 4);
let arena = changetype<BumpArena>(state);

export function init(bytes: u32): void { arena = bumpInit(state, buffer, min<u32>(bytes, BYTES), "test arena"); }
export function alloc(size: u32, align: u32): usize { return bumpAlloc(arena, size, align); }
export function mark(): usize { return bumpMark(arena); }
export function release(at: usize): void { bumpRelease(arena, at); }
export function top(): usize { return arena.top; }
export function base(): usize { return arena.base; }
export function limit(): usize { return arena.limit; }
export function errors(): u32 { return arena.errors; }
export function peak(): usize { return arena.peak; }
