// Self-tests of ring 3 and the system-call gate (kernel/proc/): a thread drops to ring 3 into a
// few bytes of machine code on a user page (proc/program.ts), which makes system calls through
// `int 0x80`, or faults.
import { registerTest, checkEqual } from "./harness";
import { pmmFreeFrames } from "../mm/phys/pmm";
import { kmallocHeldFrames } from "../mm/alloc/kmalloc";
import { runProgram, PROGRAM_CODE } from "../proc/program";
import { kernelEntry } from "../mm/virt/vmm";
import { syscallBytesWritten, EFAULT } from "../proc/syscall";
import { userFaultKills, KILLED_BY_FAULT } from "../proc/fault";

// exit(0):  B8 00 00 00 00  BB 00 00 00 00  CD 80
const exitZero = memory.data<u8>([0xB8, 0, 0, 0, 0, 0xBB, 0, 0, 0, 0, 0xCD, 0x80]);

// write(msg, 18); exit(7); then, never reached, jmp $
//   B8 01 00 00 00   mov eax, 1          BB <msg>   mov ebx, msg        B9 12 00 00 00   mov ecx, 18
//   CD 80            int 0x80            B8 00 00 00 00   mov eax, 0    BB 07 00 00 00   mov ebx, 7
//   CD 80            int 0x80            EB FE      jmp $               msg: "hello from ring 3\n"
const HELLO_CODE: u32 = 31;
const hello = memory.data<u8>([0xB8, 1, 0, 0, 0, 0xBB, 0, 0, 0, 0, 0xB9, 18, 0, 0, 0, 0xCD, 0x80, 0xB8, 0, 0, 0, 0, 0xBB, 7, 0, 0, 0, 0xCD, 0x80, 0xEB, 0xFE]);
function writeHello(at: usize): u32 {
  memory.copy(at, hello, HELLO_CODE);
  store<u32>(at + 6, PROGRAM_CODE + HELLO_CODE);   // msg's address into "mov ebx, msg"
  const text = "hello from ring 3\n";
  for (let i = 0; i < text.length; i++) store<u8>(at + HELLO_CODE + i, <u8>text.charCodeAt(i));
  return 18;
}

// write(0xC0100000, 4): a kernel address as the buffer; then exit(the result)
//   B8 01 00 00 00  BB 00 00 10 C0  B9 04 00 00 00  CD 80  89 C3 (mov ebx, eax)  B8 00 00 00 00  CD 80  EB FE
const badPointer = memory.data<u8>([0xB8, 1, 0, 0, 0, 0xBB, 0, 0, 0x10, 0xC0, 0xB9, 4, 0, 0, 0, 0xCD, 0x80, 0x89, 0xC3, 0xB8, 0, 0, 0, 0, 0xCD, 0x80, 0xEB, 0xFE]);

const program = memory.data(128, 4);
registerTest("user.hello_syscalls", () => {
  const framesBefore = pmmFreeFrames() + kmallocHeldFrames();
  const length = writeHello(program);
  const written = syscallBytesWritten();
  const code = runProgram(program, HELLO_CODE + length);
  checkEqual(<u64>code, 7, "the program ran in ring 3 and exited with 7 through int 0x80");
  checkEqual(syscallBytesWritten() - written, length, "its write reached the console");
  checkEqual(pmmFreeFrames() + kmallocHeldFrames(), framesBefore, "every frame back: its pages, its page table, its directory");
  checkEqual(kernelEntry(PROGRAM_CODE), 0, "and the kernel's own directory never saw its pages");
});

// Address spaces come and go without a leak: a thousand programs, every frame back.
registerTest("user.spaces_leak_check", () => {
  const framesBefore = pmmFreeFrames() + kmallocHeldFrames();
  let exits: u32 = 0;
  for (let i: u32 = 0; i < 1000; i++) if (runProgram(exitZero, 12) == 0) exits++;
  checkEqual(exits, 1000, "1,000 programs ran and exited");
  checkEqual(pmmFreeFrames() + kmallocHeldFrames(), framesBefore, "every frame back after 1,000 address spaces");
});

registerTest("user.bad_pointer_efault", () => {
  const code = runProgram(badPointer, 28);
  checkEqual(<u64><i64>code, <u64><i64>-EFAULT, "a kernel address as a write buffer: -EFAULT, and the kernel goes on");
});

// Faults in ring 3 kill the thread with one line; the kernel goes on.
const nullRead = memory.data<u8>([0xA1, 0, 0, 0, 0, 0xB8, 0, 0, 0, 0, 0xCD, 0x80]);                   // mov eax, [0]; exit
const kernelWrite = memory.data<u8>([0xC7, 0x05, 0, 0, 0x10, 0xC0, 1, 0, 0, 0, 0xB8, 0, 0, 0, 0, 0xCD, 0x80]);   // mov dword [0xC0100000], 1; exit
const privileged = memory.data<u8>([0xFA, 0xB8, 0, 0, 0, 0, 0xCD, 0x80]);                                // cli (a #GP in ring 3); exit
registerTest("user.faults_kill_the_thread", () => {
  const before = userFaultKills();
  checkEqual(<u64>runProgram(nullRead, 12), KILLED_BY_FAULT, "a null read: killed");
  checkEqual(<u64>runProgram(kernelWrite, 17), KILLED_BY_FAULT, "a write to the kernel's text: killed");
  checkEqual(<u64>runProgram(privileged, 8), KILLED_BY_FAULT, "cli in ring 3 (#GP): killed");
  checkEqual(userFaultKills() - before, 3, "three threads killed, each reported");
});
