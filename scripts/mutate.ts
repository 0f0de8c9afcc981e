// `make mutate`: are the tests able to fail? Applies a list of named, deliberate bugs to the
// allocators one at a time, rebuilds what they touch, runs the tests that should catch each,
// and prints which were caught ("killed") and the kill rate. Not part of `make test` (a few
// minutes); run it after changing an allocator or its tests.
//
//   mutate.ts [--only name,prefix*] [--seed N] [--out build/mutate.json]
//
// Every mutant is a literal replacement that must match exactly once in its file (so a change
// to the code that moves the line is noticed: the run says the mutant no longer applies). The
// file is restored after each mutant, whatever happens. The property tests run with one fixed
// seed (--seed, default 1), so a run repeats.
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Mutant {
  name: string;
  file: string;
  from: string;
  to: string;
  /** The test files that should catch it. */
  tests: string[];
  /** The kernel must be rebuilt (the tests boot it); otherwise the host modules only. */
  kernel?: boolean;
}

const HEAP = "test/mm/core/heap.test.ts", SLAB = "test/mm/core/slab.test.ts", FRAMES = "test/mm/core/frames.test.ts";
const VRANGE = "test/mm/core/vrange.test.ts", SUMMARY = "test/mm/core/summary.test.ts", BUDDY = "test/mm/core/buddy.test.ts";
const BUMP = "test/mm/core/bump.test.ts", GUARD = "test/mm/core/guard-layout.test.ts", SEGFIT = "test/mm/core/seg-fit.test.ts";
const PAGING = "test/mm/virt/paging.test.ts", TRACE = "test/lib/trace.test.ts", FOUNDATION = "test/lib/foundation.test.ts";
const STRESS = "test/selftest/stress.qemu.test.ts", LOCKDEP = "test/selftest/lockdep.qemu.test.ts", LOCK_GRAPH = "test/lib/lock-graph.test.ts";
const LINE_EDITOR = "test/lib/line-editor.test.ts", SELFTESTS = "test/selftest/selftests.qemu.test.ts";
const REGIONS = "test/mm/core/regions.test.ts", FRAME_REFS = "test/mm/core/frame-refs.test.ts", ELF = "test/proc/elf.test.ts";
const PROCESSES = "test/proc/processes.qemu.test.ts", ACPI = "test/boot/acpi.test.ts";
const SHOOTDOWN = "test/smp/shootdown.qemu.test.ts";
const FIDELITY = "test/bench/fidelity.qemu.test.ts";

