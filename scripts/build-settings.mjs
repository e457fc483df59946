import { readFileSync } from "node:fs";
import { builtinModules, createRequire } from "node:module";
import { dirname, join } from "node:path";
import esbuild from "rollup-plugin-esbuild";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));

/** `name` or `name/subpath` matches one of `names`. */
const matches = (names) => (id) => names.some((name) => id === name || id.startsWith(`${name}/`));

/** Runtime dependencies stay imports in the ESM/CJS client. */
export const clientExternal = matches(Object.keys(pkg.dependencies ?? {}));

/** The server entry leaves engine.io, engine.io-parser, ws and every Node builtin to Node. */
export const serverExternal = (id) =>
  id.startsWith("node:") ||
  builtinModules.includes(id) ||
  matches([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {}), "engine.io", "ws"])(id);

/** A bare import that resolves to nothing is a build error, not a silent external. */
export function onwarn(warning, warn) {
  if (warning.code === "UNRESOLVED_IMPORT" || warning.code === "MISSING_GLOBAL_NAME") {
    throw new Error(`${warning.code}: ${warning.message}`);
  }
  warn(warning);
}

/**
 * Tree-shaking for the bundles that include engine.io-parser: its browser build computes a
 * Blob check at load that nothing here reads, and only a `toString.call` keeps it alive.
 */
export const treeshake = { manualPureFunctions: ["Object.prototype.toString.call"] };

/** Build settings shared by rollup.config.mjs and scripts/size.mjs, so sizes match what ships. */

/** dist/cometa.mjs, dist/cometa.cjs (bundlers transpile further). */
export const MODULE_TARGET = "es2020";
/** dist/cometa.min.js, loaded as is by a <script> tag. */
export const IIFE_TARGET = "es2018";

/**
 * Terser for the minified builds. Members named `_something` are internal to the bundle (the
 * public API never uses a leading underscore), so their names are mangled too. No function
 * expression here is called with `new` or read for its `prototype`, so those that do not use
 * `this` may become arrows, and object members methods. No code here reads a property for a
 * getter's side effect or to throw on null/undefined, so a read whose value goes unused may be
 * dropped or moved (`pure_getters`); `unsafe_proto` writes `[].slice` for
 * `Array.prototype.slice`. Statements stay statements rather than comma sequences: a few bytes
 * longer minified, but gzip finds more repeats in them (measured: smaller min+gzip for all
 * three script-tag builds).
 */
export const terserOptions = (target) => ({
  ecma: Number(target.slice(2)),
  compress: { passes: 4, pure_getters: true, sequences: false, unsafe_arrows: true, unsafe_methods: true, unsafe_proto: true },
  mangle: { properties: { regex: /^_[a-zA-Z]/ } },
  format: { comments: false },
});

/**
 * rollup-plugin-esbuild's resolveId resolves every relative import itself, also inside
 * node_modules, which bypasses node-resolve's "browser" map (engine.io-parser would bundle its
 * Node encode/decode files). Leave imports made from node_modules to node-resolve.
 */
export function typescript(options) {
  const plugin = esbuild(options);
  const resolveId = plugin.resolveId;
  return {
    ...plugin,
    resolveId(id, importer, opts) {
      if (importer && /[\\/]node_modules[\\/]/.test(importer)) return null;
      return resolveId.call(this, id, importer, opts);
    },
  };
}

/** socket.io-client's own browser entry: what its dist/socket.io.min.js is built from. */
export const socketIoBrowserEntry = join(
  dirname(createRequire(import.meta.url).resolve("socket.io-client")),
  "../esm/browser-entrypoint.js",
);

/**
 * Terser for dist/socket.io.min.js: as the others, with socket.io-parser's `_placeholder` kept,
 * since it is a key on the wire (binary attachments).
 */
export function socketIoTerserOptions() {
  const options = terserOptions(IIFE_TARGET);
  options.mangle = { properties: { regex: /^_(?!placeholder$)[a-zA-Z]/ } };
  return options;
}

/**
 * Resolves socket.io-client's `engine.io-client` import to cometa's compat entry: the bundler
 * recipe, applied to the script-tag build (rollup.config.mjs, scripts/size.mjs, the bench).
 */
export function aliasEngineIoClient(compatEntry) {
  return { name: "alias-engine.io-client", resolveId: (id) => (id === "engine.io-client" ? compatEntry : null) };
}

/**
 * In the socket.io script-tag build, cometa's emitter (src/emitter.ts) is the same contract
 * built on socket.io-client's @socket.io/component-emitter (src/compat/shared-emitter.ts): one
 * emitter in the bundle instead of two.
 */
export function shareSocketIoEmitter(srcDir) {
  const own = join(srcDir, "emitter.ts");
  const shared = join(srcDir, "compat/shared-emitter.ts");
  return {
    name: "share-socket.io-emitter",
    resolveId(id, importer) {
      if (!importer || importer === shared || !id.endsWith("emitter.js") || !id.startsWith(".")) return null;
      return join(dirname(importer), id.replace(/\.js$/, ".ts")) === own ? shared : null;
    },
  };
}
