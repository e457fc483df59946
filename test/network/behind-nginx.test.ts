/**
 * A real nginx between the client and the server, configured the ways proxies go wrong:
 * Upgrade headers dropped, streams held back (gzip; proxy_buffering alone, measured, holds
 * nothing back from a client that keeps up), a short read timeout. Each test says which
 * transport the session ends up on, that it still echoes, and that numbered messages arrive
 * once and in order. Measurements are printed at the end.
 */
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { BaseSocket, polling, ReconnectingSocket, Socket, sse, websocket, xhrStreaming } from "../../src/index.js";
import type { SocketOptions } from "../../src/socket.js";
import type { TransportDefinition } from "../../src/transport.js";
import { echo, startServer, type TestServer } from "../support/server.js";
import { nodeEnv } from "../support/node-env.js";
import { type Nginx, nginxAvailable, proxyConfigs, readTimeout, startNginx } from "./support/nginx.js";
import { measure, numbered, printMeasurements, upstreamOf, watchCuts } from "./support/scenario.js";
import { closeSocket, collect, failOnClose, within } from "../support/events.js";

const hasNginx = nginxAvailable();

let server: TestServer | undefined;
let nginx: Nginx | undefined;
const sockets: BaseSocket[] = [];
const reconnectingSockets: ReconnectingSocket[] = [];
afterEach(async () => {
  // closed before the proxy goes, so the close packet still gets through
  await Promise.all([...sockets.splice(0), ...reconnectingSockets.splice(0)].map(closeSocket));
  await nginx?.stop();
  nginx = undefined;
});
afterAll(() => printMeasurements("behind nginx (measured on loopback):"));

type ServerOptions = Parameters<typeof startServer>[0];

/** The server (cometa-extended unless `stock`) behind nginx with `location` directives. */
async function behind(
  location: string,
  options: ServerOptions & { stock?: boolean } = {},
  onConnection?: Parameters<typeof startServer>[1],
) {
  const { stock, ...rest } = options;
  server = await startServer({ ...rest, engine: stock ? "stock" : "cometa" }, onConnection ?? echo);
  nginx = await startNginx(Number(new URL(server.url).port), location);
  return { server, nginx };
}

/** The default ladder, as a Node user has it. */
function connect(options: SocketOptions = {}) {
  const socket = new Socket(nginx!.url, { env: nodeEnv(), ...options });
  sockets.push(socket);
  return socket;
}

function connectOn(transports: TransportDefinition[], options: SocketOptions = {}) {
  const socket = new BaseSocket(nginx!.url, { env: nodeEnv(), transports, ...options });
  sockets.push(socket);
  return socket;
}

/** Sends `count` numbered messages and checks both sides got exactly them, in order. */
async function echoes(socket: BaseSocket, count = 50) {
  const session = server!.sessions.at(-1)!;
  const upstream = upstreamOf(session);
  const downstream = collect(socket);
  const expected = numbered("echo", 0, count);
  const dead = failOnClose(socket);
  for (const text of expected) socket.send(text);
  await Promise.race([downstream.until(count), dead.promise]);
  dead.stop();
  downstream.off();
  expect(downstream.received).toEqual(expected);
  expect(upstream).toEqual(expected);
}

/** Upgrade errors and the final upgrade, with times relative to `open`. */
function watchLadder(socket: BaseSocket) {
  let openedAt = 0;
  const failures: { transport: string; at: number }[] = [];
  socket.on("open", () => (openedAt = Date.now()));
  socket.on("upgradeError", (error) => failures.push({ transport: error.transport, at: Date.now() - openedAt }));
  return {
    failures,
    /** Resolves with the transport upgraded to and when, after open. */
    upgraded: () =>
      new Promise<{ transport: string; at: number }>((resolve) =>
        socket.once("upgrade", (transport) => resolve({ transport, at: Date.now() - openedAt })),
      ),
    /** Resolves when the `count`th upgrade failed. */
    failed: (count: number) =>
      new Promise<void>((resolve) => {
        const check = () => failures.length >= count && (off(), resolve());
        const off = socket.on("upgradeError", check);
        check();
      }),
  };
}

