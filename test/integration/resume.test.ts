/**
 * Resumable sessions at their edges, on real servers through the fault proxy: past the resume
 * window, a session the server no longer knows, the server's replay buffer overflowing (each
 * side hands back exactly what it cannot vouch for, in order); and the stock peers either
 * side, for which nothing changes: cometa against engine.io's and socket.io's own servers, and
 * engine.io-client against cometa/server.
 */
import type { IncomingMessage } from "node:http";
import type { Socket as EngineSocket } from "engine.io";
import { Socket as StockClient } from "engine.io-client";
import { afterEach, describe, expect, test } from "vitest";
import { ReconnectingSocket, ResumeError, Socket } from "../../src/index.js";
import type { ReconnectingSocketEvents } from "../../src/reconnect.js";
import type { SocketOptions } from "../../src/socket.js";
import { ResumeBufferFullError, ResumeWindowError } from "../../src/server/index.js";
import { closed, collect, next, once, record, turns, within } from "../support/events.js";
import { nodeEnv } from "../support/node-env.js";
import { echo, type ServerSetup, startIoServer, startServer, type TestServer } from "../support/server.js";
import { type FaultProxy, startFaultProxy } from "../network/support/fault-proxy.js";
import { numbered } from "../network/support/scenario.js";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** A heartbeat that finds a dead path within half a second. */
const heartbeat = { pingInterval: 300, pingTimeout: 200 };

async function proxied(target: string): Promise<FaultProxy> {
  const proxy = await startFaultProxy(target);
  cleanup.push(() => proxy.close());
  return proxy;
}

function connect(url: string, options: SocketOptions = {}): Socket {
  const socket = new Socket(url, { env: nodeEnv(), ...options });
  cleanup.push(() => socket.state !== "closed" && socket.close());
  return socket;
}

/** Opens and, when `upgrade`, waits for the move to WebSocket. */
async function opened(socket: Socket, upgrade: boolean): Promise<void> {
  const upgraded: Promise<unknown> = upgrade ? next(socket, "upgrade") : Promise.resolve();
  await within(next(socket, "open"), 5000, "no open");
  await within(upgraded, 5000, "no upgrade");
}

/** Every HTTP request and WebSocket upgrade the server saw, by URL. */
function requestLog(server: TestServer): string[] {
  const urls: string[] = [];
  const log = (request: IncomingMessage) => urls.push(request.url ?? "");
  server.http.prependListener("request", log);
  server.http.prependListener("upgrade", log);
  return urls;
}

/**
 * Resolves once the server has seen the client acknowledge at least `count` of its messages,
 * on the wire: a `6a<N>` noop, or an `ack=N` on a receiving GET (docs/wire.md).
 */
function acknowledgedByClient(server: TestServer, session: EngineSocket, count: number): Promise<void> {
  return within(
    new Promise<void>((resolve) => {
      const done = () => {
        ws?.off("message", onFrame);
        session.off("upgrade", watch);
        server.http.off("request", onRequest);
        // the server handles what it just read on its own turn
        void turns(3).then(resolve);
      };
      const onRequest = (request: IncomingMessage) => {
        const ack = new URL(request.url ?? "/", "http://x").searchParams.get("ack");
        if (ack !== null && Number(ack) >= count) done();
      };
      // resumption's controls never reach engine.io's packet events: read the WebSocket's
      // frames, on the transport in use now or on the one the session upgrades to
      type Frames = { on(event: "message", listener: (data: unknown) => void): void; off(event: "message", listener: (data: unknown) => void): void };
      let ws: Frames | undefined;
      const onFrame = (data: unknown) => {
        const match = /^6a(\d+)$/.exec(String(data));
        if (match && Number(match[1]) >= count) done();
      };
      const watch = () => {
        ws?.off("message", onFrame);
        ws = (session.transport as unknown as { socket?: Frames }).socket;
        ws?.on("message", onFrame);
      };
      watch();
      session.on("upgrade", watch);
      server.http.on("request", onRequest);
    }),
    3000,
    `the client did not acknowledge ${count} messages`,
  );
}

