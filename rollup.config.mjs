// Builds everything users load:
//   dist/cometa.mjs, dist/cometa.cjs   client for bundlers/Node (no run-time dependency)
//   dist/cometa.min.js                  minified IIFE, global `Cometa`, everything bundled (browser resolution)
//   dist/cometa.core.min.js             the same with long-polling and WebSocket only (src/polling-websocket.ts)
//   dist/cometa.d.ts                    bundled declarations
//   dist/server.{mjs,cjs,d.ts}          Node server extension, only when src/server/index.ts exists
//   dist/engine.io-client{,.node}.{mjs,cjs}, .d.ts   engine.io-client's face over cometa (browsers, Node)
//   dist/engine.io-client-{register,hooks}.mjs       Node loader hook aliasing engine.io-client to it
//   dist/engine.io-client-register.cjs               the same for `node --require`
//   dist/socket.io.min.js               socket.io-client 4.8 on cometa, global `io` like socket.io's own
//   dist/diagnose.{mjs,cjs,d.ts}, dist/diagnose.min.js (global `CometaDiagnose`)   what gets through, per transport
// No source maps: the ES module and CommonJS builds are unminified and readable as they are, and
// maps (which embed every source) were three quarters of the package. `SOURCEMAP=1 npm run build`
// writes them, for debugging a minified build.
import { existsSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import nodeResolve from "@rollup/plugin-node-resolve";
import terser from "@rollup/plugin-terser";
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
} from "./scripts/build-settings.mjs";
import dts from "rollup-plugin-dts";

const CLIENT_ENTRY = "src/index.ts";
const CORE_ENTRY = "src/polling-websocket.ts";
const SERVER_ENTRY = "src/server/index.ts";
const COMPAT_ENTRY = "src/compat/engine.io-client.ts";
const COMPAT_NODE_ENTRY = "src/compat/node/engine.io-client.ts";
const DIAGNOSE_ENTRY = "src/diagnose.ts";
const sourcemap = process.env.SOURCEMAP === "1";


/**
 * Fails the IIFE build if engine.io-parser's Node encode/decode files got in (they use Buffer):
 * a resolver that bypasses node-resolve's "browser" map (see `typescript` above) lets them in.
 */
function browserParserOnly() {
  return {
    name: "browser-parser-only",
    buildEnd() {
      for (const id of this.getModuleIds()) {
        if (/engine\.io-parser[\\/]build[\\/]esm[\\/](en|de)codePacket\.js$/.test(id)) {
          this.error(`Node build of engine.io-parser bundled (browser map not applied): ${id}`);
        }
      }
    },
  };
}

/**
 * The script-tag builds also tree-shake inside try blocks, which rollup otherwise keeps whole in
 * case they detect a feature by a call that may throw. None here does: the other script-tag
 * builds come out the same either way, and dist/cometa.core.min.js, which has no streaming
 * transport, loses the streaming path of an HTTP request, which sits inside one.
 */
const scriptTreeshake = { ...treeshake, tryCatchDeoptimization: false };

/** A minified IIFE for a `<script>` tag, global `Cometa`, everything bundled for browsers. */
function iife(input, file) {
  return {
    input,
    plugins: [
      // engine.io-parser's "browser" map swaps in encodePacket.browser.js / decodePacket.browser.js.
      nodeResolve({ browser: true, preferBuiltins: false }),
      typescript({ target: IIFE_TARGET }),
      browserParserOnly(),
    ],
    treeshake: scriptTreeshake,
    output: {
      file,
      format: "iife",
      name: "Cometa",
      exports: "named",
      sourcemap,
      plugins: [terser(terserOptions(IIFE_TARGET))],
    },
    onwarn,
  };
}

const client = [
  {
    input: CLIENT_ENTRY,
    external: clientExternal,
    plugins: [typescript({ target: MODULE_TARGET })],
    output: [
      { file: "dist/cometa.mjs", format: "es", sourcemap },
      { file: "dist/cometa.cjs", format: "cjs", exports: "named", sourcemap },
    ],
    onwarn,
  },
  iife(CLIENT_ENTRY, "dist/cometa.min.js"),
  iife(CORE_ENTRY, "dist/cometa.core.min.js"),
  {
    input: CLIENT_ENTRY,
    external: clientExternal,
    plugins: [dts()],
    output: { file: "dist/cometa.d.ts", format: "es" },
    onwarn,
  },
];

