/** The core client against a stock engine.io 6.6 server on a loopback port. */
import type { Socket as EngineSocket } from "engine.io";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { BaseSocket, polling, Socket, websocket } from "../../src/index.js";
import type { SocketOptions } from "../../src/socket.js";
import { closed, messages, next, record } from "../support/events.js";
import { echo, startServer, type TestServer } from "../support/server.js";
import { nodeEnv } from "../support/node-env.js";

let server: TestServer;
const sockets: BaseSocket[] = [];

beforeEach(async () => {
  server = await startServer({ engine: "stock" }, echo);
});
afterEach(() => {
  for (const socket of sockets.splice(0)) if (socket.state !== "closed") socket.close();
});

function connect(options: SocketOptions = {}): Socket {
  const socket = new Socket(server.url, { env: nodeEnv(), ...options });
  sockets.push(socket);
  return socket;
}

const bytes = (data: unknown) => Array.from(new Uint8Array(data as ArrayBuffer));

describe.each([
  { name: "polling", transports: [polling] },
  { name: "websocket", transports: [websocket] },
  { name: "polling upgraded to websocket", transports: [polling, websocket] },
])("on $name", ({ transports }) => {
  const open = async () => {
    const socket = connect({ transports });
    await next(socket, "open");
    if (transports.length > 1) await next(socket, "upgrade");
    expect(socket.transport.name).toBe(transports[transports.length - 1]!.name);
    return socket;
  };

  test("echoes unicode text", async () => {
    const socket = await open();
    const text = "héllo 🌍 \u2028\u2029 </script> <!-- \r\n \0 \"quoted\" \\ \ud800 lone";
    socket.send(text);
    // UTF-8 cannot carry a lone surrogate: like every text protocol it arrives as U+FFFD
    expect(await messages(socket, 1)).toEqual([text.replace("\ud800", "\ufffd")]);
  });

  test("echoes binary: ArrayBuffer, typed arrays with offsets, Blob", async () => {
    const socket = await open();
    const backing = new Uint8Array([9, 9, 1, 2, 3, 250, 9]);
    socket.send(new Uint8Array([0, 1, 255]).buffer);
    socket.send(backing.subarray(2, 6));
    socket.send(new Uint16Array([0x0102, 0xfffe]));
    socket.send(new Blob([new Uint8Array([7, 8])]));
    socket.send("after the blob");
    const received = await messages(socket, 5);
    expect(bytes(received[0])).toEqual([0, 1, 255]);
    expect(bytes(received[1])).toEqual([1, 2, 3, 250]);
    expect(bytes(received[2])).toEqual(Array.from(new Uint8Array(new Uint16Array([0x0102, 0xfffe]).buffer)));
    expect(bytes(received[3])).toEqual([7, 8]);
    expect(received[4]).toBe("after the blob");
  });

  test("delivers binary as Blob when asked", async () => {
    const socket = connect({ transports, binaryType: "blob" });
    await next(socket, "open");
    socket.send(new Uint8Array([5, 6, 7]));
    const [blob] = await messages(socket, 1);
    expect(blob).toBeInstanceOf(Blob);
    expect(bytes(await (blob as Blob).arrayBuffer())).toEqual([5, 6, 7]);
  });

  test("carries a 1 MB message both ways", async () => {
    const socket = await open();
    const big = "x".repeat(1024 * 1024 - 10) + "é€𝄞end";
    socket.send(big);
    const [echoed] = await messages(socket, 1);
    expect(echoed).toBe(big);
  });

  test("keeps 1,000 messages in order both ways", async () => {
    const socket = await open();
    const serverSide = server.sessions[0]!;
    const upstream: string[] = [];
    serverSide.on("message", (data: string) => upstream.push(data));
    const received = messages(socket, 1000);
    for (let i = 0; i < 1000; i++) socket.send(String(i));
    const expected = Array.from({ length: 1000 }, (_, i) => String(i));
    expect(await received).toEqual(expected);
    expect(upstream).toEqual(expected);
  });

  test("closes from the client side after flushing what was written", async () => {
    const socket = await open();
    const serverSide = server.sessions[0]!;
    const upstream: string[] = [];
    serverSide.removeAllListeners("message");
    serverSide.on("message", (data: string) => upstream.push(data));
    const serverClosed = new Promise<string>((resolve) => serverSide.on("close", resolve));
    socket.send("last words");
    const sent = new Promise<void>((resolve) => socket.send("flushed before close", resolve));
    socket.close();
    expect(socket.state).toBe("closing");
    const { reason, details } = await closed(socket);
    expect(reason).toBe("forced close");
    expect(details.unsent).toEqual([]);
    await sent;
    expect(await serverClosed).toBe("transport close");
    expect(upstream).toEqual(["last words", "flushed before close"]);
    expect(() => socket.send("too late")).toThrow(/closed socket/);
  });

  test("closes from the server side", async () => {
    const socket = await open();
    const serverSide = server.sessions[0]!;
    const events = record(socket);
    serverSide.close();
    const { reason } = await closed(socket);
    expect(reason).toBe("transport close");
    expect(events.filter(([event]) => event === "error")).toEqual([]);
  });
});

