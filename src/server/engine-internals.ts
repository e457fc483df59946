/**
 * THE one place that touches engine.io. Everything cometa/server needs from engine.io beyond
 * constructing and extending its public `Server` is here, in three kinds:
 *
 * - ACCESSORS read or call an internal, typed narrowly (never `any`).
 * - PATCHES replace a method on one object (a session, a transport, the server) to change what
 *   engine.io does; each says which internal it relies on.
 * - The ADAPTER: engine.io's socket drives its transport through methods and events of
 *   engine.io's `Transport` class, so a transport must be one. {@link TransportAdapter} is the
 *   only subclass, and it delegates to composed parts.
 *
 * Every internal named below is in {@link CHECKS}, checked when a Server is made (before
 * engine.io's constructor runs) and by test/server/engine-internals.test.ts, so an engine.io
 * release that moves one fails loudly here instead of misbehaving somewhere else.
 *
 * Relied on (engine.io 6.6.x, build/server.js, socket.js, transport.js, transports/polling.js):
 * - `Server#handleRequest` / `handleUpgrade` / `upgrades` / `attach` (public, overridden by
 *   server.ts); `createTransport(name, req)` (protected): what `handshake` and `onWebSocket`
 *   build transports with (patched by {@link routeTransportCreation}).
 * - `Server#prepare(req)` (private): parses the query into `req._query`.
 * - `Server#verify(req, upgrade, cb)` (protected): `upgrade = true` skips TRANSPORT_MISMATCH.
 * - `Server#_applyMiddlewares(req, res, cb)` (protected): `use()` middlewares and `cors`.
 * - `Server#clients` (protected): sessions by sid. `Server.errors` / `Server.errorMessages`.
 * - `Server#_computePath(options)` (protected): the path `attach` serves.
 * - `Socket#_maybeUpgrade(transport)` (private): the upgrade path (probe, `5`, swap, flush);
 *   while probing it writes a noop every 100 ms to the old transport only if it is named
 *   `polling`. `Socket#upgrading` / `upgraded`.
 * - `Socket#writeBuffer` (private): packets waiting for the transport; `packetCreate` fires
 *   before a packet joins it, `flush` when it is handed over whole. `Socket#onClose(reason,
 *   description)` (private): ends the session at once. `Socket#send` / `write` (public).
 * - The websocket transport's `socket` is the `ws` WebSocket (`bufferedAmount`, `terminate`).
 * - `Transport`: constructor(req) reads `req._query.EIO`; `close()` calls `doClose(fn)`;
 *   `discard()` sets `discarded`; `onPacket` / `onClose` / `onError`; events `ready` (the
 *   socket flushes its buffer into `send`), `drain` (one per `send`: send callbacks), `packet`,
 *   `error`, `close`, `headers` (handshake forwards it to the server's `headers` events).
 * - Polling's `onPollRequest` names "poll connection closed prematurely" and keeps the held
 *   GET in `req` (with `cleanup`); `transports.polling.upgradesTo` is polling's upgrade list.
 * - Resumable sessions: `Socket#setTransport` (binds `onClose` per transport, keeps the unbinding
 *   in `cleanupFn`), `flush` (emits the server's `flush` before `transport.send`), `sendPacket`,
 *   `schedulePing` / `resetPingTimeout` and their `pingIntervalTimer` / `pingTimeoutTimer`,
 *   `close(discard)`; `Server#onWebSocket(req, socket, websocket)`; polling and websocket
 *   inherit `Transport#onPacket`.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { readFileSync } from "node:fs";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import {
  Server as StockServer,
  Socket as StockSocket,
  Transport as StockTransport,
  transports as stockTransports,
} from "engine.io";
import type { AttachOptions, ServerOptions as StockServerOptions, Socket as EngineSocket } from "engine.io";
import type { Packet } from "engine.io-parser";

/**
 * The engine.io releases whose internals this file was written against: the one place it is
 * spelled. package.json's peer dependency says the same (`~6.6.0`), which
 * test/server/engine-internals.test.ts checks.
 */
export const SUPPORTED_ENGINE_IO = "6.6.x";

/** Whether `version` (as in engine.io's package.json) is one of the supported releases. */
export function isSupportedEngineVersion(version: string): boolean {
  const [major, minor] = SUPPORTED_ENGINE_IO.split(".");
  return new RegExp(`^${major}\\.${minor}\\.\\d+$`).test(version);
}

