/** The options of cometa/server, their defaults and their validation. */
import {
  type ExtensionTransportName,
  type StreamingTransportName,
  extensionTransports,
  streamingTransports,
} from "../wire.js";
import type { EngineOptions, StockServerOptions } from "./engine-internals.js";
import { checkNodeId } from "./affinity.js";
import { type AllowedOrigins, type OriginCheck, compileAllowedOrigins } from "./origin.js";

/** Transports engine.io serves itself. */
export type StockTransportName = "polling" | "websocket" | "webtransport";
/** Transports this extension adds (src/wire.ts names them for both sides). */
export type { ExtensionTransportName, StreamingTransportName };
export type TransportName = StockTransportName | ExtensionTransportName;

export const STREAMING_TRANSPORTS = streamingTransports;
export const EXTENSION_TRANSPORTS = extensionTransports;
const STOCK_TRANSPORTS: readonly StockTransportName[] = ["polling", "websocket", "webtransport"];

export function isExtensionTransport(name: string | undefined): name is ExtensionTransportName {
  return (EXTENSION_TRANSPORTS as readonly string[]).includes(name ?? "");
}
export function isStreamingTransport(name: string | undefined): name is StreamingTransportName {
  return (STREAMING_TRANSPORTS as readonly string[]).includes(name ?? "");
}

/**
 * A stream's recycle threshold when its client keeps what it read: an iframe document (its
 * scripts stay in the page's memory until the document ends), an xhr-streaming response read
 * through XMLHttpRequest (whose `responseText` holds it all).
 */
export const DEFAULT_RECYCLE_BYTES = 1024 * 1024;
/**
 * A stream's recycle threshold when its client keeps nothing of what it read: an EventSource,
 * an xhr-streaming response read as a fetch stream. A recycle costs the client a new request,
 * so a long burst pays it once per this many bytes.
 */
export const DEFAULT_DISCARDED_RECYCLE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_KEEP_ALIVE_INTERVAL = 15_000;
/** 16 MiB: 16 times engine.io's default `maxHttpBufferSize`, minutes of backlog on a slow link. */
export const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** engine.io polling's wait for a request to carry an orderly `1` before giving up. */
export const CLOSE_TIMEOUT = 30_000;

/**
 * Options of {@link Server}: engine.io's `ServerOptions` (cors, pingInterval, pingTimeout,
 * maxHttpBufferSize, allowRequest, cookie, ...) pass through unchanged, plus the ones below.
 */
export interface ServerOptions extends Omit<StockServerOptions, "transports"> {
  /**
   * Transports served, engine.io's own and this extension's, in one list (it is engine.io's
   * `transports` option, with more names).
   * @defaultValue `["polling", "websocket", "sse", "xhr-streaming", "iframe", "short-polling"]`;
   * `iframe` only when `allowedOrigins` is set (it needs to know which page it posts to).
   */
  transports?: TransportName[];
  /**
   * Pages allowed to use this server: exact origins (`"https://app.example"`), or a function
   * `(origin) => boolean`. `"*"` throws. When set, any request (every transport, handshake or
   * not) from a browser page of another origin is refused with 403 `{"code":4,"message":"Forbidden"}`;
   * requests with no `Origin`, `Sec-Fetch-Site` or `Referer` (non-browser clients) pass.
   * Required by the `iframe` transport, whose `origin` parameter must be in it.
   * This is not CORS: use engine.io's `cors` option too for cross-origin XHR/fetch.
   * @defaultValue undefined (no origin check; `iframe` disabled)
   */
  allowedOrigins?: AllowedOrigins;
  /**
   * Bytes after which a streaming response (sse, xhr-streaming, iframe) is ended at a frame
   * boundary, so browsers and proxies do not keep an ever-growing response in memory; the
   * client reopens it with the same sid. Set, it applies to every stream.
   * @defaultValue 4194304 (4 MiB) where the client keeps nothing of what it read (sse, and
   * xhr-streaming read as a fetch stream), 1048576 (1 MiB) where it does (iframe, and
   * xhr-streaming read through XMLHttpRequest)
   */
  recycleBytes?: number;
  /**
   * Padding at the start of each streaming response, in bytes, for browsers and proxies that
   * hold back the first kilobytes.
   * @defaultValue 2048 for sse and xhr-streaming, 1024 for iframe
   */
  paddingBytes?: number;
  /**
   * Milliseconds of silence after which a stream gets a keep-alive (sse: a `:` comment;
   * xhr-streaming and iframe: a noop packet), so proxies do not time it out. 0 disables.
   * @defaultValue 15000
   */
  keepAliveInterval?: number;
  /**
   * Bytes of messages one session may hold for its client, on any transport: what waits in
   * engine.io's buffer, in the transport, and in the response or WebSocket not yet handed to the
   * connection. Sending past it ends the session (`close` with reason "transport buffer full"):
   * a client that stops reading cannot make the server hold everything sent to it. Must exceed
   * the largest message you send. `Infinity` disables.
   * @defaultValue 16777216 (16 MiB)
   */
  maxBufferedBytes?: number;
  /**
   * Where {@link Server.attach} serves when its own options name no `path`: `"/socket.io/"`
   * for socket.io clients. (engine.io reads `path` only from `attach`'s options and would
   * ignore it here, serving `/engine.io/` whatever the constructor was told.)
   * @defaultValue "/engine.io/"
   */
  path?: string;
  /**
   * This process's name in a cluster: every sid it opens starts with it and a `.`
   * (`nodeA.` + engine.io's random id), so a load balancer can send each request to the
   * process holding its session by the `sid` query parameter, without a cookie. 1 to 32
   * letters, digits, `_` or `-`. See `nodeIdOf` and the README's "Scaling out".
   * @defaultValue undefined (engine.io's sids, unprefixed)
   */
  nodeId?: string;
  /**
   * Resumable sessions (docs/wire.md, "Resumable sessions"), granted to clients that offer them
   * in the handshake (cometa's client does; engine.io-client does not, and sees stock engine.io).
   * A resumable session whose transport breaks is kept, detached, for `window` ms, waiting for
   * its client to reattach it to a new transport: no `close` meanwhile (its engine.io socket
   * emits `detached` and `reattached`), and every message goes through exactly once, in order,
   * both ways. `maxBytes`: bytes of messages handed to a transport and not yet acknowledged by
   * the client that a session may hold; past it the session ends ("resume buffer full").
   * `false` grants none.
   * @defaultValue `{ window: 60000, maxBytes: 16 MiB }` (maxBytes: `maxBufferedBytes`'s default)
   */
  resume?: false | { window?: number; maxBytes?: number };
}

