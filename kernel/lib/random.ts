// A seeded pseudo-random generator (SplitMix64): fast, tiny, and the same sequence on the host
// and in the kernel for the same seed, so a printed seed replays a failure.

@unmanaged export class Random { state: u64; }

/** Sets the generator's seed. */
export function randomSeed(rng: Random, seed: u64): void { rng.state = seed; }

/** The next 64 random bits. */
export function randomNext(rng: Random): u64 {
  rng.state += 0x9E3779B97F4A7C15;
  let z = rng.state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
  return z ^ (z >> 31);
}

/** A value in [0, bound) (bound > 0), with negligible bias for bounds far below 2^32. */
export function randomBelow(rng: Random, bound: u32): u32 {
  return <u32>(((randomNext(rng) >> 32) * <u64>bound) >> 32);
}

/** Shuffles the `count` words at `list` in place (Fisher-Yates), every order equally likely. Any context. */
export function randomShuffleWords(rng: Random, list: usize, count: u32): void {
  for (let n = count; n > 1; n--) {
    const i = n - 1, j = randomBelow(rng, n);
    const t = load<u32>(list + (i << 2));
    store<u32>(list + (i << 2), load<u32>(list + (j << 2)));
    store<u32>(list + (j << 2), t);
  }
}
