// Tests that must end in a panic. Each runs in its own boot (test=<name>) and is judged by the
// host (the QEMU tests, test/**/*.qemu.test.ts) on the panic text and QEMU's exit status.
import { registerPanicTest } from "./harness";
import { cpuDivide, touchRead } from "../arch/x86";
import { panic } from "../diag/panic";

// Kept in globals so the optimizer cannot see the zero.
let nullAddress: usize = 0;
let zero: i32 = 0;
let depthSink: u32 = 0;

registerPanicTest("panic.null_deref", "page fault: outside every range|#PF page fault|null pointer dereference|backtrace:", () => {
  depthSink = touchRead(nullAddress);
});

registerPanicTest("panic.wasm_divide_by_zero", "wasm trap|integer divide by zero", () => {
  depthSink = <u32>(100 / zero);
});

registerPanicTest("panic.cpu_divide_error", "#DE divide error", () => {
  depthSink = cpuDivide(1, <u32>zero);
});

function recurse(depth: u32): u32 {
  // non-tail recursion with a live value after the call: each level keeps a frame
  const below = depth == 0xFFFFFFFF ? 0 : recurse(depth + 1);
  depthSink = below;
  return below + depth;
}
registerPanicTest("panic.stack_overflow", "double fault: kernel stack overflow", () => {
  depthSink = recurse(0);
});

registerPanicTest("panic.assert", "assertion failed|self-test assertion|kernel/selftest/panics.ts", () => {
  assert(zero == 1, "self-test assertion");
});

registerPanicTest("panic.unreachable", "wasm trap|unreachable executed", () => {
  if (zero == 0) unreachable();
});

registerPanicTest("panic.backtrace_names", "self-test panic|backtrace:|w2c_start_kernel_selftest_panics_anonymous|kmain", () => {
  panic("self-test panic");
});
