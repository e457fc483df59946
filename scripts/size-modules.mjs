#!/usr/bin/env node
// What takes the bytes of one minified build: `node scripts/size-modules.mjs [dist/socket.io.min.js]`.
// Builds it in memory exactly as rollup.config.mjs does (dist/ is left alone), maps every byte
// of the minified output back to its source module through the source map, and prints per
// module the minified bytes and those bytes gzipped alone (an upper bound of what the module
// costs in the gzipped whole, where it shares a window with its neighbours).
import { gzipSync } from "node:zlib";
import { originalPositionFor, TraceMap } from "@jridgewell/trace-mapping";
import { rollup } from "rollup";
import { configs } from "../rollup.config.mjs";

const file = process.argv[2] ?? "dist/socket.io.min.js";
const config = configs.find((c) => !Array.isArray(c.output) && c.output.file === file);
if (!config) {
  const files = configs.flatMap((c) => (Array.isArray(c.output) ? [] : [c.output.file])).filter(Boolean);
  console.error(`no single-output build writes ${file}; one of: ${files.join(", ")}`);
  process.exit(2);
}

const bundle = await rollup(config);
const { output } = await bundle.generate({ ...config.output, sourcemap: true });
await bundle.close();
const { code, map } = output[0];
const trace = new TraceMap(map);
const gzip = (text) => gzipSync(text, { level: 9 }).length;

const chars = new Map();
const lines = code.split("\n");
for (let line = 0; line < lines.length; line++) {
  let source = "(wrapper)";
  const text = lines[line];
  for (let column = 0; column < text.length; column++) {
    const at = originalPositionFor(trace, { line: line + 1, column });
    // a byte without a mapping of its own belongs to the last mapped module before it
    if (at.source) source = at.source.replace(/^.*node_modules\//, "").replace(/^(\.\.\/)+/, "");
    if (!chars.has(source)) chars.set(source, []);
    chars.get(source).push(text[column]);
  }
}

const rows = [...chars].map(([source, list]) => ({ source, min: list.length, gzip: gzip(list.join("")) }));
rows.sort((a, b) => b.min - a.min);
const width = Math.max(...rows.map((r) => r.source.length));
console.log(`${"module".padEnd(width)}  ${"min".padStart(7)}  ${"gzip alone".padStart(10)}`);
for (const r of rows) console.log(`${r.source.padEnd(width)}  ${String(r.min).padStart(7)}  ${String(r.gzip).padStart(10)}`);
console.log(`\n${file}: ${code.length} bytes minified, ${gzip(code)} min+gzip (the modules gzipped alone add up to ${rows.reduce((s, r) => s + r.gzip, 0)}).`);
