# gdb commands that read a halted askern's allocators and print what the kernel itself prints
# at the end of `test=all` (the same lines, so the two can be compared):
#
#   askern-pmm        the PMM's totals             (kernel: pmmPrintTotals, kernel/mm/phys/pmm.ts)
#   askern-heap       the kernel heap's statistics (kernel: heapPrintStats, kernel/mm/core/heap/heap.ts)
#   askern-slabinfo   the kmalloc class caches     (kernel: slabPrintInfo, kernel/mm/debug/slabinfo.ts)
#   askern-threads    the kernel threads            (kernel: threadsPrint, kernel/sched/scheduler.ts)
#
# The kernel records where its allocators are in the C symbol `askern_debug_roots`
# (boot/arch.c): magic "ROOT", then the PMM's state, the kernel heap, the kernel slab regions and
# the word holding the first thread record. The
# field offsets below are those of the AssemblyScript classes (4 bytes a field on i386, in source
# order); test/scripts/gdb.qemu.test.ts compares these commands' output with the kernel's own.
# Loaded by `make debug` (.gdbinit). Written for gdb's Python API; reads memory only.
import gdb

ROOT_MAGIC = 0x544F4F52   # "ROOT"

# FrameAllocator (kernel/mm/core/frames.ts)
PMM_FRAME_COUNT, PMM_FREE_LOW, PMM_FREE_HIGH, PMM_USABLE, PMM_RESERVED = 12, 28, 32, 48, 52
# Heap (kernel/mm/core/heap/heap.ts)
HEAP_FREE_SPANS, HEAP_SPAN_COUNT, HEAP_LARGE_COUNT = 40, 44, 48
HEAP_LIVE, HEAP_PEAK_LIVE, HEAP_HELD, HEAP_PEAK_HELD, HEAP_CACHED, HEAP_LIVE_BLOCKS, HEAP_ERRORS = 52, 56, 60, 64, 68, 72, 76
# SlabRegions (kernel/mm/core/slab/regions.ts)
REGIONS_COUNT, REGIONS_FREE_PAGES, REGIONS_HELD, REGIONS_CACHES, REGIONS_LENT = 12, 16, 20, 28, 36
# SlabCache (kernel/mm/core/slab/cache-layout.ts)
CACHE_NAME, CACHE_REQUESTED, CACHE_OBJECT_SIZE, CACHE_LINK, CACHE_SLAB_PAGES, CACHE_CAPACITY = 4, 8, 12, 24, 28, 32
CACHE_ACTIVE_SLABS, CACHE_REMOTE_HELD, CACHE_PARTIAL, CACHE_FULL, CACHE_SLAB_COUNT, CACHE_NEXT = 36, 40, 44, 48, 64, 68
# a part of a cache (CacheCpu): CACHE_PARTS of CACHE_CPU_BYTES from CACHE_CPUS (before the cache's fields),
# each CPU's thread part, then each CPU's interrupt part
CACHE_CPUS, CACHE_CPU_BYTES, CACHE_PARTS, CPU_FREELIST, CPU_STASHED = -4096, 128, 32, 0, 16
# SlabEntry, a slab table entry (kernel/mm/core/slab/regions.ts)
SLAB_INUSE, SLAB_NEXT = 12, 16
# Thread (kernel/sched/thread.ts)
THREAD_ID, THREAD_STATE, THREAD_NAME, THREAD_STACK_LOW, THREAD_STACK_HIGH, THREAD_ALL_NEXT = 4, 8, 12, 24, 28, 48
THREAD_STATES = {1: "running", 2: "ready", 3: "blocked", 4: "sleeping", 5: "dead"}
PAGE = 4096


def u32(address):
    return int.from_bytes(bytes(gdb.selected_inferior().read_memory(address, 4)), "little")


def as_string(address):
    """An AssemblyScript string: UTF-16 code units, their byte length in the 4 bytes before."""
    length = u32(address - 4)
    return bytes(gdb.selected_inferior().read_memory(address, length)).decode("utf-16-le")


def roots():
    address = int(gdb.parse_and_eval("(unsigned)&askern_debug_roots"))
    if u32(address) != ROOT_MAGIC:
        raise gdb.GdbError("askern: the kernel has not recorded its allocators yet (stop after kmallocInit)")
    return u32(address + 4), u32(address + 8), u32(address + 12)


def threads_lines():
    address = int(gdb.parse_and_eval("(unsigned)&askern_debug_roots"))
    if u32(address) != ROOT_MAGIC or u32(address + 16) == 0:
        raise gdb.GdbError("askern: the kernel has not started its scheduler yet (stop after schedInit)")
    lines, thread, steps = [], u32(u32(address + 16)), 0
    while thread != 0 and steps < 1 << 16:
        lines.append("# threads: %d %s %s stack 0x%08x-0x%08x" % (
            u32(thread + THREAD_ID), as_string(u32(thread + THREAD_NAME)), THREAD_STATES.get(u32(thread + THREAD_STATE), "?"),
            u32(thread + THREAD_STACK_LOW), u32(thread + THREAD_STACK_HIGH)))
        thread, steps = u32(thread + THREAD_ALL_NEXT), steps + 1
    return lines


