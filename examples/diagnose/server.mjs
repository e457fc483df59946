// What gets through from a browser to a server: a page that tries every cometa transport alone
// and the default ladder, and shows per transport whether it opened, its handshake and echo
// latency, what failed and why, and a report to paste into a bug.
//
//   npm run build && node examples/diagnose/server.mjs      (PORT, HOST, ORIGINS to change)
//
// One http.Server serves the page, its script and style, dist/diagnose.min.js, and cometa/server
// (engine.io plus sse, xhr-streaming, iframe and short-polling), which echoes every message.
// Put it behind the proxy you want to test, and open the proxy's address.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { importBuilt, listen, requireBuilt, runExample } from "../support.mjs";

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const files = {
  "/": [here("./index.html"), "text/html; charset=utf-8"],
  "/diagnose.js": [here("./diagnose.js"), "text/javascript; charset=utf-8"],
  "/diagnose.css": [here("./diagnose.css"), "text/css; charset=utf-8"],
  "/diagnose.min.js": [here("../../dist/diagnose.min.js"), "text/javascript; charset=utf-8"],
};
// No inline script or style. The page may diagnose another server than this one, so it may
// connect, load JSONP scripts and frame the iframe transport's document anywhere.
const PAGE_HEADERS = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self' http: https:; connect-src 'self' http: https: ws: wss:; frame-src 'self' http: https:; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
  "Cache-Control": "no-cache",
};

/** The origins a browser on this machine uses to reach `host`:`port`. */
function localOrigins(host, port) {
  const hosts = new Set(["localhost", "127.0.0.1", "[::1]", host.includes(":") ? `[${host}]` : host]);
  return [...hosts].map((name) => `http://${name}:${port}`);
}

/**
 * Starts the page and an echoing cometa/server. `origins`: page origins allowed besides the
 * server's own (a proxy's public origin), as a list or a function `(origin) => boolean`.
 */
export async function startDiagnoseServer({ port = 3000, host = "127.0.0.1", origins = [] } = {}) {
  requireBuilt([new URL("../../dist/diagnose.min.js", import.meta.url)]);
  const { attach } = await importBuilt(new URL("../../dist/server.mjs", import.meta.url));
  const http = createServer(async (request, response) => {
    // no icon: a 204 rather than a 404 the browser would log
    if (request.url === "/favicon.ico") return response.writeHead(204).end();
    const file = files[new URL(request.url, "http://localhost").pathname];
    if (!file || (request.method !== "GET" && request.method !== "HEAD")) {
      response.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
      return response.end("not found");
    }
    try {
      const body = await readFile(file[0]);
      response.writeHead(200, { "Content-Type": file[1], ...PAGE_HEADERS });
      response.end(request.method === "HEAD" ? undefined : body);
    } catch {
      response.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" });
      response.end("run `npm run build` first");
    }
  });
  // filled once the port is known
  const own = new Set();
  const extra = typeof origins === "function" ? origins : (origin) => origins.includes(origin);
  const engine = attach(http, {
    // the page's origin, so cross-site pages are refused and the iframe transport is enabled
    allowedOrigins: (origin) => own.has(origin) || extra(origin),
    maxHttpBufferSize: 1e6,
  });
  engine.on("connection", (socket) => socket.on("message", (data) => socket.send(data)));
  const actualPort = await listen(http, port, host).catch((error) => {
    engine.close();
    throw error;
  });
  for (const origin of localOrigins(host, actualPort)) own.add(origin);
  const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${actualPort}/`,
    port: actualPort,
    engine,
    close: () =>
      new Promise((resolve) => {
        engine.close();
        http.closeAllConnections();
        http.close(resolve);
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const origins = (process.env.ORIGINS || "").split(",").map((origin) => origin.trim()).filter(Boolean);
  const server = await runExample(import.meta.url, ({ port }) =>
    startDiagnoseServer({ port, host: process.env.HOST || "127.0.0.1", origins }),
  );
  if (server) console.log(`cometa diagnose: open ${server.url}`);
}