describe.skipIf(!hasNginx)("1. Upgrade and Connection headers not forwarded", () => {
  test("the WebSocket probe fails at once and the session upgrades to sse", async () => {
    await behind(proxyConfigs.noUpgradeHeaders);
    const socket = connect({ probeTimeout: 1500 });
    const ladder = watchLadder(socket);
    const { transport, at } = await ladder.upgraded();
    expect(transport).toBe("sse");
    expect(ladder.failures.map((failure) => failure.transport)).toEqual(["websocket"]);
    await echoes(socket);
    // the echoes' POSTs came after the client's `5`: the server has moved over by now
    expect(server!.sessions[0]!.transport.name).toBe("sse");
    measure("1 no Upgrade headers", "websocket probe fails after open", ladder.failures[0]!.at);
    measure("1 no Upgrade headers", "upgraded to sse after open", at);
  });

  test("with a stock engine.io server the session stays on long-polling", async () => {
    await behind(proxyConfigs.noUpgradeHeaders, { stock: true });
    const socket = connect({ probeTimeout: 1500 });
    const ladder = watchLadder(socket);
    await ladder.failed(1);
    expect(ladder.failures.map((failure) => failure.transport)).toEqual(["websocket"]);
    expect(socket.transport.name).toBe("polling");
    await echoes(socket);
    measure("1 no Upgrade headers, stock server", "stays on polling after open", ladder.failures[0]!.at);
  });
});

describe.skipIf(!hasNginx)("2. response buffering", () => {
  test("gzip on the streaming types holds the streams: both probes time out and the session stays on long-polling", { timeout: 15_000 }, async () => {
    await behind(proxyConfigs.gzipStreams);
    // a browser always offers gzip, and page scripts cannot take that back; cometa's Node fetch
    // asks for identity, so this client plays the browser
    const browserLikeFetch: typeof fetch = (input, init) =>
      fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), "Accept-Encoding": "gzip, deflate, br" } });
    const socket = connect({ probeTimeout: 1500, env: nodeEnv({ fetch: browserLikeFetch }) });
    const ladder = watchLadder(socket);
    // written while the probes hang: they must go out on polling, in order
    const downstream = collect(socket);
    const during = numbered("during", 0, 20);
    for (const text of during) socket.send(text);
    await ladder.failed(3);
    expect(ladder.failures.map((failure) => failure.transport)).toEqual(["websocket", "sse", "xhr-streaming"]);
    // probeTimeout 1500, give or take the event loop's cached clock
    expect(ladder.failures[1]!.at).toBeGreaterThanOrEqual(1400);
    expect(socket.transport.name).toBe("polling");
    expect(socket.state).toBe("open");
    await downstream.until(20);
    downstream.off();
    expect(downstream.received).toEqual(during);
    await echoes(socket);
    expect(server!.sessions[0]!.transport.name).toBe("polling");
    measure("2 gzip'd streams", "websocket probe fails after open", ladder.failures[0]!.at);
    measure("2 gzip'd streams", "sse probe times out after open", ladder.failures[1]!.at);
    measure("2 gzip'd streams", "back on polling for good after open", ladder.failures[2]!.at);
  });

  test("proxy_buffering on (X-Accel-Buffering ignored) holds nothing back from a client that keeps up: sse streams", async () => {
    await behind(proxyConfigs.proxyBuffering);
    const socket = connect({ probeTimeout: 1500 });
    const ladder = watchLadder(socket);
    const { transport, at } = await ladder.upgraded();
    expect(transport).toBe("sse");
    await echoes(socket);
    measure("2 proxy_buffering on", "upgraded to sse after open", at);
  });
});

