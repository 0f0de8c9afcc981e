/* The allocators built through asc + wasm2c + clang (runtime.c hosts them): askern's heap
 * alone, askern's kmalloc (class caches up to 2 KiB, the heap above), and AssemblyScript's TLSF. */
#include "askern.h"
#include "tlsf.h"
#include "compare.h"

static Z_askern_instance_t *askern;
static Z_tlsf_instance_t *tlsf;

static void heap_init(void) { askern = askern_module(); Z_askernZ_heapInit(askern); }
static uintptr_t heap_alloc(uint32_t size, uint32_t align) { return Z_askernZ_heapAllocate(askern, size, align); }
static void heap_free(uintptr_t block) { Z_askernZ_heapRelease(askern, (u32)block); }
static uintptr_t heap_realloc(uintptr_t block, uint32_t size) { return Z_askernZ_heapResize(askern, (u32)block, size); }
static double heap_held(void) { return Z_askernZ_heapHeld(askern); }
static int heap_end(void) { return (int)Z_askernZ_heapEnd(askern); }
static uintptr_t as_is(uintptr_t block, uint32_t align) { (void)align; return block; }

const Allocator askern_heap_allocator = {
  "askern-heap", "bytes the heap holds from its page provider (spans, large blocks, the kept reserve)",
  heap_init, heap_alloc, heap_free, heap_realloc, as_is, heap_held, heap_end,
};

static void km_init(void) { askern = askern_module(); Z_askernZ_kmInit(askern); }
static uintptr_t km_alloc(uint32_t size, uint32_t align) { return Z_askernZ_kmAlloc(askern, size, align); }
static void km_free(uintptr_t block) { Z_askernZ_kmFree(askern, (u32)block); }
static uintptr_t km_realloc(uintptr_t block, uint32_t size) { return Z_askernZ_kmRealloc(askern, (u32)block, size); }
static double km_held(void) { return Z_askernZ_kmHeld(askern); }
static int km_end(void) { return (int)Z_askernZ_kmEnd(askern); }

const Allocator askern_kmalloc_allocator = {
  "askern-kmalloc", "bytes the heap and the slab arena hold from their page provider",
  km_init, km_alloc, km_free, km_realloc, as_is, km_held, km_end,
};

#define TLSF_ALIGN 16u
static void tlsf_init(void) { tlsf = tlsf_module(); Z_tlsfZ_tlsfInit(tlsf); }
static uintptr_t tlsf_alloc(uint32_t size, uint32_t align) { return Z_tlsfZ_tlsfAlloc(tlsf, size, align); }
static void tlsf_free(uintptr_t block) { Z_tlsfZ_tlsfFree(tlsf, (u32)block); }
static uintptr_t tlsf_realloc(uintptr_t block, uint32_t size) { return Z_tlsfZ_tlsfRealloc(tlsf, (u32)block, size); }
static uintptr_t tlsf_user(uintptr_t block, uint32_t align) {
  return align > TLSF_ALIGN ? (block + align - 1) & ~(uintptr_t)(align - 1) : block;
}
static double tlsf_held(void) { return Z_tlsfZ_tlsfHeld(tlsf); }
static int tlsf_end(void) { return 0; }

const Allocator tlsf_allocator = {
  "tlsf", "wasm memory the TLSF has grown (it never gives memory back)",
  tlsf_init, tlsf_alloc, tlsf_free, tlsf_realloc, tlsf_user, tlsf_held, tlsf_end,
};
