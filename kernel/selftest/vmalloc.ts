// Self-tests of the VMM's newer pieces: vmalloc and kvmalloc, populating and decommitting part of
// a range, ioremap on devices QEMU emulates (the local APIC's registers, the VGA text memory),
// with RAM refused, and reclaim by the shrinkers.
import { framesNow } from "./frames";
import { reclaimerSettle } from "../sched/reclaimd";
import { memallocBegin, memallocEnd } from "../mm/pressure";
import { registerTest, check, checkEqual, skipTest, testRng } from "./harness";
import { randomShuffleWords } from "../lib/random";
import { kmemCacheCreate, kmemCacheAlloc, kmemCacheFree, kmemCacheDestroy } from "../mm/alloc/caches";
import { reclaim } from "../mm/alloc/shrink";
import { pmmFreeFrames, pmmWatermarkLow, allocFrame, allocFrames, freeFrame } from "../mm/phys/pmm";
import { kmalloc, kfree, ksize, krealloc, kmallocSampling, kmallocSetSampling, kmallocReclaimable } from "../mm/alloc/kmalloc";
import { kmallocVmallocServed, kmallocVmallocLive } from "../mm/alloc/kmalloc-vmalloc";
import { AllocError } from "../mm/core/alloc-error";
import { vmalloc, vfree, kvmalloc, kvfree, isVmalloc, vmallocLive } from "../mm/alloc/vmalloc";
import { reserveRange, releaseRange, vmmCommittedPages, vmmParkedPages, RANGE_WRITABLE, RANGE_PROMISED } from "../mm/virt/vmm";
import { rangePopulate, rangeDecommit } from "../mm/virt/commit";
import { ioremap, iounmap, ioremapRefusals, firmwareMap, IoCaching } from "../mm/virt/ioremap";
import { cpuidEdx, readMsrLow, mmioRead32, mmioWrite32 } from "../arch/x86";
import { linearVirt } from "../mm/layout";


registerTest("vmalloc.large_and_back", () => {
  const free = pmmFreeFrames();
  if (free < 2048) { skipTest("needs 8 MiB free"); return; }
  const bytes = min<u32>(64 << 20, (free >> 1) << 12);   // 64 MiB, or half of what is free on a small machine
  const before = framesNow(), live = vmallocLive();
  const big = kvmalloc(bytes);
  check(big != 0, "a large kvmalloc got its memory from vmalloc");
  if (big == 0) return;
  check(isVmalloc(big), "and it is a vmalloc allocation");
  checkEqual(pmmFreeFrames(), free - (bytes >> 12), "every page committed at once, no more");
  checkEqual(<u64>(load<u32>(big) | load<u32>(big + bytes - 4)), 0, "zeroed, first and last word");
  store<u32>(big + bytes - 4, 0x12345678);
  checkEqual(load<u32>(big + bytes - 4), 0x12345678, "writable to its last byte");
  kvfree(big);
  checkEqual(vmallocLive(), live, "freed");
  const small = kvmalloc(100);
  check(small != 0 && !isVmalloc(small), "a small kvmalloc comes from kmalloc");
  kvfree(small);
  check(!vfree(small), "vfree refuses what vmalloc did not return");
  const page = kvmalloc(4096);
  check(page != 0 && !isVmalloc(page), "kvmalloc's kmalloc limit covers a page");
  kvfree(page);
  checkEqual(framesNow(), before, "every frame back");
});