test("answers the server's pings and stays open across several heartbeats", async () => {
  await server.close();
  server = await startServer({ engine: "stock", pingInterval: 50, pingTimeout: 200 }, echo);
  const socket = connect();
  await next(socket, "open");
  let pings = 0;
  await new Promise<void>((resolve) => socket.on("ping", () => ++pings === 4 && resolve()));
  expect(socket.state).toBe("open");
  socket.send("still here");
  expect(await messages(socket, 1)).toEqual(["still here"]);
});

test("declares the connection dead when pings stop", async () => {
  await server.close();
  server = await startServer({ engine: "stock", pingInterval: 50, pingTimeout: 50 }, echo);
  const socket = connect({ transports: ["websocket"] });
  await next(socket, "open");
  const serverSide = server.sessions[0]!;
  // the server stops pinging but keeps the connection: only the client's clock can tell
  (serverSide as unknown as { schedulePing(): void }).schedulePing = () => {};
  clearTimeout((serverSide as unknown as { pingIntervalTimer: NodeJS.Timeout }).pingIntervalTimer);
  clearTimeout((serverSide as unknown as { pingTimeoutTimer: NodeJS.Timeout }).pingTimeoutTimer);
  const { reason, details } = await closed(socket);
  expect(reason).toBe("ping timeout");
  expect(details.error?.name).toBe("HeartbeatError");
});

test("refuses a string containing the payload separator U+001E", async () => {
  const socket = connect();
  expect(() => socket.send("a\x1eb")).toThrow(/U\+001E/);
  socket.send("fine");
  expect(await messages(socket, 1)).toEqual(["fine"]);
});

test("buffers messages sent before the handshake and delivers them in order", async () => {
  const socket = connect();
  socket.send("a");
  socket.send("b");
  expect(await messages(socket, 2)).toEqual(["a", "b"]);
});

test("passes query parameters and extra headers to the server", async () => {
  const seen = new Promise<{ query: Record<string, string>; header: string | undefined }>((resolve) =>
    server.engine.on("connection", (socket: EngineSocket) =>
      resolve({ query: (socket.request as unknown as { _query: Record<string, string> })._query, header: socket.request.headers["x-cometa-test"] as string | undefined }),
    ),
  );
  const socket = connect({ query: { token: "t0k&n" }, extraHeaders: { "X-Cometa-Test": "yes" } });
  await next(socket, "open");
  const { query, header } = await seen;
  expect(query.token).toBe("t0k&n");
  expect(header).toBe("yes");
});

test("remembers the upgrade and starts the next session on websocket", async () => {
  const env = nodeEnv();
  const first = connect({ env, rememberUpgrade: true });
  await next(first, "upgrade");
  first.close();
  const second = connect({ env, rememberUpgrade: true });
  expect(second.transport.name).toBe("websocket");
  await next(second, "open");
  second.send("direct");
  expect(await messages(second, 1)).toEqual(["direct"]);
});

test("stays on polling when upgrades are off", async () => {
  const socket = connect({ upgrade: false });
  await next(socket, "open");
  socket.send("ping?");
  expect(await messages(socket, 1)).toEqual(["ping?"]);
  expect(socket.transport.name).toBe("polling");
});

test("uses a custom path", async () => {
  await server.close();
  server = await startServer({ engine: "stock", path: "/rt" }, echo);
  const socket = connect({ path: "/rt" });
  await next(socket, "upgrade");
  socket.send("custom path");
  expect(await messages(socket, 1)).toEqual(["custom path"]);
});
