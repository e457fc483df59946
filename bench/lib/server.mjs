/**
 * The bench's server, in its own process: a stock engine.io 6.6 Server extended by
 * cometa/server on 127.0.0.1 (ephemeral port). It echoes, and obeys `!sink:N` / `!source:N:SIZE`
 * (see scenarios.js). It also serves the browser page and its scripts under /bench/, every
 * response cross-origin isolated (COOP + COEP) so the page's performance.now() has fine
 * resolution. Requests over IPC: `memory` (after full GCs, with --expose-gc), `cpu`, `sessions`.
 *
 * argv[2]: JSON { serverModule, pingInterval?, pingTimeout?, files?: {urlPath: [file, type]}, iframeOrigin? }
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { payload } from "./scenarios.js";
import { serveRequests, sleep } from "./util.mjs";

const config = JSON.parse(process.argv[2]);
const { Server } = await import(pathToFileURL(config.serverModule).href);

const http = createServer();
let origin = "";
const engine = new Server({
  pingInterval: config.pingInterval ?? 25000,
  pingTimeout: config.pingTimeout ?? 20000,
  // the page itself, and the origin raw iframe sessions (bench/lib/swarm.mjs) name
  allowedOrigins: (candidate) => candidate === origin || candidate === config.iframeOrigin,
  ...config.engine,
});
engine.attach(http);

const payloads = new Map();
engine.on("connection", (socket) => {
  let sinkTarget = 0;
  let sinkCount = 0;
  socket.on("message", (data) => {
    if (sinkTarget > 0) {
      if (++sinkCount === sinkTarget) {
        socket.send(`!done:${sinkCount}`);
        sinkTarget = 0;
      }
      return;
    }
    if (typeof data === "string" && data.charCodeAt(0) === 33) {
      const [command, a, b] = data.slice(1).split(":");
      if (command === "sink") {
        sinkTarget = Number(a);
        sinkCount = 0;
      } else if (command === "source") {
        const count = Number(a);
        const size = Number(b);
        if (!payloads.has(size)) payloads.set(size, payload(size, 7));
        const text = payloads.get(size);
        for (let i = 0; i < count; i++) socket.send(text);
      }
      return;
    }
    socket.send(data);
  });
});

// engine.io's listener passes other paths to the listeners it found at attach time (none):
// put a router in front that sets the isolation headers and serves /bench/.
const engineListeners = http.listeners("request");
http.removeAllListeners("request");
const files = new Map(Object.entries(config.files ?? {}).map(([path, [file, type]]) => [path, { file, type }]));
const page = (lib) => `<!doctype html><html><head><meta charset="utf-8"><title>cometa bench</title>
<script src="/bench/${lib === "cometa" ? "cometa.min.js" : "engine.io.min.js"}"></script>
<script type="module">
import { runPlan } from "/bench/scenarios.js";
const libs = { Cometa: window.Cometa, eio: window.eio, WebSocket: window.WebSocket };
window.benchRun = (plan) => runPlan(plan, libs);
window.benchReady = true;
</script></head><body>cometa bench (${lib})</body></html>`;

http.on("request", (req, res) => {
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
  res.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
  res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
  const path = req.url.split("?")[0];
  if (path.startsWith("/engine.io/")) {
    for (const listener of engineListeners) listener.call(http, req, res);
    return;
  }
  if (path === "/bench/page.html") {
    const lib = new URL(req.url, "http://x").searchParams.get("lib");
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store" });
    return res.end(page(lib));
  }
  if (path === "/favicon.ico") {
    res.writeHead(204);
    return res.end();
  }
  const file = files.get(path);
  if (!file) {
    res.writeHead(404, { "Content-Type": "text/plain" });
    return res.end("not found");
  }
  res.writeHead(200, { "Content-Type": file.type, "Cache-Control": "no-store" });
  res.end(readFileSync(file.file));
});

await new Promise((resolve) => http.listen(0, "127.0.0.1", resolve));
origin = `http://127.0.0.1:${http.address().port}`;

let cpuStart;
serveRequests({
  url: () => origin,
  sessions: () => engine.clientsCount,
  async memory() {
    if (typeof globalThis.gc !== "function") throw new Error("start the server with --expose-gc");
    // a few full collections with turns of the event loop between them, so finalizers and
    // weak callbacks run and the numbers stop moving
    for (let i = 0; i < 4; i++) {
      globalThis.gc();
      await sleep(50);
    }
    const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
    return { rss, heapUsed, external, arrayBuffers, sessions: engine.clientsCount };
  },
  cpuStart() {
    cpuStart = { usage: process.cpuUsage(), at: process.hrtime.bigint() };
    return true;
  },
  cpuStop() {
    const usage = process.cpuUsage(cpuStart.usage);
    const wallMs = Number(process.hrtime.bigint() - cpuStart.at) / 1e6;
    return { cpuMs: (usage.user + usage.system) / 1000, wallMs, sessions: engine.clientsCount };
  },
  closeAll() {
    for (const socket of Object.values(engine.clients)) socket.close();
    return true;
  },
});
process.send({ ready: origin });
