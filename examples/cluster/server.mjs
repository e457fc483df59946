// One process of the cluster chat: cometa/server with a node id, broadcasts through Redis
// (fan-out.mjs), and the page. examples/cluster/start.mjs runs three of them behind haproxy;
// alone: NODE_ID=a PORT=3001 REDIS_URL=redis://127.0.0.1:6379 node examples/cluster/server.mjs
//
// Protocol: every engine.io message is JSON.
// ORIGINS: the page's origins, comma-separated (start.mjs gives the balancer's).
//
//   client -> server  {type:"say", name, text}
//   server -> client  {type:"hello", node, sid}                  to the new session only
//                     {type:"message", name, text, node, at}     to every session of every process
//                     {type:"error", message}
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { createClient } from "redis";
import { importBuilt, listen, requireBuilt } from "../support.mjs";
import { redisFanOut } from "./fan-out.mjs";

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const built = {
  server: new URL("../../dist/server.mjs", import.meta.url),
  client: new URL("../../dist/cometa.min.js", import.meta.url),
};
const files = {
  "/": [here("./index.html"), "text/html; charset=utf-8"],
  "/cluster.js": [here("./cluster.js"), "text/javascript; charset=utf-8"],
  "/cometa.min.js": [fileURLToPath(built.client), "text/javascript; charset=utf-8"],
};
const limits = { message: 2048, name: 24, text: 500 };

/** A message from a client, checked: `{name, text}`, or a string saying what is wrong. */
export function parseSay(data) {
  if (typeof data !== "string" || data.length > limits.message) return "messages must be text, at most 2048 characters";
  let request;
  try {
    request = JSON.parse(data);
  } catch {
    return "message is not JSON";
  }
  if (request?.type !== "say") return 'the only request is {"type":"say",name,text}';
  const name = typeof request.name === "string" ? request.name.trim() : "";
  const text = typeof request.text === "string" ? request.text.trim() : "";
  if (!name || [...name].length > limits.name) return `name: 1 to ${limits.name} characters`;
  if (!text || [...text].length > limits.text) return `text: 1 to ${limits.text} characters`;
  return { name, text };
}

/**
 * Starts one node. `cometaServer`: the cometa/server module (default: the built
 * dist/server.mjs). Resolves with `{ port, close() }`.
 */
export async function startNode({ nodeId, port = 0, host = "127.0.0.1", redisUrl, origins, cometaServer }) {
  if (!cometaServer) requireBuilt([built.server, built.client]);
  const { attach } = cometaServer ? await import(cometaServer) : await importBuilt(built.server);
  const http = createServer(async (req, res) => {
    const file = files[new URL(req.url, "http://x").pathname];
    if (!file || req.method !== "GET") return res.writeHead(404).end();
    res.writeHead(200, { "Content-Type": file[1], "Cache-Control": "no-cache" }).end(await readFile(file[0]));
  });
  // `origins`: where the page is served from, the balancer's address (the iframe transport
  // posts to it); pages of any other origin are refused
  const engine = attach(http, { nodeId, maxHttpBufferSize: 64 * 1024, allowedOrigins: origins });

  const redis = (role) => {
    const client = createClient({ url: redisUrl, socket: { reconnectStrategy: (retries) => Math.min(retries * 100, 2000) } });
    client.on("error", (error) => console.error(`[${nodeId}] redis ${role}: ${error.message}`));
    return client.connect();
  };
  const [publisher, subscriber] = await Promise.all([redis("publisher"), redis("subscriber")]);
  const fanOut = await redisFanOut(engine, { publisher, subscriber, channel: "cometa-cluster-chat" });

  engine.on("connection", (socket) => {
    socket.send(JSON.stringify({ type: "hello", node: nodeId, sid: socket.id }));
    socket.on("message", (data) => {
      const say = parseSay(data);
      if (typeof say === "string") return socket.send(JSON.stringify({ type: "error", message: say }));
      fanOut.broadcast(JSON.stringify({ type: "message", ...say, node: nodeId, at: Date.now() }));
    });
  });

  const bound = await listen(http, port, host);
  return {
    port: bound,
    close: async () => {
      engine.close();
      http.closeAllConnections();
      http.close();
      await Promise.allSettled([publisher.quit(), subscriber.quit()]);
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { NODE_ID = "a", PORT = "0", REDIS_URL = "redis://127.0.0.1:6379", ORIGINS, COMETA_SERVER } = process.env;
  const origins = (ORIGINS ?? `http://localhost:${PORT},http://127.0.0.1:${PORT}`).split(",");
  try {
    const node = await startNode({ nodeId: NODE_ID, port: Number(PORT), redisUrl: REDIS_URL, origins, cometaServer: COMETA_SERVER });
    // start.mjs reads this line
    console.log(JSON.stringify({ node: NODE_ID, port: node.port }));
    for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => node.close().then(() => process.exit(0)));
  } catch (error) {
    console.error(`[${NODE_ID}] ${error.name === "NotBuilt" ? error.message : error.stack}`);
    process.exit(1);
  }
}
