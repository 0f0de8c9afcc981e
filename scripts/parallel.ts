// Running jobs two at a time: the machine has two cores, and -icount and callgrind figures do not
// depend on load, so the benchmark scripts (bench.ts, compare.ts, sweep.ts) use both.

/** Runs `jobs` two at a time; the results in the jobs' order. */
export async function inPairs<T>(jobs: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => { while (next < jobs.length) { const i = next++; results[i] = await jobs[i](); } };
  await Promise.all([worker(), worker()]);
  return results;
}