export const MUTANTS: Mutant[] = [
  // the heap
  { name: "heap.realloc_overread", file: "kernel/mm/core/heap/heap.ts", from: "memory.copy(moved, ptr, min<u32>(have, size));", to: "memory.copy(moved, ptr, size);", tests: [HEAP] },
  { name: "heap.realloc_no_free", file: "kernel/mm/core/heap/heap.ts", from: "  memory.copy(moved, ptr, min<u32>(have, size));\n  heapFree(heap, ptr);", to: "  memory.copy(moved, ptr, min<u32>(have, size));", tests: [HEAP] },
  { name: "heap.grow_in_place_ignores_size", file: "kernel/mm/core/heap/heap.ts", from: "if (!isFree(right) || have + blockSize(right) < need) return false;", to: "if (!isFree(right)) return false;", tests: [HEAP] },
  { name: "heap.valid_bit_ignored", file: "kernel/mm/core/heap/block.ts", from: "  return (load<u32>(validWordAt(span, bit)) & validBit(bit)) != 0 &&", to: "  return true &&", tests: [HEAP] },
  { name: "heap.span_of_wrong_mask", file: "kernel/mm/core/heap/block.ts", from: "@inline export function spanOf(address: usize): usize { return address & ~(<usize>SPAN_MASK); }", to: "@inline export function spanOf(address: usize): usize { return address & ~(<usize>SPAN_MASK >> 1); }", tests: [HEAP] },
  // the slab caches
  { name: "slab.free_fast_path_no_bounds", file: "kernel/mm/core/slab/cache.ts", from: "  if (index < part.activeObjects) {", to: "  if (index != 0xFFFFFFFF) {", tests: [SLAB] },
  { name: "slab.wrong_cache_accepted", file: "kernel/mm/core/slab/cache-free.ts", from: "  if (slabEntry(slab).cache != changetype<usize>(cache)) return refuseFreeLocked(cache, object, AllocError.WrongCache);\n", to: "", tests: [SLAB] },
  { name: "slab.interior_accepted", file: "kernel/mm/core/slab/cache-free.ts", from: "  if (exactQuotient(partDivisor(part), <u32>(object - slabEntry(slab).start)) >= cache.capacity) return AllocError.Interior;\n", to: "", tests: [SLAB] },
  { name: "slab.slab_double_free_accepted", file: "kernel/mm/core/slab/cache-free.ts", from: "  if (slab == part.active || slabEntry(slab).free == object) return AllocError.DoubleFree;", to: "  if (slab == part.active) return AllocError.DoubleFree;", tests: [SLAB] },
  { name: "slab.ctor_cache_active", file: "kernel/mm/core/slab/cache.ts", from: "  else if (cache.linkOffset != 0) object = slabAllocLocked(cache);\n", to: "", tests: [SLAB] },
  { name: "slab.one_cpu_frees_stashed", file: "kernel/mm/core/slab/cache-free.ts", from: "  if ((cache.debug | regions.stashFrees) != 0) return freeStashedOrDebug(", to: "  if (true) return freeStashedOrDebug(", tests: [SLAB] },
  { name: "slab.direct_free_section_left_open", file: "kernel/mm/core/slab/cache-free.ts", from: "  else refuseFree(cache, object, error);\n  sectionLeave(saved);\n", to: "  else refuseFree(cache, object, error);\n", tests: [SLAB] },
  { name: "slab.direct_free_interruptible", file: "boot/arch-inline.h", from: "  (void)s;\n  return Z_archZ_saveFlagsAndCli(0);", to: "  (void)s;\n  uint32_t flags;\n  __asm__ volatile(\"pushfl; popl %0\" : \"=r\"(flags) : : \"memory\");\n  return flags;", tests: [STRESS], kernel: true },
  { name: "slab.freed_full_slab_not_partial", file: "kernel/mm/core/slab/cache-free.ts", from: "SlabList.Active || free == 0 || inUse == 0) refileFreed(", to: "SlabList.Active || inUse == 0) refileFreed(", tests: [SLAB] },
  { name: "slab.empty_slab_not_released", file: "kernel/mm/core/slab/cache-free.ts", from: "  if (inUse == 0) { unfileSlab(cache, slab); keepOrRelease(cache, slab); }\n  else if", to: "  if", tests: [SLAB] },
  // the frame allocator and its summary trees
  { name: "frames.word_free_skips_reserved_check", file: "kernel/mm/core/frame-runs.ts", from: "if (load<u32>(at) == FULL && load<u32>(at, 4) == 0) {", to: "if (load<u32>(at) == FULL) {", tests: [FRAMES] },
  { name: "frames.run_free_skips_reserved", file: "kernel/mm/core/frame-runs.ts", from: "const reserved = reservedWord(pmm, w) & mask, notUsed = ~usedWord(pmm, w) & mask;", to: "const reserved: u32 = 0, notUsed = ~usedWord(pmm, w) & mask;", tests: [FRAMES] },
  { name: "summary.find_from_off_by_one", file: "kernel/mm/core/summary.ts", from: "  let near = load<u32>(l2 + (k << 2)) & bitsFrom((j & 31) + 1);", to: "  let near = load<u32>(l2 + (k << 2)) & bitsFrom((j & 31) + 2);", tests: [SUMMARY, FRAMES] },
  { name: "summary.find_before_includes_k", file: "kernel/mm/core/summary.ts", from: "    const far = tree.top & bitsBelow(k);", to: "    const far = tree.top & bitsBelow(k + 1);", tests: [SUMMARY, VRANGE] },
  { name: "summary.clear_leaves_l2", file: "kernel/mm/core/summary.ts", from: "    store<u32>(at2, load<u32>(at2) & ~(1 << (j & 31)));\n  }\n}", to: "  }\n}", tests: [SUMMARY, FRAMES] },
  // the range allocator and the class scheme
  { name: "vrange.release_no_left_merge", file: "kernel/mm/core/vrange.ts", from: "    const left = load<u32>(recordAt(area, page - 1), RECORD_TAG);", to: "    const left = NONE;", tests: [VRANGE] },
  { name: "vrange.boundary_tag_trusted_unchecked", file: "kernel/mm/core/vrange.ts", from: "if (left < page && isStart(area, left) && ", to: "if (left < page && ", tests: [VRANGE] },
  { name: "vrange.release_check_ignores_free", file: "kernel/mm/core/vrange.ts", from: "  if (isStart(area, page) && (spanWord(area, page) & BLOCK_FREE) == 0) return VRangeError.Ok;", to: "  if (isStart(area, page)) return VRangeError.Ok;", tests: [VRANGE] },
  { name: "vrange.reserve_no_round", file: "kernel/mm/core/vrange.ts", from: "@inline function roundToClass(span: u32): u32 { return segRoundUp(span, SL_BITS); }", to: "@inline function roundToClass(span: u32): u32 { return span; }", tests: [VRANGE] },
  { name: "segfit.class_off_by_one", file: "kernel/mm/core/seg-fit.ts", from: "  return ((high - 1) << slBits) +", to: "  return ((high - 2) << slBits) +", tests: [SEGFIT, HEAP, VRANGE] },
  { name: "bits.bits_below_32", file: "kernel/lib/bits.ts", from: "return b >= 32 ? 0xFFFFFFFF : (<u32>1 << b) - 1;", to: "return (<u32>1 << b) - 1;", tests: [SEGFIT, SUMMARY] },
  // the DMA buddy pools
  { name: "buddy.double_free_accepted", file: "kernel/mm/core/buddy.ts", from: "    if ((m & FREE_MARK) != 0) error = AllocError.DoubleFree;\n    else if", to: "    if", tests: [BUDDY] },
  { name: "buddy.no_merge", file: "kernel/mm/core/buddy.ts", from: "    if (mark(pool, buddy) != (FREE_MARK | <u8>order)) break;", to: "    break;", tests: [BUDDY] },
  { name: "buddy.size_limit", file: "kernel/mm/core/buddy.ts", from: "  if (size == 0 || size > (1 << MAX_ORDER)) return 0;", to: "  if (size == 0) return 0;", tests: [BUDDY] },
  // the bump arena
  { name: "bump.no_limit", file: "kernel/mm/core/bump.ts", from: "  if (end > arena.limit || end < start) return bumpRefuse(arena, size, align);", to: "  if (end < start) return bumpRefuse(arena, size, align);", tests: [BUMP] },
  { name: "bump.release_any_mark", file: "kernel/mm/core/bump.ts", from: "  if (mark - arena.base > arena.top - arena.base) { bumpRefuseRelease(arena, mark); return; }", to: "", tests: [BUMP] },
  // the guard layout
  { name: "guard.pattern_check_skips_tail", file: "kernel/mm/core/guard-layout.ts", from: "  while (at < to) { if (<u32>load<u8>(at) != guardPatternByte(at)) return at; at++; }", to: "", tests: [GUARD] },
  { name: "guard.ring_no_wrap", file: "kernel/mm/core/guard-layout.ts", from: "  let slot = ring.oldest + ring.count;\n  if (slot >= ring.capacity) slot -= ring.capacity;", to: "  let slot = ring.oldest + ring.count;", tests: [GUARD] },
  // page tables
  { name: "paging.unmap_no_flush", file: "kernel/mm/virt/paging.ts", from: "  store<u32>(foundPte, 0);\n  tlbInvalidate(space.directoryPhys, virt);", to: "  store<u32>(foundPte, 0);", tests: [PAGING] },
  { name: "paging.protect_no_flush", file: "kernel/mm/virt/paging.ts", from: "| flags | PAGE_PRESENT);\n  tlbInvalidate(space.directoryPhys, virt);", to: "| flags | PAGE_PRESENT);", tests: [PAGING] },
  // the trace decoder and the command line
  // the locks that make the allocators safe in any context (kernel/selftest/stress.ts catches them)
  { name: "kmalloc.no_lock", file: "kernel/mm/alloc/kmalloc.ts", from: "kmallocLock(): void { klockIrqSaveTo(lock); }\n/** Releases it (the interrupt flag as it was). */\n@inline export function kmallocUnlock(): void { klockIrqRestoreFrom(lock); }", to: "kmallocLock(): void { }\n@inline export function kmallocUnlock(): void { }", tests: [STRESS], kernel: true },
  { name: "pmm.alloc_no_lock", file: "kernel/mm/phys/pmm.ts", from: "  klockIrqSaveTo(pmmLock);\n  const phys = allocFrameFrom(pmm, FrameZone.Low);\n  klockIrqRestoreFrom(pmmLock);", to: "  const phys = allocFrameFrom(pmm, FrameZone.Low);", tests: [STRESS], kernel: true },
  { name: "slab.interrupt_parts_shared", file: "kernel/arch/context.ts", from: "import { CACHE_IRQ_PART } from \"../mm/core/slab/cache-layout\";", to: "const CACHE_IRQ_PART: u32 = 0;", tests: [STRESS], kernel: true },
  { name: "slab.fast_path_preemptible", file: "kernel/arch/context.ts", from: "preemptDisableLocal(): void { cpuAdd(CPU_PREEMPT_DEPTH, 1); }\n/** Ends preemptDisableLocal's section. */\n@inline export function preemptEnableLocal(): void { cpuAdd(CPU_PREEMPT_DEPTH, <u32>-1); }", to: "preemptDisableLocal(): void { }\n@inline export function preemptEnableLocal(): void { }", tests: [STRESS], kernel: true },
  { name: "proc.wait_claim_ignored", file: "kernel/proc/process.ts", from: " || child.claimed != 0) continue;", to: ") continue;", tests: [SHOOTDOWN], kernel: true },
  { name: "pmm.list_interrupts_on", file: "kernel/mm/phys/frame-lists.ts", from: "export function allocFrame(): u32 {\n  const flags = saveFlagsAndCli();", to: "export function allocFrame(): u32 {\n  const flags = saveFlagsAndCli(); restoreFlags(flags);", tests: [STRESS], kernel: true },
  { name: "pmm.listed_double_free_accepted", file: "kernel/mm/phys/frame-lists.ts", from: "  else if (listed(phys)) {", to: "  else if (false) {", tests: [SELFTESTS], kernel: true },
  { name: "slab.remote_frees_lost", file: "kernel/mm/core/slab/cache.ts", from: "    store<usize>(last, slabEntry(slab).free);", to: "    store<usize>(last, 0);", tests: [SLAB] },
  { name: "slab.stash_double_free_accepted", file: "kernel/mm/core/slab/cache-free.ts", from: "  if (stashed != 0 && load<usize>(cacheStashSlot(part, stashed - 1)) == object) return refuseFreeLocked(cache, object, AllocError.DoubleFree);\n", to: "", tests: [SLAB] },
  { name: "dma.alloc_no_lock", file: "kernel/mm/alloc/dma.ts", from: "  klockIrqSaveTo(lock);\n  const chunk = dmaAlloc(pool, size);\n  klockIrqRestoreFrom(lock);", to: "  const chunk = dmaAlloc(pool, size);", tests: [STRESS], kernel: true },
  // the lock checker
  { name: "lockgraph.reaches_one_step", file: "kernel/lib/lock-graph.ts", from: "    frontier = next & ~seen;", to: "    frontier = 0;", tests: [LOCK_GRAPH] },
  { name: "lockdep.no_inversion_check", file: "kernel/sched/lockdep.ts", from: "      if (lockGraphReaches(graph, cls, outer)) reportInversion", to: "      if (false) reportInversion", tests: [LOCKDEP], kernel: true },
  // the monitor's line editor
  { name: "lineeditor.backspace_not_erased", file: "kernel/lib/line-editor.ts", from: "if (ed.length > 0) { ed.length--; eraseOnScreen(ed, 1); }", to: "if (ed.length > 0) { ed.length--; }", tests: [LINE_EDITOR] },
  { name: "lineeditor.history_keeps_repeats", file: "kernel/lib/line-editor.ts", from: "if (load<u32>(newest) == ed.length && memory.compare", to: "if (load<u32>(newest) == ed.length + 1 && memory.compare", tests: [LINE_EDITOR] },
  // a process's regions
  { name: "regions.protect_no_start_split", file: "kernel/mm/core/regions.ts", from: "  const splitStart = regionStart(map, i) < start ? 1 : 0;", to: "  const splitStart: u32 = 0;", tests: [REGIONS] },
  { name: "regions.remove_no_split", file: "kernel/mm/core/regions.ts", from: "    if (regionEnd(map, i) > end) {", to: "    if (regionEnd(map, i) > end && false) {", tests: [REGIONS] },
  { name: "regions.split_source_not_advanced", file: "kernel/mm/core/regions.ts", from: "  if (source != 0) store<u32>(e, source + cut, 16);\n", to: "", tests: [REGIONS] },
  // processes: frame counts, executables, memory
  { name: "framerefs.share_not_counted", file: "kernel/mm/core/frame-refs.ts", from: "  store<u16>(at, <u16>(count + 1));", to: "  store<u16>(at, <u16>(count));", tests: [FRAME_REFS] },
  { name: "elf.overlap_unchecked", file: "kernel/proc/elf.ts", from: "      if (start < otherEnd && otherStart < end) return ElfError.Overlap;", to: "", tests: [ELF] },
  { name: "proc.fork_child_writable", file: "kernel/proc/memory.ts", from: "entry & ~(PAGE_WRITABLE | PAGE_ACCESSED | PAGE_DIRTY)", to: "entry & ~(PAGE_ACCESSED | PAGE_DIRTY)", tests: [SELFTESTS], kernel: true },
  { name: "proc.munmap_keeps_frames", file: "kernel/proc/memory-calls.ts", from: "  releasePages(m, address, end);\n  uncharge(m, writable);", to: "  uncharge(m, writable);", tests: [SELFTESTS], kernel: true },
  { name: "proc.strict_limit_off_by_one", file: "kernel/proc/memory.ts", from: "<u64>committedTotal + pages > <u64>commitLimit", to: "<u64>committedTotal + pages >= <u64>commitLimit", tests: [SELFTESTS], kernel: true },
  { name: "proc.oom_picks_smallest", file: "kernel/proc/oom.ts", from: "processMemory(p).resident > processMemory(best).resident", to: "processMemory(p).resident < processMemory(best).resident", tests: [PROCESSES], kernel: true },
  { name: "proc.copy_out_as_read", file: "kernel/proc/copy.ts", from: "{ return copyUser(to, from, bytes, true); }", to: "{ return copyUser(to, from, bytes, false); }", tests: [SELFTESTS], kernel: true },
  // the VMM's newer pieces
  { name: "ioremap.ram_accepted", file: "kernel/mm/virt/ioremap.ts", from: "    if (phys < base + length && base < end) return refuse(phys, bytes, \"it overlaps RAM\", type);\n", to: "", tests: [SELFTESTS], kernel: true },
  { name: "vmm.decommit_keeps_frames", file: "kernel/mm/virt/commit.ts", from: "    if (promised) park(kernelAddressSpace(), page, frame); else freeFrame(frame);", to: "    if (promised) park(kernelAddressSpace(), page, frame);", tests: [SELFTESTS], kernel: true },
  { name: "reclaim.caches_not_shrunk", file: "kernel/mm/alloc/kmalloc.ts", from: "    cacheReleaseEmpty(cache);   // (the parts were drained on their CPUs)\n", to: "", tests: [SELFTESTS], kernel: true },
  // memory pressure
  { name: "frames.search_ignores_floor", file: "kernel/mm/core/frames.ts", from: "if (<u64>pmm.freeLow < <u64>pmm.floor + freeInWord(pmm, w)) return frameShort(pmm, zone);", to: "", tests: [FRAMES] },
  { name: "frames.run_floor_off_by_hint", file: "kernel/mm/core/frames.ts", from: "return <u64>pmm.freeLow >= <u64>pmm.floor + (end - start) + hint;", to: "return <u64>pmm.freeLow >= <u64>pmm.floor + (end - start);", tests: [FRAMES] },
  { name: "regions.lend_keeps_held", file: "kernel/mm/core/slab/regions.ts", from: "    regions.heldBytes -= <usize>n * PROVIDER_PAGE_SIZE;\n", to: "", tests: [SLAB] },
  { name: "regions.recall_not_free", file: "kernel/mm/core/slab/regions.ts", from: "      regionHeader(region).freeMask |= <u32>1 << p;\n", to: "", tests: [SLAB] },
  { name: "pmm.atomic_floor_is_low", file: "kernel/mm/phys/pmm.ts", from: "  if (!inThreadContextWith(eflags)) return marks.min;", to: "  if (!inThreadContextWith(eflags)) return marks.low;", tests: [SELFTESTS], kernel: true },
  { name: "acpi.checksum_ignored", file: "kernel/boot/acpi.ts", from: "if (length < TABLE_HEADER_BYTES || length > limit || !acpiChecksumOk(at, length)) return 0;", to: "if (length < TABLE_HEADER_BYTES || length > limit) return 0;", tests: [ACPI] },
  { name: "acpi.entry_overrun", file: "kernel/boot/acpi.ts", from: "if (size < 2 || at + size > length) return false;", to: "if (size < 2) return false;", tests: [ACPI] },
  { name: "kmalloc.no_vmalloc_fallback", file: "kernel/mm/alloc/kmalloc.ts", from: "  return kmallocVmalloc(size);", to: "  return 0;", tests: [SELFTESTS], kernel: true },
  { name: "pmm.no_direct_reclaim", file: "kernel/mm/phys/pmm.ts", from: "  pressureReclaim(max<u32>(reclaimTarget(), pages));\n", to: "", tests: [SELFTESTS], kernel: true },
  // SMP (docs/smp.md)
  { name: "smp.affinity_ignored", file: "kernel/sched/runqueue.ts", from: "return t.affinity == 0 || (t.affinity & (1 << index)) != 0;", to: "return true;", tests: [SHOOTDOWN], kernel: true },
  { name: "tlb.no_ipis", file: "kernel/arch/tlb.ts", from: "    if (cpu == me || load<u32>(cpu, CPU_TLB_ONLINE) == 0) continue;", to: "    continue;", tests: [SHOOTDOWN], kernel: true },
  { name: "tlb.batch_of_pages_not_sent", file: "kernel/arch/tlb.ts", from: "  if (--batchDepth == 0 && batchCount != 0) shootdown(", to: "  if (--batchDepth == 0 && batchCount == 1) shootdown(", tests: [SHOOTDOWN], kernel: true },
  { name: "smp.interrupt_arena_shared", file: "kernel/smp/start.ts", from: "interruptArenaUse(<usize>load<u32>(irqArenas + load<u32>(cpu, CPU_INDEX) * 4));", to: "interruptArenaUse(<usize>load<u32>(irqArenas + 4));", tests: [SHOOTDOWN], kernel: true },
  { name: "entry.gs_not_reloaded", file: "boot/interrupts.asm", from: "    mov gs, [cs:percpu_selector]", to: "    nop", tests: [SELFTESTS], kernel: true },
  // address spaces
  { name: "space.tables_not_freed", file: "kernel/mm/virt/space.ts", from: "    freeFrame(table);\n", to: "", tests: [SELFTESTS], kernel: true },

  { name: "trace.size_limit", file: "kernel/lib/trace.ts", from: "if (<u64>size > TRACE_MAX_SIZE) return fail(result, TraceError.SizeTooLarge, start, sizeAt);", to: "", tests: [TRACE] },
  { name: "cmdline.bad_value_applied", file: "kernel/boot/cmdline.ts", from: "      if (equals != 0 && valueLength == 0) addProblem(out, ProblemKind.BadValue, start, tokenLength);\n      else { out.bench = 1;", to: "      if (equals != 0 && valueLength == 0) addProblem(out, ProblemKind.BadValue, start, tokenLength);\n      { out.bench = 1;", tests: [FOUNDATION] },
  { name: "cmdline.repeat_silent", file: "kernel/boot/cmdline.ts", from: "  if ((out.seen & option) != 0) addProblem(out, ProblemKind.Repeated, start, length);", to: "", tests: [FOUNDATION] },
  { name: "names.pattern_is_exact", file: "kernel/lib/names.ts", from: "  if (bytesEqual(entry, length, name)) return NameMatch.Exact;", to: "  if (bytesEqual(entry, length, name)) return NameMatch.Pattern;", tests: [FOUNDATION] },
  // the per-CPU lists' refill of a whole bitmap word
  { name: "frames.word_batch_uncounted", file: "kernel/mm/core/frames.ts", from: "  store<u32>(at, old | taken);\n  pmm.freeHigh -= count;\n", to: "  store<u32>(at, old | taken);\n", tests: [FRAMES] },
  // the lazy commit: a promised range's parked frame taken out of its entry first; the CPU's
  // window forgotten by its TLB (else the next fill goes to the frame it mapped before)
  { name: "vmm.parked_entry_kept", file: "kernel/mm/virt/commit.ts", from: "  if (parked) store<u32>(at, 0);", to: "", tests: [SELFTESTS], kernel: true },
  { name: "window.unmap_no_invlpg", file: "kernel/mm/virt/window.ts", from: "  store<u32>(entries + ((window - WINDOWS) >> 10), 0);\n  invlpg(window);", to: "  store<u32>(entries + ((window - WINDOWS) >> 10), 0);", tests: [SELFTESTS], kernel: true },
  // vrangeFind's memory of the block it found last, forgotten at every release
  { name: "vrange.found_block_kept_after_release", file: "kernel/mm/core/vrange.ts", from: "  area.lastFound = NONE;\n  let start = page", to: "  let start = page", tests: [VRANGE, SELFTESTS], kernel: true },
  // the C twins (twins/): a layout they assume that drifts from the AssemblyScript is caught
  { name: "twins.layout_drift", file: "twins/twins.h", from: "  uint32_t active_objects;  /* and its objects */\n", to: "  uint32_t active_objects;  /* and its objects */\n  uint32_t added;\n", tests: [FIDELITY], kernel: true },
];

