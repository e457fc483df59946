/**
 * A socket.io 4.8 server on an ephemeral loopback port: stock (engine.io underneath), or bound
 * to cometa/server's engine with `io.bind(engine)`.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server as IoServer, type ServerOptions as IoOptions } from "socket.io";
import { Server as CometaServer, type ServerOptions as CometaOptions } from "../../../src/server/index.js";

export type ServerKind = "stock" | "cometa";

export interface IoTestServer {
  url: string;
  io: IoServer;
  http: HttpServer;
  close(): Promise<void>;
}

export async function startIoServer(
  kind: ServerKind,
  options: Partial<IoOptions> = {},
  engineOptions: CometaOptions = {},
): Promise<IoTestServer> {
  const http = createServer();
  let io: IoServer;
  if (kind === "stock") {
    io = new IoServer(http, options);
  } else {
    io = new IoServer(options);
    const engine = new CometaServer({ path: "/socket.io/", ...engineOptions });
    engine.attach(http, { path: "/socket.io/" });
    io.bind(engine as unknown as Parameters<IoServer["bind"]>[0]);
  }
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    io,
    http,
    close: () =>
      new Promise<void>((resolve) => {
        io.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
