/* The PMM's single-frame fast paths (kernel/mm/phys/frame-lists.ts allocFrame, freeFrame) in C:
 * the running CPU's list of free high-memory frames, with interrupts off and no lock, and the
 * listed map's bit set and cleared atomically. */
#include "twins.h"

/* frame-lists.ts: the listed map and its span (module variables there), and the PMM's state */
static uint32_t listed_map, listed_span, pmm_state;

static inline __attribute__((always_inline)) uint32_t alloc_frame(void) {
  uint32_t flags = Z_archZ_saveFlagsAndCli(TWIN_ARCH);
  uint32_t list = Z_archZ_cpuLoad(TWIN_ARCH, CPU_FRAME_LIST);
  uint32_t count = AT32(list);
  if (count != 0) {
    uint32_t phys = AT32(list + (count << 2));
    AT32(list) = count - 1;
    Z_archZ_atomicBitClear(TWIN_ARCH, listed_map, (phys >> FRAME_SHIFT) - ((struct frame_allocator_head *)(uintptr_t)pmm_state)->low_limit_frame);
    Z_archZ_restoreFlags(TWIN_ARCH, flags);
    return phys;
  }
  Z_archZ_restoreFlags(TWIN_ARCH, flags);
  return Z_kernelZ_twinAllocFrameRefill(askern_kernel);
}

/* frames.ts frameInUse: used in the bitmap (word pairs: used, reserved) and not reserved */
static inline __attribute__((always_inline)) int frame_in_use(struct frame_allocator_head *pmm, uint32_t frame) {
  uint32_t word = pmm->bitmap + ((frame >> 5) << 3), bit = 1u << (frame & 31);
  return (AT32(word) & bit) != 0 && (AT32(word + 4) & bit) == 0;
}

static inline __attribute__((always_inline)) uint32_t free_frame(uint32_t phys) {
  struct frame_allocator_head *pmm = (struct frame_allocator_head *)(uintptr_t)pmm_state;
  uint32_t flags = Z_archZ_saveFlagsAndCli(TWIN_ARCH);
  uint32_t bit = (phys >> FRAME_SHIFT) - pmm->low_limit_frame;
  if ((phys & 4095) == 0 && bit < listed_span && frame_in_use(pmm, phys >> FRAME_SHIFT)) {
    uint32_t list = Z_archZ_cpuLoad(TWIN_ARCH, CPU_FRAME_LIST);
    uint32_t count = AT32(list);
    if (count < LIST_LIMIT && Z_archZ_atomicBitSet(TWIN_ARCH, listed_map, bit) == 0) {
      AT32(list + ((count + 1) << 2)) = phys;
      AT32(list) = count + 1;
      Z_archZ_restoreFlags(TWIN_ARCH, flags);
      return 0;
    }
  }
  Z_archZ_restoreFlags(TWIN_ARCH, flags);
  return Z_kernelZ_twinFreeFrameSlow(askern_kernel, phys);
}

/* `pairs` allocFrame + freeFrame pairs over the kernel's PMM in a loop timed as one lap: its instructions. */
uint64_t Z_twinsZ_pmmPairs(struct Z_twins_instance_t *t, uint32_t state, uint32_t map, uint32_t span, uint32_t pairs) {
  (void)t;
  pmm_state = state;
  listed_map = map;
  listed_span = span;
  uint64_t overhead = twin_rdtsc_overhead(), t0 = TWIN_STAMP();
  for (uint32_t n = 0; n < pairs; n++) free_frame(alloc_frame());
  return TWIN_STAMP() - t0 - overhead;
}
