/**
 * THE one place that touches engine.io's internals. Everything cometa/server needs from
 * engine.io beyond its documented API is listed, checked and wrapped here, so an engine.io
 * release that moves things breaks loudly in one file (and in test/server/engine-internals.test.ts)
 * instead of misbehaving somewhere else.
 *
 * Relied on (engine.io 6.6.x, build/server.js, socket.js, transport.js):
 * - `Server#handleRequest` / `handleUpgrade` / `upgrades` (public, overridden by server.ts);
 *   `createTransport` (protected, overridden here) is what `handshake` uses to build a transport.
 * - `Server#prepare(req)` (private): parses the query into `req._query`.
 * - `Server#verify(req, upgrade, cb)` (protected): `upgrade = true` skips the
 *   TRANSPORT_MISMATCH check, which is how an upgrade candidate gets past it.
 * - `Server#_applyMiddlewares(req, res, cb)` (protected): runs `use()` middlewares and `cors`.
 * - `Server#clients` (protected): sessions by sid. `Server.errors` / `Server.errorMessages`.
 * - `Socket#_maybeUpgrade(transport)` (private): the upgrade path (probe, `5`, swap, flush);
 *   while probing it writes a noop every 100 ms to the old transport only if it is named
 *   `polling`. `Socket#upgrading` / `upgraded`.
 * - `Socket#writeBuffer` (private): packets waiting for the transport; `packetCreate` fires
 *   before a packet joins it, `flush` when it is handed over whole. `Socket#onClose(reason,
 *   description)` (private): ends the session at once, `close` carries both. `Socket#send` /
 *   `write` (public) are the message methods, wrapped per socket.
 * - The websocket transport's `socket` is the `ws` WebSocket (`bufferedAmount`, `terminate`).
 * - `Transport` base class: constructor(req) reads `req._query.EIO`; `close()` calls
 *   `doClose(fn)`; `discard()` sets `discarded`; `onPacket` / `onClose` / `onError`; events
 *   `ready` (socket flushes), `drain` (send callbacks), `packet`, `error`, `close`, `headers`
 *   (handshake forwards it to the server's `headers` / `initial_headers` events).
 * - `transports.polling.upgradesTo`: the stock upgrade list of polling.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  Server as StockServer,
  Socket as StockSocket,
  Transport as StockTransport,
  transports as stockTransports,
} from "engine.io";
import type { ServerOptions as StockServerOptions, Socket as EngineSocket } from "engine.io";
import type { Packet } from "engine.io-parser";

/** The engine.io range whose internals this file was written against. */
export const SUPPORTED_ENGINE_IO = "6.6.x";

/** An incoming request once engine.io's `prepare` has run (engine.io's EngineRequest). */
export type EngineRequest = IncomingMessage & {
  _query: Record<string, string | undefined>;
  res?: ServerResponse | null;
};

/** engine.io's error codes (`Server.errors`), as used in `{code, message}` error bodies. */
export type EngineErrorCode = 0 | 1 | 2 | 3 | 4 | 5;
export type ErrorContext = Record<string, unknown> & { name?: string; message?: string };
export type VerifyCallback = (code?: EngineErrorCode, context?: ErrorContext) => void;

export type { EngineSocket, StockServerOptions };

/** Any engine.io transport (stock or ours). */
export type EngineTransport = StockTransport;

/**
 * The base class of cometa's transports: engine.io's `Transport` (which a transport must
 * extend: it holds the state and events engine.io's socket drives).
 */
export abstract class EngineTransportBase extends StockTransport {
  constructor(req: EngineRequest) {
    // engine.io reads `_query.EIO` and `_query.b64`; its type just says every key is set.
    super(req as { _query: Record<string, string> });
  }
}

/** What we read from private parts, typed narrowly (never `any`). */
interface ServerPrivates {
  prepare(req: IncomingMessage): void;
  verify(req: EngineRequest, upgrade: boolean, fn: VerifyCallback): void;
  _applyMiddlewares(req: IncomingMessage, res: ServerResponse, callback: (err?: unknown) => void): void;
  clients: Record<string, EngineSocket>;
}
interface SocketPrivates {
  _maybeUpgrade(transport: StockTransport): void;
  upgrading: boolean;
  upgraded: boolean;
  writeBuffer: unknown;
  onClose(reason: string, description?: unknown): void;
}

