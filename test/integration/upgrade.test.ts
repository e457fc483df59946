/** The upgrade from long-polling to WebSocket against a stock engine.io server, under traffic. */
import type { Socket as EngineSocket } from "engine.io";
import { expect, test } from "vitest";
import WebSocket from "ws";
import type { WebSocketConstructor } from "../../src/env.js";
import { Socket } from "../../src/index.js";
import { messages, next, record } from "../support/events.js";
import { echo, startServer, type TestServer } from "../support/server.js";
import { nodeEnv } from "../support/node-env.js";

let server: TestServer | undefined;

test("messages written before, during and after the upgrade arrive once, in order, both ways", async () => {
  const upstream: string[] = [];
  let serverSide!: EngineSocket;
  let serverCount = 0;
  const burst = (socket: EngineSocket, n: number) => {
    for (let i = 0; i < n; i++) socket.send(`down ${serverCount++}`);
  };
  server = await startServer({ engine: "stock" }, (socket) => {
    serverSide = socket;
    socket.on("message", (data: string) => upstream.push(data));
    burst(socket, 300);
    socket.on("upgrading", () => burst(socket, 300));
    socket.on("upgrade", () => burst(socket, 300));
    // the server keeps writing on every tick while the probe runs
    const drip = setInterval(() => socket.readyState === "open" && burst(socket, 5), 1);
    socket.on("close", () => clearInterval(drip));
  });

  const socket = new Socket(server.url, { env: nodeEnv() });
  const events = record(socket);
  let clientCount = 0;
  const send = (n: number) => {
    for (let i = 0; i < n; i++) socket.send(`up ${clientCount++}`);
  };
  send(300);
  socket.on("open", () => send(300));
  socket.on("upgrading", () => send(300));
  socket.on("upgrade", () => send(300));
  const downstream: string[] = [];
  socket.on("message", (data) => downstream.push(data as string));

  await next(socket, "upgrade");
  expect(socket.transport.name).toBe("websocket");
  expect(events.map(([event]) => event)).toEqual(["open", "upgrading", "upgrade"]);
  // one more round trip on the new transport proves everything before it has been delivered
  send(300);
  await new Promise<void>((resolve) => {
    const check = () => upstream.length >= clientCount && resolve();
    serverSide.on("message", check);
    check();
  });
  expect(upstream).toEqual(Array.from({ length: clientCount }, (_, i) => `up ${i}`));

  const total = serverCount + 300;
  burst(serverSide, 300);
  await new Promise<void>((resolve) => {
    const check = () => downstream.length >= total && resolve();
    socket.on("message", check);
    check();
  });
  expect(downstream.slice(0, total)).toEqual(Array.from({ length: total }, (_, i) => `down ${i}`));
  socket.close();
});

test("a probe that never answers times out, the session stays on polling and keeps working", async () => {
  server = await startServer({ engine: "stock" }, echo);
  const socket = new Socket(server.url, {
    env: nodeEnv({ WebSocket: silentWebSocket() }),
    probeTimeout: 200,
  });
  await next(socket, "open");
  const [error] = await next(socket, "upgradeError");
  expect(error.name).toBe("UpgradeError");
  expect(error.message).toMatch(/no probe answer within 200 ms/);
  expect(socket.transport.name).toBe("polling");
  socket.send("still on polling");
  expect(await messages(socket, 1)).toEqual(["still on polling"]);
  socket.close();
});

test("a WebSocket that cannot connect leaves the session on polling", async () => {
  server = await startServer({ engine: "stock" }, echo);
  const socket = new Socket(server.url, {
    env: nodeEnv({ WebSocket: refusingWebSocket() }),
  });
  await next(socket, "open");
  const [error] = await next(socket, "upgradeError");
  expect(error.transport).toBe("websocket");
  expect(error.cause).toBeDefined();
  socket.send("polling still works");
  expect(await messages(socket, 1)).toEqual(["polling still works"]);
  expect(socket.transport.name).toBe("polling");
  socket.close();
});

test("the upgrade does not wait for a held poll", async () => {
  // a long pingInterval means the held GET would otherwise stay open for 20 s
  server = await startServer({ engine: "stock", pingInterval: 20000 }, echo);
  const socket = new Socket(server.url, { env: nodeEnv(), probeTimeout: 2000 });
  await next(socket, "open");
  const [name] = await next(socket, "upgrade");
  expect(name).toBe("websocket");
});

/** A real WebSocket whose incoming frames are dropped: it opens and then never delivers. */
function silentWebSocket(): WebSocketConstructor {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      this.on("open", () => {
        this.onmessage = null;
        Object.defineProperty(this, "onmessage", { set() {}, get: () => null });
      });
    }
  } as unknown as WebSocketConstructor;
}

/** A WebSocket pointed at a port nobody listens on. */
function refusingWebSocket(): WebSocketConstructor {
  return class extends WebSocket {
    constructor(_url: string) {
      super("ws://127.0.0.1:1/");
    }
  } as unknown as WebSocketConstructor;
}
