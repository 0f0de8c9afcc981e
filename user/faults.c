/* faults WHAT: does one thing a program must not, to show that the kernel kills it (or fails the
 * call) as docs/processes.md says, and goes on:
 *   null      reads address 0                 text    writes to its own code
 *   kernel    reads a kernel-half address     stack   recurses past its stack's guard page
 *   badptr    passes bad pointers to system calls: exits 0 when every one failed with -EFAULT */
#include "lib/askern.h"

static int depth(int n) { volatile char pad[256]; pad[0] = (char)n; return n < 0 ? 0 : pad[0] + depth(n + 1); }

static int check(const char *what, int result) {
  if (result == -EFAULT) return 0;
  print("faults: "); print(what); print(" returned "); print_dec(result); print(", not -EFAULT\n");
  return 1;
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "";
  if (streq(what, "null")) return *(volatile int *)0;
  if (streq(what, "text")) { *(volatile u32 *)(u32)&main = 0; return 0; }
  if (streq(what, "kernel")) return *(volatile int *)0xC0100000;
  if (streq(what, "stack")) return depth(0);
  if (streq(what, "badptr")) {
    int bad = 0;
    bad += check("write(kernel)", write((void *)0xC0100000, 4));
    bad += check("write(unmapped)", write((void *)0x30000000, 4));
    bad += check("write(wraps)", write((void *)0xFFFFF800, 0x1000));
    int child = fork();
    if (child == 0) exit(0);
    bad += check("waitpid(kernel status)", waitpid(child, (int *)0xC0000000, 0));
    int status = -1;
    if (waitpid(child, &status, 0) != child || status != 0) { print("faults: the child was lost\n"); bad++; }
    bad += check("memstats(kernel)", memstats((struct memstats *)0xC0200000));
    bad += check("memstats(text)", memstats((struct memstats *)(u32)&main));
    bad += check("execve(kernel name)", execve((const char *)0xC0100000, 0));
    char *argv2[] = { "hello", (char *)0xC0000000, 0 };
    bad += check("execve(kernel argv)", execve("hello", argv2));
    return bad;
  }
  print("faults: usage: faults null|text|kernel|stack|badptr\n");
  return 2;
}
