// The smallest page using cometa from a <script> tag: node examples/script-tag/server.mjs
// (after `npm run build`). Serves index.html and dist/cometa.min.js; cometa/server echoes.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { importBuilt, listen, requireBuilt, runExample } from "../support.mjs";

const files = {
  "/": ["text/html; charset=utf-8", new URL("./index.html", import.meta.url)],
  "/cometa.min.js": ["text/javascript; charset=utf-8", new URL("../../dist/cometa.min.js", import.meta.url)],
};

export async function startScriptTagServer({ port = 3000, host = "127.0.0.1" } = {}) {
  requireBuilt([new URL("../../dist/cometa.min.js", import.meta.url)]);
  const { attach } = await importBuilt(new URL("../../dist/server.mjs", import.meta.url));
  const http = createServer((request, response) => {
    const file = files[new URL(request.url, "http://localhost").pathname];
    if (!file) return response.writeHead(404).end();
    try {
      response.writeHead(200, { "Content-Type": file[0] }).end(readFileSync(file[1]));
    } catch {
      response.writeHead(500).end("run `npm run build` first");
    }
  });
  const engine = attach(http);
  engine.on("connection", (socket) => socket.on("message", (data) => socket.send(data)));
  const actualPort = await listen(http, port, host).catch((error) => (engine.close(), Promise.reject(error)));
  return {
    url: `http://${host}:${actualPort}/`,
    close: () => new Promise((resolve) => (engine.close(), http.closeAllConnections(), http.close(resolve))),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await runExample(import.meta.url, startScriptTagServer);
  if (server) console.log(`cometa script-tag example: open ${server.url}`);
}
