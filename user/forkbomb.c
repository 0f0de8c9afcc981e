/* forkbomb: every process forks until fork fails, then waits for its children. The kernel must
 * refuse with an error code (-EAGAIN: the process table is full, or -ENOMEM) and never panic;
 * the test then checks that every frame came back. Exits 0 when the first process saw fork fail
 * with one of those two and every child was waited for. */
#include "lib/askern.h"

int main(void) {
  int root = getpid(), children = 0, error = 0, lost = 0;
  for (;;) {
    int pid = fork();
    if (pid == 0) { children = 0; continue; }   /* the child forks too */
    if (pid < 0) { error = pid; break; }
    children++;
  }
  for (int i = 0; i < children; i++) { int status; if (waitpid(-1, &status, 0) < 0) lost++; }
  if (getpid() != root) exit(0);
  print("forkbomb: fork failed with "); print_dec(error); print("; "); print_dec(children); print(" children of the first process\n");
  return (error == -EAGAIN || error == -ENOMEM) && lost == 0 ? 0 : 1;
}
