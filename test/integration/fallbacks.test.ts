/**
 * The fallback transports end to end against cometa/server on a loopback port: short polling,
 * XHR streaming (fetch streams in Node) and SSE (the `eventsource` package in Node).
 */
import { afterEach, describe, expect, test } from "vitest";
import { BaseSocket, polling, shortPolling, Socket, sse, websocket, xhrStreaming } from "../../src/index.js";
import type { TransportDefinition } from "../../src/transport.js";
import { closed, messages, next, record } from "../support/events.js";
import { echo, startServer, type TestServer } from "../support/server.js";
import { nodeEnv } from "../support/node-env.js";

let server: TestServer | undefined;
const sockets: BaseSocket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) if (socket.state !== "closed") socket.close();
});

/** A small recycle size, so long tests cross several reopened streams. */
const extended = { recycleBytes: 16 * 1024 };

async function serve(options: Parameters<typeof startServer>[0] = {}, onConnection?: Parameters<typeof startServer>[1]) {
  server = await startServer({ ...extended, ...options }, onConnection ?? echo);
  return server;
}

function connect(transports: TransportDefinition[], options: ConstructorParameters<typeof BaseSocket>[1] = {}) {
  const socket = new BaseSocket(server!.url, { env: nodeEnv(), transports, pollInterval: 20, ...options });
  sockets.push(socket);
  return socket;
}

const bytes = (data: unknown) => Array.from(new Uint8Array(data as ArrayBuffer));
const tricky = "line\nbreaks\r\nand\rreturns </script><!-- <script> \u2028\u2029 \"q\" \\ \\n é 🌍 \0";

describe.each([
  { name: "short-polling", transport: shortPolling },
  { name: "xhr-streaming", transport: xhrStreaming },
  { name: "sse", transport: sse },
])("$name", ({ transport }) => {
  test("opens a session directly and echoes text that breaks naive framing", async () => {
    await serve();
    const socket = connect([transport]);
    await next(socket, "open");
    expect(socket.transport.name).toBe(transport.name);
    expect(server!.sessions[0]!.transport.name).toBe(transport.name);
    socket.send(tricky);
    expect(await messages(socket, 1)).toEqual([tricky]);
  });

  test("carries binary both ways", async () => {
    await serve();
    const socket = connect([transport]);
    socket.send(new Uint8Array([0, 255, 1, 2]));
    socket.send(new Blob([new Uint8Array([3, 4])]));
    const [first, second] = await messages(socket, 2);
    expect(bytes(first)).toEqual([0, 255, 1, 2]);
    expect(bytes(second)).toEqual([3, 4]);
  });

  test("carries a 1 MB message both ways", async () => {
    await serve();
    const socket = connect([transport]);
    const big = "y".repeat(1024 * 1024 - 16) + "\n€\r𝄞";
    socket.send(big);
    const [echoed] = await messages(socket, 1);
    expect(echoed).toBe(big);
  });

  test("keeps 1,000 messages in order both ways, across recycled streams", async () => {
    await serve();
    const socket = connect([transport]);
    await next(socket, "open");
    const upstream: string[] = [];
    server!.sessions[0]!.on("message", (data: string) => upstream.push(data));
    const received = messages(socket, 1000);
    for (let i = 0; i < 1000; i++) socket.send(`message ${i} ${"z".repeat(40)}`);
    const expected = Array.from({ length: 1000 }, (_, i) => `message ${i} ${"z".repeat(40)}`);
    expect(await received).toEqual(expected);
    expect(upstream).toEqual(expected);
  });

  test("answers heartbeats", async () => {
    await serve({ pingInterval: 40, pingTimeout: 400 });
    const socket = connect([transport]);
    let pings = 0;
    await new Promise<void>((resolve) => socket.on("ping", () => ++pings === 3 && resolve()));
    expect(socket.state).toBe("open");
  });

  test("closes from the client side", async () => {
    await serve();
    const socket = connect([transport]);
    await next(socket, "open");
    const serverClosed = new Promise<string>((resolve) => server!.sessions[0]!.on("close", resolve));
    socket.close();
    const { reason, details } = await closed(socket);
    expect(reason).toBe("forced close");
    expect(details.unsent).toEqual([]);
    expect(await serverClosed).toBe("transport close");
  });

  test("closes from the server side", async () => {
    await serve();
    const socket = connect([transport]);
    await next(socket, "open");
    const events = record(socket);
    server!.sessions[0]!.close();
    const { reason } = await closed(socket);
    expect(reason).toBe("transport close");
    expect(events.filter(([event]) => event === "error")).toEqual([]);
  });
});

