/**
 * socket.io-client 4.8, unchanged, on cometa in Chromium: an app bundled by esbuild, Vite and
 * webpack with `engine.io-client` aliased to `cometa/engine.io-client`, and the ready-made
 * dist/socket.io.min.js through a `<script>` tag, against socket.io 4.8 bound to cometa/server
 * on another origin.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build as esbuild } from "esbuild";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type IoTestServer, startIoServer } from "../support/server.js";
import { describeBrowser, type PageServer, repoRoot, startPageServer, useBrowser } from "./support/browser.js";

/** What each bundle runs: connect, echo text and bytes with acks, report the transports used. */
const appCode = `
import { io } from "socket.io-client";

function run(url, options, settleOn) {
  return new Promise((resolve, reject) => {
    const socket = io(url, { forceNew: true, reconnection: false, withCredentials: true, ...options });
    const engine = socket.io.engine;
    const first = engine.transport.name;
    const upgrades = [];
    engine.on("upgrade", (transport) => upgrades.push(transport.name));
    socket.on("connect_error", (error) => reject(new Error("connect_error: " + error.message)));
    socket.on("connect", async () => {
      try {
        if (settleOn && engine.transport.name !== settleOn) {
          await new Promise((done) => engine.on("upgrade", (transport) => transport.name === settleOn && done()));
        }
        const text = await socket.timeout(5000).emitWithAck("echo", "héllo </script> 😀");
        const bytes = await socket.timeout(5000).emitWithAck("echo", new Uint8Array([0, 1, 255]));
        resolve({ first, transport: engine.transport.name, upgrades, text, bytes: Array.from(new Uint8Array(bytes)) });
        socket.close();
      } catch (error) {
        reject(error);
      }
    });
  });
}
window.socketIoApp = { run };
`;

