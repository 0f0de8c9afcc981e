#ifndef ASKERN_ALLOCA_H
#define ASKERN_ALLOCA_H
#define alloca __builtin_alloca
#endif