/** What the server grants a session that offers resumption (the open packet's `resume` field). */
export interface ResolvedResume {
  readonly window: number;
  readonly maxBytes: number;
}

export const DEFAULT_RESUME_WINDOW = 60_000;
/**
 * As much as `maxBufferedBytes` lets wait for a client: a burst the application writes in one
 * turn is all handed to a WebSocket before any acknowledgement can come back.
 */
export const DEFAULT_RESUME_MAX_BYTES = DEFAULT_MAX_BUFFERED_BYTES;

export interface ResolvedOptions {
  /** What engine.io's constructor gets. */
  readonly engine: EngineOptions;
  readonly enabled: ReadonlySet<ExtensionTransportName>;
  readonly isAllowedOrigin: OriginCheck | undefined;
  /** undefined: each stream's own default. */
  readonly recycleBytes: number | undefined;
  readonly paddingBytes: number | undefined;
  readonly keepAliveInterval: number;
  readonly maxBufferedBytes: number;
  readonly path: string | undefined;
  readonly nodeId: string | undefined;
  /** undefined: resumption off. */
  readonly resume: ResolvedResume | undefined;
}

function nonNegativeInteger(name: string, value: number | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) {
    throw new TypeError(`cometa/server: ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

export function resolveOptions(options: ServerOptions): ResolvedOptions {
  const {
    transports,
    allowedOrigins,
    recycleBytes,
    paddingBytes,
    keepAliveInterval,
    maxBufferedBytes,
    path,
    nodeId,
    resume,
    ...engineOptions
  } = options;
  if (path !== undefined && (typeof path !== "string" || !path.startsWith("/"))) {
    throw new TypeError(`cometa/server: path must be a string starting with "/", got ${JSON.stringify(path)}`);
  }
  const isAllowedOrigin = allowedOrigins === undefined ? undefined : compileAllowedOrigins(allowedOrigins);
  const names: TransportName[] = transports
    ? [...transports]
    : ["polling", "websocket", "sse", "xhr-streaming", ...(isAllowedOrigin ? (["iframe"] as const) : []), "short-polling"];
  for (const name of names) {
    if (!isExtensionTransport(name) && !(STOCK_TRANSPORTS as readonly string[]).includes(name)) {
      throw new TypeError(`cometa/server: unknown transport ${JSON.stringify(name)}`);
    }
  }
  if (names.includes("iframe") && !isAllowedOrigin) {
    throw new TypeError("cometa/server: the iframe transport needs allowedOrigins (it posts every packet to the page's origin)");
  }
  return {
    engine: { ...engineOptions, transports: names },
    enabled: new Set(names.filter(isExtensionTransport)),
    isAllowedOrigin,
    recycleBytes: recycleBytes === undefined ? undefined : nonNegativeInteger("recycleBytes", recycleBytes, 0, 1),
    paddingBytes: paddingBytes === undefined ? undefined : nonNegativeInteger("paddingBytes", paddingBytes, 0),
    keepAliveInterval: nonNegativeInteger("keepAliveInterval", keepAliveInterval, DEFAULT_KEEP_ALIVE_INTERVAL),
    maxBufferedBytes:
      maxBufferedBytes === Infinity
        ? Infinity
        : nonNegativeInteger("maxBufferedBytes", maxBufferedBytes, DEFAULT_MAX_BUFFERED_BYTES, 1),
    path,
    nodeId: nodeId === undefined ? undefined : checkNodeId(nodeId),
    resume: resolveResume(resume),
  };
}

function resolveResume(resume: ServerOptions["resume"]): ResolvedResume | undefined {
  if (resume === false) return undefined;
  if (resume !== undefined && (resume === null || typeof resume !== "object")) {
    throw new TypeError(`cometa/server: resume must be false or an object, got ${String(resume)}`);
  }
  return {
    window: nonNegativeInteger("resume.window", resume?.window, DEFAULT_RESUME_WINDOW, 1),
    maxBytes: nonNegativeInteger("resume.maxBytes", resume?.maxBytes, DEFAULT_RESUME_MAX_BYTES, 1),
  };
}