const page = (script: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><script src="${script}"></script></head><body></body></html>`;

/** The transports as socket.io's `transports` option names them. */
const forced = ["polling", "short-polling", "jsonp", "xhr-streaming", "iframe", "sse", "websocket"];

describeBrowser("socket.io-client on cometa in Chromium", () => {
  const browser = useBrowser();
  let pages: PageServer;
  let server: IoTestServer;
  let workDir: string;

  /** socket.io 4.8 on cometa/server, allowing the page origin, acknowledging `echo`. */
  async function startServer(): Promise<IoTestServer> {
    const started = await startIoServer("cometa", {}, {
      cors: { origin: pages.origin, credentials: true },
      allowedOrigins: [pages.origin],
    });
    started.io.on("connection", (socket) => socket.on("echo", (value: unknown, ack: (value: unknown) => void) => ack(value)));
    return started;
  }

  beforeAll(async () => {
    // a throwaway app laid out as after `npm install cometa socket.io-client`: cometa (this
    // repository) beside socket.io-client, whose `engine.io-client` import the alias redirects
    workDir = mkdtempSync(join(tmpdir(), "cometa-socket-io-"));
    mkdirSync(join(workDir, "node_modules"));
    symlinkSync(repoRoot, join(workDir, "node_modules", "cometa"), "dir");
    for (const name of ["socket.io-client", "socket.io-parser", "@socket.io/component-emitter", "debug", "ms"]) {
      cpSync(join(repoRoot, "node_modules", name), join(workDir, "node_modules", name), { recursive: true });
    }
    writeFileSync(join(workDir, "app.js"), appCode);
    pages = await startPageServer();

    // esbuild: `alias`
    const fromEsbuild = await esbuild({
      entryPoints: [join(workDir, "app.js")],
      absWorkingDir: workDir,
      alias: { "engine.io-client": "cometa/engine.io-client" },
      bundle: true,
      format: "iife",
      platform: "browser",
      minify: true,
      write: false,
      logLevel: "silent",
    });
    pages.file("/esbuild.js", Buffer.from(fromEsbuild.outputFiles[0]!.contents));

    // Vite: `resolve.alias`
    const { build: viteBuild } = await import("vite");
    const fromVite = (await viteBuild({
      root: workDir,
      mode: "production",
      configFile: false,
      logLevel: "silent",
      resolve: { alias: { "engine.io-client": "cometa/engine.io-client" } },
      build: { write: false, minify: true, lib: { entry: join(workDir, "app.js"), formats: ["iife"], name: "app", fileName: "vite" } },
    })) as { output: { code?: string }[] }[];
    pages.file("/vite.js", fromVite[0]!.output[0]!.code!);

    // webpack: `resolve.alias`
    const { default: webpack } = await import("webpack");
    await new Promise<void>((resolve, reject) =>
      webpack(
        {
          mode: "production",
          context: workDir,
          entry: "./app.js",
          target: "web",
          output: { path: join(workDir, "out"), filename: "webpack.js" },
          resolve: { alias: { "engine.io-client$": "cometa/engine.io-client" } },
        },
        (error, stats) => (error || stats?.hasErrors() ? reject(error ?? new Error(stats!.toString("errors-only"))) : resolve()),
      ),
    );
    pages.file("/webpack.js", readFileSync(join(workDir, "out", "webpack.js")));

    for (const bundler of ["esbuild", "vite", "webpack"]) pages.page(`/${bundler}.html`, page(`/${bundler}.js`));
    pages.page("/script-tag.html", page("/dist/socket.io.min.js"));
    server = await startServer();
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await pages?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  for (const bundler of ["esbuild", "vite", "webpack"]) {
    describe(`bundled by ${bundler} with engine.io-client aliased`, () => {
      test("the default ladder: long-polling, then websocket; acks, text and binary", async () => {
        const tab = await browser.open(pages.url(`/${bundler}.html`));
        const result = await tab.evaluate((url) => window.socketIoApp.run(url, {}, "websocket"), server.url);
        expect(result).toEqual({ first: "polling", transport: "websocket", upgrades: ["websocket"], text: "héllo </script> 😀", bytes: [0, 1, 255] });
      });

      test.each(forced)("transports: [%j] carries the session alone", async (transport) => {
        const tab = await browser.open(pages.url(`/${bundler}.html`));
        const result = await tab.evaluate(([url, name]) => window.socketIoApp.run(url, { transports: [name] }), [server.url, transport] as const);
        expect(result).toEqual({ first: transport, transport, upgrades: [], text: "héllo </script> 😀", bytes: [0, 1, 255] });
      });
    });
  }

  describe("dist/socket.io.min.js through a <script> tag", () => {
    test("exposes the global io as socket.io's own build does", async () => {
      const tab = await browser.open(pages.url("/script-tag.html"));
      const shape = await tab.evaluate(() => {
        const io = (window as unknown as { io: { (...args: unknown[]): unknown; Manager: unknown; Socket: unknown; connect: unknown; io: unknown } }).io;
        return [typeof io, typeof io.Manager, typeof io.Socket, io.connect === io, io.io === io];
      });
      expect(shape).toEqual(["function", "function", "function", true, true]);
    });

    test("upgrades to websocket by default and carries acks, text and binary", async () => {
      const tab = await browser.open(pages.url("/script-tag.html"));
      const result = await tab.evaluate(async (url) => {
        const io = (window as unknown as { io: (url: string, options: object) => SocketLike }).io;
        type SocketLike = {
          io: { engine: { transport: { name: string }; once(event: string, listener: (t: { name: string }) => void): void } };
          once(event: string, listener: (...args: unknown[]) => void): void;
          timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> };
          close(): void;
        };
        const socket = io(url, { forceNew: true, reconnection: false });
        const upgraded = new Promise<string>((resolve) => socket.io.engine.once("upgrade", (transport) => resolve(transport.name)));
        await new Promise((resolve, reject) => {
          socket.once("connect", resolve);
          socket.once("connect_error", reject);
        });
        const transport = await upgraded;
        const echoed = await socket.timeout(5000).emitWithAck("echo", new Uint8Array([7, 8]));
        socket.close();
        return { transport, bytes: Array.from(new Uint8Array(echoed as ArrayBuffer)) };
      }, server.url);
      expect(result).toEqual({ transport: "websocket", bytes: [7, 8] });
    });
  });

  test("with WebSocket blocked on the way, the default ladder ends on sse", async () => {
    const blocked = await startServer();
    try {
      // a proxy that refuses every WebSocket handshake
      blocked.http.removeAllListeners("upgrade");
      blocked.http.on("upgrade", (_request, socket) => socket.destroy());
      const tab = await browser.open(pages.url("/esbuild.html"), { allow: [/WebSocket connection to .* failed/] });
      const result = await tab.evaluate((url) => window.socketIoApp.run(url, {}, "sse"), blocked.url);
      expect(result).toMatchObject({ first: "polling", transport: "sse", text: "héllo </script> 😀", bytes: [0, 1, 255] });
    } finally {
      await blocked.close();
    }
  });
});

declare global {
  interface Window {
    socketIoApp: {
      run(
        url: string,
        options: object,
        settleOn?: string,
      ): Promise<{ first: string; transport: string; upgrades: string[]; text: string; bytes: number[] }>;
    };
  }
}
