// One process of the test cluster: cometa/server (the module COMETA_SERVER names, the sources
// bundled by the tests) with a node id, fanning broadcasts out through Redis as MODE says:
//   engine      plain engine.io app: examples/cluster/fan-out.mjs (Redis pub/sub); each message
//               is answered with "echo <node> <message>"
//   io          socket.io 4.8 bound to cometa/server, @socket.io/redis-adapter
//   io-streams  socket.io with @socket.io/redis-streams-adapter and connection state recovery
// It prints {"port":N} once listening. Beside the engine it answers, for the tests only:
//   POST /control/broadcast?text=T   broadcast T to every session of every node (engine: a
//                                    message; socket.io: the event "m")
//   GET  /control/sessions           {node, sessions: [{id, transport}]}
//   GET  /  and  /cometa.min.js      a blank page and the built client, for Chromium
// SIGTERM: a graceful stop (sessions closed, Redis written, then exit); SIGKILL: a crash.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { createAdapter as createStreamsAdapter } from "@socket.io/redis-streams-adapter";
import { createClient } from "redis";
import { Server as IoServer } from "socket.io";
import { redisFanOut } from "../../../examples/cluster/fan-out.mjs";

const { COMETA_SERVER, NODE_ID, REDIS_URL, MODE = "engine" } = process.env;
const { attach, Server } = await import(COMETA_SERVER);
const pingInterval = Number(process.env.PING_INTERVAL ?? 25_000);
const pingTimeout = Number(process.env.PING_TIMEOUT ?? 20_000);

const clients = [];
async function redisClient() {
  const client = createClient({ url: REDIS_URL, socket: { reconnectStrategy: false } });
  client.on("error", () => {});
  await client.connect();
  clients.push(client);
  return client;
}

const engineOptions = {
  nodeId: NODE_ID,
  pingInterval,
  pingTimeout,
  // the page is served by the balancer's origin, on a port chosen at run time
  allowedOrigins: (origin) => /^http:\/\/127\.0\.0\.1:\d+$/.test(origin),
  // the browser tests' page is on another origin (its own server), with cookies
  cors: { origin: true, credentials: true },
  recycleBytes: 16 * 1024,
};

let broadcast;
let sessions;
let close;
const http = createServer((req, res) => control(req, res));

if (MODE === "engine") {
  const engine = attach(http, engineOptions);
  // answers each message, naming this node: the tests see which process got the POST
  engine.on("connection", (socket) => socket.on("message", (data) => socket.send(`echo ${NODE_ID} ${data}`)));
  const fanOut = await redisFanOut(engine, { publisher: await redisClient(), subscriber: await redisClient() });
  broadcast = (text) => fanOut.broadcast(text);
  sessions = () => Object.values(engine.clients).map((socket) => ({ id: socket.id, transport: socket.transport.name }));
  close = () => engine.close();
} else {
  const streams = MODE === "io-streams";
  const io = new IoServer({
    pingInterval,
    pingTimeout,
    ...(streams ? { connectionStateRecovery: { maxDisconnectionDuration: 60_000, skipMiddlewares: true } } : {}),
  });
  const engine = new Server({ path: "/socket.io/", ...engineOptions });
  engine.attach(http);
  io.bind(engine);
  if (streams) {
    io.adapter(createStreamsAdapter(await redisClient()));
  } else {
    const publisher = await redisClient();
    io.adapter(createAdapter(publisher, await redisClient()));
  }
  io.on("connection", (socket) => socket.emit("node", NODE_ID, socket.recovered));
  broadcast = async (text) => void io.emit("m", text);
  sessions = () => Object.values(engine.clients).map((socket) => ({ id: socket.id, transport: socket.transport.name }));
  close = () => io.close();
}

function control(req, res) {
  const url = new URL(req.url, "http://node");
  if (req.method === "POST" && url.pathname === "/control/broadcast") {
    Promise.resolve(broadcast(url.searchParams.get("text") ?? "")).then(
      () => res.writeHead(200, { "Content-Type": "application/json" }).end("{}"),
      (error) => res.writeHead(500).end(String(error)),
    );
  } else if (url.pathname === "/control/sessions") {
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ node: NODE_ID, sessions: sessions() }));
  } else if (url.pathname === "/cometa.min.js") {
    res.writeHead(200, { "Content-Type": "text/javascript" }).end(readFileSync(new URL("../../../dist/cometa.min.js", import.meta.url)));
  } else if (url.pathname === "/") {
    res.writeHead(200, { "Content-Type": "text/html" }).end(`<!doctype html><title>${NODE_ID}</title><script src="/cometa.min.js"></script>`);
  } else {
    res.writeHead(404).end();
  }
}

process.once("SIGTERM", async () => {
  close();
  http.closeAllConnections();
  http.close();
  // quit() waits for the replies of the commands sent before it (the sessions persisted above)
  await Promise.allSettled(clients.map((client) => client.quit()));
  process.exit(0);
});

http.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: http.address().port })}\n`);
});
