// Names of the CPU exception vectors and the decoding of a page-fault error code.
//
// Page-fault error code (pushed by the CPU for vector 14):
//   bit 0 P     0 = the page was not present, 1 = a protection violation on a present page
//   bit 1 W/R   0 = read, 1 = write
//   bit 2 U/S   0 = supervisor (kernel) mode, 1 = user mode
//   bit 3 RSVD  1 = a reserved bit was set in a paging structure
//   bit 4 I/D   1 = the access was an instruction fetch
export const PF_PRESENT: u32 = 1 << 0;
export const PF_WRITE: u32 = 1 << 1;
export const PF_USER: u32 = 1 << 2;
export const PF_RESERVED: u32 = 1 << 3;
export const PF_FETCH: u32 = 1 << 4;

/** "#PF page fault" style name of an exception vector (0-31), or "" for others. */
export function exceptionName(vector: u32): string {
  switch (vector) {
    case 0: return "#DE divide error";
    case 1: return "#DB debug";
    case 2: return "NMI";
    case 3: return "#BP breakpoint";
    case 4: return "#OF overflow";
    case 5: return "#BR bound range exceeded";
    case 6: return "#UD invalid opcode";
    case 7: return "#NM device not available";
    case 8: return "#DF double fault";
    case 9: return "coprocessor segment overrun";
    case 10: return "#TS invalid TSS";
    case 11: return "#NP segment not present";
    case 12: return "#SS stack-segment fault";
    case 13: return "#GP general protection fault";
    case 14: return "#PF page fault";
    case 16: return "#MF x87 floating-point error";
    case 17: return "#AC alignment check";
    case 18: return "#MC machine check";
    case 19: return "#XM SIMD floating-point error";
    case 20: return "#VE virtualization exception";
    case 21: return "#CP control protection";
    case 30: return "#SX security exception";
    default: return vector < 32 ? "reserved exception" : "";
  }
}

/** Whether the CPU pushes an error code for this vector. */
export function exceptionHasErrorCode(vector: u32): bool {
  return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 || vector == 29 || vector == 30;
}
