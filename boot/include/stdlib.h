#ifndef ASKERN_STDLIB_H
#define ASKERN_STDLIB_H
#include <stddef.h>
__attribute__((noreturn)) void abort(void);
#endif
