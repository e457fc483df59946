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
