import esbuild from "rollup-plugin-esbuild";

/** Build settings shared by rollup.config.mjs and scripts/size.mjs, so sizes match what ships. */

/** dist/cometa.mjs, dist/cometa.cjs (bundlers transpile further). */
export const MODULE_TARGET = "es2020";
/** dist/cometa.min.js, loaded as is by a <script> tag. */
export const IIFE_TARGET = "es2018";

/**
 * Terser for the minified builds. Members named `_something` are internal to the bundle (the
 * public API never uses a leading underscore), so their names are mangled too.
 */
export const terserOptions = (target) => ({
  ecma: Number(target.slice(2)),
  compress: { passes: 2 },
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
