// cometa chat: the instant-messaging case Comet was invented for, in one Node process.
//
//   npm run build && node examples/chat/server.mjs      (PORT, HOST, ORIGINS to change)
//
// One http.Server serves the page, its script and style, dist/cometa.min.js, and cometa/server
// (engine.io plus sse, xhr-streaming, iframe and short-polling). State lives in memory.
//
// Protocol: every engine.io message is a JSON object with a `type`.
//   client -> server  {type:"join", name, token?}   token: the one `welcome` gave, to take the
//                                                   name back from a session not yet timed out
//                     {type:"say", text}
//   server -> client  {type:"welcome", name, token, users, history}
//                     {type:"joined", name, users}  {type:"left", name, users}
//                     {type:"users", users}         (someone's transport changed)
//                     {type:"message", from, text, at}
//                     {type:"error", message}       (the request was refused; the session goes on)
//   users: [{name, transport}], history: the last messages, oldest first.
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { networkInterfaces } from "node:os";
import { fileURLToPath } from "node:url";
import { importBuilt, listen, requireBuilt, runExample } from "../support.mjs";

export const limits = Object.freeze({
  /** Characters of one raw message; engine.io itself refuses payloads over maxHttpBufferSize. */
  message: 2048,
  name: 24,
  text: 500,
  users: 100,
  history: 50,
  /** At most `burst` messages per `window` ms from one session. */
  burst: 20,
  window: 10_000,
});
const MAX_HTTP_BUFFER_SIZE = 64 * 1024;

const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const files = {
  "/": [here("./index.html"), "text/html; charset=utf-8"],
  "/chat.js": [here("./chat.js"), "text/javascript; charset=utf-8"],
  "/chat.css": [here("./chat.css"), "text/css; charset=utf-8"],
  "/favicon.svg": [here("./favicon.svg"), "image/svg+xml"],
  "/cometa.min.js": [here("../../dist/cometa.min.js"), "text/javascript; charset=utf-8"],
};
// No inline script or style anywhere: the page runs under a strict policy. The iframe and
// JSONP transports load same-origin documents and scripts, which 'self' allows.
const PAGE_HEADERS = {
  "Content-Security-Policy":
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "same-origin",
  "Cache-Control": "no-cache",
};

