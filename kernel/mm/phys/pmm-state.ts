// The PMM's state, shared by its API (pmm.ts) and the per-CPU frame lists (frame-lists.ts): the
// one FrameAllocator and the PMM's lock.
import { FrameAllocator, FRAME_ALLOCATOR_BYTES, frameAllocatorAt } from "../core/frames";

// The allocator's state at a fixed address, so the compiled fast paths address its fields
// directly instead of loading a pointer first (on every allocate and free).
export const pmmState = memory.data(FRAME_ALLOCATOR_BYTES, 8);
export const pmm = changetype<FrameAllocator>(pmmState);
frameAllocatorAt(pmmState);
/** The PMM's lock (klockIrqSaveTo): a kernel-lock section, the caller's EFLAGS saved here meanwhile. */
export const pmmLock = memory.data(4, 4);
