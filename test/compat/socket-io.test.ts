/**
 * socket.io-client 4.8, the npm package unchanged, on cometa (its `engine.io-client` import
 * aliased to the compat entry), against a stock socket.io 4.8 server and one bound to
 * cometa/server.
 */
import { Server as IoServer } from "socket.io";
import { io as connect, type Socket as ClientSocket, type ManagerOptions, type SocketOptions } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { SocketWithoutUpgrade } from "../../src/compat/socket.js";
import { type IoTestServer, type ServerKind, startIoServer } from "../support/server.js";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function server(kind: ServerKind, options?: ConstructorParameters<typeof IoServer>[1]): Promise<IoTestServer> {
  const started = await startIoServer(kind, options);
  started.io.on("connection", (socket) => {
    socket.on("echo", (...args: unknown[]) => {
      const ack = args.pop() as (...reply: unknown[]) => void;
      ack(...args);
    });
  });
  return started;
}

function client(url: string, options: Partial<ManagerOptions & SocketOptions> = {}): ClientSocket {
  const socket = connect(url, { forceNew: true, reconnection: false, timeout: 5000, ...options });
  cleanup.push(() => socket.close());
  return socket;
}

function connected(socket: ClientSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
}

function next<T extends unknown[]>(target: { once(event: string, listener: (...args: T) => void): unknown }, event: string): Promise<T> {
  return new Promise((resolve) => target.once(event, (...args: T) => resolve(args)));
}

