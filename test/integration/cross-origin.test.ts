// @vitest-environment jsdom
/**
 * Cross-origin with credentials through the servers' own `cors` option. jsdom enforces CORS on
 * XMLHttpRequest like a browser does: the page is http://localhost:3000, the server another
 * origin on loopback.
 */
import { expect, test } from "vitest";
import { Socket } from "../../src/index.js";
import { closed, messages, next } from "../support/events.js";
import { echo, startIoServer, startServer, type TestServer } from "../support/server.js";
import { nodeEnv } from "../support/node-env.js";

// jsdom's XMLHttpRequest (CORS enforced) with `ws`: jsdom's own WebSocket fails inside vitest
// on mismatched Event classes, and CORS does not govern WebSocket anyway
const { WebSocket } = nodeEnv();

const pageOrigin = "http://localhost:3000";
let server: TestServer | undefined;
test("the page's origin is this test's", () => {
  expect(window.location.origin).toBe(pageOrigin);
});

test("connects cross-origin with credentials, sends the session cookie back, upgrades and echoes", async () => {
  server = await startServer({ engine: "stock", cors: { origin: pageOrigin, credentials: true }, cookie: { name: "affinity", sameSite: "lax" } }, echo);
  const cookies: (string | undefined)[] = [];
  server.http.prependListener("request", (request) => cookies.push(request.headers.cookie));
  const socket = new Socket(server.url, { withCredentials: true, env: { WebSocket } });
  await next(socket, "open");
  await next(socket, "upgrade");
  socket.send("across origins");
  expect(await messages(socket, 1)).toEqual(["across origins"]);
  // the handshake set the cookie; the requests after it carried it back
  expect(cookies[0]).toBeUndefined();
  expect(cookies.slice(1).some((cookie) => cookie?.includes("affinity="))).toBe(true);
  socket.close();
});

test("a server whose cors option does not allow this origin is a typed error, not a hang", async () => {
  server = await startServer({ engine: "stock", cors: { origin: "http://elsewhere.test", credentials: true } }, echo);
  const socket = new Socket(server.url, { withCredentials: true, env: { WebSocket } });
  const { reason, details } = await closed(socket);
  expect(reason).toBe("transport error");
  expect(details.error).toMatchObject({ name: "TransportError", transport: "polling" });
});

test("a stock socket.io 4.8 server's engine accepts cometa cross-origin", async () => {
  const { io, url } = await startIoServer("stock", { cors: { origin: pageOrigin, credentials: true } });
  io.on("connection", (socket) => socket.on("echo", (value: string) => socket.emit("echo", value)));
  const socket = new Socket(url, { path: "/socket.io/", withCredentials: true, env: { WebSocket } });
  const upgraded = next(socket, "upgrade");
  await next(socket, "open");
  // socket.io's packets ride inside engine.io messages: CONNECT (0), then an EVENT (2)
  socket.send("0");
  const [connected] = await messages(socket, 1);
  expect(connected).toMatch(/^0\{"sid":"[\w-]+"\}$/);
  await upgraded;
  socket.send('2["echo","héllo"]');
  expect(await messages(socket, 1)).toEqual(['2["echo","héllo"]']);
  socket.close();
});
