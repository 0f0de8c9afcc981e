// Object-cache benchmarks (instructions under -icount shift=0), on an arena of their own over the
// kernel's page provider:
//   slab.alloc_free_pair        a hot cacheAlloc + cacheFree pair on a cache of 64-byte objects
//                               with LIVE objects in use (mean of PAIRS, after a warm-up)
//   slab.footprint_ratio_100k_64  memory the arena takes from the PMM for 100,000 live 64-byte
//                               objects, over their bytes
import { rdtsc, cli, sti } from "../arch/x86";
import { registerBench, benchReport, rdtscOverhead } from "./bench";
import { MEASURING_TLSF } from "./allocator";
import { kmalloc, kfree, kernelPageProvider } from "../mm/kmalloc";
import { ARENA_BYTES, arenaCreate, arenaCheck } from "../mm/slab-arena";
import { CACHE_BYTES, cacheCreate, cacheAlloc, cacheFree, cacheDestroy, slabCheckAll } from "../mm/slab";
import { panic } from "../diag/panic";

const LIVE: u32 = 1000;
const PAIRS: u32 = 20000;
const FOOTPRINT_OBJECTS: u32 = 100000;
const OBJECT: u32 = 64;

registerBench("slab.pair", () => {
  if (MEASURING_TLSF) return;
  const arenaAt = kmalloc(ARENA_BYTES), cacheAt = kmalloc(CACHE_BYTES), table = kmalloc(FOOTPRINT_OBJECTS * 4);
  if (arenaAt == 0 || cacheAt == 0 || table == 0) panic("bench slab: no memory for the arena, the cache or the table");
  const arena = arenaCreate(arenaAt, kernelPageProvider());
  const made = cacheCreate(cacheAt, arena, "bench64", OBJECT, 0, 0);
  if (made == null) panic("bench slab: cacheCreate refused");
  const cache = made!;
  for (let i: u32 = 0; i < LIVE; i++) store<usize>(table + i * 4, cacheAlloc(cache));
  const overhead = rdtscOverhead();
  let total: u64 = 0;
  cli();
  for (let n: u32 = 0; n < PAIRS; n++) {
    const t0 = rdtsc();
    const object = cacheAlloc(cache);
    cacheFree(cache, object);
    const t1 = rdtsc();
    total += t1 - t0 - overhead;
  }
  sti();
  benchReport("slab.alloc_free_pair", total, PAIRS, "instr/pair");
  // Footprint: 100,000 live objects.
  for (let i: u32 = LIVE; i < FOOTPRINT_OBJECTS; i++) {
    const object = cacheAlloc(cache);
    if (object == 0) panic("bench slab: out of memory for 100,000 objects");
    store<usize>(table + i * 4, object);
  }
  const held = arena.heldBytes;
  benchReport("slab.footprint_ratio_100k_64", held, <u64>FOOTPRINT_OBJECTS * OBJECT, "ratio");
  if (slabCheckAll(arena) != 0) panic("bench slab: the slab checker failed");
  for (let i: u32 = 0; i < FOOTPRINT_OBJECTS; i++) cacheFree(cache, load<usize>(table + i * 4));
  if (!cacheDestroy(cache) || arena.heldBytes != 0 || arenaCheck(arena) != 0) panic("bench slab: the arena kept memory");
  kfree(table); kfree(cacheAt); kfree(arenaAt);
});
