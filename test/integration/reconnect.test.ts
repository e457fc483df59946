/** ReconnectingSocket against real engine.io servers that go away and come back. */
import type { Socket as EngineSocket } from "engine.io";
import { afterEach, expect, test } from "vitest";
import { ReconnectingSocket } from "../../src/index.js";
import type { ReconnectingSocketEvents } from "../../src/reconnect.js";
import { nodeEnv } from "../support/node-env.js";
import { type ServerSetup, startServer, type TestServer } from "../support/server.js";

/** A stock engine.io server that can be stopped and started again on the same port. */
class RestartableServer {
  private current: TestServer | undefined;
  port = 0;
  received: string[] = [];
  sessions: EngineSocket[] = [];

  async start(options: ServerSetup = {}) {
    this.current = await startServer({ engine: "stock", ...options, port: this.port }, (socket) => {
      this.sessions.push(socket);
      socket.on("message", (data: string) => {
        this.received.push(data);
        socket.send(`echo ${data}`);
      });
    });
    this.port = this.current.port;
    return this;
  }

  stop(): Promise<void> {
    return this.current!.close();
  }

  get engine() {
    return this.current!.engine;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
}

let server: RestartableServer | undefined;
const sockets: ReconnectingSocket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
  server = undefined;
});

function reconnecting(url: string, options: ConstructorParameters<typeof ReconnectingSocket>[1] = {}) {
  const socket = new ReconnectingSocket(url, {
    env: nodeEnv(),
    reconnect: { initialDelay: 20, maxDelay: 200, jitter: 0 },
    ...options,
  });
  sockets.push(socket);
  return socket;
}

function next<E extends keyof ReconnectingSocketEvents>(socket: ReconnectingSocket, event: E) {
  return new Promise<ReconnectingSocketEvents[E]>((resolve) => socket.once(event, (...args) => resolve(args)));
}

function collect(socket: ReconnectingSocket, count: number) {
  const received: unknown[] = [];
  return new Promise<unknown[]>((resolve) => {
    const off = socket.on("message", (data) => {
      received.push(data);
      if (received.length === count) {
        off();
        resolve(received);
      }
    });
  });
}

test("survives a server restart and delivers what was written meanwhile, in order", async () => {
  server = await new RestartableServer().start();
  const socket = reconnecting(server.url);
  await next(socket, "open");
  socket.send("before");
  expect(await collect(socket, 1)).toEqual(["echo before"]);

  const disconnected = next(socket, "disconnect");
  await server.stop();
  const [reason] = await disconnected;
  // engine.close() ends sessions with a close packet; a crash would be a transport error
  expect(reason).toMatch(/^transport (close|error)$/);
  expect(socket.state).toBe("reconnecting");
  const sentWhileDown: string[] = [];
  const callbacks: string[] = [];
  for (let i = 0; i < 50; i++) {
    sentWhileDown.push(`during ${i}`);
    socket.send(`during ${i}`, () => callbacks.push(`during ${i}`));
  }
  const attempts: number[] = [];
  socket.on("reconnecting", (attempt) => attempts.push(attempt));

  const reconnected = next(socket, "reconnect");
  const echoes = collect(socket, 50);
  await server.start();
  await reconnected;
  expect(await echoes).toEqual(sentWhileDown.map((text) => `echo ${text}`));
  expect(server.received).toEqual(["before", ...sentWhileDown]);
  expect(callbacks).toEqual(sentWhileDown);
  expect(server.sessions).toHaveLength(2);
});

test('a "Session ID unknown" refusal opens a fresh session at once, without backoff', async () => {
  server = await new RestartableServer().start({ pingInterval: 100, pingTimeout: 1000 });
  const socket = reconnecting(server.url, { transports: ["polling"], reconnect: { initialDelay: 5000, jitter: 0 } });
  await next(socket, "open");
  // the server forgets the session, as a restarted node or another node behind a balancer would
  const clients = (server.engine as unknown as { clients: Record<string, EngineSocket>; clientsCount: number });
  const [sid] = Object.keys(clients.clients);
  delete clients.clients[sid!];
  clients.clientsCount--;
  const refused = next(socket, "error");
  const scheduled = next(socket, "reconnecting");
  const reconnected = next(socket, "reconnect");
  const [error] = await refused;
  expect(error).toMatchObject({ name: "ServerError", code: 1 });
  const [, delay] = await scheduled;
  expect(delay).toBe(0);
  await reconnected;
  socket.send("fresh");
  expect(await collect(socket, 1)).toEqual(["echo fresh"]);
});

test("gives up after maxAttempts and hands back what was never sent", async () => {
  server = await new RestartableServer().start();
  const url = server.url;
  await server.stop();
  const socket = reconnecting(url, { reconnect: { initialDelay: 5, maxDelay: 5, jitter: 0, maxAttempts: 3 } });
  socket.send("never delivered");
  const attempts: number[] = [];
  socket.on("reconnecting", (attempt) => attempts.push(attempt));
  const failed = next(socket, "reconnectFailed");
  const [reason, details] = await next(socket, "close");
  await failed;
  expect(reason).toBe("reconnect failed");
  expect(attempts).toEqual([1, 2, 3]);
  expect(details.unsent).toEqual(["never delivered"]);
  expect(() => socket.send("after")).toThrow(/closed socket/);
});

