/**
 * Bundle sizes, min+gzip (level 9) and brotli (quality 11), 1 KB = 1000 bytes as in
 * scripts/size.mjs:
 * - cometa's IIFEs (the snapshot, identical to dist/cometa.min.js and dist/cometa.core.min.js);
 * - cometa's ES module build with only long-polling and WebSocket, tree-shaken the way an app
 *   gets it: `import { BareSocket, polling, websocket } from "cometa"` (the ESM build, browser
 *   resolution) through rollup + @rollup/plugin-terser with terser's defaults; esbuild
 *   --minify alongside for reference;
 * - engine.io-client through the same bundler (`import { Socket } from "engine.io-client"`; 6.6.8
 *   exports no transport-less socket, so its polling, websocket and webtransport all come along);
 * - socket.io-client on cometa as a script tag (the snapshot, identical to dist/socket.io.min.js);
 * - the shipped minified files of engine.io-client, socket.io-client and sockjs-client.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import nodeResolve from "@rollup/plugin-node-resolve";
import terser from "@rollup/plugin-terser";
import { build as esbuild } from "esbuild";
import { rollup } from "rollup";
import { cacheDir, root } from "./util.mjs";

const gzip = (code) => gzipSync(code, { level: 9 }).length;
const brotli = (code) =>
  brotliCompressSync(code, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: code.length },
  }).length;

const measure = (code) => {
  const bytes = Buffer.from(code);
  return { raw: bytes.length, gzip: gzip(bytes), brotli: brotli(bytes) };
};

async function rollupTerser(entry) {
  const bundle = await rollup({
    input: entry,
    plugins: [nodeResolve({ browser: true, preferBuiltins: false })],
    onwarn(warning, warn) {
      if (warning.code === "UNRESOLVED_IMPORT") throw new Error(warning.message);
      if (warning.code !== "CIRCULAR_DEPENDENCY") warn(warning);
    },
  });
  try {
    const { output } = await bundle.generate({ format: "es", plugins: [terser()] });
    return output[0].code;
  } finally {
    await bundle.close();
  }
}

async function esbuildMinify(entry) {
  const result = await esbuild({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0].text;
}

const version = (name) => JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;

export async function measureSizes(builds) {
  const dir = join(cacheDir, "sizes");
  mkdirSync(dir, { recursive: true });
  const cometaCore = join(dir, "cometa-core.mjs");
  // the ESM build is imported by path; its `engine.io-parser` import resolves from the project
  writeFileSync(cometaCore, `export { BareSocket, polling, websocket } from ${JSON.stringify(builds.client)};\n`);
  const eioCore = join(dir, "eio-core.mjs");
  writeFileSync(eioCore, `export { Socket } from "engine.io-client";\n`);

  const rows = [];
  const add = (key, label, code, note) => rows.push({ key, label, note, ...measure(code) });
  add("cometa-iife", "cometa `cometa.min.js` (IIFE, all 7 transports)", readFileSync(builds.iife));
  add("cometa-core-iife", "cometa `cometa.core.min.js` (IIFE, polling + websocket)", readFileSync(builds.coreIife));
  add("cometa-core", "cometa ESM `BareSocket + polling + websocket` (rollup + terser)", await rollupTerser(cometaCore));
  add("cometa-core-esbuild", "cometa ESM `BareSocket + polling + websocket` (esbuild --minify)", await esbuildMinify(cometaCore));
  const eio = version("engine.io-client");
  add("eio", `engine.io-client ${eio} \`engine.io.min.js\``, readFileSync(join(root, "node_modules/engine.io-client/dist/engine.io.min.js")));
  add("eio-core", `engine.io-client ${eio} ESM \`Socket\` (rollup + terser)`, await rollupTerser(eioCore));
  add(
    "sio",
    `socket.io-client ${version("socket.io-client")} \`socket.io.min.js\``,
    readFileSync(join(root, "node_modules/socket.io-client/dist/socket.io.min.js")),
  );
  if (builds.socketIoIife) {
    add("sio-cometa", "socket.io-client on cometa `socket.io.min.js` (IIFE, 7 transports)", readFileSync(builds.socketIoIife));
  }
  add(
    "sockjs",
    `sockjs-client ${version("sockjs-client")} \`sockjs.min.js\``,
    readFileSync(join(root, "node_modules/sockjs-client/dist/sockjs.min.js")),
  );
  return rows;
}