type Check = readonly [what: string, ok: () => boolean];

function isFunction(proto: object, name: string, arity?: number): boolean {
  const value = (proto as Record<string, unknown>)[name];
  return typeof value === "function" && (arity === undefined || value.length === arity);
}

const CHECKS: readonly Check[] = [
  ["Server (class)", () => typeof StockServer === "function"],
  ["Server.prototype.handleRequest(req, res)", () => isFunction(StockServer.prototype, "handleRequest", 2)],
  ["Server.prototype.handleUpgrade(req, socket, head)", () => isFunction(StockServer.prototype, "handleUpgrade", 3)],
  ["Server.prototype.upgrades(transport)", () => isFunction(StockServer.prototype, "upgrades", 1)],
  ["Server.prototype.createTransport(name, req)", () => isFunction(StockServer.prototype, "createTransport", 2)],
  ["Server.prototype.prepare(req)", () => isFunction(StockServer.prototype, "prepare", 1)],
  ["Server.prototype.verify(req, upgrade, fn)", () => isFunction(StockServer.prototype, "verify", 3)],
  ["Server.prototype._applyMiddlewares(req, res, cb)", () => isFunction(StockServer.prototype, "_applyMiddlewares", 3)],
  ["Server.prototype.handshake(name, req, close)", () => isFunction(StockServer.prototype, "handshake", 3)],
  [
    "Server.errors {BAD_REQUEST: 3, FORBIDDEN: 4}",
    () => StockServer.errors?.BAD_REQUEST === 3 && StockServer.errors?.FORBIDDEN === 4,
  ],
  ['Server.errorMessages[4] === "Forbidden"', () => StockServer.errorMessages?.[4] === "Forbidden"],
  ["Socket.prototype._maybeUpgrade(transport)", () => isFunction(StockSocket.prototype, "_maybeUpgrade", 1)],
  ["Socket.prototype.onClose(reason, description)", () => isFunction(StockSocket.prototype, "onClose", 2)],
  ["Socket.prototype.send(data, options, callback)", () => isFunction(StockSocket.prototype, "send", 3)],
  ["Socket.prototype.write(data, options, callback)", () => isFunction(StockSocket.prototype, "write", 3)],
  ["Transport (class)", () => typeof StockTransport === "function"],
  ["Transport.prototype.close(fn)", () => isFunction(StockTransport.prototype, "close", 1)],
  ["Transport.prototype.discard()", () => isFunction(StockTransport.prototype, "discard", 0)],
  ["Transport.prototype.onPacket(packet)", () => isFunction(StockTransport.prototype, "onPacket", 1)],
  ["Transport.prototype.onClose()", () => isFunction(StockTransport.prototype, "onClose", 0)],
  ["Transport.prototype.onError(msg, desc)", () => isFunction(StockTransport.prototype, "onError", 2)],
  [
    "transports.polling.upgradesTo (array)",
    () => Array.isArray((stockTransports as { polling?: { upgradesTo?: unknown } }).polling?.upgradesTo),
  ],
];

/** The internals (by name) that the installed engine.io lacks; empty when all is well. */
export function missingEngineInternals(): string[] {
  return CHECKS.filter(([, ok]) => {
    try {
      return !ok();
    } catch {
      return true;
    }
  }).map(([what]) => what);
}

/** The installed engine.io's version, read from its package.json (not exported by engine.io). */
export function installedEngineVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    const entry = require.resolve("engine.io"); // .../engine.io/build/engine.io.js
    const pkg = JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "unknown";
  }
}

/** Throws a clear error when engine.io no longer has what this file relies on. */
export function assertEngineInternals(): void {
  const missing = missingEngineInternals();
  if (missing.length === 0) return;
  throw new Error(
    `cometa/server supports engine.io ${SUPPORTED_ENGINE_IO}, but the installed engine.io ` +
      `${installedEngineVersion()} lacks internals it relies on: ${missing.join("; ")}. ` +
      `Install engine.io@${SUPPORTED_ENGINE_IO} or upgrade cometa.`,
  );
}

