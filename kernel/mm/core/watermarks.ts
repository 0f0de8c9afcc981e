// The PMM's watermarks, from the size of low memory, by Linux's rule for min_free_kbytes: the
// square root of 16 times low memory in KiB, within [128 KiB, 64 MiB]; low is min plus a
// quarter, high min plus a half. What each one means is in docs/pmm.md ("Watermarks").
//
//   free low memory   min        low     high
//   8 MiB             90 frames  112     135
//   128 MiB           362        452     543
//   896 MiB           957        1196    1435
//
// Hardware-independent (host-tested).

@unmanaged export class Watermarks {
  min: u32;    // atomic allocations stop here; only reclaim itself goes below
  low: u32;    // thread allocations stop here (after reclaim); below it the reclaimer runs
  high: u32;   // reclaim goes on until this many are free
}

/** The integer square root of `n` (Newton's method; the largest r with r * r <= n). */
export function isqrt(n: u64): u64 {
  if (n < 2) return n;
  let x = n, y = (n + 1) >> 1;
  while (y < x) { x = y; y = (x + n / x) >> 1; }
  return x;
}

/** Fills `marks` for `lowFrames` frames of free low memory (4 KiB each). */
export function watermarksFor(marks: Watermarks, lowFrames: u32): void {
  const kib = <u64>lowFrames * 4;
  const minKiB = min<u64>(max<u64>(isqrt(kib * 16), 128), 64 << 10);
  const minFrames = <u32>(minKiB >> 2);
  marks.min = minFrames;
  marks.low = minFrames + (minFrames >> 2);
  marks.high = minFrames + (minFrames >> 1);
}