/** engine.io's `Server`, for server.ts to extend (its public API only). */
export { StockServer as EngineServer };
export type { EngineSocket, StockServerOptions };

/** An incoming request once engine.io's `prepare` has run (engine.io's EngineRequest). */
export type EngineRequest = IncomingMessage & {
  _query: Record<string, string | undefined>;
  res?: ServerResponse | null;
};

/** engine.io's error codes, by the names of its `Server.errors` (checked at startup). */
export const ENGINE_ERRORS = {
  UNKNOWN_TRANSPORT: 0,
  UNKNOWN_SID: 1,
  BAD_HANDSHAKE_METHOD: 2,
  BAD_REQUEST: 3,
  FORBIDDEN: 4,
  UNSUPPORTED_PROTOCOL_VERSION: 5,
} as const;
export type EngineErrorCode = (typeof ENGINE_ERRORS)[keyof typeof ENGINE_ERRORS];
export type ErrorContext = Record<string, unknown> & { name?: string; message?: string };
export type VerifyCallback = (code?: EngineErrorCode, context?: ErrorContext) => void;

/** engine.io's message for a code, for `{code, message}` bodies identical to its own. */
export function engineErrorMessage(code: EngineErrorCode): string {
  return (StockServer.errorMessages as Record<number, string>)[code] ?? "Bad request";
}

/** Any engine.io transport (stock or ours). */
export type EngineTransport = StockTransport;

/** Options as engine.io's constructor takes them, with transport names it does not know. */
export type EngineOptions = Omit<StockServerOptions, "transports"> & { transports: string[] };

/** engine.io's constructor options, from ours (its type lists only its own transport names). */
export function engineOptions(options: EngineOptions): StockServerOptions {
  return options as StockServerOptions;
}

// ---------------------------------------------------------------------------------------------
// Startup checks

/** engine.io's words when a held poll's connection closes before it is answered. */
export const CUT_POLL_MESSAGE = "poll connection closed prematurely";

type Check = readonly [what: string, ok: () => boolean];

function isFunction(proto: object, name: string, arity?: number): boolean {
  const value = (proto as Record<string, unknown>)[name];
  return typeof value === "function" && (arity === undefined || value.length === arity);
}

const sameErrorCodes = (): boolean =>
  Object.entries(ENGINE_ERRORS).every(([name, code]) => (StockServer.errors as Record<string, unknown>)?.[name] === code);

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
  ["Server.prototype._computePath(options)", () => isFunction(StockServer.prototype, "_computePath", 1)],
  [`Server.errors ${JSON.stringify(ENGINE_ERRORS)}`, sameErrorCodes],
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
  [
    `transports.polling: onPollRequest reports "${CUT_POLL_MESSAGE}" and keeps the held GET in req`,
    () => {
      // a transport object only: its constructor reads the query, no I/O
      const polling = (stockTransports as unknown as { polling: (req: object) => PollingPrivates }).polling({ _query: { EIO: "4" } });
      const source = String(polling.onPollRequest);
      return source.includes(CUT_POLL_MESSAGE) && source.includes("this.req = req");
    },
  ],
  // resumable sessions (resume.ts)
  ["Server.prototype.onWebSocket(req, socket, websocket)", () => isFunction(StockServer.prototype, "onWebSocket", 3)],
  [
    "Socket.prototype.setTransport(transport) binds the socket's onClose and keeps its cleanup in cleanupFn",
    () => sourceHas(StockSocket.prototype, "setTransport", "this.onClose.bind(this", "this.cleanupFn.push"),
  ],
  [
    "Socket.prototype.flush() emits flush before handing writeBuffer over, and queues packetsFn in sentCallbackFn",
    () => sourceHas(StockSocket.prototype, "flush", '"flush", this, this.writeBuffer', "this.transport.send(wbuf)", "this.sentCallbackFn.push(this.packetsFn)"),
  ],
  ["Socket.prototype.onDrain() takes sentCallbackFn's oldest entry", () => sourceHas(StockSocket.prototype, "onDrain", "this.sentCallbackFn.shift()")],
  ["Socket.prototype.sendPacket(type, data) joins writeBuffer", () => sourceHas(StockSocket.prototype, "sendPacket", "this.writeBuffer.push(packet)")],
  ["Socket.prototype.schedulePing() sets pingIntervalTimer", () => sourceHas(StockSocket.prototype, "schedulePing", "this.pingIntervalTimer =")],
  ["Socket.prototype.resetPingTimeout() sets pingTimeoutTimer", () => sourceHas(StockSocket.prototype, "resetPingTimeout", "this.pingTimeoutTimer =")],
  ["Socket.prototype.close(discard)", () => isFunction(StockSocket.prototype, "close", 1)],
  [
    "transports.polling (and JSONP) and websocket use Transport.prototype.onPacket",
    () => {
      const base = (StockTransport.prototype as unknown as { onPacket: unknown }).onPacket;
      const all = stockTransports as unknown as {
        polling: (req: object) => { onPacket: unknown };
        websocket?: { prototype: { onPacket: unknown } };
      };
      return (
        all.polling({ _query: { EIO: "4" } }).onPacket === base &&
        all.polling({ _query: { EIO: "4", j: "0" } }).onPacket === base &&
        all.websocket?.prototype.onPacket === base
      );
    },
  ],
];

