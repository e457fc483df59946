#!/usr/bin/env node
// `npm run size`: raw, gzip (level 9) and brotli (quality 11) sizes of what users load,
// plus the long-polling + WebSocket bundle an app importing only those makes, each next to its budget.
// Informational: budgets never change the exit code. Run `npm run build` first for the dist rows.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import nodeResolve from "@rollup/plugin-node-resolve";
import terser from "@rollup/plugin-terser";
import { IIFE_TARGET, MODULE_TARGET, terserOptions, treeshake, typescript } from "./build-settings.mjs";
import { rollup } from "rollup";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const entry = join(root, "src/index.ts");
const KB = 1000;
const CORE = ["BareSocket", "polling", "websocket"];
// Same targets as rollup.config.mjs.

const gzip = (code) => gzipSync(code, { level: 9 }).length;
const brotli = (code) =>
  brotliCompressSync(code, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_SIZE_HINT]: Buffer.byteLength(code),
    },
  }).length;

const rows = [];
const notes = [];

function measure(name, code, budgetKB) {
  const bytes = Buffer.from(code);
  rows.push({ name, raw: bytes.length, gzip: gzip(bytes), brotli: brotli(bytes), budgetKB });
}


/**
 * Bundles `input` for browsers (engine.io-parser's browser files), tree-shaken and minified.
 * With `external`, those imports stay imports (used to minify dist/cometa.mjs as published).
 */
async function bundle(input, format, external) {
  const build = await rollup({
    input,
    external,
    treeshake,
    plugins: [
      nodeResolve({ browser: true, preferBuiltins: false }),
      typescript({ target: format === "iife" ? IIFE_TARGET : MODULE_TARGET }),
    ],
    onwarn(warning, warn) {
      if (warning.code === "UNRESOLVED_IMPORT") throw new Error(warning.message);
      warn(warning);
    },
  });
  try {
    const nodeParser = build.watchFiles.find((id) => /engine\.io-parser[\\/]build[\\/]esm[\\/](en|de)codePacket\.js$/.test(id));
    if (nodeParser) throw new Error(`Node build of engine.io-parser bundled (browser map not applied): ${nodeParser}`);
    const { output } = await build.generate({
      format,
      name: "Cometa",
      exports: "named",
      plugins: [terser({ ...terserOptions(format === "iife" ? IIFE_TARGET : MODULE_TARGET), module: format === "es" })],
    });
    return output[0];
  } finally {
    await build.close();
  }
}

async function main() {
  // Built files.
  const minJs = join(root, "dist/cometa.min.js");
  const coreMinJs = join(root, "dist/cometa.core.min.js");
  const mjs = join(root, "dist/cometa.mjs");
  if (existsSync(minJs)) measure("dist/cometa.min.js (IIFE, full)", readFileSync(minJs), 9);
  else notes.push("dist/cometa.min.js missing: run `npm run build`.");
  if (existsSync(coreMinJs)) measure("dist/cometa.core.min.js (IIFE, polling + websocket)", readFileSync(coreMinJs), 7);
  else notes.push("dist/cometa.core.min.js missing: run `npm run build`.");
  if (existsSync(mjs)) {
    // the client imports nothing at run time (engine.io-parser is the server's), so this is all of it
    const { code } = await bundle(mjs, "es");
    measure("dist/cometa.mjs minified", code);
  } else notes.push("dist/cometa.mjs missing: run `npm run build`.");

  // Bundles built here from the sources, everything included (what an app ships).
  if (!existsSync(entry)) {
    notes.push("src/index.ts missing: no tree-shaken figures.");
  } else {
    const full = await bundle(entry, "es");
    measure("ESM full (bundled + minified)", full.code);
    const present = CORE.filter((name) => full.exports.includes(name));
    const missing = CORE.filter((name) => !full.exports.includes(name));
    if (missing.length > 0) notes.push(`src/index.ts does not export ${missing.join(", ")} yet.`);
    if (present.length > 0) {
      const dir = mkdtempSync(join(tmpdir(), "cometa-size-"));
      try {
        const coreEntry = join(dir, "core.mjs");
        writeFileSync(coreEntry, `export { ${present.join(", ")} } from ${JSON.stringify(entry)};\n`);
        const label = present.join(" + ");
        const esm = await bundle(coreEntry, "es");
        measure(`ESM ${label}`, esm.code, 6);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }

  // socket.io-client on cometa, against socket.io's own script-tag build (its size is the budget).
  const sioOwn = join(root, "node_modules/socket.io-client/dist/socket.io.min.js");
  const sioOwnGzip = existsSync(sioOwn) ? gzip(readFileSync(sioOwn)) : undefined;
  const sioMinJs = join(root, "dist/socket.io.min.js");
  if (existsSync(sioMinJs)) {
    measure("dist/socket.io.min.js (socket.io-client on cometa, 7 transports)", readFileSync(sioMinJs), sioOwnGzip && sioOwnGzip / KB);
  } else notes.push("dist/socket.io.min.js missing: run `npm run build`.");
  // a page of its own (examples/diagnose), never in an app's bundle: no budget
  const diagnoseMinJs = join(root, "dist/diagnose.min.js");
  if (existsSync(diagnoseMinJs)) measure("dist/diagnose.min.js (cometa/diagnose, every transport)", readFileSync(diagnoseMinJs));

  // For comparison.
  if (sioOwnGzip !== undefined) {
    const { version } = JSON.parse(readFileSync(join(root, "node_modules/socket.io-client/package.json"), "utf8"));
    measure(`socket.io-client ${version} socket.io.min.js (3 transports)`, readFileSync(sioOwn));
  }
  const eio = join(root, "node_modules/engine.io-client/dist/engine.io.min.js");
  if (existsSync(eio)) {
    const { version } = JSON.parse(readFileSync(join(root, "node_modules/engine.io-client/package.json"), "utf8"));
    measure(`engine.io-client ${version} engine.io.min.js`, readFileSync(eio));
  }

  print();
}

function print() {
  const kb = (n) => `${(n / KB).toFixed(2)} kB`;
  const header = ["bundle", "min", "min+gzip", "brotli", "budget (gzip)"];
  const table = rows.map((r) => [
    r.name,
    kb(r.raw),
    kb(r.gzip),
    kb(r.brotli),
    r.budgetKB === undefined ? "" : `${r.gzip <= r.budgetKB * KB ? "within" : "over"} ${r.budgetKB} kB`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of table) console.log(line(row));
  console.log(`\n1 kB = ${KB} bytes; gzip level 9, brotli quality 11. Budgets are informational.`);
  for (const note of notes) console.log(`note: ${note}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
