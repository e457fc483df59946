/** The fault proxy itself, against a TCP echo server: each fault does what it says, no more. */
import { createServer as createHttpServer } from "node:http";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { afterEach, expect, test } from "vitest";
import { type FaultProxy, startFaultProxy } from "./support/fault-proxy.js";

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as { port: number }).port;
}

/** A TCP server echoing every byte, tracking its open sockets. */
async function echoServer() {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    socket.pipe(socket);
  });
  const port = await listen(server);
  cleanup.push(() => sockets.forEach((socket) => socket.destroy()));
  return { port, sockets };
}

async function proxyTo(port: number): Promise<FaultProxy> {
  const proxy = await startFaultProxy(port);
  cleanup.push(() => proxy.close());
  return proxy;
}

/** A client connection that collects what it reads and says when it closed. */
async function dial(port: number) {
  const socket = createConnection({ port, host: "127.0.0.1" });
  socket.on("error", () => {});
  cleanup.push(() => void socket.destroy());
  let received = "";
  const waiters: (() => void)[] = [];
  socket.setEncoding("latin1").on("data", (chunk: string) => {
    received += chunk;
    waiters.splice(0).forEach((wake) => wake());
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  // a refused connection may close before it reports being connected
  await Promise.race([new Promise<void>((resolve) => socket.once("connect", () => resolve())), closed]);
  return {
    socket,
    closed,
    get received() {
      return received;
    },
    /** Resolves once `text` has been read in all. */
    read: (length: number) =>
      new Promise<string>((resolve) => {
        const check = () => (received.length >= length ? resolve(received) : waiters.push(check));
        check();
      }),
  };
}

/** Resolves when `emitter` emitted `event` (bounded by the test timeout). */
const once = (emitter: FaultProxy, event: string) => new Promise<void>((resolve) => emitter.once(event, () => resolve()));

test("forwards both ways, counts connections and forgets closed ones", async () => {
  const { port } = await echoServer();
  const proxy = await proxyTo(port);
  const client = await dial(proxy.port);
  client.socket.write("hello");
  expect(await client.read(5)).toBe("hello");
  expect(proxy.open).toBe(1);
  expect(proxy.accepted).toBe(1);
  const released = once(proxy, "release");
  client.socket.end();
  await released;
  expect(proxy.open).toBe(0);
});

test("cut() destroys every open connection on both sides", async () => {
  const { port, sockets } = await echoServer();
  const proxy = await proxyTo(port);
  const clients = await Promise.all([dial(proxy.port), dial(proxy.port)]);
  for (const client of clients) client.socket.write("x");
  await Promise.all(clients.map((client) => client.read(1)));
  expect(sockets.size).toBe(2);
  proxy.cut();
  await Promise.all(clients.map((client) => client.closed));
  expect(proxy.open).toBe(0);
  await proxy.openAtMost(0);
});

test("refuse() closes new connections until accept()", async () => {
  const { port } = await echoServer();
  const proxy = await proxyTo(port);
  proxy.refuse();
  const refused = await dial(proxy.port);
  await refused.closed;
  expect(proxy.open).toBe(0);
  proxy.accept();
  const client = await dial(proxy.port);
  client.socket.write("back");
  expect(await client.read(4)).toBe("back");
});

test("stall() holds data on open connections without closing them; new ones are unaffected; resume() flushes in order", async () => {
  const { port } = await echoServer();
  const proxy = await proxyTo(port);
  const stalled = await dial(proxy.port);
  stalled.socket.write("a");
  await stalled.read(1);
  proxy.stall();
  stalled.socket.write("b");
  stalled.socket.write("c");
  // a new connection goes through, so the old one had its chance to forward too
  const fresh = await dial(proxy.port);
  fresh.socket.write("fresh");
  expect(await fresh.read(5)).toBe("fresh");
  expect(stalled.received).toBe("a");
  expect(stalled.socket.destroyed).toBe(false);
  proxy.resume();
  expect(await stalled.read(3)).toBe("abc");
});

test("a stalled connection passes no close either (a black hole)", async () => {
  const { port, sockets } = await echoServer();
  const proxy = await proxyTo(port);
  const client = await dial(proxy.port);
  client.socket.write("a");
  await client.read(1);
  proxy.stall("both");
  for (const socket of sockets) socket.destroy();
  // the server side is gone, the client still sees an open connection
  const fresh = await dial(proxy.port);
  fresh.socket.write("z");
  await fresh.read(1);
  expect(client.socket.destroyed).toBe(false);
  expect(proxy.open).toBe(2);
});

test("delay(ms) holds every chunk that long, in order", async () => {
  const { port } = await echoServer();
  const proxy = await proxyTo(port);
  proxy.delay(50);
  const client = await dial(proxy.port);
  const start = Date.now();
  client.socket.write("1");
  client.socket.write("2");
  client.socket.write("3");
  expect(await client.read(3)).toBe("123");
  // up and down: at least two delays
  expect(Date.now() - start).toBeGreaterThanOrEqual(95);
});

test("dropAfter(bytes) forwards exactly that many bytes, then closes", async () => {
  const { port } = await echoServer();
  const proxy = await proxyTo(port);
  proxy.dropAfter(10);
  const client = await dial(proxy.port);
  client.socket.write("0123456789abcdef");
  await client.closed;
  // 10 bytes up, so the echo of those 10 has no budget left
  expect(client.received).toBe("");
  proxy.dropAfter(20);
  const second = await dial(proxy.port);
  second.socket.write("0123456789abcdef");
  await second.closed;
  expect(second.received).toBe("0123");
});

test("when(match) applies a fault to matching connections only; stallDownAfterHeaders lets the headers through", async () => {
  const http = createHttpServer((request, response) => {
    response.writeHead(200, { "Content-Type": "text/plain" });
    response.flushHeaders();
    setImmediate(() => response.end(request.url === "/held" ? "body" : "plain"));
  });
  const port = await listen(http);
  cleanup.push(() => http.closeAllConnections());
  const proxy = await proxyTo(port);
  proxy.when((head) => head.startsWith("GET /held "), { stallDownAfterHeaders: true });
  const held = await dial(proxy.port);
  held.socket.write("GET /held HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const plain = await dial(proxy.port);
  plain.socket.write("GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  await plain.closed;
  expect(plain.received).toMatch(/^HTTP\/1.1 200 OK[\s\S]*plain\r\n0\r\n\r\n$/);
  await held.read(1);
  expect(held.received).toMatch(/^HTTP\/1.1 200 OK\r\n[\s\S]*\r\n\r\n$/);
  expect(held.socket.destroyed).toBe(false);
});

test("target changes affect new connections only", async () => {
  const first = await echoServer();
  const second = await echoServer();
  const proxy = await proxyTo(first.port);
  const old = await dial(proxy.port);
  old.socket.write("o");
  await old.read(1);
  proxy.target = second.port;
  const fresh = await dial(proxy.port);
  fresh.socket.write("n");
  await fresh.read(1);
  expect(first.sockets.size).toBe(1);
  expect(second.sockets.size).toBe(1);
});
