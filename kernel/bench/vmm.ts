// VMM benchmarks (instructions under -icount shift=0).
//   vmm.map_unmap_pair   kernelMap + kernelUnmap of one 4 KiB page whose page table exists
//                        (unmap includes its invlpg), mean of 10,000 pairs
import { rdtsc, cli, sti } from "../arch/x86";
import { registerBench, benchReport } from "./bench";
import { allocFrame, freeFrame } from "../mm/pmm";
import { kernelMap, kernelUnmap } from "../mm/vmm";
import { PAGE_WRITABLE } from "../mm/paging";
import { VRANGE_END } from "../mm/layout";
import { panic } from "../diag/panic";

const PAIRS: u32 = 10000;
const BENCH_PAGE: u32 = VRANGE_END - 3 * 4096;

registerBench("vmm.map_unmap_pair", () => {
  const frame = allocFrame();
  if (frame == 0) panic("bench vmm.map_unmap_pair: no frame");
  kernelMap(BENCH_PAGE, frame, PAGE_WRITABLE);   // creates the page table, outside the timing
  kernelUnmap(BENCH_PAGE);
  cli();   // no timer tick inside the measurement
  const start = rdtsc();
  for (let i: u32 = 0; i < PAIRS; i++) {
    kernelMap(BENCH_PAGE, frame, PAGE_WRITABLE);
    kernelUnmap(BENCH_PAGE);
  }
  const total = rdtsc() - start;
  sti();
  freeFrame(frame);
  benchReport("vmm.map_unmap_pair", total, PAIRS);
});
