// Self-tests of processes with the Makefile's user programs (user/*.c, booted as modules): each
// runs as a process of the kernel's, and the test checks its exit code (the program's own checks
// fail it with a non-zero code and a line saying what) and that every frame came back. The log
// lines of kills are checked from the host (test/proc/processes.qemu.test.ts).
import { framesNow } from "./frames";
import { registerTest, registerOnDemandTest, registerPanicTest, check, checkEqual, skipTest } from "./harness";
import { pmmFreeFrames } from "../mm/phys/pmm";
import { kmallocHeldFrames } from "../mm/alloc/kmalloc";
import { formatDecimal } from "../lib/format";
import { puts, putDec, newline } from "../console/console";
import { threadSleep } from "../sched/clock";
import { Process, processWaitKernel, processKill, processCount, processDeadThreads, processMemory, KILLED, KILLED_BY_FAULT } from "../proc/process";
import { spawnProgram, spawnError, argsCreate, argsAdd, findProgram } from "../proc/exec";
import { commitSetStrict, commitStrict, commitLimitPages } from "../proc/memory";
import { memoryMap } from "../proc/memory-calls";
import { processCreate } from "../proc/process";
import { userFaultKills } from "../proc/fault";
import { oomKills } from "../proc/oom";

const LINE_BYTES: u32 = 128;
const line = memory.data(LINE_BYTES, 4);

/**
 * Starts the program and arguments of the ASCII `command` (words separated by spaces), then
 * `number` (if not -1) and `tail` as more words; the process, or null (reported).
 */
export function start(command: string, number: i64 = -1, tail: string = ""): Process | null {
  let length: u32 = 0;
  for (let i = 0; i < command.length && length < 64; i++) store<u8>(line + length++, <u8>command.charCodeAt(i));
  if (number >= 0) { store<u8>(line + length++, 32); length += formatDecimal(<u64>number, line + length); }
  if (tail.length != 0) store<u8>(line + length++, 32);
  for (let i = 0; i < tail.length && length < LINE_BYTES; i++) store<u8>(line + length++, <u8>tail.charCodeAt(i));
  const args = argsCreate();
  if (args == 0) { check(false, "memory for the arguments"); return null; }
  let nameLength: u32 = 0;
  for (let at: u32 = 0; at < length; ) {
    let end = at;
    while (end < length && load<u8>(line + end) != 32) end++;
    if (at == 0) nameLength = end;
    argsAdd(args, line + at, end - at);
    at = end + 1;
  }
  const p = spawnProgram(line, nameLength, args);
  if (p == null) { checkEqual(<u64><i64>spawnError(), 0, "the program started (is it built and booted as a module?)"); return null; }
  return p;
}

/** Runs `command` to its end: its exit code (-1000 if it could not start). */
function run(command: string, number: i64 = -1, tail: string = ""): i32 {
  const p = start(command, number, tail);
  return p != null ? processWaitKernel(p) : -1000;
}

/** Free frames plus the kmalloc caches' (a process's records come and go through them). */

/** Waits until every process (orphans the reaper frees too) and every thread that left one early is freed; false after 5 s. */
function allGone(): bool {
  for (let i = 0; i < 500 && (processCount() | processDeadThreads()) != 0; i++) threadSleep(10);
  return (processCount() | processDeadThreads()) == 0;
}

function checkAllBack(before: u32, what: string): void {
  check(allGone(), "every process gone (the reaper freed the orphans)");
  checkEqual(framesNow(), before, what);
}

registerTest("proc.hello_args", () => {
  const before = framesNow();
  checkEqual(<u64>run("hello one two"), 3, "hello ran as a process from its ELF module and exited with its argc");
  checkAllBack(before, "every frame back: its pages, tables, directory, thread and record");
  check(findProgram(changetype<usize>(memory.data<u8>([0x6E, 0x6F])), 2) < 0, "an unknown name is not found");
});

