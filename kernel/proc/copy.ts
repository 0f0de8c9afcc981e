// The kernel's only way into a program's memory: copy-in and copy-out. Every user pointer a
// system call is given goes through these, which check it against the process's regions (not
// only its page tables): an address in the kernel half, outside every region, in a region that
// forbids the access, or a range that wraps fails (the call answers -EFAULT), and a page not
// touched yet is committed first as the fault handler would (proc/oom.ts), so the copy itself
// never faults. Thread context, the process's own thread; takes its memory lock; may sleep.
import { Process, currentProcess, processLock } from "./process";
import { Access, USER_END } from "./memory";
import { faultResolve } from "./oom";
import { mutexLock, mutexUnlock } from "../sched/sync";

/** Resolves every page of [address, address + bytes) for the access; the memory lock is held. */
function reachable(p: Process, address: u32, bytes: u32, write: bool): bool {
  const end = <u64>address + bytes;
  if (end > <u64>USER_END) return false;
  for (let page = <u64>(address & ~0xFFF); page < end; page += 4096) {
    if (faultResolve(p, <u32>page, write) != Access.Ok) return false;
  }
  return true;
}

/** Copies between the running process's `user` range and the kernel's `kernel` buffer, one way or the other, under its memory lock. */
function copyUser(user: u32, kernel: usize, bytes: u32, toUser: bool): bool {
  if (bytes == 0) return true;
  const p = currentProcess();
  if (p == null) return false;
  mutexLock(processLock(p));
  const ok = reachable(p, user, bytes, toUser);
  if (ok) { if (toUser) memory.copy(user, kernel, bytes); else memory.copy(kernel, user, bytes); }
  mutexUnlock(processLock(p));
  return ok;
}

/** Copies `bytes` bytes from the running process's `from` to the kernel's `to`; false (nothing copied) for a bad user range. */
export function copyFromUser(to: usize, from: u32, bytes: u32): bool { return copyUser(from, to, bytes, false); }

/** Copies `bytes` bytes from the kernel's `from` to the running process's `to`; false (nothing copied) for a bad user range. */
export function copyToUser(to: u32, from: usize, bytes: u32): bool { return copyUser(to, from, bytes, true); }

/** copyStringFromUser's answers besides a length. */
export const STRING_FAULT: i32 = -1;
export const STRING_TOO_LONG: i32 = -2;

/**
 * Copies the NUL-terminated string at the running process's `from` to `to` (at most `limit`
 * bytes before the NUL, which is copied too): its length, STRING_FAULT for a bad pointer, or
 * STRING_TOO_LONG.
 */
export function copyStringFromUser(to: usize, from: u32, limit: u32): i32 {
  const p = currentProcess();
  if (p == null) return STRING_FAULT;
  mutexLock(processLock(p));
  let length: i32 = STRING_TOO_LONG;
  let at = from;
  for (let n: u32 = 0; n <= limit; n++, at++) {
    if (n == 0 || (at & 0xFFF) == 0) {
      if (at == 0 || !reachable(p, at, 1, false)) { length = STRING_FAULT; break; }
    }
    const c = load<u8>(at);
    store<u8>(to + n, c);
    if (c == 0) { length = <i32>n; break; }
  }
  mutexUnlock(processLock(p));
  return length;
}
