// Reference counts of the frames user pages map: how many page-table entries, across every
// process, hold each frame. Copy-on-write fork shares a frame by counting one more; a write
// fault copies a shared frame (or takes it back when its count is 1); unmapping counts one
// less, and the frame goes back to the PMM at 0. Hardware-independent: host tests check it
// against a model (test/mm/core/frame-refs.test.ts).
//
//   FrameRefs   +0 counts (address of one u16 per frame)  +4 frames  +8 saturated (refusals)
//
// A count is 16 bits: fork refuses (frameRefShare answers false) rather than wrap, so a frame
// is never freed while an entry still maps it; the process limit keeps counts far below that.
// The counts change with interrupts off in the kernel (proc/memory.ts): one CPU.

/** The largest count: frameRefShare refuses beyond it. */
export const FRAME_REF_MAX: u32 = 0xFFFF;

@unmanaged export class FrameRefs {
  counts: usize;
  frames: u32;
  saturated: u32;
}

/** Bytes of the counts for `frames` frames (the caller's zeroed memory). */
export function frameRefsBytes(frames: u32): u32 { return frames << 1; }

/** The counts at `control` over `counts` (frameRefsBytes(frames), zeroed): every frame at 0. */
export function frameRefsInit(control: usize, counts: usize, frames: u32): FrameRefs {
  const refs = changetype<FrameRefs>(control);
  refs.counts = counts;
  refs.frames = frames;
  refs.saturated = 0;
  return refs;
}

@inline function slot(refs: FrameRefs, phys: u32): usize { return refs.counts + ((phys >> 12) << 1); }

/** Whether `phys` is a frame the counts cover. */
@inline export function frameRefCovers(refs: FrameRefs, phys: u32): bool { return (phys >> 12) < refs.frames; }

/** `phys`'s count. */
@inline export function frameRefCount(refs: FrameRefs, phys: u32): u32 { return <u32>load<u16>(slot(refs, phys)); }

/** A frame newly mapped once: its count becomes 1 (it must have been 0). */
@inline export function frameRefFirst(refs: FrameRefs, phys: u32): void { store<u16>(slot(refs, phys), 1); }

/** One more entry maps `phys`; false (and nothing changes) at FRAME_REF_MAX. */
@inline export function frameRefShare(refs: FrameRefs, phys: u32): bool {
  const at = slot(refs, phys);
  const count = <u32>load<u16>(at);
  if (count >= FRAME_REF_MAX) { refs.saturated++; return false; }
  store<u16>(at, <u16>(count + 1));
  return true;
}

/** One entry fewer maps `phys`: the count left (0: the frame is free to give back). A count already 0 answers FRAME_REF_MAX + 1 (a broken invariant: the caller panics). */
@inline export function frameRefDrop(refs: FrameRefs, phys: u32): u32 {
  const at = slot(refs, phys);
  const count = <u32>load<u16>(at);
  if (count == 0) return FRAME_REF_MAX + 1;
  store<u16>(at, <u16>(count - 1));
  return count - 1;
}
