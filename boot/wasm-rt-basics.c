/* The parts of the wasm2c embedder API that every program hosting askern's modules shares: the
 * kernel (boot/runtime.c) and the native comparison program (scripts/compare/runtime.c). Each
 * supplies its own memory, tables and traps. */
#include <stdbool.h>
#include <stdint.h>
#include "wasm-rt.h"

static bool runtime_initialized;
void wasm_rt_init(void) { runtime_initialized = true; }
bool wasm_rt_is_initialized(void) { return runtime_initialized; }
void wasm_rt_free(void) {}

/* Modules whose types the wasm type section already deduplicates: a counter gives each
 * registered signature its own id, which is all call_indirect compares. */
uint32_t wasm_rt_register_func_type(uint32_t params, uint32_t results, ...) {
  static uint32_t next_type_id;
  (void)params; (void)results;
  return ++next_type_id;
}
