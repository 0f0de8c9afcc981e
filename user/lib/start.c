/* The entry point of every user program. The kernel starts it with the stack as execve left it:
 *
 *   esp -> argc | argv[0] ... argv[argc-1] | 0 | the strings
 *
 * and it calls main(argc, argv), then exit with main's result. */
#include "askern.h"

int main(int argc, char **argv);

__attribute__((noreturn, used)) static void start_c(u32 *sp) { exit(main((int)sp[0], (char **)(sp + 1))); }

__asm__(".globl _start\n_start:\n\txor %ebp, %ebp\n\tmov %esp, %eax\n\tand $-16, %esp\n\tpush %eax\n\tcall start_c\n");
