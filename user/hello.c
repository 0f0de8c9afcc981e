/* hello [args...]: prints its pid and arguments; exits with argc (the tests check both). */
#include "lib/askern.h"

int main(int argc, char **argv) {
  print("hello from ring 3: pid "); print_dec(getpid());
  for (int i = 0; i < argc; i++) { print(i == 0 ? ", argv " : " "); print(argv[i]); }
  print("\n");
  return argc;
}
