/* forkloop N: N times, fork a child that exits with its round number (mod 256) and wait for it;
 * exits 0 when every child ran and every status was right. The kernel's leak check runs it. */
#include "lib/askern.h"

int main(int argc, char **argv) {
  u32 rounds = argc > 1 ? parse_u32(argv[1]) : 1000;
  int bad = 0;
  volatile u32 touched[1024];   /* a stack page with data: every fork shares it */
  touched[0] = 1;
  for (u32 i = 0; i < rounds; i++) {
    int child = fork();
    if (child == 0) { touched[1] = i; exit((int)(i & 255)); }
    int status = -1;
    if (child < 0 || waitpid(child, &status, 0) != child || status != (int)(i & 255)) bad++;
  }
  if (bad) { print("forkloop: "); print_dec(bad); print(" rounds went wrong\n"); }
  return bad ? 1 : 0;
}
