// Builds (incrementally) everything the suites need, so `npx vitest` works on its own too.
import { execFileSync } from "node:child_process";
import { randomInt } from "node:crypto";

export default function setup(): void {
  // (ASKERN_PREBUILT=1: the caller has built what its tests need, as make mutate does after each mutant)
  if (process.env.ASKERN_PREBUILT !== "1") execFileSync("make", ["--no-print-directory", "-s", "test-artifacts"], { stdio: "inherit" });
  // one seed for every property-based test of this run, printed so a failure can be replayed
  process.env.ASKERN_SEED ??= String(randomInt(1, 2 ** 31 - 1));
  console.log(`test: property-based seed ${process.env.ASKERN_SEED} (replay: ASKERN_SEED=${process.env.ASKERN_SEED} make test)`);
}
