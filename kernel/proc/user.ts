// User memory: what ring 3 may see, and the kernel's checks on a pointer a program passes in.
// The user half is everything below the kernel's (LINEAR_MAP_BASE, 0xC0000000); a page is
// user memory when its page-table entry is present and has PAGE_USER (the directory entry too:
// paging.ts gives a user page a user table).
import { PAGE_PRESENT, PAGE_USER, entryFor } from "../mm/virt/paging";
import { currentSpace } from "../sched/scheduler";
import { LINEAR_MAP_BASE } from "../mm/layout";

/** The first address of the kernel half: user pointers lie below it. */
export const USER_END: u32 = <u32>LINEAR_MAP_BASE;

/**
 * Whether [address, address + bytes) is user memory the calling thread's program may read:
 * below USER_END, not wrapping, every page present and marked for ring 3 in its address space. A kernel address passed as a user pointer
 * is refused. Thread context.
 */
export function userRangeReadable(address: u32, bytes: u32): bool {
  if (bytes == 0) return true;
  const end = <u64>address + bytes;
  if (end > <u64>USER_END) return false;
  const space = currentSpace();   // (the calling thread's)
  for (let page = address & ~0xFFF; <u64>page < end; page += 4096) {
    if ((entryFor(space, page) & (PAGE_PRESENT | PAGE_USER)) != (PAGE_PRESENT | PAGE_USER)) return false;
  }
  return true;
}
