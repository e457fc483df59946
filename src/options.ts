/**
 * The options of both sockets: their types, defaults and validation. A bad option throws
 * `UsageError` here, before any transport is made. Transports receive only `TransportOptions`,
 * built from the user's options key by key.
 */
import { type Environment, resolveEnvironment } from "./env.js";
import { UsageError } from "./errors.js";
import type { BinaryType } from "./protocol.js";
import type { ResumeOffer, Resumption } from "./resume.js";
import type { Trace } from "./trace.js";
import type { TransportDefinition, TransportName, TransportOptions } from "./transport.js";
import { type Endpoint, parseEndpoint } from "./url.js";

export interface SocketOptions {
  /** Where the server's engine.io handler listens. Default `/engine.io/`. */
  path?: string;
  /** Extra query parameters sent with every request. */
  query?: Record<string, string>;
  /**
   * Transports to use, in order of preference: the first the environment supports opens the
   * session, the others are upgrade candidates when the server advertises them.
   */
  transports?: readonly (TransportDefinition | TransportName)[];
  /** Probe and move to a better transport after the handshake. Default true. */
  upgrade?: boolean;
  /** Start on the transport an earlier session upgraded to, skipping the probe. Default false. */
  rememberUpgrade?: boolean;
  /** Send cookies cross-origin (the server must allow credentials). Default false. */
  withCredentials?: boolean;
  /** Headers on every HTTP request, and on WebSocket where the implementation allows (Node's `ws`). */
  extraHeaders?: Record<string, string>;
  /** What binary messages arrive as. Default `arraybuffer`. */
  binaryType?: BinaryType;
  /** Milliseconds for the handshake before giving up. Default 20000. */
  connectTimeout?: number;
  /** Milliseconds for an upgrade probe, pause included. Default 10000. */
  probeTimeout?: number;
  /** Milliseconds an HTTP request may take; 0 for none (held polls end by the server). Default 0. */
  requestTimeout?: number;
  /** Milliseconds between short polls. Default 1000. */
  pollInterval?: number;
  /** Add a cache-busting `t` parameter to HTTP requests. Default true. */
  timestampRequests?: boolean;
  /**
   * The most the server may send in one piece: a polling response, a stream line or event, an
   * iframe message, a WebSocket frame. Past it the socket closes with IncomingTooLargeError
   * instead of buffering without bound. Default 1e8 (100 MB); `Infinity` for no limit.
   */
  maxIncomingBytes?: number;
  /**
   * Offer resumable sessions in the handshake (docs/wire.md, "Resumable sessions"), when the
   * socket has `resumption`. With cometa/server the session then survives a broken transport:
   * no `close`, messages kept until the server acknowledges them and sent again on the next
   * transport. `maxBytes`: bytes of written, unacknowledged messages after which writing waits
   * for acknowledgements (default 1e6). A stock server ignores the offer. Default true.
   */
  resume?: boolean | { maxBytes?: number };
  /**
   * The piece that makes sessions resumable: the package's `resumption`, given as a value so
   * that a bundle without it does not carry it. `Socket`, `ReconnectingSocket` and the
   * script-tag builds have it by default; a `BareSocket` without it is a stock engine.io client.
   */
  resumption?: Resumption;
  /** Called with a line for each decision on the way to a working connection. Default none. */
  trace?: Trace;
  /** The globals cometa uses; each defaults to `globalThis`'s. */
  env?: Partial<Environment>;
}

export interface ReconnectOptions {
  /** Milliseconds before the first retry. Default 500. */
  initialDelay?: number;
  /** Cap of the backoff in milliseconds. Default 10000. */
  maxDelay?: number;
  /** Growth of the delay per attempt. Default 2. */
  factor?: number;
  /** Spread of each delay, as a fraction of it either way (0 to 1), never above maxDelay. Default 0.5. */
  jitter?: number;
  /** Attempts after a loss before giving up. Default Infinity. */
  maxAttempts?: number;
}

export interface BufferOptions {
  /** Messages held before the transport takes them, across sessions. Default 1000. */
  maxMessages?: number;
  /** Bytes held likewise (strings counted as UTF-8). Default 1000000. */
  maxBytes?: number;
}

export interface ReconnectingSocketOptions extends SocketOptions {
  reconnect?: ReconnectOptions;
  buffer?: BufferOptions;
}

