// The register frame that boot/interrupts.asm saves on every interrupt (see the diagram
// there). Field order is the memory order, lowest address first.

@unmanaged export class InterruptFrame {
  gs: u32; fs: u32; es: u32; ds: u32;
  edi: u32; esi: u32; ebp: u32; espAtPusha: u32; ebx: u32; edx: u32; ecx: u32; eax: u32;
  vector: u32;
  errorCode: u32;
  eip: u32; cs: u32; eflags: u32;
}

/** Bytes from the frame's start to where the CPU's own push begins (eip), i.e. the size of
 *  what the stub saved; the interrupted ESP is frame + this + 12 (eip, cs, eflags). */
export const FRAME_CPU_PART_OFFSET: u32 = 56;

/**
 * A frame saved on entry from ring 3: the CPU pushes the user's ESP and SS too. It is always at
 * the top of the thread's kernel stack (the TSS's ESP0), so the kernel can find and change the
 * frame of a thread that is not running (proc/process.ts: a kill).
 */
@unmanaged export class UserFrame extends InterruptFrame {
  userEsp: u32; userSs: u32;
}
/** Bytes of a UserFrame (boot/interrupts.asm resume_user_frame copies this many). */
export const USER_FRAME_BYTES: u32 = 76;
if (offsetof<UserFrame>() != USER_FRAME_BYTES || offsetof<UserFrame>("eip") != FRAME_CPU_PART_OFFSET) ERROR("UserFrame must match boot/interrupts.asm");
