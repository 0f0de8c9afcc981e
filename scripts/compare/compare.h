/* The native comparison program (`make compare`): what the replay driver (driver.c) needs from
 * each allocator it measures, and from the wasm2c runtime (runtime.c) that hosts askern's heap,
 * slab caches and trace decoder, and AssemblyScript's TLSF. */
#ifndef COMPARE_H
#define COMPARE_H
#include <stdint.h>
#include <stddef.h>

/* One allocator under test. Handles are whatever it returns (a native pointer, or a wasm
 * address: with the memory base 0 the two are the same number). */
typedef struct Allocator {
  const char *name;
  const char *footprint_means;                          /* what held() counts, for the report */
  void (*init)(void);
  uintptr_t (*alloc)(uint32_t size, uint32_t align);    /* align 0: default; 0 = no memory */
  void (*free)(uintptr_t block);
  uintptr_t (*realloc)(uintptr_t block, uint32_t size); /* 0 = no memory, block kept */
  uintptr_t (*user)(uintptr_t block, uint32_t align);   /* where the caller may write (TLSF rounds up) */
  double (*held)(void);                                 /* bytes held from the system now */
  int (*end)(void);                                     /* after every block is freed: 0 or a failure code */
} Allocator;

/* runtime.c: the wasm modules and the page source for askern's provider. */
struct Z_askern_instance_t;
struct Z_tlsf_instance_t;
struct Z_askern_instance_t *askern_module(void);
struct Z_tlsf_instance_t *tlsf_module(void);
/* The UTF-16 string at wasm address `string` (an AssemblyScript string) as ASCII in `out`. */
void wasm_string(uint32_t string, char *out, size_t capacity);

#endif
