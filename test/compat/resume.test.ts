/**
 * socket.io-client 4.8, unchanged, on cometa (its `engine.io-client` import aliased to the
 * compat entry), against socket.io bound to cometa/server, through the fault proxy: a
 * WebSocket killed mid-stream is a resume, not a disconnect, and every emit arrives once.
 */
import type { Socket as EngineSocket } from "engine.io";
import { io as connect } from "socket.io-client";
import { afterAll, afterEach, expect, test } from "vitest";
import { startIoServer } from "../support/server.js";
import { within } from "../support/events.js";
import { startFaultProxy } from "../network/support/fault-proxy.js";
import { deliveryReport, exactly } from "../support/delivery.js";
import { measure, printMeasurements } from "../network/support/scenario.js";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

afterAll(() => printMeasurements("socket.io-client on cometa, resumable session:"));

const isWebSocket = (head: string) => head.includes("transport=websocket");

/** Calls `send(i)` for i in [0, total), spread over `duration` ms. */
function paced(total: number, duration: number, send: (i: number) => void): Promise<void> {
  const startedAt = Date.now();
  let sent = 0;
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.ceil(((Date.now() - startedAt) / duration) * total));
      while (sent < due) send(sent++);
      if (sent < total) return;
      clearInterval(timer);
      resolve();
    }, 10);
  });
}

test("a WebSocket killed mid-stream: no disconnect on either side, and every emit arrives once, in order, both ways", { timeout: 20_000 }, async () => {
  const count = 500;
  const server = await startIoServer("cometa", {}, { resume: { window: 10_000 } });
  const proxy = await startFaultProxy(server.url);
  cleanup.push(() => proxy.close());
  // every WebSocket connection dies after 20 KB, both ways counted: several times in the run
  let websockets = 0;
  proxy.when(
    (head) => {
      if (!isWebSocket(head)) return false;
      websockets++;
      return true;
    },
    { dropAfter: 20_000 },
  );
  const detached: string[] = [];
  server.io.engine.on("connection", (session: EngineSocket) => session.on("detached", (reason: string) => detached.push(reason)));
  const upstream: string[] = [];
  const serverDisconnects: string[] = [];
  const serverSide = new Promise<import("socket.io").Socket>((resolve) =>
    server.io.on("connection", (socket) => {
      socket.on("up", (text: string) => upstream.push(text));
      socket.on("disconnect", (reason) => serverDisconnects.push(reason));
      resolve(socket);
    }),
  );

  const socket = connect(proxy.url, { forceNew: true, reconnection: false, timeout: 5000 });
  cleanup.push(() => socket.close());
  const downstream: string[] = [];
  const clientDisconnects: string[] = [];
  socket.on("down", (text: string) => downstream.push(text));
  socket.on("disconnect", (reason) => clientDisconnects.push(reason));
  const peer = await within(serverSide, 5000, "no connection");
  await within(new Promise<void>((resolve) => (socket.connected ? resolve() : socket.once("connect", () => resolve()))), 5000, "no connect");

  const padding = "p".repeat(150);
  const up = Array.from({ length: count }, (_, i) => `up ${i} ${padding}`);
  const down = Array.from({ length: count }, (_, i) => `down ${i} ${padding}`);
  await Promise.all([paced(count, 3000, (i) => socket.emit("up", up[i])), paced(count, 3000, (i) => peer.emit("down", down[i]))]);
  await within(
    (async () => {
      while (upstream.length < count || downstream.length < count) await new Promise((resolve) => setTimeout(resolve, 20));
    })(),
    10_000,
    `not everything arrived: server got ${upstream.length}, client got ${downstream.length}`,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; client disconnects ${JSON.stringify(clientDisconnects)}, server ${JSON.stringify(serverDisconnects)}`);
  });
  // an emit and its answer, so anything late would have come before it
  peer.on("last", (ack: () => void) => ack());
  await within(socket.timeout(3000).emitWithAck("last"), 4000, "no answer to the last emit");

  expect(clientDisconnects).toEqual([]);
  expect(serverDisconnects).toEqual([]);
  expect(deliveryReport(up, upstream), "client to server").toEqual(exactly(count));
  expect(deliveryReport(down, downstream), "server to client").toEqual(exactly(count));
  // the WebSocket was killed, and the session resumed each time
  expect(websockets).toBeGreaterThan(0);
  expect(detached.length).toBeGreaterThan(0);
  expect(socket.connected).toBe(true);
  measure("WebSocket killed after 20 KB", "WebSocket connections (each killed or abandoned)", websockets, "");
  measure("WebSocket killed after 20 KB", "server detaches (each followed by a reattach)", `${detached.length}: ${detached.join(", ")}`, "");
  measure("WebSocket killed after 20 KB", "ended on", socket.io.engine.transport.name, "");
});