describe.skipIf(!hasNginx)("3. proxy_read_timeout 2s, pingInterval 5s", () => {
  const heartbeat = { pingInterval: 5000, pingTimeout: 5000 };

  /**
   * Rounds of numbered messages both ways (client echoes and server pushes), each followed by
   * an idle spell that lasts until the proxy cuts a held request; then checks nothing was lost
   * or repeated.
   */
  async function sustained(socket: BaseSocket, rounds: number, label: string) {
    const cuts = watchCuts(server!.http);
    const dead = failOnClose(socket);
    const race = <T>(promise: Promise<T>) => Promise.race([promise, dead.promise]);
    await race(new Promise<void>((resolve) => (socket.state === "open" ? resolve() : socket.once("open", resolve))));
    const session = server!.sessions[0]!;
    const upstream = upstreamOf(session);
    const downstream = collect(socket);
    const perRound = 30;
    let recoveries: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const sentAt = Date.now();
      for (const text of numbered("up", round * perRound, perRound)) socket.send(text);
      for (const text of numbered("down", round * perRound, perRound)) session.send(text);
      await race(within(downstream.until(2 * perRound * (round + 1)), 8000, `round ${round}`));
      if (round > 0) recoveries.push(Date.now() - sentAt);
      await race(within(cuts.next(), 5000, "the proxy cut nothing"));
    }
    // the session outlived the last cut too
    socket.send("last");
    await race(within(downstream.until(2 * perRound * rounds + 1), 8000, "after the last cut"));
    dead.stop();
    cuts.stop();
    const received = downstream.received as string[];
    expect(received.filter((text) => text.startsWith("up"))).toEqual(numbered("up", 0, rounds * perRound));
    expect(received.filter((text) => text.startsWith("down"))).toEqual(numbered("down", 0, rounds * perRound));
    expect(upstream).toEqual([...numbered("up", 0, rounds * perRound), "last"]);
    expect(cuts.cuts.length).toBeGreaterThanOrEqual(rounds);
    expect(server!.sessions).toHaveLength(1);
    measure(`3 read timeout, ${label}`, "cuts survived", cuts.cuts.length, "");
    measure(`3 read timeout, ${label}`, "slowest round trip after a cut", Math.max(...recoveries));
    measure(`3 read timeout, ${label}`, "slowest reopen after a cut", Math.max(...cuts.reopened));
    recoveries = [];
  }

  test("long-polling: a held poll cut with 504 is re-polled, nothing lost or repeated", { timeout: 20_000 }, async () => {
    await behind(proxyConfigs.shortReadTimeout, heartbeat);
    const socket = connectOn([polling]);
    const started = Date.now();
    server!.nextConnection().then((session) =>
      session.on("close", (reason: string, description?: { message?: string }) =>
        measure("3 read timeout, polling", `server closed the session (${reason}: ${description?.message ?? ""})`, Date.now() - started),
      ),
    );
    socket.on("close", (reason, details) =>
      reason !== "forced close" && measure("3 read timeout, polling", `session lost (${reason}: ${details.error?.message})`, Date.now() - started),
    );
    await sustained(socket, 3, "polling");
  });

  test.each([
    { name: "sse", transport: sse },
    { name: "xhr-streaming", transport: xhrStreaming },
  ])("$name: a cut stream is reopened, nothing lost or repeated", { timeout: 20_000 }, async ({ name, transport }) => {
    await behind(proxyConfigs.shortReadTimeout, heartbeat);
    const socket = connectOn([transport]);
    const started = Date.now();
    socket.on("close", (reason, details) =>
      reason !== "forced close" && measure(`3 read timeout, ${name}`, `session lost (${reason}: ${details.error?.message})`, Date.now() - started),
    );
    await sustained(socket, 3, name);
  });

  test("sse: an idle session outlives four cuts in a row", { timeout: 20_000 }, async () => {
    // a 1 s read timeout, pings every 5 s, keep-alives every 15 s (the default): the first
    // stream carries the handshake, the next three carry nothing before they are cut
    await behind(readTimeout(1), { pingInterval: 5000, pingTimeout: 5000 });
    const socket = connectOn([sse]);
    const dead = failOnClose(socket);
    const cuts = watchCuts(server!.http);
    await Promise.race([new Promise<void>((resolve) => socket.once("open", () => resolve())), dead.promise]);
    for (let i = 0; i < 4; i++) await Promise.race([within(cuts.next(), 5000, "no cut"), dead.promise]);
    // the stream reopened after the fourth cut, then a round trip
    socket.send("still here");
    const downstream = collect(socket);
    await Promise.race([within(downstream.until(1), 5000, "no echo"), dead.promise]);
    expect(downstream.received).toEqual(["still here"]);
    dead.stop();
    cuts.stop();
  });

  test("websocket, a plain session (resume: false): the cut ends it (a Socket does not come back; see ReconnectingSocket)", async () => {
    await behind(proxyConfigs.shortReadTimeout, heartbeat);
    const socket = connect({ resume: false });
    const { transport } = await watchLadder(socket).upgraded();
    expect(transport).toBe("websocket");
    const upgradedAt = Date.now();
    const [reason] = await within(new Promise<unknown[]>((resolve) => socket.once("close", (...args) => resolve(args))), 5000, "no close");
    expect(reason).toBe("transport close");
    measure("3 read timeout, websocket", "idle WebSocket closed by nginx after upgrade", Date.now() - upgradedAt);
  });

  test("websocket, a resumable session: the cut is resumed, the session goes on, messages arrive once, in order", { timeout: 20_000 }, async () => {
    await behind(proxyConfigs.shortReadTimeout, heartbeat);
    const socket = connect();
    const dead = failOnClose(socket);
    const { transport } = await watchLadder(socket).upgraded();
    expect(transport).toBe("websocket");
    expect(socket.resumable).toBe(true);
    const cutAt = Date.now();
    const resumedOn = await Promise.race([
      within(new Promise<string>((resolve) => socket.once("resumed", resolve)), 5000, "no resume"),
      dead.promise,
    ]);
    measure("3 read timeout, websocket", `idle WebSocket cut by nginx, resumed on ${String(resumedOn)} after`, Date.now() - cutAt);
    const id = socket.id;
    await echoes(socket, 30);
    expect(socket.id).toBe(id);
    expect(server!.sessions).toHaveLength(1);
    dead.stop();
  });
});

