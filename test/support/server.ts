/**
 * The servers the tests talk to, each on an ephemeral port of 127.0.0.1 and closed when the
 * test that started it ends (a server started outside a test is closed by its caller):
 * - `startServer`: an engine.io endpoint, cometa/server (default) or engine.io's own Server;
 * - `startIoServer`: socket.io 4.8 on engine.io, or bound to cometa/server's engine;
 * - `startRawServer`: plain HTTP answering whatever the test scripts, for malformed servers.
 */
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server as HttpServer,
  type ServerOptions as HttpOptions,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { type AttachOptions, Server as StockServer, type ServerOptions as StockOptions, type Socket as EngineSocket } from "engine.io";
import { Server as IoServer, type ServerOptions as IoOptions } from "socket.io";
import { onTestFinished } from "vitest";
import { attach, Server as CometaServer, type ServerOptions as CometaOptions } from "../../src/server/index.js";

/** What every test server has: where it listens, and how it stops. */
export interface Listening {
  readonly http: HttpServer;
  readonly port: number;
  /** `http://127.0.0.1:PORT` (a test may point it at another host name for the same port). */
  url: string;
  /** Closes the server and drops its connections; a second call does nothing. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (on `port`, or a free one) and registers the close with the test. */
async function listen(http: HttpServer, stop: () => void, port = 0): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, "127.0.0.1", () => {
      http.off("error", reject);
      resolve();
    });
  });
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      stop();
      http.closeAllConnections();
      http.close(() => resolve());
    }));
  try {
    onTestFinished(close);
  } catch {
    // started in beforeAll or outside vitest's hooks: the caller closes it
  }
  const listening = (http.address() as AddressInfo).port;
  return { http, port: listening, url: `http://127.0.0.1:${listening}`, close };
}

export type EngineKind = "cometa" | "stock";

export interface ServerSetup extends CometaOptions, AttachOptions {
  /**
   * cometa/server (the default), engine.io's own Server with the same options, or a Server
   * already made (a subclass under test), which is only attached.
   */
  engine?: EngineKind | StockServer;
  /** A port to listen on again (a restarted server); a free one by default. */
  port?: number;
  /** The HTTP server's own request listener (an app beside engine.io), as `createServer(listener)`. */
  onRequest?: RequestListener;
  /** Node's HTTP server options (`headersTimeout`, `requestTimeout`, ...). */
  httpOptions?: HttpOptions;
}

/**
 * The defaults the suite runs with: no heartbeat traffic unless a test asks for it, and
 * payloads up to 2 MB, so neither gets in the way of what a test exercises.
 */
export const TEST_DEFAULTS = { pingInterval: 60_000, pingTimeout: 60_000, maxHttpBufferSize: 2e6 } as const;

export interface TestServer extends Listening {
  readonly kind: EngineKind;
  /** engine.io's Server, or cometa/server's (which extends it). */
  readonly engine: StockServer;
  /** `http://127.0.0.1:PORT/engine.io/?EIO=4&` + `query` (the attach path when one is set). */
  endpoint(query: string): string;
  /** The server side of every session opened so far, oldest first. */
  readonly sessions: EngineSocket[];
  /** The server side of the next session not yet taken (one opened before the call counts). */
  nextConnection(): Promise<EngineSocket>;
}

/** Sends back every message a session receives. */
export function echo(session: EngineSocket): void {
  session.on("message", (data: unknown) => session.send(data as string));
}

export async function startServer(setup: ServerSetup = {}, onConnection?: (session: EngineSocket) => void): Promise<TestServer> {
  const { engine: made = "cometa", port, onRequest, httpOptions = {}, ...options } = setup;
  const settings = { ...TEST_DEFAULTS, ...options };
  const http = createServer(httpOptions, onRequest);
  let engine: StockServer;
  if (made === "cometa") {
    // through cometa/server's public attach(): `path` and the other attach options reach
    // engine.io's attach(), the rest its Server
    engine = attach(http, settings) as unknown as StockServer;
  } else {
    engine = made === "stock" ? new StockServer(settings as StockOptions) : made;
    engine.attach(http, settings);
  }
  const kind: EngineKind = made === "cometa" || made instanceof CometaServer ? "cometa" : "stock";
  const sessions: EngineSocket[] = [];
  const untaken: EngineSocket[] = [];
  const waiters: ((session: EngineSocket) => void)[] = [];
  engine.on("connection", (session: EngineSocket) => {
    sessions.push(session);
    onConnection?.(session);
    const waiter = waiters.shift();
    if (waiter) waiter(session);
    else untaken.push(session);
  });
  const listening = await listen(http, () => engine.close(), port);
  const path = options.path ?? "/engine.io/";
  const base = `${listening.url}${path.endsWith("/") ? path : `${path}/`}?EIO=4&`;
  return Object.assign(listening, {
    kind,
    engine,
    sessions,
    endpoint: (query: string) => base + query,
    nextConnection: () => {
      const session = untaken.shift();
      return session ? Promise.resolve(session) : new Promise<EngineSocket>((resolve) => waiters.push(resolve));
    },
  });
}

export type ServerKind = EngineKind;

export interface IoTestServer extends Listening {
  readonly io: IoServer;
}

/** socket.io on engine.io (`stock`), or bound to cometa/server's engine with `io.bind(engine)`. */
export async function startIoServer(kind: ServerKind, options: Partial<IoOptions> = {}, engineOptions: CometaOptions = {}): Promise<IoTestServer> {
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
  const listening = await listen(http, () => io.close());
  return Object.assign(listening, { io });
}

export interface RawServer extends Listening {
  readonly requests: { method: string; url: string; body: string }[];
}

export type RawHandler = (request: IncomingMessage & { body: string }, response: ServerResponse, index: number) => void;

/** A plain HTTP server: each request, with its body read, goes to `handler`. */
export async function startRawServer(handler: RawHandler): Promise<RawServer> {
  const requests: RawServer["requests"] = [];
  const http = createServer((request, response) => {
    let body = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      requests.push({ method: request.method ?? "", url: request.url ?? "", body });
      handler(Object.assign(request, { body }), response, requests.length - 1);
    });
  });
  const listening = await listen(http, () => {});
  return Object.assign(listening, { requests });
}

/** An engine.io open packet, as a raw server answers a handshake. */
export const openPacket = (fields: Record<string, unknown> = {}) =>
  "0" + JSON.stringify({ sid: "abc", upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1e6, ...fields });
