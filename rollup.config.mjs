// Builds everything users load:
//   dist/cometa.mjs, dist/cometa.cjs   client for bundlers/Node (engine.io-parser stays external)
//   dist/cometa.min.js                  minified IIFE, global `Cometa`, everything bundled (browser resolution)
//   dist/cometa.core.min.js             the same with long-polling and WebSocket only (src/core.ts)
//   dist/cometa.d.ts                    bundled declarations
//   dist/server.{mjs,cjs,d.ts}          Node server extension, only when src/server/index.ts exists
import { existsSync, rmSync } from "node:fs";
import nodeResolve from "@rollup/plugin-node-resolve";
import terser from "@rollup/plugin-terser";
import {
  clientExternal,
  IIFE_TARGET,
  MODULE_TARGET,
  onwarn,
  serverExternal,
  terserOptions,
  treeshake,
  typescript,
} from "./scripts/build-settings.mjs";
import dts from "rollup-plugin-dts";

const CLIENT_ENTRY = "src/index.ts";
const CORE_ENTRY = "src/core.ts";
const SERVER_ENTRY = "src/server/index.ts";

// Start from an empty dist/ so a removed entry never leaves stale files (not in watch mode).
if (!process.env.ROLLUP_WATCH) rmSync("dist", { recursive: true, force: true });

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
    treeshake,
    output: {
      file,
      format: "iife",
      name: "Cometa",
      exports: "named",
      sourcemap: true,
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
      { file: "dist/cometa.mjs", format: "es", sourcemap: true },
      { file: "dist/cometa.cjs", format: "cjs", exports: "named", sourcemap: true },
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
          { file: "dist/server.mjs", format: "es", sourcemap: true },
          { file: "dist/server.cjs", format: "cjs", exports: "named", sourcemap: true },
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

export default [...client, ...server];
