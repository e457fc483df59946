/**
 * cometa where there is no DOM, in Chromium: a dedicated module Worker running an app bundled
 * from the ES module build (`import { Socket } from "cometa"`), and a Service Worker loading the
 * minified IIFE with importScripts. Neither has a document; the service worker has no
 * XMLHttpRequest either (Chromium gives both kinds EventSource). Long-polling, short polling and
 * xhr-streaming and sse run over fetch, websocket over WebSocket; jsonp and iframe
 * (which insert elements into a document) are refused by their `supported()` check, so forcing
 * them alone is a UsageError and the ladder never tries them.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import type { TransportName } from "../../src/server/index.js";
import { describeEngines, type EngineUnderTest, type PageServer, repoRoot, startEngine, startPageServer, useEngine } from "./support/browser.js";

/**
 * What runs inside both workers: one scenario per message, answered on the port it came with.
 * `globalThis.Cometa` is the IIFE's global (service worker) or the bundle's import (worker).
 */
const workerScenarios = String.raw`
function plain(data) {
  if (typeof data === "string") return Promise.resolve(data);
  if (data instanceof ArrayBuffer) return Promise.resolve({ kind: "ArrayBuffer", bytes: Array.from(new Uint8Array(data)) });
  if (typeof Blob !== "undefined" && data instanceof Blob) return data.arrayBuffer().then((b) => ({ kind: "Blob", bytes: Array.from(new Uint8Array(b)) }));
  return Promise.resolve({ kind: "other" });
}

function scope() {
  return {
    XMLHttpRequest: typeof XMLHttpRequest,
    fetch: typeof fetch,
    WebSocket: typeof WebSocket,
    EventSource: typeof EventSource,
    document: typeof document,
    window: typeof window,
  };
}

/** Opens a socket, sends texts and bytes (after the upgrade when one is expected), gathers the echoes. */
function echo(Cometa, url, options, waitForUpgrade) {
  return new Promise((resolve, reject) => {
    let socket;
    try {
      socket = new Cometa.Socket(url, options);
    } catch (error) {
      resolve({ thrown: { name: error.name, message: error.message } });
      return;
    }
    const first = socket.transport.name;
    const events = [];
    const received = [];
    const timer = setTimeout(() => reject(new Error("timed out; events: " + JSON.stringify(events) + "; received " + received.length)), 10000);
    const send = () => {
      socket.send("héllo </script> 😀");
      socket.send(new Uint8Array([0, 1, 2, 254, 255]).buffer);
      socket.send("last");
    };
    socket.on("open", () => { events.push(["open", socket.transport.name]); if (!waitForUpgrade) send(); });
    socket.on("upgrade", (name) => { events.push(["upgrade", name]); if (waitForUpgrade) send(); });
    socket.on("upgradeError", (error) => events.push(["upgradeError", error.transport]));
    socket.on("error", (error) => events.push(["error", error.name, error.message]));
    socket.on("message", (data) => {
      received.push(data);
      if (received.length < 3) return;
      clearTimeout(timer);
      Promise.all(received.map(plain)).then((echoed) => {
        const now = socket.transport.name;
        socket.on("close", (reason) => resolve({ first, now, events, echoed, closed: reason }));
        socket.close();
      });
    });
    socket.on("close", (reason) => {
      if (received.length < 3) { clearTimeout(timer); resolve({ first, events, closed: reason }); }
    });
  });
}

function serve(Cometa, target) {
  target.addEventListener("message", (event) => {
    const { url, options, waitForUpgrade } = event.data;
    const port = event.ports[0];
    echo(Cometa, url, options, waitForUpgrade).then(
      (result) => port.postMessage({ scope: scope(), result }),
      (error) => port.postMessage({ scope: scope(), error: String(error) }),
    );
  });
}
`;

/** The dedicated worker's app, bundled by esbuild from `import ... from "cometa"`. */
const workerApp = `
import * as Cometa from "cometa";
${workerScenarios}
serve(Cometa, self);
self.postMessage("ready");
`;

/** The service worker: the minified IIFE through importScripts, then the same scenarios. */
const serviceWorker = `
importScripts("/dist/cometa.min.js");
${workerScenarios}
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
serve(self.Cometa, self);
`;

/**
 * The page's side: `runIn(kind, url, options, waitForUpgrade)` starts the worker once (or
 * registers the service worker and waits for it to be active) and runs one scenario there.
 */
const pageScript = `
window.workers = {};
async function start(kind) {
  if (window.workers[kind]) return window.workers[kind];
  if (kind === "worker") {
    const worker = new Worker("/worker-app.js", { type: "module" });
    await new Promise((resolve, reject) => {
      worker.onmessage = (event) => event.data === "ready" && resolve();
      worker.onerror = (event) => reject(new Error("worker failed: " + event.message));
    });
    return (window.workers[kind] = worker);
  }
  const registration = await navigator.serviceWorker.register("/service-worker.js");
  const worker = registration.active || registration.installing || registration.waiting;
  if (worker.state !== "activated") {
    await new Promise((resolve) => worker.addEventListener("statechange", () => worker.state === "activated" && resolve()));
  }
  return (window.workers[kind] = worker);
}
window.runIn = async (kind, url, options, waitForUpgrade) => {
  const worker = await start(kind);
  const channel = new MessageChannel();
  const answer = new Promise((resolve) => (channel.port1.onmessage = (event) => resolve(event.data)));
  worker.postMessage({ url, options, waitForUpgrade }, [channel.port2]);
  return answer;
};
`;

