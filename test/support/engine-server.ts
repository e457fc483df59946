/**
 * An engine.io server on an ephemeral loopback port, echoing what it receives: stock, or
 * extended by cometa/server when `extended` is set.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type AttachOptions, type ServerOptions, Server as EngineServer, type Socket as EngineSocket } from "engine.io";
import { Server as CometaServer, type ServerOptions as CometaServerOptions } from "../../src/server/index.js";

export interface TestServer {
  url: string;
  engine: EngineServer;
  http: HttpServer;
  /** The server side of the next session to open. */
  nextConnection(): Promise<EngineSocket>;
  /** The server side of the sessions opened so far, oldest first. */
  sessions: EngineSocket[];
  close(): Promise<void>;
}

export async function startEngineServer(
  options: Partial<ServerOptions & AttachOptions> & { extended?: CometaServerOptions } = {},
  onConnection: (socket: EngineSocket) => void = echo,
): Promise<TestServer> {
  const http = createServer();
  const { extended, ...stock } = options;
  const settings = { maxHttpBufferSize: 2e6, ...stock };
  const engine = extended ? (new CometaServer({ ...settings, ...extended }) as unknown as EngineServer) : new EngineServer(settings);
  // `path` is an option of attach(), the rest of the Server
  engine.attach(http, stock);
  const waiters: ((socket: EngineSocket) => void)[] = [];
  const sessions: EngineSocket[] = [];
  engine.on("connection", (socket: EngineSocket) => {
    sessions.push(socket);
    onConnection(socket);
    waiters.shift()?.(socket);
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    engine,
    http,
    sessions,
    nextConnection: () => new Promise((resolve) => waiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        engine.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

export function echo(socket: EngineSocket): void {
  socket.on("message", (data: unknown) => socket.send(data as string));
}