describe.each(["stock", "cometa"] as const)("socket.io-client on cometa, %s socket.io 4.8 server", (kind) => {
  it("runs on cometa's engine, connects to the main and a custom namespace", async () => {
    const { url, io } = await server(kind);
    const admins = new Promise<string>((resolve) =>
      io.of("/admin").on("connection", (socket) => {
        socket.on("echo", (text: string, ack: (text: string) => void) => ack(text));
        resolve(socket.nsp.name);
      }),
    );
    const main = client(url);
    await connected(main);
    expect(main.io.engine).toBeInstanceOf(SocketWithoutUpgrade);
    const admin = connect(`${url}/admin`, { forceNew: true, reconnection: false });
    cleanup.push(() => admin.close());
    await connected(admin);
    expect(await admins).toBe("/admin");
    expect(await admin.emitWithAck("echo", "from admin")).toBe("from admin");
  });

  it("emits with acknowledgements both ways", async () => {
    const { url, io } = await server(kind);
    const serverSide = next<[import("socket.io").Socket]>(io, "connection");
    const socket = client(url);
    socket.on("question", (text: string, ack: (answer: string) => void) => ack(`answer to ${text}`));
    await connected(socket);
    expect(await socket.emitWithAck("echo", "ping", 42, { nested: [1, 2] })).toBe("ping");
    const [peer] = await serverSide;
    expect(await peer.timeout(2000).emitWithAck("question", "life")).toBe("answer to life");
  });

  it("carries binary both ways, as Buffer in Node", async () => {
    const { url, io } = await server(kind);
    const serverSide = next<[import("socket.io").Socket]>(io, "connection");
    const socket = client(url);
    await connected(socket);
    const [peer] = await serverSide;
    const fromServer = next<[unknown]>(socket, "bytes");
    peer.emit("bytes", Buffer.from([1, 2, 3, 255]));
    const [received] = await fromServer;
    expect(Buffer.isBuffer(received)).toBe(true);
    expect([...(received as Buffer)]).toEqual([1, 2, 3, 255]);
    const echoed = await socket.emitWithAck("echo", { payload: new Uint8Array([9, 8, 7]), label: "mixed" });
    expect(Buffer.isBuffer(echoed.payload)).toBe(true);
    expect([...echoed.payload]).toEqual([9, 8, 7]);
    expect(echoed.label).toBe("mixed");
  });

  it("reports the engine's transport and its upgrade from long-polling to websocket", async () => {
    const { url } = await server(kind);
    const socket = client(url);
    const engine = socket.io.engine;
    expect(engine.transport.name).toBe("polling");
    const upgrading = next<[{ name: string }]>(engine, "upgrading");
    const upgrade = next<[{ name: string }]>(engine, "upgrade");
    await connected(socket);
    const [upgraded] = await upgrade;
    expect((await upgrading)[0].name).toBe("websocket");
    expect(upgraded.name).toBe("websocket");
    expect(engine.transport.name).toBe("websocket");
    expect(await socket.emitWithAck("echo", "after upgrade")).toBe("after upgrade");
  });

  it("drops volatile emits while the transport is busy and while disconnected, sends them when writable", async () => {
    const { url, io } = await server(kind);
    const received: string[] = [];
    io.on("connection", (socket) => socket.on("tick", (label: string) => received.push(label)));
    const socket = client(url, { transports: ["polling"], autoConnect: false });
    socket.volatile.emit("tick", "before connect");
    socket.connect();
    await connected(socket);
    expect(socket.io.engine.transport.writable).toBe(true);
    socket.emit("tick", "regular");
    // the regular emit's POST is in flight: the transport is not writable, volatile ones go
    expect(socket.io.engine.transport.writable).toBe(false);
    for (let i = 0; i < 5; i++) socket.volatile.emit("tick", `busy ${i}`);
    await next(socket.io.engine, "drain");
    socket.volatile.emit("tick", "writable");
    await socket.emitWithAck("echo", "flush");
    expect(received).toEqual(["regular", "writable"]);
  });

  it("reconnects through the Manager's backoff after the server drops the connection", async () => {
    const { url, io } = await server(kind);
    const socket = client(url, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
    const first = next<[import("socket.io").Socket]>(io, "connection");
    await connected(socket);
    const [peer] = await first;
    const disconnected = next<[string]>(socket, "disconnect");
    const attempt = next<[number]>(socket.io, "reconnect_attempt");
    const reconnected = next<[number]>(socket.io, "reconnect");
    peer.conn.close();
    expect((await disconnected)[0]).toBe("transport close");
    expect((await attempt)[0]).toBe(1);
    expect((await reconnected)[0]).toBe(1);
    await connected(socket);
    expect(await socket.emitWithAck("echo", "again")).toBe("again");
  });

  it("recovers the connection state after a short cut (socket.recovered)", async () => {
    const { url, io } = await server(kind, { connectionStateRecovery: { maxDisconnectionDuration: 10_000 } });
    const socket = client(url, { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
    const first = next<[import("socket.io").Socket]>(io, "connection");
    await connected(socket);
    expect(socket.recovered).toBe(false);
    const [peer] = await first;
    const greeted = next<[string]>(socket, "greeting");
    peer.join("room-1");
    peer.emit("greeting", "hello");
    await greeted;
    const missed = next<[string]>(socket, "news");
    const back = next<[import("socket.io").Socket]>(io, "connection");
    const disconnected = next(socket, "disconnect");
    peer.conn.close();
    await disconnected;
    // emitted while the client is away: delivered on recovery
    io.to("room-1").emit("news", "while you were away");
    const [again] = await back;
    await connected(socket);
    expect(socket.recovered).toBe(true);
    expect(again.id).toBe(peer.id);
    expect(again.rooms.has("room-1")).toBe(true);
    expect((await missed)[0]).toBe("while you were away");
  });

  it("honours timeout, ackTimeout and retries", async () => {
    const { url, io } = await server(kind);
    let attempts = 0;
    io.on("connection", (socket) => {
      socket.on("silent", () => {});
      socket.on("flaky", (ack: (value: string) => void) => {
        attempts++;
        if (attempts === 3) ack("third time");
      });
    });
    const socket = client(url, { ackTimeout: 150, retries: 3 });
    await connected(socket);
    await expect(socket.timeout(100).emitWithAck("silent")).rejects.toThrow("operation has timed out");
    expect(await socket.emitWithAck("flaky")).toBe("third time");
    expect(attempts).toBe(3);
  });

  it("forces one transport through socket.io's transports option", async () => {
    const { url } = await server(kind);
    for (const transport of ["polling", "websocket"]) {
      const socket = client(url, { transports: [transport] });
      await connected(socket);
      expect(socket.io.engine.transport.name).toBe(transport);
      expect(await socket.emitWithAck("echo", transport)).toBe(transport);
      socket.close();
    }
  });
});

describe("cometa transports through socket.io's transports option, socket.io bound to cometa/server", () => {
  it("opens on short-polling", async () => {
    const { url } = await server("cometa");
    const socket = client(url, { transports: ["short-polling"] });
    await connected(socket);
    expect(socket.io.engine.transport.name).toBe("short-polling");
    expect(await socket.emitWithAck("echo", "short")).toBe("short");
  });

  it("upgrades from long-polling to xhr-streaming when named after it", async () => {
    const { url } = await server("cometa");
    const socket = client(url, { transports: ["polling", "xhr-streaming"] });
    const upgrade = next<[{ name: string }]>(socket.io.engine, "upgrade");
    await connected(socket);
    const [upgraded] = await upgrade;
    expect(upgraded.name).toBe("xhr-streaming");
    expect(await socket.emitWithAck("echo", Buffer.from("streamed"))).toEqual(Buffer.from("streamed"));
  });
});

describe("bad input is a clear, synchronous error", () => {
  const url = "http://127.0.0.1:9";
  it.each([
    [{ transports: ["webtransport"] }, /unknown transport "webtransport": cometa has polling, websocket, sse/],
    [{ transports: ["carrier-pigeon"] }, /unknown transport "carrier-pigeon"/],
    [{ transports: "websocket" }, /transports must be an array/],
    [{ transports: [] }, /no transports given/],
    [{ transports: ["jsonp"] }, /works in this environment/],
    [{ addTrailingSlash: false }, /addTrailingSlash/],
    [{ probeTimeout: -1 }, /probeTimeout/],
  ])("%j", (options, message) => {
    expect(() => connect(url, { forceNew: true, ...(options as object) })).toThrow(UsageError);
    expect(() => connect(url, { forceNew: true, ...(options as object) })).toThrow(message);
  });
});
