/**
 * Nothing left behind: 1,000 connect/close cycles and 1,000 reconnections through the fault
 * proxy, then cometa's timers (counted through an injected env), listeners on every socket and
 * transport made, TCP connections at the proxy and the server, and server sessions.
 */
import type { IncomingMessage } from "node:http";
import { afterAll, afterEach, expect, test } from "vitest";
import { BareReconnectingSocket, BareSocket, polling, websocket } from "../../src/index.js";
import type { Emitter, EventMap } from "../../src/emitter.js";
import type { Transport, TransportDefinition } from "../../src/transport.js";
import { echo, startServer, type TestServer } from "../support/server.js";
import { nodeEnv } from "../support/node-env.js";
import { type FaultProxy, startFaultProxy } from "./support/fault-proxy.js";
import { countingTimers, measure, printMeasurements, trackConnections } from "./support/scenario.js";
import { within } from "../support/events.js";

let server: TestServer | undefined;
let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});
afterAll(() => printMeasurements("leaks:"));

const socketEvents = ["open", "handshake", "message", "packet", "ping", "drain", "error", "close", "upgrading", "upgrade", "upgradeError"];
const reconnectingEvents = [...socketEvents, "disconnect", "reconnecting", "reconnect", "reconnectFailed"];

/** Listeners still registered on a socket (its emitter is held privately, as `_events`), over `events`. */
function listeners(socket: unknown, events: string[]): number {
  const counted = (socket as { _events: Emitter<EventMap> })._events;
  return events.reduce((sum, event) => sum + counted.listenerCount(event), 0);
}

type AnyListener = (...args: never[]) => void;

/**
 * A transport seen through a counter of the listeners registered on it and not yet removed
 * (by the function `on`/`once` return, by `off`, or by a `once` firing): a transport keeps
 * its emitter in a closure, so its registrations are counted on the way in.
 */
function countingListeners(transport: Transport): { transport: Transport; live: () => number } {
  const live = new Set<{ event: string; listener: AnyListener; remove: () => void }>();
  const view = Object.create(transport) as Transport;
  const register = (event: string, listener: AnyListener, once: boolean) => {
    const entry = { event, listener, remove: () => {} };
    const called = (...args: never[]) => {
      if (once) live.delete(entry);
      listener(...args);
    };
    const remove = (once ? transport.once : transport.on).call(transport, event as "open", called as () => void);
    entry.remove = remove;
    live.add(entry);
    return () => {
      live.delete(entry);
      remove();
    };
  };
  Object.assign(view, {
    on: (event: string, listener: AnyListener) => register(event, listener, false),
    once: (event: string, listener: AnyListener) => register(event, listener, true),
    off: (event?: string, listener?: AnyListener) => {
      for (const entry of [...live]) {
        if ((event === undefined || entry.event === event) && (listener === undefined || entry.listener === listener)) {
          live.delete(entry);
          entry.remove();
        }
      }
    },
  });
  return { transport: view, live: () => live.size };
}

/** Transport definitions that remember every transport they make, candidates included. */
function recording(definitions: TransportDefinition[]) {
  const made: (Transport & { liveListeners: () => number })[] = [];
  const wrapped = definitions.map((definition) => ({
    ...definition,
    create: (context: Parameters<TransportDefinition["create"]>[0]) => {
      const { transport, live } = countingListeners(definition.create(context));
      made.push(Object.assign(Object.create(transport) as Transport, { liveListeners: live }));
      return transport;
    },
  }));
  return { made, wrapped };
}

async function setup(options: Parameters<typeof startServer>[0] = {}) {
  // short heartbeats, so sessions a client dropped before the handshake answer die quickly;
  // a short keep-alive, so fetch's idle pooled connections are closed by the server soon
  server = await startServer({ engine: "stock", pingInterval: 1000, pingTimeout: 1000, ...options }, echo);
  server.http.keepAliveTimeout = 200;
  const connections = trackConnections(server.http);
  proxy = await startFaultProxy(server.url);
  return connections;
}

/** Resolves when the server has no session left (bounded). */
async function noSessions(ms = 3000) {
  const deadline = Date.now() + ms;
  while (server!.engine.clientsCount > 0) {
    const open = server!.sessions.filter((session) => session.readyState !== "closed");
    if (Date.now() > deadline) throw new Error(`${server!.engine.clientsCount} server sessions still open`);
    // the next session to close
    await within(Promise.race(open.map((session) => new Promise((resolve) => session.once("close", resolve)))), ms, "no session closed");
  }
}

async function nothingLeft(connections: ReturnType<typeof trackConnections>, timers: ReturnType<typeof countingTimers>) {
  expect(timers.live).toBe(0);
  await noSessions();
  await proxy!.openAtMost(0, 5000);
  expect(connections.open).toBe(0);
}