// Control characters and bidi overrides (which let a name pose as another) are refused.
const FORBIDDEN = /[\p{Cc}\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

/** Parses and validates one message from a client: `{ok: true, request}` or `{ok: false, message}`. */
export function parseRequest(data) {
  if (typeof data !== "string") return { ok: false, message: "messages must be text" };
  if (data.length > limits.message) return { ok: false, message: `message too long (max ${limits.message} characters)` };
  let request;
  try {
    request = JSON.parse(data);
  } catch {
    return { ok: false, message: "message is not JSON" };
  }
  if (typeof request !== "object" || request === null || Array.isArray(request)) {
    return { ok: false, message: "message must be a JSON object" };
  }
  if (request.type === "join") {
    const name = typeof request.name === "string" ? request.name.trim() : "";
    if (!name) return { ok: false, message: "name is required" };
    if ([...name].length > limits.name) return { ok: false, message: `name too long (max ${limits.name} characters)` };
    if (FORBIDDEN.test(name)) return { ok: false, message: "name contains control characters" };
    if (request.token !== undefined && typeof request.token !== "string") return { ok: false, message: "token must be a string" };
    return { ok: true, request: { type: "join", name, token: request.token } };
  }
  if (request.type === "say") {
    const text = typeof request.text === "string" ? request.text.trim() : "";
    if (!text) return { ok: false, message: "text is required" };
    if ([...text].length > limits.text) return { ok: false, message: `text too long (max ${limits.text} characters)` };
    if (FORBIDDEN.test(text)) return { ok: false, message: "text contains control characters" };
    return { ok: true, request: { type: "say", text } };
  }
  return { ok: false, message: "unknown message type" };
}

/**
 * The transport a session is on, as the page names it: engine.io serves JSONP as a variant of
 * its polling transport (`j` in the handshake's query), so its own name would say "polling".
 */
export function transportOf(socket) {
  const name = socket.transport.name;
  return name === "polling" && socket.request?._query?.j !== undefined ? "jsonp" : name;
}

/** The chat room: who is here and what was said, independent of HTTP. */
function createRoom() {
  /** name -> { name, token, socket } */
  const members = new Map();
  /** engine.io socket -> member, for sessions that joined */
  const memberOf = new Map();
  const history = [];

  const users = () => [...members.values()].map((m) => ({ name: m.name, transport: transportOf(m.socket) }));
  const sendTo = (socket, message) => socket.send(JSON.stringify(message));
  const broadcast = (message) => {
    const data = JSON.stringify(message);
    for (const socket of memberOf.keys()) socket.send(data);
  };
  const refuse = (socket, message) => sendTo(socket, { type: "error", message });

  function join(socket, { name, token }) {
    if (memberOf.has(socket)) return refuse(socket, "you have already joined");
    const taken = members.get(name);
    if (taken && !(token && token === taken.token)) return refuse(socket, `the name ${JSON.stringify(name)} is taken`);
    if (!taken && members.size >= limits.users) return refuse(socket, "the room is full");
    const member = taken ?? { name, token: randomUUID() };
    if (taken) {
      // The same person on a new session (a reconnect, another transport): move the name over
      // quietly and let the old session go without a "left".
      memberOf.delete(taken.socket);
      taken.socket.close();
    }
    member.socket = socket;
    members.set(name, member);
    memberOf.set(socket, member);
    sendTo(socket, { type: "welcome", name, token: member.token, users: users(), history });
    if (taken) broadcast({ type: "users", users: users() });
    else broadcast({ type: "joined", name, users: users() });
  }

  function say(socket, { text }) {
    const member = memberOf.get(socket);
    if (!member) return refuse(socket, "join first");
    const message = { type: "message", from: member.name, text, at: Date.now() };
    history.push(message);
    if (history.length > limits.history) history.shift();
    broadcast(message);
  }

  function leave(socket) {
    const member = memberOf.get(socket);
    if (!member) return;
    memberOf.delete(socket);
    members.delete(member.name);
    broadcast({ type: "left", name: member.name, users: users() });
  }

  function transportChanged(socket) {
    if (memberOf.has(socket)) broadcast({ type: "users", users: users() });
  }

  return { join, say, leave, transportChanged, refuse };
}

/** Sliding-window flood limit for one session. */
function createRateLimit() {
  const times = [];
  return () => {
    const now = Date.now();
    while (times.length && now - times[0] > limits.window) times.shift();
    if (times.length >= limits.burst) return false;
    times.push(now);
    return true;
  };
}

/** The origins a browser may use to reach a server listening on `host`:`port`. */
function localOrigins(host, port) {
  const hosts = new Set(["localhost", "127.0.0.1", "[::1]"]);
  if (host === "0.0.0.0" || host === "::") {
    for (const list of Object.values(networkInterfaces())) {
      for (const address of list ?? []) hosts.add(address.family === "IPv6" ? `[${address.address.split("%")[0]}]` : address.address);
    }
  } else {
    hosts.add(host.includes(":") ? `[${host}]` : host);
  }
  return [...hosts].map((h) => `http://${h}:${port}`);
}

/**
 * Starts the chat. `port` 0 picks a free one. `origins`: extra page origins allowed to connect
 * (behind a reverse proxy, its public origin); the server's own are always allowed.
 */
export async function startChatServer({ port = 3000, host = "127.0.0.1", origins = [], log = () => {} } = {}) {
  requireBuilt([new URL("../../dist/cometa.min.js", import.meta.url)]);
  const { attach } = await importBuilt(new URL("../../dist/server.mjs", import.meta.url));
  const http = createServer(async (request, response) => {
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

  // Filled once the port is known; until then no page of ours can exist.
  const allowed = new Set();
  const engine = attach(http, {
    // The page's own origin: cross-site pages are refused, and the iframe transport is enabled.
    allowedOrigins: (origin) => allowed.has(origin),
    maxHttpBufferSize: MAX_HTTP_BUFFER_SIZE,
  });
  const room = createRoom();

  engine.on("connection", (socket) => {
    const withinRate = createRateLimit();
    socket.on("message", (data) => {
      try {
        if (!withinRate()) return room.refuse(socket, "slow down");
        const parsed = parseRequest(data);
        if (!parsed.ok) return room.refuse(socket, parsed.message);
        if (parsed.request.type === "join") room.join(socket, parsed.request);
        else room.say(socket, parsed.request);
      } catch (error) {
        // A bug here must cost one message, not the room.
        console.error("chat: message handler failed", error);
      }
    });
    socket.on("upgrade", () => room.transportChanged(socket));
    socket.on("close", () => room.leave(socket));
  });

  const actualPort = await listen(http, port, host).catch((error) => {
    engine.close();
    throw error;
  });
  for (const origin of [...localOrigins(host, actualPort), ...origins]) allowed.add(origin);
  const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host.includes(":") ? `[${host}]` : host;
  const url = `http://${shownHost}:${actualPort}/`;
  log(`cometa chat: open ${url} in two windows`);
  return {
    url,
    engine,
    close: () =>
      new Promise((resolve) => {
        engine.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const origins = (process.env.ORIGINS ?? "").split(",").map((o) => o.trim()).filter(Boolean);
  await runExample(import.meta.url, ({ port }) =>
    startChatServer({ port, host: process.env.HOST ?? "127.0.0.1", origins, log: console.log }),
  );
}