describe.skipIf(!hasNginx)("3. proxy_read_timeout 2s, with ReconnectingSocket", () => {
  // (a cut held poll costs no session with cometa/server: see the long-polling test above)
  test.each([{ name: "websocket", transports: ["polling", "websocket"] as const }])(
    "$name, plain sessions (resume: false): each cut costs a session, and messages still arrive once, in order", { timeout: 20_000 }, async ({ name, transports }) => {
    const upstream: string[] = [];
    await behind(proxyConfigs.shortReadTimeout, { pingInterval: 5000, pingTimeout: 5000 }, (session) =>
      session.on("message", (data: string) => {
        upstream.push(data);
        session.send(data);
      }),
    );
    const socket = new ReconnectingSocket(nginx!.url, {
      env: nodeEnv(),
      transports,
      resume: false,
      reconnect: { initialDelay: 20, maxDelay: 200, jitter: 0 },
    });
    reconnectingSockets.push(socket);
    await new Promise<void>((resolve) => socket.once(name === "websocket" ? "upgrade" : "open", () => resolve()));
    const downstream = collect(socket);
    const perRound = 30;
    const rounds = 2;
    const gaps: number[] = [];
    for (let round = 0; round < rounds; round++) {
      for (const text of numbered("up", round * perRound, perRound)) socket.send(text);
      await within(downstream.until((round + 1) * perRound), 5000, `round ${round}`);
      // idle until the proxy cuts the session, then back
      const [reason] = await within(
        new Promise<unknown[]>((resolve) => socket.once("disconnect", (...args) => resolve(args))),
        5000,
        "no cut",
      );
      const lostAt = Date.now();
      await within(new Promise((resolve) => socket.once("reconnect", resolve)), 5000, "no reconnect");
      gaps.push(Date.now() - lostAt);
      measure(`3 read timeout + ReconnectingSocket, ${name}`, `cut ${round + 1}: ${String(reason)}, back after`, gaps.at(-1)!);
    }
    expect(downstream.received).toEqual(numbered("up", 0, rounds * perRound));
    expect(upstream).toEqual(numbered("up", 0, rounds * perRound));
    expect(server!.sessions.length).toBeGreaterThanOrEqual(rounds + 1);
  });
});

describe.skipIf(!hasNginx)("the recommended settings", () => {
  test("upgrade to websocket, and echo", async () => {
    await behind(proxyConfigs.recommended);
    const socket = connect({ probeTimeout: 1500 });
    const ladder = watchLadder(socket);
    const { transport, at } = await ladder.upgraded();
    expect(transport).toBe("websocket");
    expect(ladder.failures).toEqual([]);
    await echoes(socket);
    measure("recommended", "upgraded to websocket after open", at);
  });

  test("with WebSocket refused by the client, sse streams through", async () => {
    await behind(proxyConfigs.recommended);
    const socket = connectOn([polling, websocket, sse], { env: nodeEnv({ WebSocket: undefined }) });
    const { transport } = await watchLadder(socket).upgraded();
    expect(transport).toBe("sse");
    await echoes(socket);
  });
});
