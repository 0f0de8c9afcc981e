// AssemblyScript's own allocator (std/assembly/rt/tlsf.ts, the --runtime minimal build) for
// `make compare`, through the same asc + wasm2c + clang path as askern.ts. It grows its heap with
// memory.grow and never gives memory back, so its footprint is the memory it has grown. The TLSF
// has no aligned allocation: as in kernel/bench/allocator.ts, an aligned request asks for
// `size + align - 16` and the caller rounds the pointer up (its blocks are 16-aligned), freeing
// through the pointer TLSF returned.
const WASM_PAGE_SHIFT: u32 = 16;
const TLSF_ALIGN: u32 = 16;
let startPages: i32 = -1;

/** Call once before the replay: the footprint counts from here. */
export function tlsfInit(): void { startPages = memory.size(); }
export function tlsfAlloc(size: u32, align: u32): usize { return heap.alloc(align > TLSF_ALIGN ? size + align - TLSF_ALIGN : size); }
export function tlsfFree(ptr: usize): void { heap.free(ptr); }
export function tlsfRealloc(ptr: usize, size: u32): usize { return heap.realloc(ptr, size); }
/** Bytes of memory grown since tlsfInit. */
export function tlsfHeld(): f64 { return <f64>(<u64>(memory.size() - startPages) << WASM_PAGE_SHIFT); }