/** Whether the source of `proto[name]` contains every one of `parts` (for fields no prototype shows). */
function sourceHas(proto: object, name: string, ...parts: string[]): boolean {
  const value = (proto as Record<string, unknown>)[name];
  if (typeof value !== "function") return false;
  const source = String(value);
  return parts.every((part) => source.includes(part));
}

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

// ---------------------------------------------------------------------------------------------
// ACCESSORS: the server

/** What we read from the server's private parts. */
interface ServerPrivates {
  prepare(req: IncomingMessage): void;
  verify(req: EngineRequest, upgrade: boolean, fn: VerifyCallback): void;
  _applyMiddlewares(req: IncomingMessage, res: ServerResponse, callback: (err?: unknown) => void): void;
  createTransport(name: string, req: IncomingMessage): StockTransport;
  _computePath(options: AttachOptions): string;
  clients: Record<string, EngineSocket>;
  opts: StockServerOptions;
}

const privatesOf = (server: StockServer) => server as unknown as ServerPrivates;

/** Parses the query into `req._query` (engine.io's `prepare`, idempotent). */
export function prepareRequest(server: StockServer, req: IncomingMessage): EngineRequest {
  privatesOf(server).prepare(req);
  return req as EngineRequest;
}

/** engine.io's checks for a request that is an upgrade (no TRANSPORT_MISMATCH). */
export function verifyAsUpgrade(server: StockServer, req: EngineRequest, callback: VerifyCallback): void {
  privatesOf(server).verify(req, true, callback);
}

/** engine.io's `use()` middlewares and `cors`, as it runs them before its own checks. */
export function applyMiddlewares(
  server: StockServer,
  req: IncomingMessage,
  res: ServerResponse,
  callback: (err?: unknown) => void,
): void {
  privatesOf(server)._applyMiddlewares(req, res, callback);
}

/** The open session with this sid, if any. */
export function sessionOf(server: StockServer, sid: string | undefined): EngineSocket | undefined {
  if (!sid) return undefined;
  const clients = privatesOf(server).clients;
  return Object.prototype.hasOwnProperty.call(clients, sid) ? clients[sid] : undefined;
}

/** engine.io's own upgrade list for a transport of its own (`[]` for any other name). */
export function stockUpgrades(server: StockServer, name: string): string[] {
  if (!privatesOf(server).opts.allowUpgrades) return [];
  const stock = (stockTransports as Record<string, { upgradesTo?: string[] } | undefined>)[name];
  return [...(stock?.upgradesTo ?? [])];
}

/** The path `attach(server, options)` serves requests under (engine.io's `_computePath`). */
export function servedPath(server: StockServer, options: AttachOptions): string {
  return privatesOf(server)._computePath(options);
}

/** engine.io's `maxHttpBufferSize` as the server resolved it. */
export function maxHttpBufferSize(server: StockServer): number {
  return privatesOf(server).opts.maxHttpBufferSize ?? 1e6;
}

// ---------------------------------------------------------------------------------------------
// ACCESSORS: sessions

