// socket.io chat on cometa: rooms and acknowledgements, socket.io 4.8 bound to cometa/server,
// the page on dist/socket.io.min.js (socket.io-client 4.8 on cometa's seven transports).
//
//   npm run demo:socket.io        (or: npm run build && node examples/socket.io/server.mjs; PORT, HOST)
//
// Events. client -> server: join(room, name, ack) acks {room, members}; say(text, ack) acks
// {delivered}. server -> room: joined {name, members}, left {name, members}, message {from, text, at}.
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { Server as SocketIoServer } from "socket.io";
import { importBuilt, listen, requireBuilt, runExample } from "../support.mjs";

const here = (file) => new URL(file, import.meta.url);
const files = {
  "/": [here("./index.html"), "text/html; charset=utf-8"],
  "/socket.io.min.js": [here("../../dist/socket.io.min.js"), "text/javascript; charset=utf-8"],
};
export const rooms = ["lobby", "cometa", "random"];
const limits = { name: 24, text: 500 };

const clean = (value, max) => (typeof value === "string" ? value.replace(/[\p{Cc}]/gu, "").trim().slice(0, max) : "");

/** Starts the chat; resolves to its URL and a `close()`. */
export async function start({ port = 0, host = "127.0.0.1" } = {}) {
  requireBuilt(Object.values(files).map(([url]) => url));
  const { Server: CometaServer } = await importBuilt(here("../../dist/server.mjs"));
  const http = createServer(async (req, res) => {
    const file = files[new URL(req.url, "http://x").pathname];
    if (!file) return res.writeHead(404).end();
    res.writeHead(200, { "Content-Type": file[1], "Cache-Control": "no-cache" }).end(await readFile(file[0]));
  });
  // cometa/server: engine.io with sse, xhr-streaming, iframe and short-polling added
  const engine = new CometaServer({ path: "/socket.io/", allowedOrigins: (origin) => origin === pageOrigin() });
  engine.attach(http, { path: "/socket.io/" });
  const io = new SocketIoServer();
  io.bind(engine);
  const pageOrigin = () => `http://${host.includes(":") ? `[${host}]` : host}:${http.address().port}`;

  const members = (room) => [...(io.sockets.adapter.rooms.get(room) ?? [])].map((id) => io.sockets.sockets.get(id)?.data.name);

  io.on("connection", (socket) => {
    const leave = () => {
      const { room, name } = socket.data;
      if (!room) return;
      socket.leave(room);
      io.to(room).emit("left", { name, members: members(room) });
    };
    socket.on("join", (room, name, ack) => {
      if (typeof ack !== "function") return;
      if (!rooms.includes(room)) return ack({ error: `no room ${JSON.stringify(room)}` });
      name = clean(name, limits.name);
      if (!name) return ack({ error: "a name is required" });
      leave();
      socket.data = { room, name };
      socket.join(room);
      socket.to(room).emit("joined", { name, members: members(room) });
      ack({ room, members: members(room) });
    });
    socket.on("say", async (text, ack) => {
      if (typeof ack !== "function") return;
      const { room, name } = socket.data;
      text = clean(text, limits.text);
      if (!room || !text) return ack({ error: room ? "empty message" : "join a room first" });
      io.to(room).emit("message", { from: name, text, at: Date.now() });
      ack({ delivered: (await io.in(room).fetchSockets()).length });
    });
    socket.on("disconnect", leave);
  });

  const bound = await listen(http, port, host);
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${bound}/`,
    io,
    close: () =>
      new Promise((resolve) => {
        io.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  runExample(import.meta.url, async ({ port }) => {
    const { url } = await start({ port, host: process.env.HOST ?? "127.0.0.1" });
    console.log(`socket.io chat on cometa: ${url}`);
  });
}