registerTest("proc.memory_calls", () => {
  const before = framesNow();
  checkEqual(<u64>run("mm"), 0, "mmap, munmap (split), mprotect, brk, the zero page and memstats as user/mm.c checks them");
  checkAllBack(before, "every frame back");
});

registerTest("proc.faults_kill_only_the_process", () => {
  const before = framesNow(), kills = userFaultKills();
  checkEqual(<u64>run("faults null"), KILLED_BY_FAULT, "a null dereference: killed");
  checkEqual(<u64>run("faults text"), KILLED_BY_FAULT, "a write to its own text: killed");
  checkEqual(<u64>run("faults kernel"), KILLED_BY_FAULT, "a touch of the kernel half: killed");
  checkEqual(<u64>run("faults stack"), KILLED_BY_FAULT, "a stack overflow into the guard page: killed");
  checkEqual(userFaultKills() - kills, 4, "four kills, each with its line");
  checkEqual(<u64>run("faults badptr"), 0, "bad pointers to system calls: -EFAULT each, the process lives");
  checkAllBack(before, "every frame back");
});

registerTest("proc.execve", () => {
  const before = framesNow();
  checkEqual(<u64>run("execer hello a b c"), 4, "execve replaced the image: hello ran with the arguments passed");
  checkEqual(<u64>run("execer"), 0, "execve's errors: ENOENT, ENOEXEC (a truncated ELF), E2BIG, EFAULT");
  checkAllBack(before, "every frame back");
});

registerTest("proc.threads", () => {
  const before = framesNow();
  checkEqual(<u64>run("threads"), 0, "four threads of one process added to one counter, each ended alone");
  checkEqual(<u64>run("threads fault"), KILLED_BY_FAULT, "a fault in one thread ended the whole process");
  checkEqual(<u64>run("threads exit"), 5, "exit in one thread ended every thread, with its code");
  checkEqual(<u64>run("threads exec"), 1, "execve ended the other threads and ran hello");
  checkAllBack(before, "every frame back: every thread's stack and record too (the reaper's)");
});

// Four threads of one process write to the same 1,024 untouched pages at once. A page used to be
// mapped writable before it was zeroed, and a write another CPU made in between was wiped out
// (proc.wait_together lost a counter's update about one boot in twelve at -smp 4): a page is
// filled before it is mapped now. At one CPU the threads take turns, and it passes trivially.
registerTest("proc.touch_together", () => {
  if (pmmFreeFrames() < 4096) { skipTest("needs 16 MiB free: the program touches 4 MiB"); return; }
  const before = framesNow();
  checkEqual(<u64>run("threads touch"), 0, "four threads wrote to the same untouched pages at once: every word kept");
  checkAllBack(before, "every frame back");
});

// On demand (test/smp/shootdown.qemu.test.ts boots it at -smp 4 under MTTCG, where the waiters
// really race): four threads of one process in waitpid(-1) at once while 48 children end. Its
// failures (one boot in twelve) were proc.touch_together's lost writes: every child was reaped
// once, and the shared count missed one; the program now prints each waiter's own count.
registerOnDemandTest("proc.wait_together", () => {
  const before = framesNow();
  checkEqual(<u64>run("threads wait"), 0, "four threads in waitpid at once: each child reaped exactly once");
  checkAllBack(before, "every frame back");
});

registerTest("proc.cowtest", () => {
  const before = framesNow();
  checkEqual(<u64>run("cowtest"), 0, "two thirds of free memory touched, forked, written by the child; then three at once");
  checkAllBack(before, "every frame back");
});

registerTest("proc.fork_exit_wait_1000", () => {
  const before = framesNow();
  const pmmBefore = pmmFreeFrames();
  checkEqual(<u64>run("forkloop", 1000), 0, "1,000 fork/exit/wait cycles, every status right");
  checkAllBack(before, "the PMM's free count is what it was before");
  puts("# 1,000 fork/exit/wait cycles: free frames "); putDec(pmmBefore); puts(" before, "); putDec(pmmFreeFrames());
  puts(" after; with kmalloc's caches "); putDec(before); puts(" and "); putDec(framesNow()); newline();
});

