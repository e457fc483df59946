import { defineConfig } from "vitest/config";

// Three inline projects. In vitest 4 an inline project inherits this root config only
// with `extends: true` (it becomes the default in vitest 5), so each one sets it.
export default defineConfig({
  test: {
    testTimeout: 10_000,
    hookTimeout: 10_000,
    // A project with no test files yet must not fail `vitest run`.
    passWithNoTests: true,
    // Unhandled errors fail the run (vitest default; do not set dangerouslyIgnoreUnhandledErrors).
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "jsdom",
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts", "test/server/**/*.test.ts", "test/network/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        extends: true,
        test: {
          // Playwright + real Chromium against the built dist/: one file at a time.
          name: "browser",
          include: ["test/browser/**/*.test.ts"],
          environment: "node",
          testTimeout: 30_000,
          hookTimeout: 30_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
