// One process of the cluster bench: cometa/server (dist/server.mjs) or stock engine.io 6.6,
// sids prefixed with NODE_ID either way (stock through engine.io's generateId hook, the same
// one-line override cometa/server's nodeId makes), broadcasts through Redis pub/sub
// (examples/cluster/fan-out.mjs). Prints {"port":N}; POST /broadcast publishes
// {"t": <epoch ms, fractional>, "n": <seq>} to every session of every process.
import { createServer } from "node:http";
import { pathToFileURL } from "node:url";
import { Server as StockServer } from "engine.io";
import { createClient } from "redis";
import { redisFanOut } from "../../examples/cluster/fan-out.mjs";

const { ENGINE, NODE_ID, REDIS_URL, SERVER_MODULE } = process.env;
const http = createServer((req, res) => {
  if (req.method === "POST" && req.url === "/broadcast") {
    const text = JSON.stringify({ t: performance.timeOrigin + performance.now(), n: ++sent });
    fanOut.broadcast(text).then(() => res.end("ok"), (error) => res.writeHead(500).end(String(error)));
  } else if (req.url === "/sessions") {
    res.end(String(engine.clientsCount));
  } else {
    res.writeHead(404).end();
  }
});
let sent = 0;
const options = { pingInterval: 25_000, pingTimeout: 20_000 };
let engine;
if (ENGINE === "cometa") {
  const { attach } = await import(pathToFileURL(SERVER_MODULE).href);
  engine = attach(http, { ...options, nodeId: NODE_ID, transports: ["polling", "websocket", "sse", "xhr-streaming"] });
} else {
  class Prefixed extends StockServer {
    generateId(req) {
      return `${NODE_ID}.${super.generateId(req)}`;
    }
  }
  engine = new Prefixed(options);
  engine.attach(http);
}
const redis = async () => {
  const client = createClient({ url: REDIS_URL, socket: { reconnectStrategy: false } });
  client.on("error", () => {});
  await client.connect();
  return client;
};
const fanOut = await redisFanOut(engine, { publisher: await redis(), subscriber: await redis() });
process.once("SIGTERM", () => process.exit(0));
http.listen(0, "127.0.0.1", () => process.stdout.write(`${JSON.stringify({ port: http.address().port })}\n`));
