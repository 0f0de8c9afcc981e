// The layouts of a span, a block and a run header, and their accessors.
//
// Spans: SPAN_BYTES, aligned to SPAN_BYTES, so the span of any pointer is `ptr & ~SPAN_MASK`.
//
//   +0     the run header (RunHeader, below; 24 bytes)
//   +24    valid bitmap (16 bytes, 128 bits): bit g <=> group g of the start bitmap holds meaning
//   +32    block-start bitmap: bit i <=> a block's payload starts at span + 16 i (1 KiB; its
//          first 8 bytes, group 0, would be starts below +1024, where no block is: the valid
//          bitmap's second half lives there)
//   +1068  first block (its header; payloads are 16-aligned)
//   ...    blocks, tiling the span
//   +SPAN_BYTES-4   end marker: a used block header of size 0
//
// The start bitmap is never cleared as a whole: a group of 8 bytes of it (the starts in 1 KiB
// of the span) means something only once the group's valid bit is set, and the first start
// recorded in a group zeroes it then (one 8-byte store). A new span clears the 16-byte valid
// bitmap, not the 1 KiB start bitmap.
//
// A block: one header word before its payload. Sizes are multiples of 16 and include the header.
//
//   header (at payload - 4):  31 ...................... 4     3       2         1        0
//                            |       size / 16 ...       |ALIGNED|CACHED|LEFT_FREE| FREE |
//
//   used block:    [header][payload .............................................]
//   free block:    [header][next free][prev free][ ... ][size (footer, last word)]
//   cached block:  [header|CACHED][next cached][ ... ]
//
//   LEFT_FREE says the block just before is free, so its footer (the word before this header)
//   gives its size: freeing merges with both neighbours in O(1). ALIGNED marks a used block
//   that an aligned request (above 16) carved out (see front-cache.ts).
//
// The chunk map (in the heap's control block, control.ts) says which SPAN_BYTES chunks start a
// span or a large block; a span's block-start bitmap says where its blocks start.
import { PROVIDER_PAGE_SIZE } from "../pages";

export const SPAN_SHIFT: u32 = 17;
export const SPAN_BYTES: u32 = 1 << SPAN_SHIFT;   // 128 KiB
export const SPAN_MASK: u32 = SPAN_BYTES - 1;
export const SPAN_PAGES: u32 = SPAN_BYTES / PROVIDER_PAGE_SIZE;
export const SPAN_MAGIC: u32 = 0x4E415053;    // "SPAN"
export const LARGE_MAGIC: u32 = 0x4752414C;   // "LARG"
const SPAN_HEADER: u32 = 32;
export const SPAN_VALID: u32 = 24;                                     // the valid bitmap: 4 u32
export const VALID_SHIFT: u32 = 6;                                     // start bits per valid bit: 64 (8 bytes)
export const SPAN_BITMAP: u32 = SPAN_BYTES / 16 / 8;                   // 1024 bytes
export const FIRST_PAYLOAD: u32 = SPAN_HEADER + SPAN_BITMAP + 16;      // 1072
export const FIRST_BLOCK: u32 = FIRST_PAYLOAD - 4;                     // 1068
export const END_BLOCK: u32 = SPAN_BYTES - 4;                          // the end marker's header
/** The size of the one block an empty span holds. */
export const SPAN_BLOCK_BYTES: u32 = END_BLOCK - FIRST_BLOCK;          // 130000

export const ALIGN: u32 = 16;
export const MIN_BLOCK: u32 = 16;
export const FREE: u32 = 1;
export const LEFT_FREE: u32 = 2;
export const CACHED: u32 = 4;
export const ALIGNED: u32 = 8;
export const SIZE_MASK: u32 = ~(ALIGN - 1);