interface SocketPrivates {
  _maybeUpgrade(transport: StockTransport): void;
  upgrading: boolean;
  upgraded: boolean;
  writeBuffer: unknown;
  onClose(reason: string, description?: unknown): void;
  close(discard?: boolean): unknown;
  setTransport(transport: StockTransport): void;
  cleanupFn: (() => void)[];
  flush(): void;
  sendPacket(type: string, data?: string): void;
  schedulePing(): void;
  resetPingTimeout(): void;
  pingIntervalTimer: ReturnType<typeof setTimeout> | null;
  pingTimeoutTimer: ReturnType<typeof setTimeout> | null;
  protocol: number;
  packetsFn: SendCallback[];
  sentCallbackFn: (SendCallback[] | null)[];
}

type SendCallback = (transport: StockTransport) => void;

const socketPrivates = (socket: EngineSocket) => socket as unknown as SocketPrivates;

/** Starts engine.io's upgrade path on `socket` with `candidate` (probe, `5`, swap). */
export function beginUpgrade(socket: EngineSocket, candidate: StockTransport): void {
  socketPrivates(socket)._maybeUpgrade(candidate);
}

/**
 * Ends engine.io's upgrade attempt with `candidate` at once: its upgrade path listens for the
 * candidate's `error`, and cleans up (no longer upgrading) and closes it synchronously.
 */
export function abandonUpgrade(candidate: StockTransport): void {
  candidate.emit("error", new Error("upgrade given up by the client"));
}

/** Whether engine.io is probing an upgrade candidate for the socket right now. */
export function isUpgrading(socket: EngineSocket): boolean {
  return socketPrivates(socket).upgrading;
}

/** Whether the socket is probing an upgrade or already upgraded (one upgrade per session). */
export function isUpgradingOrUpgraded(socket: EngineSocket): boolean {
  const s = socketPrivates(socket);
  return s.upgrading || s.upgraded;
}

/** Packets waiting in the socket's buffer for its transport to become writable. */
export function bufferedPackets(socket: EngineSocket): readonly Packet[] {
  const buffer = socketPrivates(socket).writeBuffer;
  return Array.isArray(buffer) ? (buffer as Packet[]) : [];
}

/**
 * Ends the session now, with `reason` and `description` on its `close` event (engine.io's own
 * `close()` would wait for its buffer to drain, then say "forced close").
 */
export function closeSession(socket: EngineSocket, reason: string, description?: unknown): void {
  socketPrivates(socket).onClose(reason, description);
}

// --- resumable sessions (resume.ts) ---

/** Puts `packets` in front of the socket's buffer, in order (they go out before what waits). */
export function prependPackets(socket: EngineSocket, packets: readonly Packet[]): void {
  if (packets.length === 0) return;
  const privates = socketPrivates(socket);
  privates.writeBuffer = [...packets, ...bufferedPackets(socket)];
}

/** Writes a packet through the socket's buffer (engine.io's `sendPacket`): `drain` stays one per flush. */
export function sendControlPacket(socket: EngineSocket, data: string): void {
  socketPrivates(socket).sendPacket("noop", data);
}

/**
 * Queues a close packet (`1`) behind what the socket's buffer holds. engine.io's `close()` ends
 * a WebSocket without one (polling sends it); a resumable client needs it to tell the server's
 * close from a broken connection, after which it would try to reattach.
 */
export function sendClosePacket(socket: EngineSocket): void {
  socketPrivates(socket).sendPacket("close");
}

/** Hands the socket's buffer to its transport if it is writable (engine.io's `flush`). */
export function flushSession(socket: EngineSocket): void {
  socketPrivates(socket).flush();
}

/** Ends the session with engine.io's own `onClose`, whatever override the socket carries. */
export function endSession(socket: EngineSocket, reason: string, description?: unknown): void {
  (StockSocket.prototype as unknown as SocketPrivates).onClose.call(socket, reason, description);
}

/** engine.io's own `close(discard)`, whatever override the socket carries. */
export function stockClose(socket: EngineSocket, discard?: boolean): void {
  (StockSocket.prototype as unknown as SocketPrivates).close.call(socket, discard);
}

/** Hands a packet to engine.io's own `Transport#onPacket` (emits `packet` to the socket). */
export function passPacket(transport: StockTransport, packet: Packet): void {
  (StockTransport.prototype as unknown as { onPacket(packet: Packet): void }).onPacket.call(transport, packet);
}

