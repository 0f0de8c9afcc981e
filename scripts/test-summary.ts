// Prints vitest's JSON report (build/vitest.json) as one plain closing line:
//   test: 42 passed, 0 failed
import { readFileSync } from "node:fs";

const report = JSON.parse(readFileSync(process.argv[2] ?? "build/vitest.json", "utf8")) as
  { numPassedTests: number; numFailedTests: number; numPendingTests: number };
console.log(`test: ${report.numPassedTests} passed, ${report.numFailedTests} failed` +
  (report.numPendingTests ? `, ${report.numPendingTests} skipped` : ""));