test("1,000 connect/close cycles, closed at every stage, leave nothing behind", { timeout: 30_000 }, async () => {
  const connections = await setup();
  const timers = countingTimers();
  const { made, wrapped } = recording([polling, websocket]);
  const sockets: BareSocket[] = [];
  const started = Date.now();
  const stages = ["opening", "open", "upgraded"] as const;
  const unexpected: string[] = [];
  let slowestSwap = 0;
  const cycle = async (i: number) => {
    const socket = new BareSocket(proxy!.url, {
      env: nodeEnv({ setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout }),
      transports: wrapped,
    });
    sockets.push(socket);
    let upgradingAt = 0;
    const failed: string[] = [];
    // the test's own listeners, removed at the end so that only cometa's could remain
    const offs = [
      socket.once("upgrading", () => (upgradingAt = Date.now())),
      socket.once("upgrade", () => (slowestSwap = Math.max(slowestSwap, Date.now() - upgradingAt))),
      socket.once("error", (error) => failed.push(error.message)),
    ];
    const closed = new Promise<void>((resolve) =>
      socket.once("close", (reason) => {
        if (reason !== "forced close") unexpected.push(`cycle ${i}: ${reason} ${failed.join(" ")}`);
        resolve();
      }),
    );
    const stage = stages[i % stages.length]!;
    if (stage !== "opening") {
      const reached = new Promise<void>((resolve) => offs.push(socket.once(stage === "open" ? "open" : "upgrade", () => resolve())));
      await within(Promise.race([reached, closed]), 5000, `cycle ${i} never reached ${stage}`);
    }
    socket.close();
    await closed;
    for (const off of offs) off();
  };
  const total = 1000;
  const parallel = 20;
  let nextIndex = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (nextIndex < total) await cycle(nextIndex++);
    }),
  );
  const elapsed = Date.now() - started;
  expect(unexpected).toEqual([]);
  expect(sockets.every((socket) => socket.state === "closed")).toBe(true);
  expect(sockets.reduce((sum, socket) => sum + listeners(socket, socketEvents), 0)).toBe(0);
  expect(made.every((transport) => transport.state === "closed")).toBe(true);
  expect(made.reduce((sum, transport) => sum + transport.liveListeners(), 0)).toBe(0);
  await nothingLeft(connections, timers);
  measure("1,000 connect/close cycles", `${made.length} transports made, ${timers.created} timers set`, elapsed);
  measure("1,000 connect/close cycles", "slowest upgrade pause (upgrading to upgrade)", slowestSwap);
});

test.each([
  { name: "websocket", transport: websocket },
  { name: "polling", transport: polling },
])("1,000 reconnections on $name leave nothing behind", { timeout: 30_000 }, async ({ name, transport }) => {
  const connections = await setup();
  const timers = countingTimers();
  const { made, wrapped } = recording([transport]);
  // a session on polling is cut once its held GET reached the server (before that, a cut
  // would only take fetch's idle connection and the session would not notice)
  const nextHeldGet = () =>
    name === "polling"
      ? new Promise<void>((resolve) => {
          const onRequest = (request: IncomingMessage) => {
            if (request.method !== "GET" || !request.url?.includes("sid=")) return;
            server!.http.off("request", onRequest);
            resolve();
          };
          server!.http.on("request", onRequest);
        })
      : Promise.resolve();
  let heldGet = nextHeldGet();
  const socket = new BareReconnectingSocket(
    proxy!.url,
    {
      env: nodeEnv({ setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout }),
      transports: wrapped,
      reconnect: { initialDelay: 0, maxDelay: 0, jitter: 0 },
    },
    wrapped,
  );
  const sessions: BareSocket[] = [];
  socket.on("open", () => sessions.push(socket.socket!));
  await new Promise<void>((resolve) => socket.once("open", () => resolve()));
  const baseline = listeners(socket, reconnectingEvents);
  const started = Date.now();
  let peakTimers = 0;
  for (let i = 0; i < 1000; i++) {
    await within(heldGet, 5000, `held GET ${i + 1}`);
    heldGet = nextHeldGet();
    const reconnected = new Promise<void>((resolve) => socket.once("reconnect", () => resolve()));
    proxy!.cut();
    await within(reconnected, 5000, `reconnection ${i + 1}`);
    peakTimers = Math.max(peakTimers, timers.live);
  }
  const elapsed = Date.now() - started;
  expect(sessions).toHaveLength(1001);
  // every lost session let go of its transport, and the reconnecting socket of the session
  const old = sessions.slice(0, -1);
  expect(old.every((session) => session.state === "closed")).toBe(true);
  expect(old.reduce((sum, session) => sum + listeners(session, socketEvents), 0)).toBe(0);
  expect(made.slice(0, -1).reduce((sum, transport) => sum + transport.liveListeners(), 0)).toBe(0);
  expect(listeners(socket, reconnectingEvents)).toBe(baseline);
  // one session's worth: the heartbeat, at most a retry timer
  expect(peakTimers).toBeLessThanOrEqual(3);
  expect(server!.engine.clientsCount).toBeLessThanOrEqual(1);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.close();
  await closed;
  await nothingLeft(connections, timers);
  measure(`1,000 reconnections (${name})`, `peak live timers ${peakTimers}`, elapsed);
});
