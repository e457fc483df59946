/**
 * ReconnectingSocket on real sockets through the fault proxy: network cuts, a server restart
 * behind a stable address, a lost session id, backoff, and a black-holed heartbeat.
 */
import type { Socket as EngineSocket } from "engine.io";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { ReconnectingSocket } from "../../src/index.js";
import type { ReconnectingSocketEvents, ReconnectingSocketOptions } from "../../src/reconnect.js";
import { Server as CometaServer } from "../../src/server/index.js";
import { startServer as startTestServer, type TestServer } from "../support/server.js";
import { nodeEnv } from "../support/node-env.js";
import { type FaultProxy, startFaultProxy } from "./support/fault-proxy.js";
import { measure, numbered, printMeasurements, trackConnections } from "./support/scenario.js";
import { closeSocket, within } from "../support/events.js";

const servers: TestServer[] = [];
let proxy: FaultProxy | undefined;
const sockets: ReconnectingSocket[] = [];
afterEach(async () => {
  await Promise.all(sockets.splice(0).map(closeSocket));
  await proxy?.close();
  for (const server of servers.splice(0)) await server.close().catch(() => {});
  proxy = undefined;
});
afterAll(() => printMeasurements("ReconnectingSocket through the fault proxy:"));

/** Every message any session of any server received, in order; each is echoed back. */
let received: string[] = [];

async function startServer(options: Parameters<typeof startTestServer>[0] = {}) {
  // resumption off unless a test turns it on: a loss then ends the session, and what is tested
  // is ReconnectingSocket's own way back, a new session
  const server = await startTestServer({ resume: false, ...options }, (socket: EngineSocket) =>
    socket.on("message", (data: string) => {
      received.push(data);
      socket.send(data);
    }),
  );
  servers.push(server);
  return { server, connections: trackConnections(server.http) };
}

/** Kills a server as a crash would: connections reset first, so no close packet goes out. */
async function crash({ server, connections }: Awaited<ReturnType<typeof startServer>>) {
  connections.destroyAll();
  await server.close();
}

function reconnecting(options: ReconnectingSocketOptions = {}) {
  const socket = new ReconnectingSocket(proxy!.url, {
    env: nodeEnv(),
    reconnect: { initialDelay: 20, maxDelay: 200, jitter: 0 },
    ...options,
  });
  sockets.push(socket);
  return socket;
}

function next<E extends keyof ReconnectingSocketEvents>(socket: ReconnectingSocket, event: E, ms = 5000) {
  return within(
    new Promise<ReconnectingSocketEvents[E]>((resolve) => socket.once(event, (...args) => resolve(args))),
    ms,
    `no ${event} event`,
  );
}