/** No heartbeat while a session has no transport: neither a ping written nor a pong awaited. */
export function stopHeartbeat(socket: EngineSocket): void {
  const privates = socketPrivates(socket);
  clearTimeout(privates.pingIntervalTimer ?? undefined);
  clearTimeout(privates.pingTimeoutTimer ?? undefined);
  privates.pingIntervalTimer = null;
  privates.pingTimeoutTimer = null;
}

/** The heartbeat from the start, as `onOpen` begins it (v4: next ping after `pingInterval`). */
export function restartHeartbeat(socket: EngineSocket): void {
  stopHeartbeat(socket);
  const privates = socketPrivates(socket);
  if (privates.protocol === 3) privates.resetPingTimeout();
  else privates.schedulePing();
}

/**
 * Takes the session's transport away without ending the session: engine.io's `clearTransport`
 * (its listeners removed, errors silenced, closed), except that a held poll is answered with a
 * noop rather than `1` (the client is to reattach, not to close), and a discarded transport
 * closes at once instead of waiting for a GET to carry `1`.
 */
export function dropTransport(socket: EngineSocket): void {
  const privates = socketPrivates(socket);
  const transport = socket.transport;
  for (const cleanup of privates.cleanupFn.splice(0)) cleanup();
  transport.on("error", ignoreError);
  if (transport.name === "polling" && transport.writable && transport.readyState === "open") transport.send([{ type: "noop" }]);
  transport.discard();
  transport.close();
  // a WebSocket's write callback may set it again: nothing more goes to a dropped transport
  transport.writable = false;
}

function ignoreError(): void {
  // a dropped transport's late errors are of no concern to the session
}

/**
 * Send callbacks of batches handed to a transport that is gone wait for a `drain` that will not
 * come, and would take the next transport's: they join the callbacks of the next flush (which
 * carries those messages again, when they were not acknowledged).
 */
export function carryOverSendCallbacks(socket: EngineSocket): void {
  const privates = socketPrivates(socket);
  const stale = privates.sentCallbackFn.splice(0).flatMap((callbacks) => callbacks ?? []);
  if (stale.length > 0) privates.packetsFn = [...stale, ...privates.packetsFn];
}

/** Makes `transport` the session's (engine.io's `setTransport`), with upgrades allowed again. */
export function attachTransport(socket: EngineSocket, transport: StockTransport): void {
  const privates = socketPrivates(socket);
  privates.setTransport(transport);
  privates.upgraded = false;
}

/** Transport settings engine.io's `handshake` applies to a transport it creates. */
export function configureTransport(server: StockServer, transport: StockTransport): void {
  const opts = privatesOf(server).opts;
  const settable = transport as unknown as Record<string, unknown>;
  if (transport.name === "polling") {
    settable.maxHttpBufferSize = opts.maxHttpBufferSize;
    settable.httpCompression = opts.httpCompression;
  } else if (transport.name === "websocket") {
    settable.perMessageDeflate = opts.perMessageDeflate;
  }
}

/** What a resumable session puts in front of engine.io's own methods (shared functions, not closures). */
export interface SessionOverrides {
  onClose(this: EngineSocket, reason: string, description?: unknown): void;
  close(this: EngineSocket, discard?: boolean): unknown;
}

/**
 * PATCH `Socket#onClose` (private) and `close` (public) on one socket, and rebinds its
 * transport's listeners: `setTransport` bound the transport's `close` listener to the `onClose`
 * the socket had then (in its constructor), so its `cleanupFn` entry is run and `setTransport`
 * called again to bind the override.
 */
export function overrideSession(socket: EngineSocket, overrides: SessionOverrides): void {
  const privates = socketPrivates(socket);
  privates.onClose = overrides.onClose;
  privates.close = overrides.close;
  for (const cleanup of privates.cleanupFn.splice(0)) cleanup();
  privates.setTransport(socket.transport);
}

/** PATCH `Transport#onPacket` on one transport: every transport calls `this.onPacket` per packet. */
export function overridePacketHandler(transport: StockTransport, onPacket: (this: StockTransport, packet: Packet) => void): void {
  (transport as unknown as { onPacket: typeof onPacket }).onPacket = onPacket;
}