function option(name: string, fallback = ""): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

function selected(name: string, only: string): boolean {
  if (!only) return true;
  return only.split(",").some((p) => (p.endsWith("*") ? name.startsWith(p.slice(0, -1)) : name === p));
}

/** The host modules the test files load (loadHostModule("x") -> build/host/x.wasm): all a host mutant needs rebuilt. */
function hostModules(tests: string[]): string[] {
  const names = tests.flatMap((t) => [...readFileSync(t, "utf8").matchAll(/loadHostModule\("([\w-]+)"/g)].map((x) => x[1]));
  return [...new Set(names)].map((n) => `build/host/${n}.wasm`);
}

type Outcome = "killed" | "survived" | "no longer applies" | "build failed";

// The file under mutation and its text, put back if the run is interrupted (Ctrl-C, a kill).
let pending: { file: string; text: string } | null = null;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => { if (pending) writeFileSync(pending.file, pending.text); process.exit(130); });
}

async function tryMutant(m: Mutant, seed: string): Promise<Outcome> {
  const original = readFileSync(m.file, "utf8");
  const at = original.indexOf(m.from);
  if (at < 0 || original.indexOf(m.from, at + 1) >= 0) return "no longer applies";
  pending = { file: m.file, text: original };
  writeFileSync(m.file, original.slice(0, at) + m.to + original.slice(at + m.from.length));
  try {
    try {
      await run("make", ["-s", ...(m.kernel ? ["kernel"] : []), ...hostModules(m.tests)], { maxBuffer: 1 << 26 });
    } catch {
      return "build failed";   // a mutant asc rejects is caught by the compiler: counted apart
    }
    try {
      await run("node_modules/.bin/vitest", ["run", ...m.tests], { env: { ...process.env, ASKERN_SEED: seed, ASKERN_PREBUILT: "1" }, maxBuffer: 1 << 26 });
      return "survived";
    } catch {
      return "killed";
    }
  } finally {
    writeFileSync(m.file, original);
    pending = null;
  }
}

