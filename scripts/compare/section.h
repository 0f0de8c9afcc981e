/* The cores' one-CPU section (kernel/mm/core/section.ts) for make compare: a replay has no
 * interrupts, so a section is nothing. Defined here, where askern.c is compiled with `-include`
 * (Makefile), so that clang sees the nothing where the section is (an out-of-line call would
 * cost the code around it its registers); askern.h's prototypes make these the one external
 * definition. */
#include <stdint.h>

struct Z_section_instance_t;

__attribute__((always_inline)) inline uint32_t Z_sectionZ_enter(struct Z_section_instance_t *s) { (void)s; return 0; }
__attribute__((always_inline)) inline void Z_sectionZ_leave(struct Z_section_instance_t *s, uint32_t saved) { (void)s; (void)saved; }