// Low memory fragmented on purpose: every free frame taken, every other one given back, so no
// two free frames touch. A contiguous run cannot be had, but vmalloc builds a large allocation
// from the scattered frames, and serves kmalloc's 4 MiB block that the heap cannot.
registerTest("vmalloc.fragmented_memory", () => {
  // (the caches emptied and the reclaimer idle first: nothing may give frames back in the middle)
  reclaim(0xFFFFFFFF);
  check(reclaimerSettle(), "the reclaimer settled");
  const free = pmmFreeFrames();
  if (free < 1024) { skipTest("needs 4 MiB free"); return; }
  const before = framesNow();
  const list = vmalloc(free << 2);   // (a frame number per frame, before the fragmenting)
  if (list == 0) { check(false, "vmalloc for the frame list"); return; }
  let taken: u32 = 0;
  const memalloc = memallocBegin();   // (every frame, the watermarks' reserve too: at most `free`, the list's own pages taken)
  while (taken < free) { const f = allocFrame(); if (f == 0) break; store<u32>(list + (taken << 2), f); taken++; }
  memallocEnd(memalloc);
  for (let i: u32 = 0; i < taken; i += 2) freeFrame(load<u32>(list + (i << 2)));
  const scattered = pmmFreeFrames();
  check(allocFrames(2, 1, 0x100000000) == 0, "no two free frames are contiguous");
  const bytes = min<u32>(64 << 20, (scattered - pmmWatermarkLow() - 64) << 12);   // 64 MiB, or all above the low watermark on a small machine
  const big = kvmalloc(bytes);
  check(big != 0, "kvmalloc of 64 MiB (or nearly every scattered frame) succeeded through vmalloc");
  if (big != 0) {
    store<u32>(big + bytes - 4, 7);
    checkEqual(load<u32>(big + bytes - 4), 7, "usable to its end");
    kvfree(big);
  }
  checkEqual(pmmFreeFrames(), scattered, "kvfree gave every frame back");
  // a 4 MiB heap block: the heap needs a contiguous run of low memory for it, vmalloc serves it
  const sampling = kmallocSampling();
  kmallocSetSampling(0);   // (the heap's own path, in a kmalloc=guard or kfence boot too)
  const blockBytes = min<u32>(4 << 20, bytes);
  const served = kmallocVmallocServed();
  const block = kmalloc(blockBytes);
  check(block != 0, "a 4 MiB kmalloc (a heap large block) succeeded in fragmented memory");
  if (block != 0) {
    checkEqual(kmallocVmallocServed() - served, 1, "vmalloc served it");
    checkEqual(ksize(block), blockBytes, "ksize knows it");
    store<u32>(block + blockBytes - 4, 9);
    checkEqual(krealloc(block, blockBytes >> 1), block, "krealloc to half keeps it in place");
    checkEqual(load<u32>(block + blockBytes - 4), 9, "and its contents");
    checkEqual(kmallocVmallocLive(), 1, "one such block live");
    checkEqual(kfree(block), AllocError.Ok, "kfree frees it");
    checkEqual(kmallocVmallocLive(), 0, "none live after it");
    checkEqual(kfree(block), AllocError.Foreign, "a second kfree is refused");
  }
  kmallocSetSampling(sampling);
  checkEqual(pmmFreeFrames(), scattered, "kfree gave every frame back");
  for (let i: u32 = 1; i < taken; i += 2) freeFrame(load<u32>(list + (i << 2)));
  vfree(list);
  checkEqual(framesNow(), before, "every frame back");
});

registerTest("vmalloc.populate_decommit", () => {
  const before = framesNow(), committed = vmmCommittedPages();
  const range = reserveRange(16 << 12, RANGE_WRITABLE, "test populate");
  checkEqual(<u64>rangePopulate(range + (4 << 12), 4 << 12), 4, "four pages committed now");
  checkEqual(vmmCommittedPages() - committed, 4, "counted");
  checkEqual(<u64>rangePopulate(range + (4 << 12), 6 << 12), 2, "populating again commits only what is missing");
  for (let p: u32 = 4; p < 10; p++) store<u32>(range + (p << 12), 0x5A5A0000 | p);
  checkEqual(<u64>rangeDecommit(range + (5 << 12), 3 << 12), 3, "three pages given back");
  checkEqual(vmmCommittedPages() - committed, 3, "the count follows");
  checkEqual(load<u32>(range + (4 << 12)), 0x5A5A0004, "the page before keeps its data");
  checkEqual(load<u32>(range + (8 << 12)), 0x5A5A0008, "the page after keeps its data");
  checkEqual(load<u32>(range + (6 << 12)), 0, "a decommitted page reads zero again (committed anew on touch)");
  checkEqual(<u64><i64>rangePopulate(range + 1, 4096), <u64><i64>-1, "unaligned: refused");
  checkEqual(<u64><i64>rangePopulate(range + (15 << 12), 2 << 12), <u64><i64>-1, "past the range's end: refused");
  checkEqual(<u64><i64>rangeDecommit(range, 0), <u64><i64>-1, "empty: refused");
  releaseRange(range);
  checkEqual(vmmCommittedPages(), committed, "released: nothing committed");
  // a promised range keeps its frames parked: the promise holds
  const promised = reserveRange(4 << 12, RANGE_WRITABLE | RANGE_PROMISED, "test promised");
  const parked = vmmParkedPages(), free = pmmFreeFrames();
  store<u32>(promised, 1);
  checkEqual(<u64>rangeDecommit(promised, 4 << 12), 1, "one page given back");
  checkEqual(vmmParkedPages(), parked, "to its range (parked again), not to the PMM");
  checkEqual(pmmFreeFrames(), free, "the PMM saw nothing");
  checkEqual(load<u32>(promised), 0, "and it reads zero");
  releaseRange(promised);
  checkEqual(framesNow(), before, "every frame back");
});

registerTest("ioremap.lapic_version_register", () => {
  if ((cpuidEdx(1) & (1 << 9)) == 0) { skipTest("no local APIC (CPUID.1:EDX bit 9)"); return; }
  const before = framesNow();
  const base = readMsrLow(0x1B) & 0xFFFFF000;   // IA32_APIC_BASE
  const apic = ioremap(<u64>base, 4096, IoCaching.Uncached);
  check(apic != 0, "the local APIC's registers mapped");
  if (apic == 0) return;
  const version = mmioRead32(apic + 0x30);
  check((version & 0xFF) >= 0x10 && (version & 0xFF) <= 0x15, "the version register reads an integrated APIC's version (0x10-0x15)");
  check(((version >> 16) & 0xFF) >= 2, "with at least 3 LVT entries");
  check(iounmap(apic), "unmapped");
  checkEqual(framesNow(), before, "no frame taken or given: the device's frames are never the PMM's");
});