registerTest("proc.forkbomb", () => {
  const before = framesNow();
  checkEqual(<u64>run("forkbomb"), 0, "fork failed with EAGAIN or ENOMEM, never a panic; every child waited for");
  checkAllBack(before, "every frame back");
});

registerTest("proc.strict_commit", () => {
  const before = framesNow();
  const was = commitStrict();
  commitSetStrict(true);
  checkEqual(<u64>run("testmm"), 0, "strict mode: mmap stops exactly at the commit limit, the same capacity ten times");
  // a process holding 60% of the limit runs, but cannot fork: its child would need as much again
  const mib = (<i64>commitLimitPages() * 6 / 10) >> 8;
  checkEqual(<u64>run("memhog", mib), 0, "a process of 60% of the commit limit runs");
  checkEqual(<u64>run("memhog", mib, "fork"), 12, "its fork fails with ENOMEM");
  commitSetStrict(was);
  checkAllBack(before, "every frame back");
});

/** Waits until `p` has `pages` resident (it is filling its memory); false after 20 s. */
function residentReaches(p: Process, pages: u32): bool {
  for (let i = 0; i < 2000; i++) { if (processMemory(p).resident >= pages) return true; threadSleep(10); }
  return false;
}

registerTest("proc.oom_killer_picks_the_largest", () => {
  const freeMiB = <i64>(pmmFreeFrames() >> 8);
  // (below that, each process's own tables, stack and thread outweigh the sizes the test compares)
  if (freeMiB < 8) { skipTest("needs 8 MiB free for three processes of distinct sizes"); return; }
  const before = framesNow(), kills = oomKills();
  const was = commitStrict();
  commitSetStrict(false);
  // the largest holds 55% of free memory, a smaller one 15%; then a third asks for more than is left
  const bigMiB = freeMiB * 55 / 100, smallMiB = freeMiB * 15 / 100;
  const big = start("memhog", bigMiB, "hold");
  if (big == null) { commitSetStrict(was); return; }
  check(residentReaches(big, <u32>(bigMiB << 8)), "the largest filled its memory");
  const small = start("memhog", smallMiB, "hold");
  if (small == null) { processKill(big, KILLED); processWaitKernel(big); commitSetStrict(was); return; }
  check(residentReaches(small, <u32>(smallMiB << 8)), "the smaller one filled its memory");
  // the third asks for half as much again as what is left: it cannot finish unless the killer makes room
  const thirdMiB = <i64>(pmmFreeFrames() >> 8) * 3 / 2 + 1;
  checkEqual(<u64>run("memhog", thirdMiB), 0, "the third one got its memory: the killer made room");
  checkEqual(oomKills() - kills, 1, "one kill");
  check(big.killed == KILLED, "the killer chose the largest");
  processKill(big, KILLED);   // (so that a wrong choice cannot leave it running)
  checkEqual(<u64>processWaitKernel(big), KILLED, "the largest ended with the kill's code");
  check(small.killed == 0, "the smaller one was left alone");
  check(processKill(small, KILLED), "the smaller one was still running: killed by hand now");
  checkEqual(<u64>processWaitKernel(small), KILLED, "a kill ends a sleeping process");
  commitSetStrict(was);
  checkAllBack(before, "every frame back");
});

// The memory's lock rule is checked, not only written: a memory call without the process's
// memory lock (here, from a kernel thread that never took it) panics with the rule.
registerPanicTest("proc.memory_without_lock", "without its memory lock held|processLock", () => {
  const p = processCreate(memory.data<u8>([0x78]), 1, null);
  if (p != null) memoryMap(processMemory(p), 0, 4096, 3);
});