const server = existsSync(SERVER_ENTRY)
  ? [
      {
        input: SERVER_ENTRY,
        external: serverExternal,
        plugins: [
          nodeResolve({ preferBuiltins: true, exportConditions: ["node"] }),
          typescript({ target: "node20", platform: "node" }),
        ],
        output: [
          { file: "dist/server.mjs", format: "es", sourcemap },
          { file: "dist/server.cjs", format: "cjs", exports: "named", sourcemap },
        ],
        onwarn,
      },
      {
        input: SERVER_ENTRY,
        external: serverExternal,
        plugins: [dts()],
        output: { file: "dist/server.d.ts", format: "es" },
        onwarn,
      },
    ]
  : [];

/** Node-only files of the compat entry: `ws` and Node builtins stay imports. */
const compatNodeExternal = (id) => clientExternal(id) || id === "ws" || id.startsWith("node:");

const compat = [
  {
    input: COMPAT_ENTRY,
    external: clientExternal,
    plugins: [typescript({ target: MODULE_TARGET })],
    output: [
      { file: "dist/engine.io-client.mjs", format: "es", sourcemap: true },
      { file: "dist/engine.io-client.cjs", format: "cjs", exports: "named", sourcemap: true },
    ],
    onwarn,
  },
  {
    input: COMPAT_NODE_ENTRY,
    external: compatNodeExternal,
    plugins: [typescript({ target: "node20", platform: "node" })],
    output: [
      { file: "dist/engine.io-client.node.mjs", format: "es", sourcemap: true },
      { file: "dist/engine.io-client.node.cjs", format: "cjs", exports: "named", sourcemap: true },
    ],
    onwarn,
  },
  {
    input: { "engine.io-client-register": "src/compat/node/register.ts", "engine.io-client-hooks": "src/compat/node/hooks.ts" },
    external: compatNodeExternal,
    plugins: [typescript({ target: "node20", platform: "node" })],
    output: { dir: "dist", format: "es", entryFileNames: "[name].mjs" },
    onwarn,
  },
  {
    // the same registration for `node --require`, in a CommonJS app
    input: "src/compat/node/register.ts",
    external: compatNodeExternal,
    plugins: [typescript({ target: "node20", platform: "node" })],
    output: { file: "dist/engine.io-client-register.cjs", format: "cjs" },
    onwarn,
  },
  {
    input: COMPAT_ENTRY,
    external: clientExternal,
    plugins: [dts()],
    output: { file: "dist/engine.io-client.d.ts", format: "es" },
    onwarn,
  },
];

/**
 * socket.io-client's own browser entry (what its dist/socket.io.min.js is built from), with its
 * `engine.io-client` import resolved to cometa's compat entry: the bundler recipe, applied here.
 */
const socketIoBase = iife(socketIoBrowserEntry, "dist/socket.io.min.js");
const socketIoScript = {
  ...socketIoBase,
  plugins: [aliasEngineIoClient(resolve(COMPAT_ENTRY)), shareSocketIoEmitter(resolve("src")), ...socketIoBase.plugins],
  output: { ...socketIoBase.output, name: "io", exports: "default", plugins: [terser(socketIoTerserOptions())] },
};

/** `cometa/diagnose`: apart from the client's builds, so none of them grows for it. */
const diagnoseScript = iife(DIAGNOSE_ENTRY, "dist/diagnose.min.js");
const diagnose = [
  {
    input: DIAGNOSE_ENTRY,
    external: clientExternal,
    plugins: [typescript({ target: MODULE_TARGET })],
    output: [
      { file: "dist/diagnose.mjs", format: "es", sourcemap },
      { file: "dist/diagnose.cjs", format: "cjs", exports: "named", sourcemap },
    ],
    onwarn,
  },
  { ...diagnoseScript, output: { ...diagnoseScript.output, name: "CometaDiagnose" } },
  { input: DIAGNOSE_ENTRY, external: clientExternal, plugins: [dts()], output: { file: "dist/diagnose.d.ts", format: "es" }, onwarn },
];

/** Every build, for scripts that build one of them in memory (scripts/size-modules.mjs). */
export const configs = [...client, ...server, ...compat, socketIoScript, ...diagnose];

export default () => {
  // start from an empty dist/ so a removed entry never leaves stale files (not in watch mode);
  // here rather than at import, so importing `configs` leaves dist/ alone
  if (!process.env.ROLLUP_WATCH) rmSync("dist", { recursive: true, force: true });
  return configs;
};
