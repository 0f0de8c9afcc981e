// A thread's ring-3 frame (arch/frame.ts: UserFrame): made for a new program or thread, copied
// for fork, given back once on its stack, and redirected into ring 0 when the thread is killed.
import { UserFrame, USER_FRAME_BYTES } from "../arch/frame";
import { USER_CODE_SELECTOR, USER_DATA_SELECTOR, KERNEL_CODE_SELECTOR, KERNEL_DATA_SELECTOR, PERCPU_SELECTOR } from "../arch/gdt";
import { userKilledAddress } from "../arch/x86";
import { kmalloc, kfree } from "../mm/alloc/kmalloc";

/**
 * A ring-3 frame (a kmalloc'd UserFrame, or 0 when memory is short) that enters at `eip` with
 * the stack at `esp`, every general register 0, interrupts on: exec's entry and thread_create's.
 * Fork copies the parent's system-call frame instead (userFrameCopy). Thread context.
 */
export function userFrameNew(eip: u32, esp: u32): usize {
  const block = kmalloc(USER_FRAME_BYTES);
  if (block == 0) return 0;
  const f = changetype<UserFrame>(block);
  memory.fill(block, 0, USER_FRAME_BYTES);
  f.gs = USER_DATA_SELECTOR; f.fs = USER_DATA_SELECTOR; f.es = USER_DATA_SELECTOR; f.ds = USER_DATA_SELECTOR;
  f.eip = eip; f.cs = USER_CODE_SELECTOR; f.eflags = 0x202;
  f.userEsp = esp; f.userSs = USER_DATA_SELECTOR;
  return block;
}

/** A kmalloc'd copy of the ring-3 frame `frame` (0 when memory is short). Thread context. */
export function userFrameCopy(frame: usize): usize {
  const block = kmalloc(USER_FRAME_BYTES);
  if (block != 0) memory.copy(block, frame, USER_FRAME_BYTES);
  return block;
}

/** From user_frame_free_c (boot/runtime.c): a first ring-3 frame, copied to its stack, goes back. Thread context (the new thread's). */
export function userFrameFree(block: usize): void { kfree(block); }

/** Makes the ring-3 frame `f` return into user_killed_c in ring 0 instead of the program. Interrupts off, or the frame's own thread. */
export function processKillFrame(f: UserFrame): void {
  f.eip = userKilledAddress();
  f.cs = KERNEL_CODE_SELECTOR;
  f.eflags = 0x202;
  f.ds = KERNEL_DATA_SELECTOR; f.es = KERNEL_DATA_SELECTOR;
  f.fs = KERNEL_DATA_SELECTOR; f.gs = PERCPU_SELECTOR;
}
