// The smallest cometa demo: a stock engine.io server that echoes, and a page that loads the
// minified build with a <script> tag: `npm run build && node examples/echo/server.mjs`.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { Server } from "engine.io";
import { listen, requireBuilt, runExample } from "../support.mjs";

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const files = {
  "/": [here("./index.html"), "text/html; charset=utf-8"],
  "/cometa.min.js": [here("../../dist/cometa.min.js"), "text/javascript; charset=utf-8"],
};

export async function startEchoServer({ port = 3000, host = "127.0.0.1" } = {}) {
  requireBuilt([new URL("../../dist/cometa.min.js", import.meta.url)]);
  const http = createServer(async (request, response) => {
    const file = files[new URL(request.url, "http://localhost").pathname];
    if (!file) {
      response.writeHead(404, { "Content-Type": "text/plain" });
      return response.end("not found");
    }
    try {
      const body = await readFile(file[0]);
      response.writeHead(200, { "Content-Type": file[1], "X-Content-Type-Options": "nosniff" });
      response.end(body);
    } catch {
      response.writeHead(500, { "Content-Type": "text/plain" });
      response.end("run `npm run build` first");
    }
  });
  const engine = new Server({ maxHttpBufferSize: 1e6 });
  engine.attach(http);
  engine.on("connection", (socket) => {
    socket.send(`welcome, you are ${socket.id} on ${socket.transport.name}`);
    socket.on("message", (data) => socket.send(data));
  });
  const actualPort = await listen(http, port, host).catch((error) => (engine.close(), Promise.reject(error)));
  const url = `http://${host}:${actualPort}/`;
  return {
    url,
    close: () =>
      new Promise((resolve) => {
        engine.close();
        http.closeAllConnections();
        http.close(resolve);
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await runExample(import.meta.url, startEchoServer);
  if (server) console.log(`cometa echo demo: open ${server.url}`);
}