/** Options as engine.io's constructor takes them, with transport names it does not know. */
export type EngineOptions = Omit<StockServerOptions, "transports"> & { transports: string[] };

/**
 * engine.io's `Server`, with its internals turned into named hooks and helpers. The subclass
 * (server.ts) says which transports and upgrades exist; this class knows where engine.io
 * asks for them.
 */
export abstract class EngineServerBase extends StockServer {
  constructor(opts: EngineOptions) {
    // Checked before engine.io's constructor runs, so a broken engine.io fails with our message.
    assertEngineInternals();
    super(opts as StockServerOptions);
  }

  /** A cometa transport for `name`, or undefined to let engine.io build a stock one. */
  protected abstract extensionTransport(name: string, req: EngineRequest): StockTransport | undefined;

  /** Upgrades offered from `name`, or undefined for engine.io's own list. */
  protected abstract extensionUpgrades(name: string): string[] | undefined;

  /** engine.io's `handshake` builds every transport through this. */
  protected override createTransport(name: string, req: IncomingMessage): StockTransport {
    const extension = this.extensionTransport(name, req as EngineRequest);
    if (extension) return extension;
    const stock = super.createTransport(name as "polling", req);
    if (name === "polling") tolerateCutPolls(stock);
    return stock;
  }

  /** `Socket#getAvailableUpgrades` asks this (and filters by the `transports` option). */
  override upgrades(name: string): string[] {
    if (!this.opts.allowUpgrades) return [];
    return this.extensionUpgrades(name) ?? super.upgrades(name as "polling");
  }

  /** Stock polling's upgrade list (websocket, webtransport). */
  protected stockPollingUpgrades(): string[] {
    return [...(stockTransports as { polling: { upgradesTo: string[] } }).polling.upgradesTo];
  }

  /** Parses the query into `req._query` (idempotent, as engine.io's own `prepare`). */
  protected prepareRequest(req: IncomingMessage): EngineRequest {
    (this as unknown as ServerPrivates).prepare(req);
    return req as EngineRequest;
  }

  /** engine.io's checks for a request that is an upgrade (no TRANSPORT_MISMATCH). */
  protected verifyUpgradeRequest(req: EngineRequest, callback: VerifyCallback): void {
    (this as unknown as ServerPrivates).verify(req, true, callback);
  }

  protected applyMiddlewares(req: IncomingMessage, res: ServerResponse, callback: (err?: unknown) => void): void {
    (this as unknown as ServerPrivates)._applyMiddlewares(req, res, callback);
  }

  /** The open session with this sid, if any. */
  protected session(sid: string): EngineSocket | undefined {
    const clients = (this as unknown as ServerPrivates).clients;
    return Object.prototype.hasOwnProperty.call(clients, sid) ? clients[sid] : undefined;
  }
}

/** What stock polling (and JSONP) keep of the held GET. */
interface PollingPrivates {
  req: { cleanup?: () => void } | null;
  writable: boolean;
  onPollRequest?: unknown;
  onError(message: string, description?: unknown): void;
}

/** engine.io's words when a held poll's connection closes before it is answered. */
export const CUT_POLL_MESSAGE = "poll connection closed prematurely";

/**
 * Stock polling ends the session when a held GET's connection closes before it is answered.
 * That is what a proxy's read timeout does to every idle session, so here the GET is only
 * dropped: packets wait in the socket's buffer for the client's next poll (which a gateway
 * error prompts), and a client that never comes back misses its pongs and times out.
 * Returns false, leaving stock behaviour, if this engine.io words it differently.
 */
export function tolerateCutPolls(transport: StockTransport): boolean {
  const polling = transport as unknown as PollingPrivates;
  if (typeof polling.onPollRequest !== "function" || !String(polling.onPollRequest).includes(CUT_POLL_MESSAGE)) {
    return false;
  }
  const onError = polling.onError;
  polling.onError = function (this: PollingPrivates, message: string, description?: unknown) {
    if (message === CUT_POLL_MESSAGE && this.req?.cleanup) {
      this.req.cleanup();
      this.writable = false;
      return;
    }
    onError.call(this, message, description);
  };
  return true;
}

