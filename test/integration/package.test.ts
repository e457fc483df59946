/**
 * The package as npm ships it: `npm pack` of the built dist/ (run `npm run build` first; `npm
 * test` does), extracted into a scratch project as `node_modules/cometa`, its dependencies
 * linked from this checkout, then used the ways the README says, by CommonJS and ES module
 * imports, `require.resolve` of the script-tag builds and `tsc` on its types. Nothing is
 * downloaded.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

let scratch: string;
let packed: { path: string; size: number }[];

beforeAll(async () => {
  if (!existsSync(join(root, "dist/cometa.mjs"))) throw new Error("dist/ is missing: run `npm run build` first");
  scratch = mkdtempSync(join(tmpdir(), "cometa-package-"));
  // --ignore-scripts: `prepare` would rebuild dist/ under the other tests' feet
  const { stdout } = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", scratch], {
    cwd: root,
    timeout: 60_000,
  });
  const [result] = JSON.parse(stdout) as { filename: string; files: { path: string; size: number }[] }[];
  packed = result!.files;
  const installed = join(scratch, "node_modules/cometa");
  mkdirSync(installed, { recursive: true });
  await run("tar", ["-xzf", join(scratch, result!.filename), "-C", installed, "--strip-components=1"], { timeout: 30_000 });
  // what an install would bring: the dependency, the peers a Node app adds, and tsc's Node types
  for (const name of ["engine.io-parser", "engine.io", "ws", "eventsource", "@types/node", "@types/ws"]) {
    mkdirSync(dirname(join(scratch, "node_modules", name)), { recursive: true });
    symlinkSync(join(root, "node_modules", name), join(scratch, "node_modules", name), "dir");
  }
}, 90_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Runs `code` with node in the scratch project, as a file of the given kind. */
async function node(file: string, code: string): Promise<string> {
  writeFileSync(join(scratch, file), code);
  const { stdout } = await run(process.execPath, [file], { cwd: scratch, timeout: 30_000 });
  return stdout.trim();
}

