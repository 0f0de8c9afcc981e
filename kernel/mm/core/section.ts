// The cores' one-CPU critical section: how a core keeps the other contexts of the running CPU
// (its interrupt handlers) out of shared state for a few instructions, where it knows that no
// other CPU shares that state (slab/cache.ts: a free on one CPU, regions.stashFrees 0). Two
// functions imported from the module "section", the cores' second seam after "report"
// (report.ts): the kernel defines them inline where they are called (boot/arch-inline.h:
// interrupts off, and the flags as they were), so a section costs a few instructions and no
// call; the host tests (test/support/wasm.ts) and make compare (scripts/compare/section.h)
// have no interrupts and do nothing, the tests counting that every enter has its leave.
//
//   const saved = sectionEnter();
//   ... the shared state ...
//   sectionLeave(saved);
//
// Sections nest (each restores what its enter saved). Nothing in one may sleep.

/** Opens a section; returns what sectionLeave needs to close it (the kernel: EFLAGS). Any context. */
@external("section", "enter")
export declare function sectionEnter(): u32;

/** Closes the section whose sectionEnter returned `saved` (the innermost open one). Any context. */
@external("section", "leave")
export declare function sectionLeave(saved: u32): void;
