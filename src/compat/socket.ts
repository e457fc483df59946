/**
 * engine.io-client's `Socket` over cometa's `BareSocket`: the constructor socket.io-client's
 * Manager calls with its whole option bag, the events it listens to and the few members it
 * reads. Names and events are adapted here; the session, transports and upgrades are cometa's.
 */
import { Emitter } from "../emitter.js";
import type { Environment } from "../env.js";
import { UsageError } from "../errors.js";
import { checkOptionsObject } from "../options.js";
import { isArrayBuffer, protocolVersion } from "../protocol.js";
import { resumption } from "../resume.js";
import { BareSocket, type CloseReason, type SocketOptions as CometaOptions, type TransportInfo } from "../socket.js";
import type { TransportDefinition } from "../transport.js";
import { parse } from "./parseuri.js";
import type { Transport } from "./transports.js";

type TransportEntry = string | typeof Transport | TransportDefinition;

/**
 * engine.io-client's options. Those cometa has no use for (agent, forceBase64, perMessageDeflate,
 * tls options...) are accepted and ignored, as socket.io-client passes its own options here too.
 */
export interface SocketOptions {
  host?: string;
  hostname?: string;
  secure?: boolean;
  port?: string | number;
  /** Default `/engine.io`; socket.io-client sets `/socket.io`. */
  path?: string;
  query?: string | Record<string, unknown>;
  /** Names (cometa's: polling, websocket, sse, xhr-streaming, iframe, jsonp, short-polling) or classes. */
  transports?: readonly TransportEntry[];
  transportImplementations?: readonly TransportEntry[];
  upgrade?: boolean;
  rememberUpgrade?: boolean;
  withCredentials?: boolean;
  extraHeaders?: Record<string, string>;
  timestampRequests?: boolean;
  requestTimeout?: number;
  /** Only `true` (the default) is supported: cometa's paths end with a slash. */
  addTrailingSlash?: boolean;
  /** Node: timers and the WebSocket do not keep the process alive. */
  autoUnref?: boolean;
  useNativeTimers?: boolean;
  /** cometa's own: milliseconds for the handshake, an upgrade probe, between short polls. */
  connectTimeout?: number;
  probeTimeout?: number;
  pollInterval?: number;
  /** cometa's own: the globals it uses (e.g. an EventSource implementation in Node). */
  env?: Partial<Environment>;
  [option: string]: unknown;
}

export type BinaryKind = "arraybuffer" | "nodebuffer" | "blob";

/** What differs between Node and browsers: the entry files pass one of these. */
export interface Platform {
  binaryType: BinaryKind;
  /** Globals cometa lacks in this runtime (Node: `ws` as WebSocket, timers that `autoUnref` unrefs). */
  env(options: SocketOptions): Partial<Environment>;
  /** Binary as `binaryType` asks. */
  binary(data: ArrayBuffer, binaryType: BinaryKind): unknown;
}

/** What `socket.transport` and the `upgrading`/`upgrade` events give: engine.io-client's transport fields. */
export class TransportView {
  constructor(
    readonly name: string,
    private readonly _transport?: TransportInfo,
  ) {}

  /** False while a write is in flight: socket.io-client drops volatile packets then. */
  get writable(): boolean {
    return Boolean(this._transport && this._transport.writable);
  }

  get readyState(): string {
    return this._transport ? this._transport.state : "opening";
  }
}

function endpoint(uri: string | undefined, options: SocketOptions): string | undefined {
  if (uri) return uri;
  const host = options.hostname || (options.host ? parse(options.host).host : undefined);
  if (!host) return undefined;
  const port = options.port ? `:${options.port}` : "";
  return `${options.secure ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}${port}`;
}

function queryOf(query: SocketOptions["query"]): Record<string, string> {
  const result: Record<string, string> = {};
  if (typeof query === "string") new URLSearchParams(query).forEach((value, key) => (result[key] = value));
  else if (query && typeof query === "object") for (const key in query) result[key] = String(query[key]);
  else if (query !== undefined) throw new UsageError("query must be a string or an object");
  return result;
}

function resolveTransports(entries: unknown, registry: readonly TransportDefinition[]): TransportDefinition[] | undefined {
  if (entries === undefined) return undefined;
  if (!Array.isArray(entries)) throw new UsageError("transports must be an array");
  const resolved: TransportDefinition[] = [];
  for (const entry of entries as unknown[]) {
    // a class names its transport on the prototype (engine.io-client's way), a definition in `name`
    const isClass = typeof entry === "function";
    const given = isClass
      ? (entry as typeof Transport).definition
      : entry && typeof (entry as TransportDefinition).create === "function"
        ? (entry as TransportDefinition)
        : undefined;
    const name = String(isClass ? ((entry as typeof Transport).prototype || {}).name : given ? given.name : entry);
    const definition = given || registry.find((candidate) => candidate.name === name);
    if (!definition) {
      throw new UsageError(
        `unknown transport ${JSON.stringify(name)}${isClass ? " (engine.io-client's classes do not run here)" : ""}: cometa has ${registry
          .map((known) => known.name)
          .join(", ")}`,
      );
    }
    // XHR, Fetch and NodeXHR all stand for polling: keep the first
    if (!resolved.includes(definition)) resolved.push(definition);
  }
  return resolved;
}

