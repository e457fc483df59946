/**
 * 4. A WebSocket that opens and then never delivers data (the 101 passes, then nothing): a
 * middlebox that lets the handshake through and black-holes the frames. The fault proxy
 * stalls the server-to-client direction of WebSocket connections after their headers.
 */
import { afterAll, afterEach, expect, test } from "vitest";
import { BareSocket, polling, Socket, websocket } from "../../src/index.js";
import type { SocketOptions } from "../../src/socket.js";
import { echo, startServer, type TestServer } from "../support/server.js";
import { nodeEnv } from "../support/node-env.js";
import { type FaultProxy, startFaultProxy } from "./support/fault-proxy.js";
import { measure, numbered, printMeasurements, upstreamOf } from "./support/scenario.js";
import { closeSocket, collect, within } from "../support/events.js";

let server: TestServer | undefined;
let proxy: FaultProxy | undefined;
const sockets: BareSocket[] = [];
afterEach(async () => {
  await Promise.all(sockets.splice(0).map(closeSocket));
  await proxy?.close();
  proxy = undefined;
});
afterAll(() => printMeasurements("stalled WebSocket (fault proxy):"));

const isWebSocket = (head: string) => head.includes("transport=websocket");

async function setup(extended: boolean) {
  server = await startServer({ engine: extended ? "cometa" : "stock" }, echo);
  proxy = await startFaultProxy(server.url);
  proxy.when(isWebSocket, { stallDownAfterHeaders: true });
}

/** Upgrade failures (with ms since open) and the end of the ladder. */
function track(socket: BareSocket, candidates: number) {
  sockets.push(socket);
  let openedAt = 0;
  socket.on("open", () => (openedAt = Date.now()));
  const failures: { transport: string; at: number }[] = [];
  let settle: (outcome: { upgraded?: string; at: number }) => void = () => {};
  const settled = new Promise<{ upgraded?: string; at: number }>((resolve) => (settle = resolve));
  socket.on("upgradeError", (error) => {
    failures.push({ transport: error.transport, at: Date.now() - openedAt });
    if (failures.length === candidates) settle({ at: Date.now() - openedAt });
  });
  socket.once("upgrade", (transport) => settle({ upgraded: transport, at: Date.now() - openedAt }));
  return { failures, settled: within(settled, 8000, "the ladder did not settle") };
}

async function echoes(socket: BareSocket, count = 50) {
  const upstream = upstreamOf(server!.sessions.at(-1)!);
  const downstream = collect(socket);
  const expected = numbered("echo", 0, count);
  for (const text of expected) socket.send(text);
  await downstream.until(count);
  downstream.off();
  expect(downstream.received).toEqual(expected);
  expect(upstream).toEqual(expected);
}

const options: SocketOptions = { probeTimeout: 1500 };

test("the probe times out and the ladder goes on to sse; nothing written meanwhile is lost", async () => {
  await setup(true);
  const socket = new Socket(proxy!.url, { env: nodeEnv(), ...options });
  // websocket, sse, xhr-streaming (no iframe in Node)
  const ladder = track(socket, 3);
  const downstream = collect(socket);
  const during = numbered("during", 0, 20);
  for (const text of during) socket.send(text);
  const { upgraded, at } = await ladder.settled;
  await downstream.until(20);
  downstream.off();
  expect(downstream.received).toEqual(during);
  await echoes(socket);
  measure("4 stalled websocket", "websocket probe given up after open", ladder.failures[0]!.at);
  measure("4 stalled websocket", `ladder settled on ${upgraded ?? "polling"} after open`, at);
  measure("4 stalled websocket", "failed probes", ladder.failures.map((failure) => failure.transport).join(", "), "");
  expect(ladder.failures[0]).toMatchObject({ transport: "websocket" });
  // probeTimeout 1500, give or take the event loop's cached clock
  expect(ladder.failures[0]!.at).toBeGreaterThanOrEqual(1400);
  // the server must not refuse the next candidate while the abandoned WebSocket lingers
  expect(ladder.failures.map((failure) => failure.transport)).toEqual(["websocket"]);
  expect(upgraded).toBe("sse");
});

test("with a stock server the session stays on long-polling and echoes", async () => {
  await setup(false);
  const socket = new BareSocket(proxy!.url, { env: nodeEnv(), transports: [polling, websocket], ...options });
  const ladder = track(socket, 1);
  const { upgraded, at } = await ladder.settled;
  expect(upgraded).toBeUndefined();
  expect(ladder.failures.map((failure) => failure.transport)).toEqual(["websocket"]);
  expect(socket.transport.name).toBe("polling");
  await echoes(socket);
  measure("4 stalled websocket, stock server", "back on polling for good after open", at);
  // the client closed the abandoned WebSocket; whether its connection is gone yet:
  const lingering = proxy!.openMatching(isWebSocket);
  measure("4 stalled websocket", "abandoned WebSocket connections still open after the echoes", lingering, "");
});
