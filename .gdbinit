# askern's gdb set-up, loaded by `make debug` (gdb -nx -x .gdbinit build/askern.elf).
# QEMU waits halted with its gdb stub on port 1234.
set pagination off
set confirm off
set disassembly-flavor intel
source scripts/gdb/askern.py
target remote localhost:1234
# Every panic (CPU exception, double fault, wasm trap, failed assert, explicit) calls this hook.
break Z_archZ_panicHook
echo askern: connected; breakpoint on panic set. 'continue' boots the kernel.\n
echo askern: askern-pmm, askern-heap and askern-slabinfo print the allocators of a halted kernel.\n