registerTest("ioremap.vga_text_memory", () => {
  const before = framesNow();
  const vga = ioremap(0xB8000, 0x8000, IoCaching.WriteThrough);
  check(vga != 0, "the VGA text memory mapped");
  if (vga == 0) return;
  // a cell past the 80x25 screen: written through the new window, read through the linear map
  mmioWrite32(vga + 0x7FF0, 0xA5C3F00D);
  checkEqual(load<u32>(linearVirt(0xB8000 + 0x7FF0)), 0xA5C3F00D, "the window reaches the same device memory");
  mmioWrite32(vga + 0x7FF0, 0);
  check(iounmap(vga + 0x10), "unmapped by any address in it");
  checkEqual(framesNow(), before, "no frame taken or given");
});

registerTest("ioremap.refuses_ram", () => {
  const refused = ioremapRefusals();
  checkEqual(ioremap(0x100000, 4096, IoCaching.Uncached), 0, "the kernel's own RAM: refused");
  checkEqual(ioremap(0x9F000, 0x2000, IoCaching.Uncached), 0, "a range that starts in RAM and ends outside it: refused");
  checkEqual(ioremap(0xB8000, 0, IoCaching.Uncached), 0, "an empty range: refused");
  checkEqual(ioremap(0xFFFFF000, 0x2000, IoCaching.Uncached), 0, "a range past 4 GiB: refused");
  checkEqual(ioremapRefusals() - refused, 4, "each refusal counted and reported");
  check(!iounmap(linearVirt(0x100000)), "iounmap refuses what ioremap did not map");
  const big = vmalloc(4096);
  check(!iounmap(big), "and a vmalloc range");
  vfree(big);
});

registerTest("ioremap.firmware_tables", () => {
  // the BIOS area (reserved in QEMU's map) read through firmwareMap and through the linear map
  const before = framesNow(), refused = ioremapRefusals();
  const bios = firmwareMap(0xF0010, 0x1000);
  check(bios != 0, "the BIOS area mapped");
  if (bios == 0) return;
  checkEqual(bios & 0xFFF, 0x010, "the address of the byte asked for");
  checkEqual(load<u32>(bios + 0x100), load<u32>(linearVirt(0xF0110)), "the same bytes as through the linear map");
  check(iounmap(bios), "unmapped");
  checkEqual(firmwareMap(0x100000, 4096), 0, "available RAM: refused");
  checkEqual(firmwareMap(0xF0000, 0), 0, "an empty range: refused");
  checkEqual(ioremapRefusals() - refused, 2, "each refusal counted and reported");
  checkEqual(framesNow(), before, "no frame taken or given");
});

// Reclaim (mm/alloc/shrink.ts): an object cache filled, nine in ten objects freed at random,
// then the rest. What the shrinkers say they could give back, they give, and at the end the
// cache holds no slab and every frame is back.
registerTest("reclaim.object_cache_nine_in_ten", () => {
  const free = pmmFreeFrames();
  const objects = min<u32>(200000, free << 3);   // 64-byte objects: up to a sixth of free memory
  const before = framesNow();
  const cache = kmemCacheCreate("reclaim test", 64, 0, 0);
  const list = vmalloc(objects << 2);
  if (cache == null || list == 0) { check(false, "a cache and a list"); return; }
  let made: u32 = 0;
  for (; made < objects; made++) { const o = kmemCacheAlloc(cache); if (o == 0) break; store<usize>(list + (made << 2), o); }
  checkEqual(made, objects, "every object allocated");
  // free nine in ten at random (a shuffle of the list, then the first nine tenths)
  const rng = testRng();
  randomShuffleWords(rng, list, made);
  const kept = made / 10;
  for (let i = kept; i < made; i++) kmemCacheFree(cache, load<usize>(list + (i << 2)));
  const could = kmallocReclaimable(), freeBefore = pmmFreeFrames();
  const got = reclaim(0xFFFFFFFF);
  checkEqual(<u64>(pmmFreeFrames() - freeBefore), <u64>got, "reclaim's figure is what the PMM got back");
  check(got >= could >> 1, "reclaim gave back at least half of what the shrinkers counted (whole regions go back only when all their slabs have)");
  checkEqual(kmallocReclaimable(), 0, "nothing reclaimable is left");
  checkEqual(cache.emptySlabs, 0, "no empty slab is kept");
  for (let i: u32 = 0; i < kept; i++) kmemCacheFree(cache, load<usize>(list + (i << 2)));
  reclaim(0xFFFFFFFF);
  checkEqual(cache.slabCount, 0, "with every object freed, the cache holds no slab after reclaim");
  check(kmemCacheDestroy(cache), "and it can be destroyed");
  vfree(list);
  checkEqual(framesNow(), before, "every frame back (free, or held by kmalloc as before)");
});