/** The arguments of a ReconnectingSocket's next `event`. */
function nextOf<E extends keyof ReconnectingSocketEvents>(socket: ReconnectingSocket, event: E): Promise<ReconnectingSocketEvents[E]> {
  return new Promise((resolve) => socket.once(event, (...args) => resolve(args)));
}

/** The close reason that goes with the error that broke the transport. */
function reasonOf(error: Error): RegExp {
  return error.name === "HeartbeatError" ? /^ping timeout$/ : /^transport (error|close)$/;
}

/** An acknowledged exchange both ways: `count` messages each way, every one acknowledged. */
async function exchange(server: TestServer, socket: Socket, session: EngineSocket, count: number) {
  const up = numbered("before", 0, count);
  const down = numbered("s before", 0, count);
  const upstream = collect<string>(session);
  const downstream = collect(socket);
  const acknowledged: string[] = [];
  const clientAcked = acknowledgedByClient(server, session, count);
  for (const text of up) socket.send(text, () => acknowledged.push(text));
  for (const text of down) session.send(text);
  await within(upstream.until(count), 3000, "the server did not get the messages");
  await within(downstream.until(count), 3000, "the client did not get the messages");
  await clientAcked;
  // a resumable session's send callback runs on the server's acknowledgement
  await within(
    (async () => {
      while (acknowledged.length < count) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    3000,
    "the server did not acknowledge the messages",
  );
  expect(upstream.received).toEqual(up);
  expect(downstream.received).toEqual(down);
  expect(acknowledged).toEqual(up);
  return { upstream, downstream, acknowledged, up, down };
}

/** Resolves once `condition` holds, checked at each turn of the event loop. */
async function turnsUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe("the server closes a resumable session on websocket right after a message arrived", () => {
  // On WebSocket the server acknowledges with 6a<N> within 10 ms of delivering; the
  // acknowledgement still due must go before the 1, or the client hands back as unsent, and a
  // ReconnectingSocket sends again, a message the application received.
  test("the close carries the acknowledgement: nothing comes back as unsent, the send callback ran", async () => {
    const received: string[] = [];
    const server = await startServer({}, (session) =>
      session.on("message", (data: unknown) => {
        received.push(String(data));
        session.close();
      }),
    );
    const socket = connect(server.url, { transports: ["websocket"] });
    await within(once(socket, "open"), 3000, "no open");
    expect(socket.resumable).toBe(true);
    const clientClosed = closed(socket);
    let acknowledged = false;
    socket.send("hello", () => (acknowledged = true));
    const { details } = await within(clientClosed, 3000, "the client did not close");
    expect(received).toEqual(["hello"]);
    expect(details.unsent).toEqual([]);
    expect(acknowledged).toBe(true);
  });
});

describe.each([
  { name: "polling", options: { transports: ["polling"] } as SocketOptions, upgrade: false },
  { name: "websocket", options: {} as SocketOptions, upgrade: true },
  { name: "sse", options: { transports: ["polling", "sse"] } as SocketOptions, upgrade: true },
  { name: "xhr-streaming", options: { transports: ["polling", "xhr-streaming"] } as SocketOptions, upgrade: true },
])("cometa/server shut down under a resumable session on $name", ({ options, upgrade }) => {
  test("the server's close() sends the close packet: the client closes with it, no reattach to a server that is gone", async () => {
    const server = await startServer({}, echo);
    const socket = connect(server.url, options);
    const session = await server.nextConnection();
    await opened(socket, upgrade);
    expect(socket.resumable).toBe(true);
    const echoed = next(socket, "message");
    socket.send("before the shutdown");
    expect(await within(echoed, 3000, "no echo")).toEqual(["before the shutdown"]);
    // long-polling carries the 1 on a held poll: the shutdown comes while one is held (between
    // two polls there is no request to carry it, and the client cannot tell a server gone from a cut)
    await within(turnsUntil(() => session.transport.writable), 3000, "the transport is not writable");
    const events = record(socket, ["resuming", "close"]);
    const clientClosed = closed(socket);
    await server.close();
    const { reason } = await within(clientClosed, 3000, "the client did not close");
    // as a plain session closes on the server's close packet
    expect(reason).toBe("transport close");
    expect(events.map(([name]) => name)).toEqual(["close"]);
  });
});

describe.each([
  { name: "polling", options: { transports: ["polling"] } as SocketOptions, upgrade: false },
  { name: "websocket (upgraded)", options: {} as SocketOptions, upgrade: true },
])("cometa/server, resumable session on $name", ({ options, upgrade }) => {
  test("past the window: both sides close with the break's reason and hand back exactly what was not acknowledged, in order", async () => {
    const window = 300;
    const server = await startServer({ ...heartbeat, resume: { window } });
    const proxy = await proxied(server.url);
    const socket = connect(proxy.url, options);
    const session = await server.nextConnection();
    await opened(socket, upgrade);
    expect(socket.resumable).toBe(true);
    const { upstream, downstream, acknowledged, up, down } = await exchange(server, socket, session, 5);

    const resuming = next(socket, "resuming");
    const detached = once<[string, unknown]>(session, "detached");
    const serverClosed = once<[string, unknown]>(session, "close");
    const clientClosed = closed(socket);
    // the path goes away for longer than the window: every reattach is refused
    proxy.down();
    const lost = numbered("lost", 0, 3);
    for (const text of lost) socket.send(text, () => acknowledged.push(text));
    const serverLost = numbered("s lost", 0, 3);
    for (const text of serverLost) session.send(text);
    const [error] = await within(resuming, 3000, "no resuming");
    const queued = numbered("while resuming", 0, 3);
    for (const text of queued) socket.send(text, () => acknowledged.push(text));
    expect(socket.state).toBe("resuming");
    const [detachReason, detachDescription] = await within(detached, 3000, "the server did not detach the session");
    const serverQueued = numbered("s while detached", 0, 2);
    for (const text of serverQueued) session.send(text);

    const { reason, details } = await within(clientClosed, 5000, "the client did not close");
    expect(reason).toMatch(reasonOf(error));
    expect(details.error).toBeInstanceOf(ResumeError);
    expect(details.error!.cause).toBe(error);
    expect(details.error!.message).toMatch(/window/);
    expect(details.unsent).toEqual([...lost, ...queued]);
    expect(acknowledged).toEqual(up);

    const [serverReason, description] = await within(serverClosed, 5000, "the server did not close the session");
    expect(serverReason).toBe(detachReason);
    expect(description).toBeInstanceOf(ResumeWindowError);
    expect((description as ResumeWindowError).cause).toBe(detachDescription);
    expect((description as ResumeWindowError).undelivered).toEqual([...serverLost, ...serverQueued]);
    expect(upstream.received).toEqual(up);
    expect(downstream.received).toEqual(down);
  });

  test("a session the server no longer has: the reattach is refused and the client closes at once with what was not acknowledged", async () => {
    const server = await startServer({ ...heartbeat, resume: { window: 10_000 } });
    const proxy = await proxied(server.url);
    const socket = connect(proxy.url, options);
    const session = await server.nextConnection();
    await opened(socket, upgrade);
    const { upstream, acknowledged, up } = await exchange(server, socket, session, 3);

    const resuming = next(socket, "resuming");
    const clientClosed = closed(socket);
    proxy.blackHole();
    const lost = numbered("lost", 0, 3);
    for (const text of lost) socket.send(text, () => acknowledged.push(text));
    // the server ends the session meanwhile; its close packet goes into the black hole
    session.close();
    const [error] = await within(resuming, 3000, "no resuming");
    expect(error.name).toBe("HeartbeatError");
    const queued = numbered("while resuming", 0, 2);
    for (const text of queued) socket.send(text, () => acknowledged.push(text));
    const refusedAt = Date.now();
    proxy.restore({ reset: true });

    const { reason, details } = await within(clientClosed, 5000, "the client did not close");
    expect(reason).toBe("ping timeout");
    expect(details.error).toBeInstanceOf(ResumeError);
    expect(details.error!.cause).toBe(error);
    expect(details.error!.message).toMatch(/unknown/);
    expect(details.unsent).toEqual([...lost, ...queued]);
    expect(acknowledged).toEqual(up);
    expect(upstream.received).toEqual(up);
    // at once: not after the window
    expect(Date.now() - refusedAt).toBeLessThan(3000);
    expect(server.sessions).toHaveLength(1);
  });
});

describe.each([
  // the reattach goes on long-polling first, whose 400 the client reads
  { name: "websocket (upgraded)", options: {} as SocketOptions, upgrade: true },
  // the reattach is a WebSocket handshake answered 400
  { name: "websocket (forced)", options: { transports: ["websocket"] } as SocketOptions, upgrade: false },
])("overflow on $name", ({ options, upgrade }) => {
  test("a stalled client makes the session end with \"resume buffer full\" and exactly the undelivered messages; the client closes at once with its unsent", async () => {
    const maxBytes = 2000;
    const server = await startServer({ resume: { window: 10_000, maxBytes } });
    const proxy = await proxied(server.url);
    const socket = connect(proxy.url, options);
    const session = await server.nextConnection();
    await opened(socket, upgrade);
    const { upstream, downstream, acknowledged, up, down } = await exchange(server, socket, session, 3);

    const serverClosed = once<[string, unknown]>(session, "close");
    // the client stops reading and writing: nothing it is sent is acknowledged
    proxy.stall("both");
    const during = numbered("during", 0, 3);
    for (const text of during) socket.send(text, () => acknowledged.push(text));
    const sent: string[] = [];
    for (let i = 0; i < 40 && session.readyState === "open"; i++) {
      const text = `s ${i} ${"y".repeat(190)}`;
      sent.push(text);
      session.send(text);
      await turns(1);
    }
    const [reason, description] = await within(serverClosed, 3000, "the server did not end the session");
    expect(reason).toBe("resume buffer full");
    expect(description).toBeInstanceOf(ResumeBufferFullError);
    expect((description as ResumeBufferFullError).undelivered).toEqual(sent);
    // the session ended with the message that took it past maxBytes
    const bytes = (list: string[]) => list.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
    expect(bytes(sent.slice(0, -1))).toBeLessThanOrEqual(maxBytes);
    expect(bytes(sent)).toBeGreaterThan(maxBytes);

    // the client learns it when its connection breaks: the session is gone
    const clientClosed = closed(socket);
    const life = record(socket, ["resuming", "resumed", "upgrade", "error"]);
    proxy.cut();
    const { details } = await within(clientClosed, 5000, "the client did not close").catch((error: Error) => {
      throw new Error(`${error.message}: ${socket.state} on ${socket.transport.name}, events ${JSON.stringify(life)}`);
    });
    expect(details.error).toBeInstanceOf(ResumeError);
    expect(details.error!.message).toMatch(/unknown/);
    expect(details.unsent).toEqual(during);
    expect(acknowledged).toEqual(up);
    expect(upstream.received).toEqual(up);
    expect(downstream.received).toEqual(down);
  });
});

test("a WebSocket that breaks just after each upgrade: the session resumes on polling each time, never probes it a third time, and rememberUpgrade names the transport it ended on", async () => {
  const server = await startServer({ ...heartbeat, resume: { window: 10_000 } });
  const proxy = await proxied(server.url);
  // every WebSocket connection dies once 3 KB went through: past the upgrade, into the stream
  const isWebSocket = (head: string) => head.includes("transport=websocket");
  let websockets = 0;
  proxy.when(
    (head) => {
      if (!isWebSocket(head)) return false;
      websockets++;
      return true;
    },
    { dropAfter: 3000 },
  );
  const env = nodeEnv();
  const socket = connect(proxy.url, { env, rememberUpgrade: true });
  const life = record(socket, ["upgrade", "resuming", "resumed", "close"]);
  const session = await server.nextConnection();
  await within(next(socket, "open"), 5000, "no open");
  const upstream = collect<string>(session);
  const downstream = collect(socket);
  const up = numbered("c", 0, 600);
  const down = numbered("s", 0, 600);
  // both ways over 3 s, so each WebSocket dies a little way into the stream
  for (let i = 0; i < 30; i++) {
    for (let j = 0; j < 20; j++) {
      socket.send(up[i * 20 + j]!);
      session.send(down[i * 20 + j]!);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await within(Promise.all([upstream.until(600), downstream.until(600)]), 10_000, "not everything arrived").catch((error: Error) => {
    throw new Error(`${error.message}: server got ${upstream.received.length}, client ${downstream.received.length}, events ${JSON.stringify(life)}`);
  });
  const ended = socket.transport.name;
  expect(upstream.received).toEqual(up);
  expect(downstream.received).toEqual(down);
  const names = life.map(([name, arg]) => `${String(name)} ${name === "resuming" ? (arg as Error).name : String(arg)}`);
  expect(names.filter((name) => name.startsWith("upgrade"))).toEqual(["upgrade websocket", "upgrade websocket", `upgrade ${ended}`]);
  expect(names.filter((name) => name.startsWith("resumed"))).toEqual(["resumed polling", "resumed polling"]);
  expect(names.filter((name) => name.startsWith("close"))).toEqual([]);
  expect(websockets).toBe(2);
  expect(ended).not.toBe("websocket");
  expect(server.sessions).toHaveLength(1);

  // the next session, with the same storage, starts on what this one ended on
  socket.close();
  const again = connect(proxy.url, { env, rememberUpgrade: true });
  await within(next(again, "open"), 5000, "no open");
  expect(again.transport.name).toBe(ended);
  expect(websockets).toBe(2);
});

test("ReconnectingSocket: no disconnect while its session resumes; past the window one disconnect, and what was not acknowledged goes on the next session, in order", async () => {
  const window = 300;
  const received: string[] = [];
  const server = await startServer({ ...heartbeat, resume: { window } }, (session) =>
    session.on("message", (data: string) => received.push(data)),
  );
  const proxy = await proxied(server.url);
  const socket = new ReconnectingSocket(proxy.url, {
    env: nodeEnv(),
    transports: ["polling"],
    reconnect: { initialDelay: 20, maxDelay: 100, jitter: 0 },
  });
  cleanup.push(() => socket.close());
  const life: string[] = [];
  socket.on("resuming", (error) => life.push(`resuming ${error.name}`));
  socket.on("resumed", (transport) => life.push(`resumed ${transport}`));
  socket.on("disconnect", (reason, details) => life.push(`disconnect ${reason} ${details.error ? `${details.error.name}: ${details.error.message}` : ""}`));
  socket.on("reconnect", () => life.push("reconnect"));
  await within(nextOf(socket, "open"), 5000, "no open");
  const before = numbered("before", 0, 3);
  const acknowledged: string[] = [];
  for (const text of before) socket.send(text, () => acknowledged.push(text));
  await within(
    (async () => {
      while (acknowledged.length < before.length) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    3000,
    "no acknowledgement",
  );

  const resuming = nextOf(socket, "resuming");
  const disconnected = nextOf(socket, "disconnect");
  proxy.down();
  const lost = numbered("lost", 0, 3);
  for (const text of lost) socket.send(text);
  const brokenAt = Date.now();
  const [error] = await within(resuming, 3000, "no resuming");
  const queued = numbered("while resuming", 0, 2);
  for (const text of queued) socket.send(text);
  const [reason, details] = await within(disconnected, 5000, "no disconnect");
  // the session tried for its window before it gave up
  expect(Date.now() - brokenAt, JSON.stringify(life)).toBeGreaterThanOrEqual(window);
  expect(reason).toMatch(reasonOf(error));
  expect(details.error).toBeInstanceOf(ResumeError);
  expect(details.error!.cause).toBe(error);
  // kept for the next session, not handed back
  expect(details.unsent).toEqual([]);

  const reconnected = nextOf(socket, "reconnect");
  proxy.up();
  await within(reconnected, 5000, "no reconnect");
  await within(
    (async () => {
      while (received.length < before.length + lost.length + queued.length) await new Promise((resolve) => setTimeout(resolve, 10));
    })(),
    3000,
    `not everything arrived: ${JSON.stringify(received)}`,
  );
  expect(received).toEqual([...before, ...lost, ...queued]);
  expect(server.sessions).toHaveLength(2);
  expect(life.map((event) => event.split(" ")[0])).toEqual(["resuming", "disconnect", "reconnect"]);
});

/** Packet types a stock engine.io client sends. */
const stockClientPackets = ["message", "pong", "upgrade", "close"];

describe.each([
  { server: "engine.io", name: "polling", options: { transports: ["polling"] } as SocketOptions, upgrade: false },
  { server: "engine.io", name: "websocket (upgraded)", options: {} as SocketOptions, upgrade: true },
  { server: "socket.io", name: "polling", options: { transports: ["polling"] } as SocketOptions, upgrade: false },
  { server: "socket.io", name: "websocket (upgraded)", options: {} as SocketOptions, upgrade: true },
])("cometa against a stock $server server on $name", ({ server: kind, options, upgrade }) => {
  /** The stock server, its sessions' packets, and a message the server takes. */
  async function stockServer() {
    const packets: string[] = [];
    const record = (session: EngineSocket) =>
      session.on("packet", (packet: { type: string; data?: unknown }) =>
        packets.push(packet.data === undefined ? packet.type : `${packet.type} ${String(packet.data)}`),
      );
    if (kind === "engine.io") {
      const server = await startServer({ engine: "stock", ...heartbeat }, (session) => {
        record(session);
        echo(session);
      });
      return { server, packets, path: "/engine.io/", nextConnection: () => server.nextConnection(), message: (i: number) => `m ${i}` };
    }
    const io = await startIoServer("stock", { pingInterval: heartbeat.pingInterval, pingTimeout: heartbeat.pingTimeout });
    const sessions: EngineSocket[] = [];
    const waiters: ((session: EngineSocket) => void)[] = [];
    io.io.engine.on("connection", (session: EngineSocket) => {
      record(session);
      sessions.push(session);
      waiters.shift()?.(session);
    });
    io.io.on("connection", (socket) => socket.on("m", (i: number) => socket.emit("m", i)));
    const server = io as unknown as TestServer;
    return {
      server,
      packets,
      path: "/socket.io/",
      nextConnection: () => (sessions.length > 0 ? Promise.resolve(sessions[0]!) : new Promise<EngineSocket>((resolve) => waiters.push(resolve))),
      // socket.io EVENT packets, so the server reads them as events of the main namespace
      message: (i: number) => `2["m",${i}]`,
    };
  }

  test("offers, gets no terms, stays a plain session: no stray packets, and a break closes with unsent as before", async () => {
    const { server, packets, path, nextConnection, message } = await stockServer();
    const urls = requestLog(server);
    const proxy = await proxied(server.url);
    const socket = connect(proxy.url, { ...options, path });
    const resumes: string[] = [];
    socket.on("resuming", (error) => resumes.push(error.name));
    await opened(socket, upgrade);
    await nextConnection();
    expect(socket.resumable).toBe(false);
    expect(socket.handshake).not.toHaveProperty("resume");
    const downstream = collect(socket);
    if (kind === "socket.io") {
      // socket.io's CONNECT to the main namespace (engine.io message "0", "40" on the wire)
      socket.send("0");
      await within(downstream.until(1), 3000, "socket.io did not answer the namespace connect");
    }
    const echoes = downstream.received.length;
    const texts = Array.from({ length: 20 }, (_, i) => message(i));
    for (const text of texts) socket.send(text);
    await within(downstream.until(echoes + 20), 3000, "no echoes");
    expect(downstream.received.slice(echoes)).toEqual(texts);
    // a few heartbeats, answered
    for (let i = 0; i < 2; i++) await within(next(socket, "ping"), 3000, "no ping");

    // the offer in the handshake, and nothing else of resumption on the wire
    expect(urls[0]).toMatch(/[?&]resume=1(&|$)/);
    expect(urls.filter((url) => /[?&](ack|reattach)=/.test(url))).toEqual([]);
    expect(packets.filter((packet) => !stockClientPackets.includes(packet.split(" ")[0]!))).toEqual([]);

    const clientClosed = closed(socket);
    proxy.down();
    const after = Array.from({ length: 3 }, (_, i) => message(100 + i));
    for (const text of after) socket.send(text);
    const { reason, details } = await within(clientClosed, 3000, "the client did not close");
    expect(reason).toMatch(/^(transport (error|close)|ping timeout)$/);
    expect(resumes).toEqual([]);
    expect(details.error).not.toBeInstanceOf(ResumeError);
    // what was handed to the network is gone with the session; the rest comes back, in order
    expect(details.unsent).toEqual(after.slice(after.length - details.unsent.length));
    if (!upgrade) expect(details.unsent).toEqual(after);
    expect(packets.filter((packet) => !stockClientPackets.includes(packet.split(" ")[0]!))).toEqual([]);
  });
});

describe.each([
  { name: "polling", transports: ["polling"] },
  { name: "websocket (upgraded)", transports: ["polling", "websocket"] },
])("engine.io-client against cometa/server on $name", ({ name, transports }) => {
  test("no terms, no controls, and a break ends the session on both sides at once, as with engine.io's own server", async () => {
    const server = await startServer({ ...heartbeat } as ServerSetup, echo);
    const proxy = await proxied(server.url);
    const client = new StockClient(proxy.url, { transports });
    cleanup.push(() => client.close());
    const packets: { type: string; data?: unknown }[] = [];
    client.on("packet", (packet) => packets.push(packet));
    const handshake = new Promise<Record<string, unknown>>((resolve) => client.once("handshake", (data) => resolve(data as unknown as Record<string, unknown>)));
    const session = await server.nextConnection();
    const detached: string[] = [];
    session.on("detached", (reason: string) => detached.push(reason));
    expect(await within(handshake, 3000, "no handshake")).not.toHaveProperty("resume");
    if (name !== "polling") await within(new Promise((resolve) => client.once("upgrade", resolve)), 3000, "no upgrade");

    const received: unknown[] = [];
    client.on("message", (data) => received.push(data));
    const texts = numbered("stock", 0, 20);
    for (const text of texts) client.send(text);
    await within(
      (async () => {
        while (received.length < texts.length) await new Promise((resolve) => setTimeout(resolve, 10));
      })(),
      3000,
      "no echoes",
    );
    expect(received).toEqual(texts);
    await within(new Promise<void>((resolve) => client.once("ping", () => resolve())), 3000, "no ping");
    // no resumption control ever reached the stock client
    expect(packets.filter((packet) => packet.type === "noop" && packet.data !== undefined)).toEqual([]);

    const serverClosed = once<[string]>(session, "close");
    const clientClosed = new Promise<string>((resolve) => client.once("close", (reason) => resolve(reason)));
    proxy.down();
    expect(await within(clientClosed, 3000, "the client did not close")).toMatch(/^(transport (error|close)|ping timeout)$/);
    const [reason] = await within(serverClosed, 3000, "the server kept the session");
    expect(reason).toMatch(/^(transport (error|close)|ping timeout)$/);
    expect(detached).toEqual([]);
  });
});