def ratio(numerator, denominator):
    """Two decimals, rounded, as the kernel's putRatio prints them."""
    if denominator == 0:
        return "0"
    hundredths = (numerator * 100 + denominator // 2) // denominator
    return "%d.%02d" % (hundredths // 100, hundredths % 100)


def pmm_lines():
    pmm, _, _ = roots()
    low, high = u32(pmm + PMM_FREE_LOW), u32(pmm + PMM_FREE_HIGH)
    return ["# pmm: %d frames, %d free (%d low), %d reserved, %d usable" % (
        u32(pmm + PMM_FRAME_COUNT), low + high, low, u32(pmm + PMM_RESERVED), u32(pmm + PMM_USABLE))]


def heap_lines(name="kernel heap"):
    _, heap, _ = roots()
    f = lambda offset: u32(heap + offset)
    return [
        "# %s: %d live blocks, live %d B (peak %d B), held %d B (peak %d B), footprint/peak live %s" % (
            name, f(HEAP_LIVE_BLOCKS), f(HEAP_LIVE), f(HEAP_PEAK_LIVE), f(HEAP_HELD), f(HEAP_PEAK_HELD),
            ratio(f(HEAP_PEAK_HELD), f(HEAP_PEAK_LIVE))),
        "# %s: %d spans (%d free), %d large blocks, %d B in the front cache, %d errors" % (
            name, f(HEAP_SPAN_COUNT), f(HEAP_FREE_SPANS), f(HEAP_LARGE_COUNT), f(HEAP_CACHED), f(HEAP_ERRORS)),
    ]


def cpu_free(cache):
    """As cacheCpuHeld over every part (the machine is stopped): free lists and stashes."""
    free, link = 0, u32(cache + CACHE_LINK)
    for i in range(CACHE_PARTS):
        part = cache + CACHE_CPUS + i * CACHE_CPU_BYTES
        free += u32(part + CPU_STASHED)
        obj, steps = u32(part + CPU_FREELIST), 0
        while obj != 0 and steps < 1 << 16:
            free, obj, steps = free + 1, u32(obj + link), steps + 1
    return free


def active_objects(cache):
    """As cacheSlabsInUse less cpu_free: partial, full and active slabs' counts, less what CPUs hold free."""
    active = u32(cache + CACHE_ACTIVE_SLABS) * u32(cache + CACHE_CAPACITY) - u32(cache + CACHE_REMOTE_HELD)
    for head in (CACHE_PARTIAL, CACHE_FULL):
        slab, steps = u32(cache + head), 0
        while slab != 0 and steps < 1 << 20:
            active += u32(slab + SLAB_INUSE)
            slab, steps = u32(slab + SLAB_NEXT), steps + 1
    return active - cpu_free(cache)


def slabinfo_lines():
    _, _, slab_regions = roots()
    lines = ["# slabinfo: name              objsize   active    total  slabs  pages     wasted cpuslabs cpufree"]
    cache, steps = u32(slab_regions + REGIONS_CACHES), 0
    while cache != 0 and steps < 4096:
        name = as_string(u32(cache + CACHE_NAME))
        slabs, size = u32(cache + CACHE_SLAB_COUNT), u32(cache + CACHE_OBJECT_SIZE)
        active, pages = active_objects(cache), slabs * u32(cache + CACHE_SLAB_PAGES)
        cols = [(size, 7), (active, 8), (slabs * u32(cache + CACHE_CAPACITY), 8), (slabs, 6), (pages, 6),
                (pages * PAGE - active * u32(cache + CACHE_REQUESTED), 10), (u32(cache + CACHE_ACTIVE_SLABS), 8),
                (cpu_free(cache), 7)]
        lines.append("# slabinfo: " + name.ljust(17) + "".join(str(v).rjust(w + 1) for v, w in cols))
        cache, steps = u32(cache + CACHE_NEXT), steps + 1
    count, held = u32(slab_regions + REGIONS_COUNT), u32(slab_regions + REGIONS_HELD)
    size = "%d MiB" % (held >> 20) if held >= 16 << 20 else "%d KiB" % (held >> 10) if held >= 1024 else "%d B" % held
    lines.append("# slabinfo: %d slab regions, %d slab pages free in them, %d lent to the PMM, %s held" % (
        count, u32(slab_regions + REGIONS_FREE_PAGES), u32(slab_regions + REGIONS_LENT), size))
    return lines


class AskernCommand(gdb.Command):
    def __init__(self, name, doc, lines):
        self.__doc__ = doc
        super().__init__(name, gdb.COMMAND_DATA)
        self.lines = lines

    def invoke(self, argument, from_tty):
        for line in self.lines():
            print(line)


AskernCommand("askern-pmm", "The PMM's totals: frames, free (low), reserved, usable.", pmm_lines)
AskernCommand("askern-heap", "The kernel heap's statistics (live, peak, held, spans, cache, errors).", heap_lines)
AskernCommand("askern-slabinfo", "The slabinfo table of the kmalloc class caches.", slabinfo_lines)
AskernCommand("askern-threads", "The kernel threads: id, name, state, stack range.", threads_lines)
