/**
 * A snapshot of the working tree's builds, made in memory with the same plugins and settings as
 * rollup.config.mjs and written to bench/.cache/snapshot/: so a run measures the sources as
 * they are, and an `npm run build` started meanwhile (it empties dist/) cannot break it.
 * With `--dist`, dist/ is used as it is instead.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import nodeResolve from "@rollup/plugin-node-resolve";
import terser from "@rollup/plugin-terser";
import { rollup } from "rollup";
import {
  aliasEngineIoClient,
  clientExternal,
  IIFE_TARGET,
  MODULE_TARGET,
  onwarn,
  serverExternal,
  shareSocketIoEmitter,
  socketIoBrowserEntry,
  socketIoTerserOptions,
  terserOptions,
  treeshake,
  typescript,
} from "../../scripts/build-settings.mjs";
import { cacheDir, root } from "./util.mjs";

async function build(input, plugins, external, output) {
  const bundle = await rollup({ input, external, plugins, onwarn, treeshake });
  try {
    const { output: chunks } = await bundle.generate(output);
    return chunks[0].code;
  } finally {
    await bundle.close();
  }
}

/** The IIFE without terser, for profiles that show function names (bench/profile.mjs --browser). */
export async function buildReadableIife() {
  const out = join(cacheDir, "snapshot");
  mkdirSync(out, { recursive: true });
  const code = await build(
    join(root, "src/index.ts"),
    [nodeResolve({ browser: true, preferBuiltins: false }), typescript({ target: IIFE_TARGET })],
    undefined,
    { format: "iife", name: "Cometa", exports: "named" },
  );
  const file = join(out, "cometa.readable.js");
  writeFileSync(file, code);
  return file;
}

/**
 * A loader hook module that resolves `engine.io-client` to `compatFile`: what
 * `cometa/engine.io-client/register` does, pointed at the build being measured.
 */
const hooksSource = (compatFile) => `export function resolve(specifier, context, nextResolve) {
  if (specifier === "engine.io-client") return { url: ${JSON.stringify(pathToFileURL(compatFile).href)}, format: "module", shortCircuit: true };
  return nextResolve(specifier, context);
}
`;

/**
 * Paths of `cometa.mjs` (client for Node), `cometa.min.js` (IIFE), `cometa.core.min.js`,
 * `server.mjs`, `socket.io.min.js` (socket.io-client on cometa, script tag) and `compatHooks`
 * (a loader hook making socket.io-client in Node import cometa's compat entry).
 */
export async function prepareBuilds({ useDist = false } = {}) {
  if (useDist) {
    const dist = join(root, "dist");
    const files = {
      client: join(dist, "cometa.mjs"),
      iife: join(dist, "cometa.min.js"),
      coreIife: join(dist, "cometa.core.min.js"),
      server: join(dist, "server.mjs"),
      socketIoIife: join(dist, "socket.io.min.js"),
      compatNode: join(dist, "engine.io-client.node.mjs"),
    };
    for (const file of Object.values(files)) if (!existsSync(file)) throw new Error(`${file} missing: run \`npm run build\``);
    // copied, so a rebuild during the run cannot pull them away
    const out = join(cacheDir, "dist-copy");
    mkdirSync(out, { recursive: true });
    const copy = {};
    for (const [key, file] of Object.entries(files)) {
      copy[key] = join(out, file.split("/").pop());
      writeFileSync(copy[key], readFileSync(file));
    }
    copy.compatHooks = join(out, "engine.io-client-hooks.mjs");
    writeFileSync(copy.compatHooks, hooksSource(copy.compatNode));
    return { ...copy, source: "dist/ (copied at start)" };
  }
  const out = join(cacheDir, "snapshot");
  mkdirSync(out, { recursive: true });
  const entry = join(root, "src/index.ts");
  const serverEntry = join(root, "src/server/index.ts");
  const minifiedIife = (input) =>
    build(input, [nodeResolve({ browser: true, preferBuiltins: false }), typescript({ target: IIFE_TARGET })], undefined, {
      format: "iife",
      name: "Cometa",
      exports: "named",
      plugins: [terser(terserOptions(IIFE_TARGET))],
    });
  const compatNodeExternal = (id) => clientExternal(id) || id === "ws" || id.startsWith("node:");
  const [client, iife, coreIife, server, socketIoIife, compatNode] = await Promise.all([
    build(entry, [typescript({ target: MODULE_TARGET })], clientExternal, { format: "es" }),
    minifiedIife(entry),
    minifiedIife(join(root, "src/polling-websocket.ts")),
    build(
      serverEntry,
      [nodeResolve({ preferBuiltins: true, exportConditions: ["node"] }), typescript({ target: "node20", platform: "node" })],
      serverExternal,
      { format: "es" },
    ),
    build(
      socketIoBrowserEntry,
      [
        aliasEngineIoClient(join(root, "src/compat/engine.io-client.ts")),
        shareSocketIoEmitter(join(root, "src")),
        nodeResolve({ browser: true, preferBuiltins: false }),
        typescript({ target: IIFE_TARGET }),
      ],
      undefined,
      { format: "iife", name: "io", exports: "default", plugins: [terser(socketIoTerserOptions())] },
    ),
    build(join(root, "src/compat/node/engine.io-client.ts"), [typescript({ target: "node20", platform: "node" })], compatNodeExternal, {
      format: "es",
    }),
  ]);
  const files = {
    client: join(out, "cometa.mjs"),
    iife: join(out, "cometa.min.js"),
    coreIife: join(out, "cometa.core.min.js"),
    server: join(out, "server.mjs"),
    socketIoIife: join(out, "socket.io.min.js"),
    compatNode: join(out, "engine.io-client.node.mjs"),
    compatHooks: join(out, "engine.io-client-hooks.mjs"),
  };
  writeFileSync(files.client, client);
  writeFileSync(files.socketIoIife, socketIoIife);
  writeFileSync(files.compatNode, compatNode);
  writeFileSync(files.compatHooks, hooksSource(files.compatNode));
  writeFileSync(files.iife, iife);
  writeFileSync(files.coreIife, coreIife);
  writeFileSync(files.server, server);
  return { ...files, source: "src/ (built in memory like rollup.config.mjs)" };
}
