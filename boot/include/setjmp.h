#ifndef ASKERN_SETJMP_H
#define ASKERN_SETJMP_H
/* wasm-rt.h names jmp_buf for exception unwinding, which the kernel does not enable. */
typedef int jmp_buf[6];
#endif