describe.each([
  { name: "sse", transport: sse },
  { name: "xhr-streaming", transport: xhrStreaming },
])("upgrade from long-polling to $name", ({ transport }) => {
  test("messages in flight both ways arrive once, in order", async () => {
    let serverCount = 0;
    const upstream: string[] = [];
    await serve({}, (socket) => {
      socket.on("message", (data: string) => upstream.push(data));
      const burst = (n: number) => {
        for (let i = 0; i < n; i++) socket.send(`down ${serverCount++}`);
      };
      burst(200);
      socket.on("upgrading", () => burst(200));
      socket.on("upgrade", () => burst(200));
    });
    const socket = connect([polling, transport]);
    let clientCount = 0;
    const send = (n: number) => {
      for (let i = 0; i < n; i++) socket.send(`up ${clientCount++}`);
    };
    const downstream: string[] = [];
    socket.on("message", (data) => downstream.push(data as string));
    send(200);
    socket.on("upgrading", () => send(200));
    socket.on("upgrade", () => send(200));
    const [name] = await next(socket, "upgrade");
    expect(name).toBe(transport.name);
    await new Promise<void>((resolve) => {
      const check = () => downstream.length >= 600 && upstream.length >= 600 && resolve();
      socket.on("message", check);
      server!.sessions[0]!.on("message", check);
      check();
    });
    expect(downstream).toEqual(Array.from({ length: 600 }, (_, i) => `down ${i}`));
    expect(upstream).toEqual(Array.from({ length: 600 }, (_, i) => `up ${i}`));
    expect(server!.sessions[0]!.transport.name).toBe(transport.name);
  });
});

describe("the default ladder in Node", () => {
  test("upgrades to websocket when the server offers it", async () => {
    await serve();
    const socket = new Socket(server!.url, { env: nodeEnv() });
    sockets.push(socket);
    expect((await next(socket, "upgrade"))[0]).toBe("websocket");
  });

  test("lands on sse with websocket off on the server", async () => {
    await serve({ transports: ["polling", "sse", "xhr-streaming", "short-polling"] } as never);
    const socket = new Socket(server!.url, { env: nodeEnv() });
    sockets.push(socket);
    expect((await next(socket, "upgrade"))[0]).toBe("sse");
  });

  test("lands on xhr-streaming with websocket and sse off", async () => {
    await serve({ transports: ["polling", "xhr-streaming"] } as never);
    const socket = new Socket(server!.url, { env: nodeEnv() });
    sockets.push(socket);
    expect((await next(socket, "upgrade"))[0]).toBe("xhr-streaming");
  });

  test("a failed websocket probe falls through to the next candidate", async () => {
    await serve();
    const socket = new Socket(server!.url, { env: nodeEnv({ WebSocket: undefined }), transports: [polling, websocket, sse] });
    sockets.push(socket);
    expect((await next(socket, "upgrade"))[0]).toBe("sse");
  });
});

describe("falling through the ladder after a failed streaming probe", () => {
  test("an sse probe that never answers gives way to xhr-streaming", async () => {
    await serve({ transports: ["polling", "sse", "xhr-streaming"] } as never);
    // an sse stream whose bytes never reach the page, as behind a buffering proxy (the client
    // reads it as a fetch stream here): its GET is never answered
    const deaf = ((url: string, init?: RequestInit) =>
      /transport=sse/.test(url) && init?.method === "GET"
        ? new Promise<Response>((_resolve, reject) => init.signal?.addEventListener("abort", () => reject(new Error("aborted"))))
        : fetch(url, init)) as typeof fetch;
    const socket = new Socket(server!.url, {
      env: nodeEnv({ fetch: deaf }),
      probeTimeout: 300,
    });
    sockets.push(socket);
    const failures: string[] = [];
    socket.on("upgradeError", (error) => failures.push(error.transport));
    const [name] = await next(socket, "upgrade");
    expect(failures).toEqual(["sse"]);
    expect(name).toBe("xhr-streaming");
    socket.send("after the fall-through");
    expect(await messages(socket, 1)).toEqual(["after the fall-through"]);
  });
});