// A run (a span or a large block) starts with this header; a large block's payload follows at
// its payload offset. Spans and large blocks are on two lists, linked through it.
//   +0 magic  +4 heap  +8 next run  +12 previous run  +16 pages
//   +20 large: payload offset
// then, in a span, the valid bitmap (+24, see the span's layout above)
@unmanaged export class RunHeader {
  magic: u32;      // SPAN_MAGIC or LARGE_MAGIC
  heap: usize;     // the heap it belongs to
  next: usize;     // the next and previous run on the heap's list (spans or large blocks)
  prev: usize;
  pages: u32;      // pages in the run
  payload: u32;    // a large block: its payload's offset from the run's start
}
/** The header of the run (a span or a large block) at `run`. */
@inline export function runHeader(run: usize): RunHeader { return changetype<RunHeader>(run); }
export const LARGE_HEADER: u32 = 32;
@inline export function header(block: usize): u32 { return load<u32>(block); }
@inline export function setHeader(block: usize, value: u32): void { store<u32>(block, value); }
@inline export function blockSize(block: usize): u32 { return header(block) & SIZE_MASK; }
@inline export function isFree(block: usize): bool { return (header(block) & FREE) != 0; }
@inline export function isCached(block: usize): bool { return (header(block) & CACHED) != 0; }
@inline export function nextFree(block: usize): usize { return load<usize>(block, 4); }
@inline export function prevFree(block: usize): usize { return load<usize>(block, 8); }
@inline export function setNextFree(block: usize, next: usize): void { store<usize>(block, next, 4); }
@inline export function setPrevFree(block: usize, prev: usize): void { store<usize>(block, prev, 8); }
@inline export function payloadOf(block: usize): usize { return block + 4; }
@inline export function blockOf(payload: usize): usize { return payload - 4; }
@inline export function spanOf(address: usize): usize { return address & ~(<usize>SPAN_MASK); }
@inline export function rightOf(block: usize): usize { return block + blockSize(block); }
/** Sets block's LEFT_FREE bit to `leftFree`, keeping the rest. */
@inline export function setLeftFree(block: usize, leftFree: bool): void {
  setHeader(block, leftFree ? header(block) | LEFT_FREE : header(block) & ~LEFT_FREE);
}

/** Marks `block` (of `size`) free, with its footer, and tells its right neighbour. */
@inline export function writeFreeBlock(block: usize, size: u32, leftFree: bool): void {
  setHeader(block, size | FREE | (leftFree ? LEFT_FREE : 0));
  store<u32>(block + size - 4, size);
  setLeftFree(block + size, true);
}

@inline export function startBit(payload: usize): u32 { return <u32>(payload & SPAN_MASK) >> 4; }
/** The start-bitmap word that holds start bit `bit` of `span`. */
@inline export function startWordAt(span: usize, bit: u32): usize { return span + SPAN_HEADER + ((bit >> 5) << 2); }
/** The valid-bitmap word that holds the valid bit of start bit `bit`'s group. */
@inline export function validWordAt(span: usize, bit: u32): usize { return span + SPAN_VALID + ((bit >> (VALID_SHIFT + 5)) << 2); }
/** That valid bit, within its word. */
@inline export function validBit(bit: u32): u32 { return 1 << ((bit >> VALID_SHIFT) & 31); }
/** Zeroes the group (8 bytes) of the start bitmap that holds start bit `bit` (never group 0). */
@inline export function zeroGroup(span: usize, bit: u32): void {
  store<u64>(span + SPAN_HEADER + ((bit >> VALID_SHIFT) << (VALID_SHIFT - 3)), 0);
}

/** Records that a block's payload starts at `payload` (zeroing its bitmap group first if new). */
@inline export function markStart(payload: usize): void {
  const span = spanOf(payload), bit = startBit(payload);
  const validAt = validWordAt(span, bit), valid = load<u32>(validAt);
  if ((valid & validBit(bit)) == 0) {
    zeroGroup(span, bit);
    store<u32>(validAt, valid | validBit(bit));
  }
  const at = startWordAt(span, bit);
  store<u32>(at, load<u32>(at) | (1 << (bit & 31)));
}

/** Forgets the start at `payload` (one that markStart recorded). */
@inline export function clearStart(payload: usize): void {
  const bit = startBit(payload), at = startWordAt(spanOf(payload), bit);
  store<u32>(at, load<u32>(at) & ~(1 << (bit & 31)));
}

@inline export function isStart(payload: usize): bool {
  const span = spanOf(payload), bit = startBit(payload);
  return (load<u32>(validWordAt(span, bit)) & validBit(bit)) != 0 &&
    (load<u32>(startWordAt(span, bit)) & (1 << (bit & 31))) != 0;
}
