/**
 * The socket.io bench's server, in its own process: socket.io 4.8 bound to cometa/server (the
 * build measured) on 127.0.0.1 (ephemeral port), acknowledging `echo` with its argument. It also
 * serves the browser page and its scripts under /bench/, cross-origin isolated (COOP + COEP) so
 * the page's performance.now() has fine resolution: `io.html?lib=cometa` loads socket.io-client
 * on cometa (`socket.io.min.js` as built here), `io.html?lib=eio` socket.io's own
 * `dist/socket.io.min.js` (socket.io-client on engine.io-client).
 *
 * argv[2]: JSON { serverModule, files: {urlPath: [file, type]} }
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { Server as IoServer } from "socket.io";

const config = JSON.parse(process.argv[2]);
const { Server } = await import(pathToFileURL(config.serverModule).href);

const http = createServer();
const engine = new Server({ path: "/socket.io/" });
engine.attach(http, { path: "/socket.io/" });
const io = new IoServer();
io.bind(engine);
io.on("connection", (socket) => socket.on("echo", (value, ack) => ack(value)));

// engine.io's listener passes other paths to the listeners it found at attach time (none):
// put a router in front that sets the isolation headers and serves /bench/.
const engineListeners = http.listeners("request");
http.removeAllListeners("request");
const files = new Map(Object.entries(config.files ?? {}).map(([path, [file, type]]) => [path, { file, type }]));
const page = (lib) => `<!doctype html><html><head><meta charset="utf-8"><title>cometa socket.io bench</title>
<script src="/bench/${lib === "cometa" ? "socket.io.min.js" : "socket.io.own.min.js"}"></script>
<script type="module">
import { runIoPlan } from "/bench/io-scenarios.js";
window.benchRun = (plan) => runIoPlan(plan, window.io);
window.benchReady = true;
</script></head><body>socket.io bench (${lib})</body></html>`;

http.on("request", (req, res) => {
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
  res.setHeader("Cross-Origin-Embedder-Policy", "require-corp");
  res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
  const path = req.url.split("?")[0];
  if (path.startsWith("/socket.io/")) {
    for (const listener of engineListeners) listener.call(http, req, res);
    return;
  }
  if (path === "/bench/io.html") {
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
process.send({ ready: `http://127.0.0.1:${http.address().port}` });