/**
 * Calls `listener` with every candidate engine.io's own upgrade path probes on `socket`
 * (WebSocket, WebTransport), so the server can give one up when the client moves on.
 */
export function watchUpgrades(socket: EngineSocket, listener: (candidate: StockTransport) => void): void {
  const privates = socket as unknown as SocketPrivates;
  const maybeUpgrade = privates._maybeUpgrade;
  privates._maybeUpgrade = function (this: SocketPrivates, candidate: StockTransport) {
    listener(candidate);
    maybeUpgrade.call(this, candidate);
  };
}

/**
 * Ends engine.io's upgrade attempt with `candidate` at once: its upgrade path listens for the
 * candidate's `error`, and cleans up (no longer upgrading) and closes it synchronously.
 */
export function abandonUpgrade(candidate: StockTransport): void {
  candidate.emit("error", new Error("upgrade given up by the client"));
}

/** Starts engine.io's upgrade path on `socket` with `candidate` (probe, `5`, swap). */
export function beginUpgrade(socket: EngineSocket, candidate: StockTransport): void {
  (socket as unknown as SocketPrivates)._maybeUpgrade(candidate);
}

/** Whether engine.io is probing an upgrade candidate for the socket right now. */
export function isUpgrading(socket: EngineSocket): boolean {
  return (socket as unknown as SocketPrivates).upgrading;
}

/** Whether the socket is probing an upgrade or already upgraded (one upgrade per session). */
export function isUpgradingOrUpgraded(socket: EngineSocket): boolean {
  const s = socket as unknown as SocketPrivates;
  return s.upgrading || s.upgraded;
}

/** Packets waiting in the socket's buffer for its transport to become writable. */
export function bufferedPackets(socket: EngineSocket): readonly Packet[] {
  const buffer = (socket as unknown as SocketPrivates).writeBuffer;
  return Array.isArray(buffer) ? (buffer as Packet[]) : [];
}

/**
 * Ends the session now, with `reason` and `description` on its `close` event (engine.io's own
 * `close()` would wait for its buffer to drain, then say "forced close").
 */
export function closeSession(socket: EngineSocket, reason: string, description?: unknown): void {
  (socket as unknown as SocketPrivates).onClose(reason, description);
}

/** The `ws` connection under engine.io's websocket transport: what it holds unsent, how to drop it. */
export interface HeldWebSocket {
  readonly bufferedAmount: number;
  terminate(): void;
}

/** The `ws` WebSocket of a stock websocket transport; undefined for any other transport. */
export function webSocketOf(transport: StockTransport): HeldWebSocket | undefined {
  if (transport.name !== "websocket") return undefined;
  const ws = (transport as unknown as { socket?: Partial<HeldWebSocket> | null }).socket;
  if (!ws || typeof ws.bufferedAmount !== "number" || typeof ws.terminate !== "function") return undefined;
  return ws as HeldWebSocket;
}

/** What a socket's `send` and `write` take. */
export type SendArguments = Parameters<EngineSocket["send"]>;

/**
 * Puts `check` in front of the socket's message methods (`send` and its alias `write`), so a
 * message is judged the same whichever the application calls. `check` throws to refuse.
 */
export function guardMessages(socket: EngineSocket, check: (data: SendArguments[0]) => void): void {
  const { send, write } = socket;
  socket.send = function (this: EngineSocket, ...args: SendArguments) {
    check(args[0]);
    return send.apply(this, args);
  };
  socket.write = function (this: EngineSocket, ...args: SendArguments) {
    check(args[0]);
    return write.apply(this, args);
  };
}

/** engine.io's error messages, for `{code, message}` bodies identical to its own. */
export function engineErrorMessage(code: EngineErrorCode): string {
  return (StockServer.errorMessages as Record<number, string>)[code] ?? "Bad request";
}

export const ENGINE_ERRORS = {
  UNKNOWN_TRANSPORT: 0,
  UNKNOWN_SID: 1,
  BAD_HANDSHAKE_METHOD: 2,
  BAD_REQUEST: 3,
  FORBIDDEN: 4,
  UNSUPPORTED_PROTOCOL_VERSION: 5,
} as const satisfies Record<string, EngineErrorCode>;