type EngineEvents = Record<string, unknown[]>;

/**
 * engine.io-client's `SocketWithoutUpgrade`: transports as classes or cometa definitions, no
 * upgrade. `SocketWithUpgrade` and `Socket` build on it.
 */
export class SocketWithoutUpgrade extends Emitter<EngineEvents> {
  static protocol = protocolVersion;

  /** `nodebuffer` (Node) or `arraybuffer`; `blob` in browsers to get Blobs. */
  binaryType: BinaryKind;
  /** The cometa session underneath. */
  readonly session: BareSocket;
  readonly opts: SocketOptions;
  private readonly _platform: Platform;
  private _transport: TransportView | undefined;

  constructor(
    uri: string | SocketOptions | null | undefined,
    options: SocketOptions | undefined,
    platform: Platform,
    registry: readonly TransportDefinition[] = [],
  ) {
    super();
    if (uri && typeof uri === "object") {
      options = uri;
      uri = undefined;
    }
    if (options === undefined) options = {};
    checkOptionsObject(options);
    if (options.addTrailingSlash === false) {
      throw new UsageError("addTrailingSlash: false is not supported");
    }
    this.opts = options;
    this._platform = platform;
    this.binaryType = platform.binaryType;
    const cometa: CometaOptions = {
      // resumable as cometa's `Socket` is (`resume: false` turns it off)
      resumption,
      // the whole bag: cometa reads the names it shares with engine.io-client (upgrade,
      // withCredentials, requestTimeout...) and its own (probeTimeout...), and no other
      ...(options as CometaOptions),
      path: typeof options.path === "string" ? options.path : "/engine.io",
      query: queryOf(options.query),
      env: { ...platform.env(options), ...options.env },
      transports: resolveTransports(options.transportImplementations || options.transports, registry),
    };
    this._configure(cometa);
    this.session = new BareSocket(endpoint(uri || undefined, options), cometa, registry);
    this._listen(this.session);
  }

  /** The current transport: `name` and `writable`, as engine.io-client's. */
  get transport(): TransportView {
    const current = this.session.transport;
    if (!this._transport || this._transport.name !== current.name) this._transport = new TransportView(current.name, current);
    return this._transport;
  }

  get id(): string | null {
    return this.session.state === "closed" ? null : this.session.id || null;
  }

  get readyState(): string {
    const state = this.session.state;
    // engine.io-client has no such state: a session that resumes is open, and takes writes
    return state === "resuming" ? "open" : state;
  }

  /** Queues a message; `callback` runs once the transport took it (resumable: once the server acknowledged it). Dropped once closing, as engine.io-client does. */
  write(data: unknown, options?: unknown, callback?: () => void): this {
    if (typeof options === "function") callback = options as () => void;
    if (this.session.state === "closing" || this.session.state === "closed") return this;
    this.session.send(data as string, callback);
    return this;
  }

  send(data: unknown, options?: unknown, callback?: () => void): this {
    return this.write(data, options, callback);
  }

  close(): this {
    this.session.close();
    return this;
  }

  /**
   * Whether the server's pings stopped for longer than pingInterval + pingTimeout; if so the
   * socket closes with "ping timeout". socket.io-client asks before each emit.
   */
  _hasPingExpired(): boolean {
    return this.session.hasPingExpired();
  }

  /** `SocketWithoutUpgrade` never upgrades. */
  protected _configure(options: CometaOptions): void {
    options.upgrade = false;
  }

  private _listen(session: BareSocket) {
    // the events engine.io-client emits as cometa does, under the same names
    for (const name of ["open", "handshake", "packet", "drain", "error", "upgradeError"] as const) {
      (session as unknown as Emitter<EngineEvents>).on(name, (...args) => this.emit(name, ...args));
    }
    session.on("ping", () => {
      this.emit("ping");
      this.emit("heartbeat");
    });
    session.on("message", (data) => {
      const delivered = isArrayBuffer(data) ? this._platform.binary(data, this.binaryType) : data;
      this.emit("data", delivered);
      this.emit("message", delivered);
    });
    session.on("upgrading", (name) => this.emit("upgrading", new TransportView(name)));
    session.on("upgrade", () => this.emit("upgrade", this.transport));
    session.on("close", (reason: CloseReason, details) => this.emit("close", reason, details.error));
  }
}

/** engine.io-client's `SocketWithUpgrade`: as `SocketWithoutUpgrade`, upgrading unless `upgrade: false`. */
export class SocketWithUpgrade extends SocketWithoutUpgrade {
  protected override _configure(): void {}
}
