/**
 * The socket.io recipe as the README writes it: `new Server(options)`, `engine.attach(http)`,
 * `io.bind(engine)`, with socket.io-client 4.8 as the client. engine.io reads `path` only from
 * `attach`'s options; cometa's Server takes it from the constructor too.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server as IoServer } from "socket.io";
import { io as ioClient, type Socket as IoClientSocket } from "socket.io-client";
import { afterEach, describe, expect, it } from "vitest";
import { Socket } from "../../src/index.js";
import { Server } from "../../src/server/index.js";
import { nodeEnv } from "../support/node-env.js";

const cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function listen(http: HttpServer): Promise<string> {
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  cleanup.push(
    () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

/** The README's recipe, line for line. */
async function recipe(options: ConstructorParameters<typeof Server>[0]) {
  const http = createServer();
  const io = new IoServer();
  const engine = new Server(options);
  engine.attach(http);
  io.bind(engine);
  cleanup.push(() => void io.close());
  io.on("connection", (socket) => socket.on("hello", (who: string, ack: (text: string) => void) => ack(`hi ${who}`)));
  return { url: await listen(http), engine };
}

function client(url: string, options: Parameters<typeof ioClient>[1] = {}): IoClientSocket {
  const socket = ioClient(url, { forceNew: true, reconnection: false, timeout: 5000, ...options });
  cleanup.push(() => void socket.close());
  return socket;
}

function connected(socket: IoClientSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", reject);
  });
}

describe("the socket.io recipe: new Server({ path }), engine.attach(http), io.bind(engine)", () => {
  it("serves socket.io-client 4.8 under the constructor's path, over polling and after the upgrade", async () => {
    const { url } = await recipe({ path: "/socket.io/", cors: { origin: "https://app.example" } });
    const socket = client(url);
    await connected(socket);
    expect(await socket.emitWithAck("hello", "polling")).toBe("hi polling");
    const engineSocket = socket.io.engine;
    if (engineSocket.transport.name !== "websocket") {
      await new Promise<void>((resolve) => engineSocket.once("upgrade", () => resolve()));
    }
    expect(await socket.emitWithAck("hello", "websocket")).toBe("hi websocket");
  });

  it("serves a cometa client on a cometa transport under that path too", async () => {
    const { url } = await recipe({ path: "/socket.io/" });
    const socket = new Socket(url, { path: "/socket.io/", transports: ["sse"], env: nodeEnv() });
    cleanup.push(() => void socket.close());
    await new Promise<void>((resolve) => socket.once("open", () => resolve()));
    expect(socket.transport.name).toBe("sse");
  });

  it("without a path it serves engine.io's default, /engine.io/, as engine.io does", async () => {
    const { url } = await recipe({});
    expect((await fetch(`${url}/engine.io/?EIO=4&transport=polling`)).status).toBe(200);
  });

  it("refuses two different paths instead of ignoring one", () => {
    const engine = new Server({ path: "/socket.io/" });
    cleanup.push(() => void engine.close());
    expect(() => engine.attach(createServer(), { path: "/realtime/" })).toThrow(
      /attach\(\) was given path "\/realtime\/" but the Server was made with path "\/socket\.io\/"/,
    );
    // the same path in both places is no conflict; a trailing slash does not matter
    expect(() => engine.attach(createServer(), { path: "/socket.io" })).not.toThrow();
  });

  it("refuses a path that is not one", () => {
    expect(() => new Server({ path: "socket.io" })).toThrow(/path must be a string starting with "\/"/);
  });
});
