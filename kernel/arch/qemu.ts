// Leaving QEMU with a status: QEMU's isa-debug-exit device at port 0xf4 (the launcher always
// adds it) makes QEMU exit with (value << 1) | 1. On real hardware the write does nothing and
// the caller halts.
import { outb, cli, hlt } from "./x86";

const DEBUG_EXIT_PORT: u32 = 0xF4;

/** Values written to the port; QEMU's exit status is (value << 1) | 1, shown beside each. */
export const enum ExitCode {
  Pass = 0x10,    // 33: every self-test passed / benchmarks done
  Fail = 0x11,    // 35: some self-test failed or timed out
  Panic = 0x12,   // 37: the kernel panicked
}

/** Exits QEMU with `code`, or halts forever where there is no debug-exit device. */
export function qemuExit(code: ExitCode): void {
  outb(DEBUG_EXIT_PORT, code);
  haltForever();
}

/** Interrupts off, halt, forever. */
export function haltForever(): void {
  cli();
  while (true) hlt();
}
