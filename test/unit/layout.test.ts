// @vitest-environment node
// (esbuild refuses jsdom's realm: its TextEncoder output is not Node's Uint8Array)
/**
 * test/unit mirrors src/ file for file: src/<path>.ts has its unit tests in
 * test/unit/<path>.test.ts. A module without runtime code (types only) needs none; the few
 * modules that only a real server, browser or child process can exercise are listed below with
 * the file that covers them.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { transformSync } from "esbuild";
import { expect, test } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const self = relative(root, fileURLToPath(import.meta.url));

/** src module -> the test file that covers it instead of a mirror. Keep each reason short. */
const coveredElsewhere: Readonly<Record<string, string>> = {
  // entries: nothing of their own but re-exports and the script-tag builds' transport lists
  "src/index.ts": "test/integration/package.test.ts",
  "src/polling-websocket.ts": "test/browser/iife.test.ts",
  "src/compat/engine.io-client.ts": "test/compat/exports.test.ts",
  "src/compat/node/engine.io-client.ts": "test/compat/exports.test.ts",
  // a Node loader hook: only a child process started with --import can load it
  "src/compat/node/hooks.ts": "test/compat/node-register.test.ts",
  "src/compat/node/register.ts": "test/compat/node-register.test.ts",
  "src/compat/node/require-alias.ts": "test/compat/node-register.test.ts",
  // engine.io-client's face, exercised by socket.io-client itself against real servers
  "src/compat/socket.ts": "test/compat/socket-io.test.ts",
  "src/compat/transports.ts": "test/compat/socket-io.test.ts",
  "src/compat/util.ts": "test/compat/node-register.test.ts",
  // error classes: their messages and causes are asserted where they are raised
  "src/errors.ts": "test/unit/explain.test.ts",
  // cometa/server extends engine.io's Server: its parts run inside a real one
  "src/server/index.ts": "test/server/attach.test.ts",
  "src/server/server.ts": "test/server/attach.test.ts",
  "src/server/engine-internals.ts": "test/server/engine-internals.test.ts",
  "src/server/http.ts": "test/server/responses.test.ts",
  "src/server/session-guards.ts": "test/server/backpressure.test.ts",
  "src/server/upgrades.ts": "test/server/upgrade.test.ts",
  "src/server/resume.ts": "test/server/resume.test.ts",
  "src/server/resume-errors.ts": "test/server/resume.test.ts",
  "src/server/transports/factory.ts": "test/server/streaming.test.ts",
  "src/server/upstream.ts": "test/server/responses.test.ts",
  "src/server/transports/framing.ts": "test/server/streaming.test.ts",
  "src/server/transports/http-transport.ts": "test/server/responses.test.ts",
  "src/server/transports/iframe.ts": "test/server/streaming.test.ts",
  "src/server/transports/short-polling.ts": "test/server/short-polling.test.ts",
  "src/server/transports/sse.ts": "test/server/streaming.test.ts",
  "src/server/transports/streaming.ts": "test/server/backpressure.test.ts",
  "src/server/transports/xhr-streaming.ts": "test/server/streaming.test.ts",
};

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

const mirrorOf = (module: string) => module.replace(/^src\//, "test/unit/").replace(/\.ts$/, ".test.ts");

/** Whether the module compiles to nothing: interfaces and types, checked by tsc and test/types. */
const typesOnly = (module: string) =>
  transformSync(readFileSync(join(root, module), "utf8"), { loader: "ts" }).code.trim() === "";

const modules = sourceFiles("src").sort();

test("every src module has its unit tests at the mirrored path", () => {
  const missing = modules
    .filter((module) => !existsSync(join(root, mirrorOf(module))) && !(module in coveredElsewhere) && !typesOnly(module))
    .map((module) => `${module} has no ${mirrorOf(module)}`);
  expect(missing, `write the mirror, or list the module in coveredElsewhere in ${self} with the test file that covers it`).toEqual([]);
});

test("the list of modules covered elsewhere is current", () => {
  const stale = Object.entries(coveredElsewhere).flatMap(([module, covering]) => {
    if (!modules.includes(module)) return [`${module} is listed in coveredElsewhere but no longer exists: remove it`];
    if (existsSync(join(root, mirrorOf(module)))) return [`${module} has ${mirrorOf(module)} now: remove it from coveredElsewhere`];
    if (!existsSync(join(root, covering))) return [`${module}: its covering test ${covering} does not exist`];
    return [];
  });
  expect(stale, `coveredElsewhere in ${self}`).toEqual([]);
});

test("every unit test file mirrors a src module or tests across modules by name", () => {
  // the files that test a behaviour spanning modules, not one module
  const acrossModules = new Set([
    "test/unit/layout.test.ts",
    "test/unit/types.test.ts",
    "test/unit/heartbeat-limits.test.ts",
    "test/unit/resume-session.test.ts",
    "test/unit/transports/encoding.test.ts",
    "test/unit/transports/receive-limit.test.ts",
    "test/unit/transports/receives.test.ts",
  ]);
  const testFiles = sourceFiles("test/unit").filter((file) => file.endsWith(".test.ts"));
  const orphans = testFiles.filter((file) => !acrossModules.has(file) && !modules.includes(file.replace(/^test\/unit\//, "src/").replace(/\.test\.ts$/, ".ts")));
  expect(orphans, `unit test files that mirror no src module: move each to its module's mirrored path, or name it in acrossModules in ${self}`).toEqual([]);
});