/** A socket's options with defaults applied, checked, and split by who uses them. */
export interface SessionSettings {
  env: Environment;
  endpoint: Endpoint;
  /** The transports to use, in order, resolved from names and values. */
  definitions: readonly TransportDefinition[];
  /** Exactly what every transport receives. */
  transport: TransportOptions;
  upgrade: boolean;
  rememberUpgrade: boolean;
  connectTimeout: number;
  probeTimeout: number;
  /** What the session offers of resumption, when it has `resumption` and `resume` is not false. */
  resumption: ResumeOffer | undefined;
  trace: Trace | undefined;
}

const sessionDefaults = {
  path: "/engine.io/",
  upgrade: true,
  rememberUpgrade: false,
  connectTimeout: 20000,
  probeTimeout: 10000,
};

const transportDefaults: TransportOptions = {
  withCredentials: false,
  extraHeaders: {},
  binaryType: "arraybuffer",
  requestTimeout: 0,
  pollInterval: 1000,
  timestampRequests: true,
  maxIncomingBytes: 1e8,
};

/** `defaults` with the values `options` sets for the same keys, and no other key. */
function pick<T extends object>(defaults: T, options: object): T {
  const result = { ...defaults } as Record<string, unknown>;
  for (const key in defaults) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) result[key] = value;
  }
  return result as T;
}

export function checkOptionsObject(options: unknown): void {
  if (options === null || typeof options !== "object") throw new UsageError("options must be an object");
}

/**
 * Applies defaults and validates. `registry` is what `transports` may name, and the default
 * when it is absent.
 */
export function resolveSocketOptions(
  uri: string | undefined,
  options: SocketOptions,
  registry: readonly TransportDefinition[],
): SessionSettings {
  checkOptionsObject(options);
  const env = resolveEnvironment(options.env);
  const all = pick({ ...sessionDefaults, ...transportDefaults }, options);
  for (const key of ["connectTimeout", "probeTimeout", "requestTimeout", "pollInterval"] as const) {
    const value = all[key];
    if (typeof value !== "number" || !(value >= 0)) throw new UsageError(`${key} must be a number of milliseconds`);
  }
  if (!(all.maxIncomingBytes > 0)) throw new UsageError("maxIncomingBytes must be a positive number");
  if (all.binaryType !== "arraybuffer" && all.binaryType !== "blob") {
    throw new UsageError(`binaryType must be "arraybuffer" or "blob"`);
  }
  // transports get their own options and no other
  const transport = pick(transportDefaults, all);
  const endpoint = parseEndpoint(uri, all.path, options.query || {}, env);
  const definitions = (options.transports || registry).map((entry) => {
    const definition = typeof entry === "string" ? registry.find((known) => known.name === entry) : entry;
    if (!definition || typeof definition.create !== "function") {
      throw new UsageError(`unknown transport ${JSON.stringify(typeof entry === "string" ? entry : String(entry))}`);
    }
    return definition;
  });
  if (definitions.length === 0) throw new UsageError("no transports given");
  const resume = options.resume;
  const resumption = resume === false || !options.resumption ? undefined : options.resumption(resume);
  // a copy: the caller's object may change after the socket is made
  transport.extraHeaders = { ...options.extraHeaders };
  return { ...all, env, endpoint, definitions, transport, resumption, trace: options.trace };
}

const reconnectDefaults: Required<ReconnectOptions> = {
  initialDelay: 500,
  maxDelay: 10000,
  factor: 2,
  jitter: 0.5,
  maxAttempts: Infinity,
};

const bufferDefaults: Required<BufferOptions> = { maxMessages: 1000, maxBytes: 1e6 };

/** The backoff policy and the bounds of the send queue, with defaults, checked. */
export function resolveReconnectOptions(options: ReconnectingSocketOptions): {
  retry: Required<ReconnectOptions>;
  limits: Required<BufferOptions>;
} {
  checkOptionsObject(options);
  // the rule of the socket's own options: a key set to undefined takes its default
  const retry = pick(reconnectDefaults, options.reconnect || {});
  const limits = pick(bufferDefaults, options.buffer || {});
  for (const [key, value] of Object.entries({ ...retry, ...limits })) {
    if (typeof value !== "number" || !(value >= 0)) throw new UsageError(`${key} must be a non-negative number`);
  }
  if (retry.jitter > 1) throw new UsageError("jitter must be between 0 and 1");
  return { retry, limits };
}
