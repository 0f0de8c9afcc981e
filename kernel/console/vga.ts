// VGA text mode mirror of the console (80x25, reached through the linear map).
//
//   one cell = u16:  bits 15..12 background, 11..8 foreground, 7..0 code page 437 character
import { KERNEL_VMA_OFFSET } from "../arch/x86";

const VGA_TEXT: usize = KERNEL_VMA_OFFSET + 0xB8000;
const COLUMNS: u32 = 80, ROWS: u32 = 25;
const ATTRIBUTE: u16 = 0x07 << 8;    // light grey on black

let column: u32 = 0, row: u32 = 0;

@inline function cell(r: u32, c: u32): usize { return VGA_TEXT + <usize>((r * COLUMNS + c) << 1); }

/** Clears the screen. */
export function vgaClear(): void {
  for (let i: u32 = 0; i < COLUMNS * ROWS; i++) store<u16>(VGA_TEXT + (i << 1), ATTRIBUTE | 0x20);
  column = 0; row = 0;
}

function scroll(): void {
  memory.copy(VGA_TEXT, VGA_TEXT + COLUMNS * 2, (ROWS - 1) * COLUMNS * 2);
  for (let c: u32 = 0; c < COLUMNS; c++) store<u16>(cell(ROWS - 1, c), ATTRIBUTE | 0x20);
  row = ROWS - 1;
}

/** Puts one byte; handles '\n' and '\r'. */
export function vgaPutByte(byte: u32): void {
  if (byte == 10) { column = 0; if (++row == ROWS) scroll(); return; }
  if (byte == 13) { column = 0; return; }
  store<u16>(cell(row, column), ATTRIBUTE | <u16>(byte & 0xFF));
  if (++column == COLUMNS) { column = 0; if (++row == ROWS) scroll(); }
}
