/* execer PROGRAM ARGS...: execve(PROGRAM, [PROGRAM, ARGS...]); exits 100 + what went wrong if
 * it returns. With no arguments it checks execve's errors instead: an unknown name (-ENOENT), a
 * module that is not a valid executable (-ENOEXEC: the Makefile's `truncated`), too many
 * arguments (-E2BIG), a bad pointer (-EFAULT); then exits 0 when all were right. */
#include "lib/askern.h"

int main(int argc, char **argv) {
  if (argc > 1) {
    int r = execve(argv[1], argv + 1);
    print("execer: execve returned "); print_dec(r); print("\n");
    return 100 - r;
  }
  int bad = 0;
  char *none[] = { "nosuch", 0 };
  if (execve("nosuch", none) != -ENOENT) { print("execer: unknown name\n"); bad++; }
  char *trunc[] = { "truncated", 0 };
  if (execve("truncated", trunc) != -ENOEXEC) { print("execer: truncated ELF\n"); bad++; }
  static char *many[40];
  for (int i = 0; i < 39; i++) many[i] = "x";
  many[39] = 0;
  if (execve("hello", many) != -E2BIG) { print("execer: too many arguments\n"); bad++; }
  if (execve((const char *)0, none) != -EFAULT) { print("execer: null name\n"); bad++; }
  if (execve("hello", (char **)0xC0000000) != -EFAULT) { print("execer: kernel argv\n"); bad++; }
  return bad;
}