type WorkerKind = "worker" | "service worker";
interface WorkerAnswer {
  scope: Record<string, string>;
  error?: string;
  result?: {
    thrown?: { name: string; message: string };
    first?: string;
    now?: string;
    events?: unknown[][];
    echoed?: unknown[];
    closed?: string;
  };
}

const echoed = ["héllo </script> 😀", { kind: "ArrayBuffer", bytes: [0, 1, 2, 254, 255] }, "last"];

/** Which transports run in both kinds of worker, as measured in Chromium. */
const works: Record<string, boolean> = {
  polling: true,
  "short-polling": true,
  "xhr-streaming": true,
  sse: true,
  websocket: true,
  jsonp: false,
  iframe: false,
};

describeEngines(
  "cometa in workers",
  (browserName) => {
    const browser = useEngine(browserName);
    let pages: PageServer;
    let engine: EngineUnderTest | undefined;
    let workDir: string;

    beforeAll(async () => {
      // the dedicated worker's app is bundled as a user's would be: node_modules/cometa is this repository
      workDir = mkdtempSync(join(tmpdir(), "cometa-worker-"));
      mkdirSync(join(workDir, "node_modules"));
      symlinkSync(repoRoot, join(workDir, "node_modules", "cometa"), "dir");
      writeFileSync(join(workDir, "app.js"), workerApp);
      const bundled = await build({
        entryPoints: [join(workDir, "app.js")],
        absWorkingDir: workDir,
        bundle: true,
        format: "esm",
        platform: "browser",
        target: "es2020",
        write: false,
        logLevel: "silent",
      });
      pages = await startPageServer();
      pages.file("/worker-app.js", Buffer.from(bundled.outputFiles[0]!.contents));
      pages.file("/service-worker.js", serviceWorker);
      pages.file("/page.js", pageScript);
      pages.page("/index.html", `<!doctype html><html><head><meta charset="utf-8"><script src="/page.js"></script></head><body></body></html>`);
    });
    afterEach(async () => {
      await engine?.close();
      engine = undefined;
    });
    afterAll(async () => {
      await pages?.close();
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    });

    const run = async (kind: WorkerKind, options: Record<string, unknown>, waitForUpgrade = false, transports?: TransportName[]) => {
      engine = await startEngine({ pageOrigin: pages.origin, ...(transports ? { transports } : {}) });
      const page = await browser.open(pages.url("/index.html"));
      return page.evaluate(
        ([kind, url, options, waitForUpgrade]) =>
          (window as unknown as { runIn(...args: unknown[]): Promise<WorkerAnswer> }).runIn(kind, url, options, waitForUpgrade),
        [kind, engine.url, options, waitForUpgrade] as const,
      );
    };

    for (const kind of ["worker", "service worker"] as const) {
      describe(kind, () => {
        test("has no document and no window; the service worker has no XMLHttpRequest", async () => {
          const answer = await run(kind, { transports: ["polling"] });
          expect(answer.scope).toEqual({
            XMLHttpRequest: kind === "worker" ? "function" : "undefined",
            fetch: "function",
            WebSocket: "function",
            EventSource: "function",
            document: "undefined",
            window: "undefined",
          });
        });

        for (const [name, ok] of Object.entries(works)) {
          if (ok) {
            test(`${name} alone: opens and echoes text and binary, then closes`, async () => {
              const answer = await run(kind, { transports: [name] });
              expect(answer.error).toBeUndefined();
              expect(answer.result).toEqual({
                first: name,
                now: name,
                events: [["open", name]],
                echoed,
                closed: "forced close",
              });
            });
          } else {
            test(`${name} alone: refused by supported() (a UsageError, no request made)`, async () => {
              const answer = await run(kind, { transports: [name] });
              expect(answer.result?.thrown).toEqual({
                name: "UsageError",
                message: `none of the transports [${name}] works in this environment`,
              });
              expect(engine!.requests).toEqual([]);
            });
          }
        }

        test("the default ladder: polling over fetch, then WebSocket", async () => {
          const answer = await run(kind, {}, true);
          expect(answer.error).toBeUndefined();
          expect(answer.result).toMatchObject({ first: "polling", now: "websocket", events: [["open", "polling"], ["upgrade", "websocket"]], echoed });
        });

        test("without WebSocket on the server, the ladder ends on sse, never trying jsonp or iframe", async () => {
          const answer = await run(kind, {}, true, ["polling", "sse", "xhr-streaming", "iframe", "short-polling"]);
          expect(answer.error).toBeUndefined();
          expect(answer.result).toMatchObject({ first: "polling", now: "sse", events: [["open", "polling"], ["upgrade", "sse"]], echoed });
          expect(engine!.requests.filter(({ url }) => /transport=(iframe|jsonp)|[?&]j=/.test(url))).toEqual([]);
        });

        test("a server offering only iframe beyond polling: the ladder never tries it and the session stays on polling", async () => {
          const answer = await run(kind, { transports: ["polling", "iframe"] }, false, ["polling", "iframe"]);
          expect(answer.error).toBeUndefined();
          expect(answer.result).toEqual({ first: "polling", now: "polling", events: [["open", "polling"]], echoed, closed: "forced close" });
          expect(engine!.requests.filter(({ url }) => url.includes("transport=iframe"))).toEqual([]);
        });
      });
    }
  },
  ["chromium"],
);
