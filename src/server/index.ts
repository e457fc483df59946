/**
 * cometa/server: engine.io's Server with cometa's extra transports (sse, xhr-streaming,
 * iframe, short-polling) and upgrades from long-polling to each of them.
 *
 * @example
 * import { createServer } from "node:http";
 * import { attach } from "cometa/server";
 * const engine = attach(createServer().listen(3000), { allowedOrigins: ["https://app.example"] });
 * engine.on("connection", (socket) => socket.on("message", (data) => socket.send(data)));
 *
 * With socket.io 4.8: `const engine = new Server({ path: "/socket.io/", ...opts });
 * engine.attach(httpServer); io.bind(engine);` (`io` a socket.io `Server`).
 */
import type { Server as HttpServer } from "node:http";
import type { AttachOptions } from "engine.io";
import type { ServerOptions } from "./options.js";
import { Server } from "./server.js";

export { Server };
export { SUPPORTED_ENGINE_IO } from "./engine-internals.js";
export { nodeIdOf } from "./affinity.js";
export { ResumeBufferFullError, ResumeWindowError, type UndeliveredMessage } from "./resume-errors.js";
export type { AllowedOrigins } from "./origin.js";
export type {
  ExtensionTransportName,
  ServerOptions,
  StockTransportName,
  TransportName,
} from "./options.js";
export type { AttachOptions };

/**
 * Creates a {@link Server} and attaches it to `httpServer` (its requests under `path`, default
 * `/engine.io/`, and its WebSocket upgrades), like engine.io's own `attach`.
 */
export function attach(httpServer: HttpServer, options: ServerOptions & AttachOptions = {}): Server {
  const engine = new Server(options);
  engine.attach(httpServer, options);
  return engine;
}