/** Resolves with the messages received once there are `count`. */
function messages(socket: ReconnectingSocket, count: number, ms = 5000) {
  const list: unknown[] = [];
  return within(
    new Promise<unknown[]>((resolve) => {
      const off = socket.on("message", (data) => {
        list.push(data);
        if (list.length === count) {
          off();
          resolve(list);
        }
      });
    }),
    ms,
    `fewer than ${count} messages`,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; got ${JSON.stringify(list.slice(-5))}`);
  });
}

/** Opens and, unless polling only, waits for the upgrade. */
async function ready(socket: ReconnectingSocket, upgrade: boolean) {
  const upgraded = upgrade ? next(socket, "upgrade") : Promise.resolve();
  await next(socket, "open");
  await upgraded;
}

afterEach(() => {
  received = [];
});

describe.each([
  { name: "websocket (default ladder)", options: {}, upgrade: true },
  { name: "polling", options: { transports: ["polling"] as const }, upgrade: false },
  { name: "sse", options: { transports: ["polling", "sse"] as const }, upgrade: true },
])("a network cut on $name", ({ name, options, upgrade }) => {
  test("messages written during the outage arrive once, in order, after the reconnect", async () => {
    const a = await startServer();
    proxy = await startFaultProxy(a.server.url);
    const socket = reconnecting(options);
    await ready(socket, upgrade);
    const transport = socket.transport;
    socket.send("before");
    expect(await messages(socket, 1)).toEqual(["before"]);

    const disconnected = next(socket, "disconnect");
    const cutAt = Date.now();
    proxy.down();
    const [reason] = await disconnected;
    const detected = Date.now() - cutAt;
    expect(reason).toMatch(/^transport (close|error)$/);
    const during = numbered("during", 0, 50);
    const handed: string[] = [];
    for (const text of during) socket.send(text, () => handed.push(text));
    // a few refused attempts while the network is down
    const attempts: number[] = [];
    socket.on("reconnecting", (attempt) => attempts.push(attempt));
    await next(socket, "reconnecting");
    await next(socket, "reconnecting");

    const echoes = messages(socket, 50);
    const reconnected = next(socket, "reconnect");
    const upAt = Date.now();
    proxy.up();
    await reconnected;
    const back = Date.now() - upAt;
    expect(await echoes).toEqual(during);
    expect(received).toEqual(["before", ...during]);
    expect(handed).toEqual(during);
    expect(a.server.sessions).toHaveLength(2);
    measure(`cut on ${name}`, `cut detected (${transport})`, detected);
    measure(`cut on ${name}`, `reconnected after the network came back (attempt ${attempts.at(-1)! + 1})`, back);
  });
});

test("a server restart behind a stable address: refused attempts, then a fresh session", async () => {
  const a = await startServer();
  proxy = await startFaultProxy(a.server.url);
  const socket = reconnecting();
  await ready(socket, true);
  const firstSid = socket.socket!.id;
  const disconnected = next(socket, "disconnect");
  const crashedAt = Date.now();
  await crash(a);
  const [reason] = await disconnected;
  const detected = Date.now() - crashedAt;
  const during = numbered("during", 0, 20);
  for (const text of during) socket.send(text);
  const errors: string[] = [];
  socket.on("error", (error) => errors.push(`${error.name}: ${error.message}`));
  // the proxy still points at the dead port: attempts are reset by it
  await next(socket, "reconnecting");
  await next(socket, "reconnecting");
  const b = await startServer();
  const echoes = messages(socket, 20);
  const reconnected = next(socket, "reconnect");
  const restartedAt = Date.now();
  proxy.target = Number(new URL(b.server.url).port);
  const [attempts] = await reconnected;
  const back = Date.now() - restartedAt;
  expect(await echoes).toEqual(during);
  expect(b.server.sessions).toHaveLength(1);
  expect(socket.socket!.id).not.toBe(firstSid);
  expect(errors.length).toBeGreaterThanOrEqual(2);
  measure("server restart", `crash detected (${reason})`, detected);
  measure("server restart", `fresh session after the new server is up (attempt ${attempts})`, back);
  measure("server restart", "what a refused attempt reports", errors[0]!, "");
});

test('an engine restarted behind kept-alive connections: "Session ID unknown" opens a fresh session at once', async () => {
  const a = await startServer();
  proxy = await startFaultProxy(a.server.url);
  // a long backoff, to show the fresh session does not wait for it
  const socket = reconnecting({ transports: ["polling"], reconnect: { initialDelay: 5000, jitter: 0 } });
  await ready(socket, false);
  // a new engine takes over the same HTTP server without a word to the old one's clients, as a
  // restarted node behind a proxy that keeps its client connections does
  const old = a.server.engine;
  a.server.http.removeAllListeners("request");
  a.server.http.removeAllListeners("upgrade");
  const fresh = new CometaServer({ maxHttpBufferSize: 2e6 });
  fresh.attach(a.server.http);
  fresh.on("connection", (session: EngineSocket) =>
    session.on("message", (data: string) => {
      received.push(data);
      session.send(data);
    }),
  );
  const refused = next(socket, "error");
  const scheduled = next(socket, "reconnecting");
  const reconnected = next(socket, "reconnect");
  const sentAt = Date.now();
  const echo = messages(socket, 1);
  socket.send("after the restart");
  try {
    const [error] = await refused;
    expect(error).toMatchObject({ name: "ServerError", code: 1 });
    const [, delay] = await scheduled;
    expect(delay).toBe(0);
    await reconnected;
    expect(await echo).toEqual(["after the restart"]);
    expect(received).toEqual(["after the restart"]);
    measure("lost session id", "fresh session after the refused POST", Date.now() - sentAt);
  } finally {
    old.close();
    fresh.close();
  }
});

test("backoff delays grow as configured while the network is down", async () => {
  const a = await startServer();
  proxy = await startFaultProxy(a.server.url);
  const socket = reconnecting({
    transports: ["polling"],
    reconnect: { initialDelay: 20, factor: 2, maxDelay: 160, jitter: 0.5 },
    // jitter drawn from env.random: 0.25 takes a quarter of the delay off (below the cap; at
    // the cap of 160 the spread is 80..160, so a quarter of it is 100)
    env: nodeEnv({ random: () => 0.25 }),
  });
  await ready(socket, false);
  const seen: { attempt: number; delay: number; at: number }[] = [];
  const sixth = new Promise<void>((resolve) =>
    socket.on("reconnecting", (attempt, delay) => {
      seen.push({ attempt, delay, at: Date.now() });
      if (attempt === 6) resolve();
    }),
  );
  proxy.down();
  await within(sixth, 5000, "fewer than 6 attempts");
  const reconnected = next(socket, "reconnect");
  proxy.up();
  const [attempts] = await reconnected;
  expect(seen.map((entry) => entry.attempt)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(seen.map((entry) => entry.delay)).toEqual([15, 30, 60, 100, 100, 100]);
  // each attempt waited its delay before failing and scheduling the next one
  for (let i = 1; i < seen.length; i++) expect(seen[i]!.at - seen[i - 1]!.at).toBeGreaterThanOrEqual(seen[i - 1]!.delay - 5);
  // the sixth attempt, scheduled before the network came back, is the one that opened
  expect(attempts).toBe(6);
  measure("backoff", "gaps between attempts (delay 15, 30, 60, 100, 100)", seen.slice(1).map((entry, i) => entry.at - seen[i]!.at).join(", "), "ms");
});

describe.each([
  // against a stock server, a WebSocket write is handed to the network (the proxy takes the
  // bytes) and lost with its session; a POST that never got its answer goes to the next session
  { name: "websocket", options: {}, upgrade: true, stockFate: "lost (its send callback had fired)" },
  { name: "polling", options: { transports: ["polling"] as const }, upgrade: false, stockFate: "delivered after the reconnect" },
])("heartbeat loss on $name", ({ name, options, upgrade, stockFate }) => {
  const heartbeat = { pingInterval: 300, pingTimeout: 200 };

  /** Black-holes the path right after a ping and writes one message into it. */
  async function intoTheVoid(socket: ReconnectingSocket) {
    await within(new Promise<void>((resolve) => socket.socket!.once("ping", () => resolve())), 2000, "no ping");
    const stalledAt = Date.now();
    proxy!.blackHole();
    // written into the black hole before anyone can know
    const handed: string[] = [];
    socket.send("into the void", () => handed.push("into the void"));
    return { stalledAt, handed };
  }

  /** Black-holes the path right after a ping; resolves once the loss ended the session. */
  async function blackHoled(socket: ReconnectingSocket) {
    const disconnected = next(socket, "disconnect");
    const { stalledAt, handed } = await intoTheVoid(socket);
    const [reason, details] = await disconnected;
    const detected = Date.now() - stalledAt;
    expect(reason).toBe("ping timeout");
    expect(details.error?.name).toBe("HeartbeatError");
    // the deadline is a full pingInterval + pingTimeout after the last ping
    expect(detected).toBeLessThanOrEqual(heartbeat.pingInterval + heartbeat.pingTimeout + 400);
    return { stalledAt, detected, handed };
  }

  async function echoAfter(socket: ReconnectingSocket) {
    socket.send("after");
    await within(
      new Promise<void>((resolve) => {
        const check = () => received.includes("after") && resolve();
        socket.on("message", check);
        check();
      }),
      3000,
      "no echo after the reconnect",
    );
    // nothing arrived twice
    expect(new Set(received).size).toBe(received.length);
  }

  test("cometa/server: a message written into the black hole is delivered exactly once after the resume, in the same session", async () => {
    const a = await startServer({ ...heartbeat, resume: { window: 10_000 } });
    proxy = await startFaultProxy(a.server.url);
    const socket = reconnecting(options);
    await ready(socket, upgrade);
    expect(socket.socket!.resumable).toBe(true);
    const echoes: unknown[] = [];
    socket.on("message", (data) => echoes.push(data));
    const disconnects: string[] = [];
    socket.on("disconnect", (reason) => disconnects.push(reason));
    const serverSession = a.server.sessions[0]!;
    const serverCloses: string[] = [];
    serverSession.on("close", (reason: string) => serverCloses.push(reason));

    const resuming = next(socket, "resuming");
    const { stalledAt, handed } = await intoTheVoid(socket);
    const [error] = await resuming;
    const detected = Date.now() - stalledAt;
    expect(error.name).toBe("HeartbeatError");
    expect(detected).toBeLessThanOrEqual(heartbeat.pingInterval + heartbeat.pingTimeout + 400);
    // on a resumable session the callback waits for the server's acknowledgement
    expect(handed).toEqual([]);

    const resumed = next(socket, "resumed");
    const restoredAt = Date.now();
    // the path is back; connections from before it are reset when next used
    proxy.restore({ reset: true });
    const [transport] = await resumed;
    const back = Date.now() - restoredAt;
    await echoAfter(socket);
    await within(
      new Promise<void>((resolve) => {
        const check = () => echoes.length >= 2 && resolve();
        socket.on("message", check);
        check();
      }),
      3000,
      "the echoes did not come back",
    );
    expect(received).toEqual(["into the void", "after"]);
    expect(echoes).toEqual(["into the void", "after"]);
    expect(handed).toEqual(["into the void"]);
    expect(disconnects).toEqual([]);
    expect(serverCloses).toEqual([]);
    expect(a.server.sessions).toHaveLength(1);
    measure(`heartbeat loss on ${name}, cometa/server`, "break detected after the black hole began (300 + 200)", detected);
    measure(`heartbeat loss on ${name}, cometa/server`, `resumed on ${transport} after the path is back`, back);
    measure(`heartbeat loss on ${name}, cometa/server`, "a message written into the black hole", "delivered once after the resume", "");
  });

  test("stock engine.io server: detected within pingInterval + pingTimeout; when the path is back, a new session opens", async () => {
    const a = await startServer({ engine: "stock", ...heartbeat });
    proxy = await startFaultProxy(a.server.url);
    const socket = reconnecting(options);
    await ready(socket, upgrade);
    expect(socket.socket!.resumable).toBe(false);
    const reconnected = next(socket, "reconnect");
    const { stalledAt, detected, handed } = await blackHoled(socket);
    const restoredAt = Date.now();
    // the path is back; connections from before it are reset when next used
    proxy.restore({ reset: true });
    await reconnected;
    const back = Date.now() - restoredAt;
    await echoAfter(socket);
    const fate = received.includes("into the void")
      ? "delivered after the reconnect"
      : `lost (its send callback ${handed.length > 0 ? "had fired" : "never fired"})`;
    // at most once, as with any stock server
    expect(fate).toBe(stockFate);
    expect(received).toEqual(stockFate.startsWith("delivered") ? ["into the void", "after"] : ["after"]);
    expect(a.server.sessions).toHaveLength(2);
    measure(`heartbeat loss on ${name}, stock server`, "detected after the black hole began (300 + 200)", detected);
    measure(`heartbeat loss on ${name}, stock server`, "new session after the path is back", back);
    measure(`heartbeat loss on ${name}, stock server`, "total outage seen by the app", Date.now() - stalledAt);
    measure(`heartbeat loss on ${name}, stock server`, "a message written into the black hole", fate, "");
  });

  test("when old connections stay silent, a working session is back within a few connectTimeouts", { timeout: 15_000 }, async () => {
    const a = await startServer(heartbeat);
    proxy = await startFaultProxy(a.server.url);
    const connectTimeout = 1000;
    const socket = reconnecting({ ...options, connectTimeout });
    await ready(socket, upgrade);
    const failures: string[] = [];
    await blackHoled(socket);
    socket.on("error", (error) => failures.push(error.message));
    // a session that got a ping works both ways: its GET or socket and its pong went through
    const working = new Promise<void>((resolve) => socket.on("open", () => socket.socket!.once("ping", () => resolve())));
    const restoredAt = Date.now();
    // new connections work, but the pooled keep-alive connections from before are dead ends
    // that the next requests may ride: a handshake then waits for connectTimeout, a held poll
    // for the heartbeat
    proxy.restore({ reset: false });
    await within(working, 4 * (connectTimeout + heartbeat.pingInterval + heartbeat.pingTimeout), "no working session");
    const back = Date.now() - restoredAt;
    await echoAfter(socket);
    measure(`silent dead connections, ${name}`, `working session after the path is back (connectTimeout ${connectTimeout})`, back);
    measure(`silent dead connections, ${name}`, "sessions lost on the way", failures.join(" | ") || "none", "");
  });
});
