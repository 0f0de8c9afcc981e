/* memhog MIB [hold|fork]: maps MIB MiB and writes every page; with `hold`, then sleeps until
 * killed; with `fork`, then forks and exits with 0 if the fork worked, or with the error's number
 * (12: ENOMEM, as strict commit accounting answers); else exits 0. The out-of-memory tests run
 * several: the killer must pick the largest. */
#include "lib/askern.h"

int main(int argc, char **argv) {
  u32 mib = argc > 1 ? parse_u32(argv[1]) : 1;
  int hold = argc > 2 && streq(argv[2], "hold");
  char *m = (char *)mmap(0, mib << 20, PROT_READ | PROT_WRITE);
  if (is_error((int)m)) { print("memhog: mmap: "); print_dec((int)m); print("\n"); return 1; }
  for (u32 i = 0; i < (mib << 20); i += PAGE_SIZE) m[i] = 1;
  if (hold) for (;;) sleep_ms(1000);
  if (argc > 2 && streq(argv[2], "fork")) {
    int child = fork();
    if (child == 0) exit(0);
    if (child < 0) return -child;
    int status; waitpid(child, &status, 0);
  }
  return 0;
}