test("reports what does not fit in the buffer as an error, never dropping silently", async () => {
  server = await new RestartableServer().start();
  const url = server.url;
  await server.stop();
  const socket = reconnecting(url, { buffer: { maxMessages: 2, maxBytes: 1000 } });
  const errors: unknown[] = [];
  socket.on("error", (error) => error.name === "BufferOverflowError" && errors.push(error));
  socket.send("one");
  socket.send("two");
  socket.send("three");
  socket.send("x".repeat(2000));
  expect(errors).toHaveLength(2);
  expect(errors.map((error) => (error as { messages: unknown[] }).messages)).toEqual([["three"], ["x".repeat(2000)]]);
  socket.close();
});

test("waits while offline and retries at once when the browser says it is online", async () => {
  server = await new RestartableServer().start();
  const url = server.url;
  await server.stop();
  const window = Object.assign(new EventTarget(), { navigator: { onLine: false } });
  const socket = reconnecting(url, {
    env: nodeEnv({ window: window as unknown as Window }),
    reconnect: { initialDelay: 60_000, jitter: 0 },
  });
  await next(socket, "reconnecting");
  await server.start();
  window.navigator.onLine = true;
  // the first session never opened: this is its first open, not a reconnection
  const reconnected = next(socket, "open");
  window.dispatchEvent(new Event("online"));
  expect(socket.state).toBe("reconnecting");
  await reconnected;
  expect(socket.state).toBe("open");
  const closed = next(socket, "close");
  socket.close();
  // as a Socket's: closing while the session sends what was queued, then closed
  expect(socket.state).toBe("closing");
  await closed;
  expect(socket.state).toBe("closed");
});

test("close() while connected flushes, closes once and stops reconnecting", async () => {
  server = await new RestartableServer().start();
  const socket = reconnecting(server.url);
  await next(socket, "open");
  socket.send("last");
  const closed = next(socket, "close");
  socket.close();
  const [reason, details] = await closed;
  expect(reason).toBe("forced close");
  expect(details.unsent).toEqual([]);
  expect(server.received).toEqual(["last"]);
  expect(socket.state).toBe("closed");
});

test("a page waking up checks the heartbeat on the clock and reconnects a dead session", async () => {
  server = await new RestartableServer().start();
  let skew = 0;
  const window = Object.assign(new EventTarget(), { navigator: { onLine: true } });
  const socket = reconnecting(server.url, {
    env: nodeEnv({ window: window as unknown as Window, now: () => Date.now() + skew }),
  });
  await next(socket, "open");
  const disconnected = next(socket, "disconnect");
  const reconnected = next(socket, "reconnect");
  // a throttled background tab: an hour passed on the clock, and no timer has fired
  skew = 3_600_000;
  window.dispatchEvent(new Event("focus"));
  const [reason, details] = await disconnected;
  expect(reason).toBe("ping timeout");
  expect(details.error?.name).toBe("HeartbeatError");
  skew = 0;
  await reconnected;
  socket.send("after waking");
  expect(await collect(socket, 1)).toEqual(["echo after waking"]);
});

test("garbage from the server: a typed error, a clean close, then a fresh session", async () => {
  // the first session's poll answers garbage; the next handshake finds a sane server
  let handshakes = 0;
  let greeted = false;
  const { startRawServer, openPacket } = await import("../support/server.js");
  const raw = await startRawServer((request, response) => {
    if (request.method === "POST") return response.end("ok");
    if (!request.url?.includes("sid=")) {
      handshakes++;
      return response.end(openPacket({ sid: `s${handshakes}` }));
    }
    if (request.url?.includes("sid=s1")) return response.end("\u0000garbage\x1e{}");
    // the second session: one message, then its polls are held
    if (!greeted) {
      greeted = true;
      response.end("4hello again");
    }
  });
  try {
    const socket = reconnecting(raw.url, { transports: ["polling"] });
    const errors: string[] = [];
    socket.on("error", (error) => errors.push(error.name));
    const [reason] = await next(socket, "disconnect");
    expect(reason).toBe("parse error");
    expect(errors).toEqual(["ProtocolError"]);
    await next(socket, "reconnect");
    expect(await collect(socket, 1)).toEqual(["hello again"]);
    socket.close();
  } finally {
    await raw.close();
  }
});

test("a message over the server's maxPayload (polling POST answered 413) comes back in disconnect's unsent once; the rest arrives in order, no reconnection loop", async () => {
  server = await new RestartableServer().start({ maxHttpBufferSize: 1000 });
  const socket = reconnecting(server.url, { transports: ["polling"], upgrade: false });
  await next(socket, "open");
  const big = "x".repeat(5000);
  const disconnected = next(socket, "disconnect");
  socket.send(big).send("after");
  const [reason, details] = await disconnected;
  expect(reason).toBe("transport error");
  expect(details.error!.message).toMatch(/HTTP 413/);
  expect(details.unsent).toEqual([big]);
  await next(socket, "reconnect");
  const echoed = await next(socket, "message");
  expect(echoed).toEqual(["echo after"]);
  expect(server.received).toEqual(["after"]);
  expect(server.sessions).toHaveLength(2);
  expect(socket.state).toBe("open");
});