describe("npm pack", () => {
  test("ships the builds, their types, README and LICENSE, and no source maps, sources or tests", () => {
    const paths = packed.map((file) => file.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "LICENSE",
        "README.md",
        "package.json",
        "dist/cometa.cjs",
        "dist/cometa.core.min.js",
        "dist/cometa.d.ts",
        "dist/cometa.min.js",
        "dist/cometa.mjs",
        "dist/server.cjs",
        "dist/server.d.ts",
        "dist/server.mjs",
      ]),
    );
    // builds only: maps (which embed every source) stay out even when a build writes them
    expect(paths.filter((path) => !/^dist\/[^/]+\.(mjs|cjs|js|d\.ts)$/.test(path))).toEqual(["LICENSE", "README.md", "package.json"].filter((path) => paths.includes(path)));
    expect(readFileSync(join(scratch, "node_modules/cometa/LICENSE"), "utf8")).toMatch(/^MIT License\n\nCopyright \(c\) cometa contributors\n/);
  });

  test("require: cometa, cometa/server and the path of each script-tag build", async () => {
    const out = await node(
      "check.cjs",
      `const cometa = require("cometa");
       const server = require("cometa/server");
       console.log(JSON.stringify({
         socket: typeof cometa.Socket, reconnecting: typeof cometa.ReconnectingSocket, protocol: cometa.protocol,
         server: typeof server.Server, attach: typeof server.attach,
         min: require.resolve("cometa/dist/cometa.min.js"),
         core: require.resolve("cometa/dist/cometa.core.min.js"),
       }));`,
    );
    const result = JSON.parse(out) as Record<string, unknown>;
    expect(result).toMatchObject({ socket: "function", reconnecting: "function", protocol: 4, server: "function", attach: "function" });
    expect(result.min).toBe(join(scratch, "node_modules/cometa/dist/cometa.min.js"));
    expect(result.core).toBe(join(scratch, "node_modules/cometa/dist/cometa.core.min.js"));
    // what a server then sends to pages: the IIFE defining the global
    expect(readFileSync(result.min as string, "utf8")).toMatch(/Cometa/);
  });

  test("import: the ES module builds, the same classes a socket.io server binds", async () => {
    const out = await node(
      "check.mjs",
      `import { Socket, BaseSocket, transports } from "cometa";
       import { Server, attach } from "cometa/server";
       import { createRequire } from "node:module";
       const min = createRequire(import.meta.url).resolve("cometa/dist/cometa.min.js");
       const engine = new Server({ path: "/socket.io/" });
       engine.close();
       console.log(JSON.stringify({
         base: Object.getPrototypeOf(Socket) === BaseSocket,
         transports: transports.map((t) => t.name),
         server: typeof attach,
         resolved: import.meta.resolve("cometa/dist/cometa.core.min.js").endsWith("/node_modules/cometa/dist/cometa.core.min.js"),
         min: min.endsWith("cometa.min.js"),
       }));`,
    );
    expect(JSON.parse(out)).toEqual({
      base: true,
      transports: ["polling", "websocket", "sse", "xhr-streaming", "iframe", "jsonp", "short-polling"],
      server: "function",
      resolved: true,
      min: true,
    });
  });

  test("types: the README's Node client and server compile against the shipped declarations", async () => {
    writeFileSync(
      join(scratch, "usage.ts"),
      `import { createServer } from "node:http";
       import WebSocket from "ws";
       import { EventSource } from "eventsource";
       import { Socket, type TransportName } from "cometa";
       import { attach } from "cometa/server";
       const socket = new Socket("http://localhost:3000", { env: { WebSocket, EventSource }, transports: ["polling", "websocket"] });
       socket.on("close", (reason, { unsent }) => console.log(reason, unsent.length));
       // @ts-expect-error a typo in a transport name
       new Socket("http://localhost:3000", { transports: ["websockets"] });
       const name: TransportName = "sse";
       attach(createServer(), { transports: ["polling", name] });
      `,
    );
    const tsc = join(root, "node_modules/typescript/bin/tsc");
    const args = ["--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022"];
    const { stdout } = await run(process.execPath, [tsc, ...args, "--types", "node", "usage.ts"], { cwd: scratch, timeout: 60_000 }).catch(
      (error: { stdout?: string }) => ({ stdout: `tsc failed:\n${error.stdout ?? String(error)}` }),
    );
    expect(stdout).toBe("");
  }, 60_000);
});

describe("package.json", () => {
  test("`prepare` builds, so installing from git or a path gets dist/, with everything the build imports declared", () => {
    expect(manifest.scripts.prepare).toBe("npm run build");
    expect(manifest.scripts.build).toMatch(/^rollup /);
    // npm installs devDependencies before a git dependency's `prepare`: the build's imports must be among them
    const declared = { ...manifest.dependencies, ...manifest.devDependencies };
    for (const file of ["rollup.config.mjs", "scripts/build-settings.mjs"]) {
      const source = readFileSync(join(root, file), "utf8");
      for (const [, specifier] of source.matchAll(/^import\s[^"']*["']([^"'.][^"']*)["']/gm)) {
        if (specifier!.startsWith("node:")) continue;
        const name = specifier!.startsWith("@") ? specifier!.split("/").slice(0, 2).join("/") : specifier!.split("/")[0]!;
        expect(declared, `${file} imports ${name}`).toHaveProperty([name]);
      }
    }
  });

  test("ws and eventsource are optional peers, in ranges that include the versions tested here", async () => {
    for (const name of ["ws", "eventsource"]) {
      expect(manifest.peerDependenciesMeta[name]).toEqual({ optional: true });
      const tested = (JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
      const range = manifest.peerDependencies[name]!;
      // ranges here are all ^MAJOR.MINOR.PATCH: the tested version shares the major and is not below
      const [major, ...rest] = range.replace(/^\^/, "").split(".").map(Number);
      const [testedMajor, ...testedRest] = tested.split(".").map(Number);
      expect(range, name).toMatch(/^\^\d+\.\d+\.\d+$/);
      expect(testedMajor, `${name} ${tested} in ${range}`).toBe(major);
      expect(testedRest[0]! * 1e6 + testedRest[1]! >= rest[0]! * 1e6 + rest[1]!, `${name} ${tested} in ${range}`).toBe(true);
    }
  });
});
