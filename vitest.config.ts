import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 180_000,
    hookTimeout: 300_000,
    // QEMU boots are single-threaded TCG: two files at a time fit two cores
    maxWorkers: 2,
    minWorkers: 1,
  },
});
