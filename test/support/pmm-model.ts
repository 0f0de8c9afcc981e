// A reference model of the PMM for the host tests: physical memory as a plain array of frame
// states, computed from the memory map by the rules in docs/pmm.md, with no cleverness at all.
export const FRAME = 4096n;
export const PHYS_LIMIT = 1n << 32n;
const U64_MAX = (1n << 64n) - 1n;

export interface MapEntry { base: bigint; length: bigint; type: number; size?: number }
export interface Range { start: bigint; end: bigint }

const down = (a: bigint) => a / FRAME;
const up = (a: bigint) => (a + FRAME - 1n) / FRAME;
const endOf = (e: MapEntry) => { const end = e.base + e.length; return end > U64_MAX ? U64_MAX : end; };
/** A frame number as a JS number, no larger than `limit`. */
export const clipTo = (f: bigint, limit: number) => Number(f < BigInt(limit) ? f : BigInt(limit));
const isRam = (e: MapEntry) => e.type === 1 && e.length > 0n;
const isNonRam = (e: MapEntry) => e.type !== 1 && e.length > 0n;

/** Encodes entries in the multiboot format (size field, base, length, type, padding). */
export function encodeMap(entries: MapEntry[]): Uint8Array {
  const sizes = entries.map((e) => e.size ?? 20);
  const out = new Uint8Array(sizes.reduce((a, s) => a + 4 + Math.max(s, 20), 0));
  const view = new DataView(out.buffer);
  let at = 0;
  entries.forEach((e, i) => {
    view.setUint32(at, sizes[i], true);
    view.setBigUint64(at + 4, e.base, true);
    view.setBigUint64(at + 12, e.length & U64_MAX, true);
    view.setUint32(at + 20, e.type, true);
    at += 4 + Math.max(sizes[i], 20);
  });
  return out;
}

/** Frames managed: up to the highest available address below 4 GiB. */
export function modelFrameCount(entries: MapEntry[]): number {
  let top = 0n;
  for (const e of entries.filter(isRam)) {
    const t = down(endOf(e) < PHYS_LIMIT ? endOf(e) : PHYS_LIMIT);
    if (t > up(e.base) && t > top) top = t;
  }
  return Number(top);
}

/** Available bytes above 4 GiB. */
export function modelIgnoredBytes(entries: MapEntry[]): bigint {
  let n = 0n;
  for (const e of entries.filter(isRam)) if (endOf(e) > PHYS_LIMIT) n += endOf(e) - (e.base > PHYS_LIMIT ? e.base : PHYS_LIMIT);
  return n;
}

/** 1 for each frame the map offers as RAM: inside an available entry, touched by no non-RAM one. */
export function modelRam(entries: MapEntry[], count: number): Uint8Array {
  const ram = new Uint8Array(count);
  const clip = (f: bigint) => clipTo(f, count);
  for (const e of entries.filter(isRam)) ram.fill(1, clip(up(e.base)), clip(down(endOf(e))));
  for (const e of entries.filter(isNonRam)) ram.fill(0, clip(down(e.base)), clip(up(endOf(e))));
  return ram;
}

/** 1 for each frame no reserved range touches (rounded outwards) and no non-RAM entry touches. */
function clean(entries: MapEntry[], reserved: Range[], count: number): Uint8Array {
  const ok = new Uint8Array(count).fill(1);
  const clip = (f: bigint) => clipTo(f, count);
  for (const e of entries.filter(isNonRam)) ok.fill(0, clip(down(e.base)), clip(up(endOf(e))));
  for (const r of reserved) if (r.end > r.start) ok.fill(0, clip(down(r.start)), clip(up(r.end)));
  return ok;
}

/** The highest frame-aligned start for `frames` frames that the plan may choose, or 0. */
export function modelBitmapPlace(entries: MapEntry[], reserved: Range[], count: number, lowLimit: number, frames: number): number {
  const ok = clean(entries, reserved, count);
  let best = 0;
  for (const e of entries.filter(isRam)) {
    const floor = Math.max(clipTo(up(e.base), count), 1);
    const top = clipTo(down(endOf(e)), lowLimit);
    let run = 0;
    for (let f = top - 1; f >= floor; f--) {
      run = ok[f] ? run + 1 : 0;
      if (run >= frames) { if (f > best) best = f; break; }
    }
  }
  return best;
}

/** The model allocator: frame states after init, then every operation applied naively. */
export class ModelPmm {
  free: Uint8Array;
  reservedAtInit: Uint8Array;
  constructor(public count: number, public lowLimit: number, initialFree: Uint8Array) {
    this.free = initialFree.slice();
    this.reservedAtInit = initialFree.map((x) => 1 - x);
  }
  freeCount(): number { let n = 0; for (const x of this.free) n += x; return n; }
  freeLowCount(): number { let n = 0; for (let f = 0; f < this.lowLimit; f++) n += this.free[f]; return n; }
  lowest(from: number, to: number): number { for (let f = from; f < to; f++) if (this.free[f]) return f; return -1; }
  /** The frame allocFrameFrom must return (exactly), or -1. */
  expectAlloc(zone: 0 | 1): number {
    if (zone === 0) return this.lowest(0, this.lowLimit);
    const high = this.lowest(this.lowLimit, this.count);
    return high >= 0 ? high : this.lowest(0, this.count);
  }
  /** The error freeFrameTo must return for `phys`. */
  expectFree(phys: number): number {
    if (phys % 4096 !== 0) return 1;
    const f = phys / 4096;
    if (f >= this.count) return 2;
    if (this.reservedAtInit[f]) return 3;
    if (this.free[f]) return 4;
    return 0;
  }
  expectFreeRun(phys: number, n: number): number {
    if (n === 0) return 5;
    if (phys % 4096 !== 0) return 1;
    const f = phys / 4096;
    if (f + n > this.count) return 2;
    for (let i = f; i < f + n; i++) {
      if (this.reservedAtInit[i]) return 3;
      if (this.free[i]) return 4;
    }
    return 0;
  }
  /** Whether some aligned run of `n` free frames ends at or below `limitFrame`. */
  hasRun(n: number, align: number, limitFrame: number): boolean {
    const limit = Math.min(limitFrame, this.count);
    for (let s = 0; s + n <= limit; s += align) {
      let ok = true;
      for (let i = s; i < s + n && ok; i++) ok = this.free[i] === 1;
      if (ok) return true;
    }
    return false;
  }
  state(f: number): number { return this.reservedAtInit[f] ? 2 : this.free[f] ? 0 : 1; }
}
