// The module's entry in every build but the release build: the kernel (main.ts) with every file
// that registers self-tests or benchmarks, so that their top-level code runs at instantiation.
// `make RELEASE=1` builds main.ts alone (docs/source-tree.md).
export * from "./main";

import "./selftest/foundation";
import "./selftest/panics";
import "./selftest/pmm";
import "./selftest/vmm";
import "./selftest/ranges";
import "./selftest/heap";
import "./selftest/replay";
import "./selftest/slab";
import "./selftest/slab-parts";
import "./selftest/dma";
import "./selftest/arena";
import "./selftest/guard";
import "./selftest/sched";
import "./selftest/smp";
import "./selftest/shootdown";
import "./selftest/stress";
import "./selftest/lockdep";
import "./selftest/user";
import "./selftest/process";
import "./selftest/vmalloc";
import "./selftest/pressure";
import "./bench/core";
import "./bench/pmm";
import "./bench/vmm";
import "./bench/heap";
import "./bench/slab";
import "./bench/arena";
import "./bench/guard";
import "./bench/dma";
import "./bench/replay";
import "./bench/sched";
import "./bench/proc";
import "./bench/smp";
// (the slow paths the C twins of the hot paths call: twins/, bench/fidelity.ts)
export {
  twinCacheAllocSlow, twinCacheFreeSlow, twinKmallocSampled, twinKmallocLarge, twinKfreeNotSlab, twinAllocFrameRefill,
  twinFreeFrameSlow, twinHeapAlloc, twinHeapFree, twinHeapMergeAndFile,
} from "./bench/fidelity";