async function main(): Promise<void> {
  const only = option("--only"), seed = option("--seed", "1"), out = option("--out", "build/mutate.json");
  const mutants = MUTANTS.filter((m) => selected(m.name, only));
  console.log(`mutate: ${mutants.length} mutants, one at a time; property tests with seed ${seed}`);
  const results: Array<{ name: string; outcome: Outcome; seconds: number }> = [];
  try {
    for (const m of mutants) {
      const start = Date.now();
      const outcome = await tryMutant(m, seed);
      const seconds = Math.round((Date.now() - start) / 100) / 10;
      results.push({ name: m.name, outcome, seconds });
      console.log(`  ${outcome.padEnd(17)} ${m.name} (${m.tests.map((t) => t.replace(/^.*\//, "")).join(", ")}; ${seconds} s)`);
    }
  } finally {
    await run("make", ["-s", "host-wasm", "kernel"], { maxBuffer: 1 << 26 }).catch(() => undefined);   // the unmutated builds back
  }
  const counted = results.filter((r) => r.outcome === "killed" || r.outcome === "survived");
  const killed = counted.filter((r) => r.outcome === "killed").length;
  const stale = results.filter((r) => r.outcome === "no longer applies").map((r) => r.name);
  console.log(`mutate: ${killed} of ${counted.length} killed (${counted.length ? Math.round((killed / counted.length) * 100) : 0}%)` +
    (results.length > counted.length ? `; ${results.length - counted.length} not counted (build failed or no longer applies)` : ""));
  for (const r of results.filter((x) => x.outcome === "survived")) console.log(`mutate: SURVIVED ${r.name}: no test caught it`);
  if (stale.length) console.log(`mutate: update scripts/mutate.ts, these no longer apply: ${stale.join(", ")}`);
  writeFileSync(out, JSON.stringify({ seed, results }, null, 2) + "\n");
  if (stale.length) process.exitCode = 1;
}

if (process.argv[1]?.endsWith("mutate.ts")) await main();
