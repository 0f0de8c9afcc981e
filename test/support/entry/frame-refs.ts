// Host build of kernel/mm/core/frame-refs.ts (user frames' reference counts), exported for
// test/mm/core/frame-refs.test.ts.
import { FrameRefs, frameRefsInit, frameRefsBytes, frameRefCount, frameRefFirst, frameRefShare, frameRefDrop, frameRefCovers } from "../../../kernel/mm/core/frame-refs";

const FRAMES: u32 = 64;
const control = memory.data(offsetof<FrameRefs>(), 8);
const counts = memory.data(<i32>(FRAMES * 2), 8);
let refs = changetype<FrameRefs>(control);

export function init(): void { memory.fill(counts, 0, frameRefsBytes(FRAMES)); refs = frameRefsInit(control, counts, FRAMES); }
export function count(frame: u32): u32 { return frameRefCount(refs, frame << 12); }
export function first(frame: u32): void { frameRefFirst(refs, frame << 12); }
export function share(frame: u32): bool { return frameRefShare(refs, frame << 12); }
export function drop(frame: u32): u32 { return frameRefDrop(refs, frame << 12); }
export function covers(phys: u32): bool { return frameRefCovers(refs, phys); }
export function saturated(): u32 { return refs.saturated; }
/** Sets a count directly (to test saturation without 65,535 calls). */
export function setCount(frame: u32, value: u32): void { store<u16>(counts + (frame << 1), <u16>value); }
