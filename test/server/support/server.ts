/** A cometa Server on an ephemeral loopback port. */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Socket as EngineSocket } from "engine.io";
import { Server, attach } from "../../../src/server/index.js";
import type { ServerOptions } from "../../../src/server/index.js";

export interface TestServer {
  readonly engine: Server;
  readonly http: HttpServer;
  readonly port: number;
  /** `http://127.0.0.1:PORT/engine.io/?EIO=4&` + the given query. */
  url(query: string): string;
  /** The server side of the next session to open. */
  nextConnection(): Promise<EngineSocket>;
  close(): Promise<void>;
}

export async function startServer(options: ServerOptions = {}): Promise<TestServer> {
  const http = createServer();
  const engine = attach(http, { pingInterval: 60_000, pingTimeout: 60_000, ...options });
  const waiters: ((socket: EngineSocket) => void)[] = [];
  const early: EngineSocket[] = [];
  engine.on("connection", (socket: EngineSocket) => {
    const waiter = waiters.shift();
    if (waiter) waiter(socket);
    else early.push(socket);
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    engine,
    http,
    port,
    url: (query) => `http://127.0.0.1:${port}/engine.io/?EIO=4&${query}`,
    nextConnection: () => {
      const socket = early.shift();
      return socket ? Promise.resolve(socket) : new Promise((resolve) => waiters.push(resolve));
    },
    close: () =>
      new Promise<void>((resolve) => {
        engine.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/** Resolves with the arguments of the next `event` on `emitter`. */
export function once<T extends unknown[] = unknown[]>(
  emitter: { once(event: string, listener: (...args: T) => void): unknown },
  event: string,
): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (...args: T) => resolve(args)));
}

/** Collects the next `count` `message` events of a server socket. */
export function collectMessages(socket: EngineSocket, count: number): Promise<unknown[]> {
  return new Promise((resolve) => {
    const received: unknown[] = [];
    const onMessage = (data: unknown): void => {
      received.push(data);
      if (received.length === count) {
        socket.off("message", onMessage);
        resolve(received);
      }
    };
    socket.on("message", onMessage);
  });
}
