// Bundles src/main.js with esbuild into examples/bundler/dist/ (main.js + index.html).
//   npm run build && node examples/bundler/build.mjs && node examples/bundler/server.mjs
//
// `import ... from "cometa"` resolves the way it does in an app that ran `npm install cometa`:
// through the package's `exports` (browser build of engine.io-parser included). Here it is the
// package's own name, seen from inside the package (Node's and esbuild's self-reference), so
// it is this repository's dist/cometa.mjs.
import { existsSync } from "node:fs";
import { copyFile, mkdir, rm } from "node:fs/promises";
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const outdir = here("./dist");

if (!existsSync(here("../../dist/cometa.mjs"))) {
  console.error("dist/cometa.mjs is missing: run `npm run build` at the repository root first");
  process.exit(1);
}

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
const result = await build({
  entryPoints: [here("./src/main.js")],
  outdir,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2020",
  minify: true,
  sourcemap: true,
  metafile: true,
  logLevel: "warning",
});
await copyFile(here("./src/index.html"), here("./dist/index.html"));

const root = here("../..");
const cometa = Object.keys(result.metafile.inputs).find((input) => /(^|\/)dist\/cometa\.mjs$/.test(input));
if (!cometa) throw new Error('"cometa" did not resolve to the package\'s dist/cometa.mjs');
for (const [file, { bytes }] of Object.entries(result.metafile.outputs)) {
  if (!file.endsWith(".map")) console.log(`${relative(root, file)}  ${(bytes / 1024).toFixed(1)} KB (cometa from ${cometa})`);
}
