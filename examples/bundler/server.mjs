// Serves the bundled app (examples/bundler/dist/, made by build.mjs) and a stock engine.io
// server that echoes: the app uses long-polling and WebSocket, which engine.io serves itself.
//   node examples/bundler/build.mjs && node examples/bundler/server.mjs
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { Server } from "engine.io";
import { listen, requireBuilt, runExample } from "../support.mjs";

const dist = (file) => fileURLToPath(new URL(`./dist/${file}`, import.meta.url));
const files = {
  "/": [dist("index.html"), "text/html; charset=utf-8"],
  "/main.js": [dist("main.js"), "text/javascript; charset=utf-8"],
  "/main.js.map": [dist("main.js.map"), "application/json; charset=utf-8"],
};

export async function startBundlerServer({ port = 3000, host = "127.0.0.1" } = {}) {
  requireBuilt(
    [new URL("./dist/index.html", import.meta.url), new URL("./dist/main.js", import.meta.url)],
    "npm run build && node examples/bundler/build.mjs",
  );
  const http = createServer(async (request, response) => {
    const file = files[new URL(request.url, "http://localhost").pathname];
    if (!file) return response.writeHead(404).end();
    try {
      const body = await readFile(file[0]);
      response.writeHead(200, { "Content-Type": file[1], "X-Content-Type-Options": "nosniff" }).end(body);
    } catch {
      response.writeHead(500).end("run `node examples/bundler/build.mjs` first");
    }
  });
  const engine = new Server();
  engine.attach(http);
  engine.on("connection", (socket) => socket.on("message", (data) => socket.send(data)));
  const actualPort = await listen(http, port, host).catch((error) => (engine.close(), Promise.reject(error)));
  return {
    url: `http://${host}:${actualPort}/`,
    close: () => new Promise((resolve) => (engine.close(), http.closeAllConnections(), http.close(resolve))),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await runExample(import.meta.url, startBundlerServer);
  if (server) console.log(`cometa bundler example: open ${server.url}`);
}
