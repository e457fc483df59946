import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Three inline projects. In vitest 4 an inline project inherits this root config only
// with `extends: true` (it becomes the default in vitest 5), so each one sets it.
export default defineConfig({
  test: {
    testTimeout: 10_000,
    hookTimeout: 10_000,
    // Every project has tests: a run that finds none (a wrong path, a broken include) fails.
    passWithNoTests: false,
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
        // socket.io-client 4.8, unchanged, on cometa: its `engine.io-client` import resolves to
        // cometa's compat entry (Node build), as a bundler alias or the Node loader hook does.
        extends: true,
        resolve: {
          alias: [
            {
              find: /^engine\.io-client$/,
              replacement: fileURLToPath(new URL("./src/compat/node/engine.io-client.ts", import.meta.url)),
            },
          ],
        },
        test: {
          name: "compat",
          include: ["test/compat/**/*.test.ts"],
          environment: "node",
          // transformed by vite, so the alias reaches socket.io-client's own imports
          server: { deps: { inline: ["socket.io-client"] } },
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
      {
        // Several cometa/server processes, redis-server and haproxy or nginx, started by the
        // tests on loopback ports: one file at a time. socket.io-client runs on cometa, as in
        // the compat project.
        extends: true,
        resolve: {
          alias: [
            {
              find: /^engine\.io-client$/,
              replacement: fileURLToPath(new URL("./src/compat/node/engine.io-client.ts", import.meta.url)),
            },
          ],
        },
        test: {
          name: "cluster",
          include: ["test/cluster/**/*.test.ts"],
          environment: "node",
          testTimeout: 30_000,
          hookTimeout: 30_000,
          fileParallelism: false,
          server: { deps: { inline: ["socket.io-client"] } },
        },
      },
      {
        extends: true,
        test: {
          // the built client (dist/) in Node 22, Deno and Bun, binaries from their npm packages
          name: "runtimes",
          include: ["test/runtimes/**/*.test.ts"],
          environment: "node",
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          // cometa/diagnose's page in Chromium behind nginx (built dist/): one file at a time
          name: "diagnose",
          include: ["test/diagnose/**/*.test.ts"],
          environment: "node",
          testTimeout: 30_000,
          hookTimeout: 30_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