/**
 * PATCH `Server#onWebSocket` (private: what engine.io runs once `ws` accepted an upgrade) on one
 * server: `intercept` takes the WebSockets it handles (returns true), engine.io the rest.
 */
export function interceptWebSockets(
  server: StockServer,
  intercept: (req: EngineRequest, websocket: { close(): void; on(event: string, listener: () => void): unknown }) => boolean,
): void {
  const privates = server as unknown as { onWebSocket(req: EngineRequest, socket: unknown, websocket: unknown): void };
  const stock = privates.onWebSocket;
  privates.onWebSocket = function (this: StockServer, req: EngineRequest, socket: unknown, websocket: unknown) {
    if (intercept(req, websocket as Parameters<typeof intercept>[1])) return;
    stock.call(this, req, socket, websocket);
  };
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

// ---------------------------------------------------------------------------------------------
// PATCHES

/**
 * PATCH `Server#createTransport` (protected; engine.io's `handshake` and `onWebSocket` build
 * every transport through it): `create` answers for the names it knows, engine.io for the rest,
 * and each stock polling transport gets {@link tolerateCutPolls}; `created` sees every one.
 */
const jsonpTransports = new WeakSet<StockTransport>();

/** Whether engine.io made `transport` as JSONP polling (named `polling` too). */
export function isJsonpTransport(transport: StockTransport): boolean {
  return jsonpTransports.has(transport);
}

export function routeTransportCreation(
  server: StockServer,
  create: (name: string, req: EngineRequest) => StockTransport | undefined,
  created?: (transport: StockTransport, req: EngineRequest) => void,
): void {
  const privates = privatesOf(server);
  const stock = privates.createTransport;
  privates.createTransport = function (this: StockServer, name: string, req: IncomingMessage): StockTransport {
    let transport = create(name, req as EngineRequest);
    if (!transport) {
      transport = stock.call(this, name, req);
      if (name === "polling") tolerateCutPolls(transport);
      // engine.io's `polling` makes its JSONP variant for a request with `j`
      if (name === "polling" && (req as EngineRequest)._query.j !== undefined) jsonpTransports.add(transport);
    }
    created?.(transport, req as EngineRequest);
    return transport;
  };
}

/** What stock polling (and JSONP) keep of the held GET. */
interface PollingPrivates {
  req: { cleanup?: () => void } | null;
  writable: boolean;
  onPollRequest?: unknown;
  onError(message: string, description?: unknown): void;
}

/**
 * PATCH a stock polling transport's `onError` (engine.io's `onPollRequest` reports a held GET
 * whose connection closed with {@link CUT_POLL_MESSAGE}, and keeps it in `req` with `cleanup`).
 *
 * Stock polling ends the session when a held GET's connection closes before it is answered.
 * That is what a proxy's read timeout does to every idle session, so here the GET is only
 * dropped: packets wait in the socket's buffer for the client's next poll (which a gateway
 * error prompts), and a client that never comes back misses its pongs and times out.
 * Checked at startup; returns false, leaving stock behaviour, on a transport that is not it.
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
 * PATCH `Socket#_maybeUpgrade` (private: engine.io's upgrade path, which `onWebSocket` calls
 * with each WebSocket candidate): `listener` sees every candidate engine.io probes on `socket`,
 * so the server can give one up when the client moves on.
 */
export function watchUpgrades(socket: EngineSocket, listener: (candidate: StockTransport) => void): void {
  const privates = socketPrivates(socket);
  const maybeUpgrade = privates._maybeUpgrade;
  privates._maybeUpgrade = function (this: SocketPrivates, candidate: StockTransport) {
    listener(candidate);
    maybeUpgrade.call(this, candidate);
  };
}

/**
 * engine.io answers a probe (`3probe`) and then ends the held poll with a noop from a 100 ms
 * interval (`Socket#_maybeUpgrade`'s `check`), so every upgrade waits up to 100 ms for a client
 * that is paused with a poll in flight. From `upgrading` (emitted right after the probe's
 * answer) this writes that noop at once, by the same rule as `check` (only to a `polling`
 * transport that holds a GET: `writable`), and again for each GET that arrives while the
 * session is still upgrading (polling's `ready`, after the socket's own flush): a client that
 * re-polled on the first noop before it read the probe's answer is not held either. The
 * interval still runs and finds nothing left to end.
 */
export function releaseHeldPollOnProbe(socket: EngineSocket): void {
  const watched = new WeakSet<object>();
  socket.on("upgrading", () => {
    const current = socket.transport;
    if (current.name !== "polling") return;
    const release = () => {
      if (socketPrivates(socket).upgrading && current.writable) current.send([{ type: "noop" }]);
    };
    release();
    if (!watched.has(current)) {
      watched.add(current);
      current.on("ready", release);
    }
  });
}

/** What a socket's `send` and `write` take. */
export type SendArguments = Parameters<EngineSocket["send"]>;

/**
 * PATCH `Socket#send` and its alias `Socket#write` (public) on one socket: `check` runs in front
 * of both, so a message is judged the same whichever the application calls. `check` throws to
 * refuse.
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

// ---------------------------------------------------------------------------------------------
// ADAPTER

/** What a transport's parts may do to the engine.io transport they make up. */
export interface TransportHost {
  readonly readyState: "open" | "closing" | "closed";
  /** Set by engine.io once an upgrade replaced this transport. */
  readonly discarded: boolean;
  /** engine.io's socket calls `send` only while this is true; false makes it buffer. */
  writable: boolean;
  /** engine.io's socket flushes its buffer into `send`, synchronously. */
  ready(): void;
  /** One `send` was handed over whole: its callbacks run. */
  drained(): void;
  /** A packet from the client. */
  receive(packet: Packet): void;
  /** A protocol violation: engine.io ends the session. */
  fail(message: string): void;
  /** The transport is closed (engine.io's socket then closes the session, unless discarded). */
  closed(): void;
  /**
   * Final headers of a response: `base`, then the transport's `headers` event (engine.io adds
   * cookies and forwards it to the server's `headers` / `initial_headers` events).
   */
  headers(req: IncomingMessage, base: OutgoingHttpHeaders): OutgoingHttpHeaders;
}

/** What the adapter delegates to. */
export interface TransportParts {
  send(packets: Packet[]): void;
  /** A request of this transport, its response detached from `req` (engine.io keeps the handshake's). */
  onRequest(req: EngineRequest, res: ServerResponse): void;
  /** An orderly close; `done` once it is over (then the transport is closed). */
  close(done: () => void): void;
  /** The transport is closed, however: release everything. */
  release(): void;
}

/**
 * The one subclass of engine.io's `Transport`: engine.io's socket calls `send`, `onRequest`,
 * `close` and reads `writable`, `name`; everything else is in the parts `build` returns.
 */
export class TransportAdapter<Parts extends TransportParts = TransportParts> extends StockTransport {
  readonly parts: Parts;
  private readonly transportName: string;

  constructor(req: EngineRequest, name: string, build: (host: TransportHost) => Parts) {
    // engine.io reads `_query.EIO` and `_query.b64`; its type just says every key is set.
    super(req as { _query: Record<string, string> });
    this.transportName = name;
    const transport = this;
    this.parts = build({
      get readyState() {
        return transport.readyState as "open" | "closing" | "closed";
      },
      get discarded() {
        return transport.discarded;
      },
      get writable() {
        return transport.writable;
      },
      set writable(value: boolean) {
        transport.writable = value;
      },
      ready: () => this.emit("ready"),
      drained: () => this.emit("drain"),
      receive: (packet) => this.onPacket(packet),
      fail: (message) => this.onError(message),
      closed: () => this.onClose(),
      headers: (request, base) => {
        const headers = { ...base };
        this.emit("headers", headers, request);
        return headers;
      },
    });
  }

  get name(): string {
    return this.transportName;
  }

  override send(packets: Packet[]): void {
    this.parts.send(packets);
  }

  override onRequest(req: EngineRequest): void {
    const res = req.res;
    // engine.io keeps the handshake request for the session's lifetime: drop its response.
    req.res = null;
    if (res) this.parts.onRequest(req, res);
  }

  override doClose(fn?: () => void): void {
    this.parts.close(() => {
      fn?.();
      this.onClose();
    });
  }

  protected override onClose(): void {
    if (this.readyState === "closed") return;
    this.parts.release();
    super.onClose();
  }
}
