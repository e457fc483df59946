/**
 * The session: handshake, heartbeat, the write buffer and close. It talks to exactly one
 * transport at a time; the upgrade manager owns candidates until they are handed over.
 */
import { Emitter } from "./emitter.js";
import { type Environment, resolveEnvironment } from "./env.js";
import {
  type CometaError,
  HandshakeError,
  HeartbeatError,
  ProtocolError,
  UpgradeError,
  UsageError,
} from "./errors.js";
import { explain, unavailable } from "./explain.js";
import { createHeartbeat, type Heartbeat } from "./heartbeat.js";
import {
  type BinaryType,
  isBinary,
  type MessageData,
  type OpenData,
  type Packet,
  parseOpenData,
  type ReceivedPacket,
  separator,
} from "./protocol.js";
import type {
  SessionInfo,
  Transport,
  TransportContext,
  TransportDefinition,
  TransportName,
  TransportOptions,
} from "./transport.js";
import { startUpgrades, type Upgrader } from "./upgrade.js";
import { type Endpoint, endpointKey, endpointUrl, parseEndpoint } from "./url.js";

export type SocketState = "opening" | "open" | "closing" | "closed";

export type CloseReason =
  /** `close()` was called. */
  | "forced close"
  /** The server sent a close packet or ended the connection. */
  | "transport close"
  /** The transport failed; `details.error` says how. */
  | "transport error"
  /** No ping within pingInterval + pingTimeout. */
  | "ping timeout"
  /** The server sent something that is not engine.io v4. */
  | "parse error";

export interface CloseDetails {
  error?: CometaError;
  /** Messages written but never handed to the network, in order, for the caller to resend. */
  unsent: MessageData[];
}

export type SocketEvents = {
  open: [];
  /** The open packet, as the server sent it. */
  handshake: [data: OpenData];
  message: [data: string | ArrayBuffer | Blob];
  packet: [packet: ReceivedPacket];
  /** The server's heartbeat arrived. */
  ping: [];
  /** Everything written so far was handed to the network. */
  drain: [];
  error: [error: CometaError];
  close: [reason: CloseReason, details: CloseDetails];
  upgrading: [transport: string];
  upgrade: [transport: string];
  upgradeError: [error: UpgradeError];
};

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
  /** The globals cometa uses; each defaults to `globalThis`'s. */
  env?: Partial<Environment>;
}

interface QueuedMessage {
  packet: Packet;
  /** The caller's data, kept for `unsent` (a Blob stays a Blob). */
  data: MessageData;
  /** A Blob being read; the message waits until it is bytes. */
  reading?: boolean;
  callback?: () => void;
}

const defaultOptions = {
  path: "/engine.io/",
  extraHeaders: {} as Record<string, string>,
  upgrade: true,
  rememberUpgrade: false,
  withCredentials: false,
  binaryType: "arraybuffer" as BinaryType,
  connectTimeout: 20000,
  probeTimeout: 10000,
  requestTimeout: 0,
  pollInterval: 1000,
  timestampRequests: true,
  maxIncomingBytes: 1e8,
};

const memoryKeyPrefix = "cometa:transport:";

function isBlob(data: unknown): data is Blob {
  return typeof Blob !== "undefined" && data instanceof Blob;
}

/**
 * An engine.io v4 session over the transports it is given as values, so a bundler keeps only
 * those. `Socket` (from the package entry) is this with every transport available.
 */
export class BaseSocket extends Emitter<SocketEvents> {
  /** The transport in use. */
  transport: Transport;
  state: SocketState = "opening";
  /** The session id, once the handshake is done. */
  id: string | undefined;
  /** The open packet's data, once the handshake is done. */
  handshake: OpenData | undefined;

  private readonly _env: Environment;
  private readonly _endpoint: Endpoint;
  private readonly _definitions: readonly TransportDefinition[];
  private readonly _options: typeof defaultOptions & TransportOptions;
  private readonly _session: SessionInfo = { maxPayload: 1e6 };
  private _queue: QueuedMessage[] = [];
  private _inFlight: QueuedMessage[] = [];
  private _unsubscribe: (() => void)[] = [];
  private _heartbeat: Heartbeat | undefined;
  private _upgrader: Upgrader = { cancel() {} };
  private _connectTimer: unknown;
  private _closeTimer: unknown;
  private _remembered: string | undefined;
  /** The server sent its close packet; the session ends once the in-flight write settles. */
  private _serverClosed = false;

  /**
   * @param registry the transports `options.transports` may name, and the default when it is
   * absent (`Socket` passes every transport; with `BaseSocket` alone, pass values).
   */
  constructor(uri?: string, options: SocketOptions = {}, registry: readonly TransportDefinition[] = []) {
    super();
    if (options === null || typeof options !== "object") throw new UsageError("options must be an object");
    this._env = resolveEnvironment(options.env);
    this._options = { ...defaultOptions };
    for (const key of Object.keys(defaultOptions) as (keyof typeof defaultOptions)[]) {
      if (options[key] !== undefined) (this._options as unknown as Record<string, unknown>)[key] = options[key];
    }
    for (const key of ["connectTimeout", "probeTimeout", "requestTimeout", "pollInterval"] as const) {
      const value = this._options[key];
      if (typeof value !== "number" || !(value >= 0)) throw new UsageError(`${key} must be a number of milliseconds`);
    }
    if (!(this._options.maxIncomingBytes > 0)) throw new UsageError("maxIncomingBytes must be a positive number");
    if (this._options.binaryType !== "arraybuffer" && this._options.binaryType !== "blob") {
      throw new UsageError(`binaryType must be "arraybuffer" or "blob"`);
    }
    this._endpoint = parseEndpoint(uri, this._options.path, options.query || {}, this._env);
    this._definitions = (options.transports || registry).map((entry) => {
      const definition = typeof entry === "string" ? registry.find((known) => known.name === entry) : entry;
      if (!definition || typeof definition.create !== "function") {
        throw new UsageError(`unknown transport ${JSON.stringify(typeof entry === "string" ? entry : String(entry))}`);
      }
      return definition;
    });
    if (this._definitions.length === 0) throw new UsageError("no transports given");
    this._options.extraHeaders = { ...options.extraHeaders };

    const first = this._firstTransport();
    this.transport = this._create(first);
    this._connectTimer = this._env.setTimeout(
      () =>
        this._fail(
          new HandshakeError(
            `no handshake within ${this._options.connectTimeout} ms: is the server up, and serving engine.io at \`path\` ${this._endpoint.path}?`,
          ),
          "transport error",
        ),
      this._options.connectTimeout,
    );
    this._use(this.transport);
    this.transport.open();
  }

  /** Queues a message; `callback` runs once it is handed to the network. */
  send(data: MessageData, callback?: () => void): this {
    if (this.state === "closing" || this.state === "closed") {
      throw new UsageError(`cannot send on a ${this.state} socket`);
    }
    const blob = isBlob(data);
    if (typeof data !== "string" && !isBinary(data) && !blob) {
      throw new UsageError("a message must be a string, an ArrayBuffer, a typed array or a Blob");
    }
    if (typeof data === "string" && data.includes(separator)) {
      // engine.io v4 joins polling payloads with U+001E and stock servers split on it: such a
      // string would arrive cut in two, so it is refused rather than corrupted
      throw new UsageError("a message cannot contain U+001E, the separator of engine.io payloads");
    }
    if (callback !== undefined && typeof callback !== "function") throw new UsageError("callback must be a function");
    const message: QueuedMessage = { packet: { type: "message", data: blob ? undefined : data }, data, callback };
    if (blob) {
      message.reading = true;
      data.arrayBuffer().then(
        (buffer) => {
          message.packet.data = buffer;
          message.reading = false;
          this._flush();
        },
        (cause: unknown) => this._fail(new UsageError("could not read the Blob being sent", { cause }), "transport error"),
      );
    }
    this._queue.push(message);
    // the heartbeat timer may be throttled while the clock says the link is already dead: then
    // the socket closes and the message is handed back in the close event's `unsent`
    if (!this.hasPingExpired()) this._flush();
    return this;
  }

  /**
   * Whether the server's pings stopped for longer than pingInterval + pingTimeout by the wall
   * clock; if so the socket closes with "ping timeout". For callers that wake up after timers
   * were throttled (a background tab coming back).
   */
  hasPingExpired(): boolean {
    const expired = this.state === "open" && this._heartbeat!.expired();
    if (expired) this._pingTimedOut();
    return expired;
  }

  /** Sends what is queued, then a close packet, then closes. */
  close(): this {
    if (this.state === "closing" || this.state === "closed") return this;
    if (this.state === "opening") {
      this._finish("forced close");
      return this;
    }
    this.state = "closing";
    this._upgrader.cancel();
    // bounded, so a server that stopped answering cannot hold the close forever
    this._closeTimer = this._env.setTimeout(() => this._finish("forced close"), this._options.requestTimeout || 10000);
    this._write({ type: "close" });
    return this;
  }

  private _firstTransport(): TransportDefinition {
    const supported = this._definitions.filter((definition) => definition.supported(this._env));
    if (supported.length === 0) {
      throw new UsageError(`none of the transports [${this._definitions.map((d) => d.name)}] works in this environment`);
    }
    if (this._options.rememberUpgrade) {
      const name = this._memory();
      const remembered = supported.find((definition) => definition.name === name);
      if (remembered) {
        this._remembered = remembered.name;
        return remembered;
      }
    }
    return supported[0]!;
  }

  /** Reads, or with `name` writes, the transport `rememberUpgrade` keeps for this endpoint. */
  private _memory(name?: string): string | null | undefined {
    const { storage } = this._env;
    const key = memoryKeyPrefix + endpointKey(this._endpoint);
    if (!storage) return undefined;
    if (name === undefined) return storage.getItem(key);
    storage.setItem(key, name);
    return name;
  }

  private _create(definition: TransportDefinition): Transport {
    const context: TransportContext = {
      env: this._env,
      session: this._session,
      options: this._options,
      url: (scheme, transport, extra) =>
        endpointUrl(this._endpoint, scheme, { ...extra, transport, sid: this._session.sid }),
    };
    return definition.create(context);
  }

  private _use(transport: Transport) {
    for (const off of this._unsubscribe) off();
    this.transport = transport;
    this._unsubscribe = [
      transport.on("packet", (packet) => this._onPacket(packet)),
      transport.on("drain", () => this._onDrain()),
      transport.on("error", (error) => this._onTransportError(error)),
      transport.on("close", () => this._fail(undefined, "transport close")),
    ];
  }

  private _onTransportError(error: CometaError) {
    if (this.state === "opening" && this._remembered) {
      // the remembered transport no longer works here: forget it and start the usual way
      this._memory("");
      this._remembered = undefined;
      const old = this.transport;
      // memory is cleared, so this is the first supported transport again
      this._use(this._create(this._firstTransport()));
      old.close();
      this.transport.open();
      return;
    }
    const reason = error instanceof ProtocolError ? "parse error" : "transport error";
    this._fail(error, reason);
  }

  private _onPacket(packet: ReceivedPacket) {
    if (this.state === "closed") return;
    this.emit("packet", packet);
    switch (packet.type) {
      case "open":
        return this._onOpen(packet.data);
      case "ping":
        if (this._heartbeat) this._heartbeat.beat();
        this.emit("ping");
        this._write({ type: "pong" });
        return;
      case "message":
        if (this.state === "opening") return this._fail(new HandshakeError("message before the open packet"), "parse error");
        this.emit("message", packet.data || "");
        return;
      case "close":
        // the server ends the session. A message still in flight may have reached it: wait for
        // its answer (the transport ends right after), so `unsent` holds only what surely did not
        if (this._inFlight.length === 0) return this._finish("transport close");
        this._serverClosed = true;
        return;
      default:
        // noop, and pong/upgrade which a server does not send on a current transport
        return;
    }
  }

  private _onOpen(data: unknown) {
    if (this.state !== "opening") return this._fail(new ProtocolError("a second open packet"), "parse error");
    let open: OpenData;
    try {
      open = parseOpenData(data);
    } catch (error) {
      return this._fail(error as CometaError, "parse error");
    }
    this._env.clearTimeout(this._connectTimer);
    this.id = open.sid;
    this.handshake = open;
    this._session.sid = open.sid;
    this._session.maxPayload = open.maxPayload;
    this.state = "open";
    this._heartbeat = createHeartbeat(this._env, open.pingInterval + open.pingTimeout, () => this._pingTimedOut());
    this._heartbeat.beat();
    this.emit("handshake", open);
    this.emit("open");
    this._flush();
    if (this.state === "open" && this._options.upgrade && this.transport.pause) this._startUpgrades(open.upgrades);
  }

  private _pingTimedOut() {
    const { pingInterval, pingTimeout } = this.handshake!;
    this._fail(new HeartbeatError(`no ping within ${pingInterval + pingTimeout} ms`), "ping timeout");
  }

  private _startUpgrades(advertised: readonly string[]) {
    const current = this.transport.name;
    const candidates = this._definitions.filter(
      (definition) =>
        definition.name !== current && advertised.includes(definition.name) && definition.supported(this._env),
    );
    // said once per session: the best transport on offer lacks a global the app can supply
    const best = this._definitions.find((definition) => definition.name !== current && advertised.includes(definition.name));
    const hint = best && !best.supported(this._env) ? unavailable(best.name) : undefined;
    if (hint) this.emit("upgradeError", new UpgradeError(hint, best!.name));
    if (candidates.length === 0) return;
    this._upgrader = startUpgrades(
      {
        env: this._env,
        probeTimeout: this._options.probeTimeout,
        current: () => this.transport,
        create: (definition) => this._create(definition),
        upgrading: (name) => this.emit("upgrading", name),
        failed: (error) => {
          this.emit("upgradeError", this._explain(error) as UpgradeError);
          // the current transport resumed: what was written during the attempt goes out now
          this._flush();
        },
        upgraded: (candidate, early) => {
          const old = this.transport;
          this._use(candidate);
          old.close();
          if (this._options.rememberUpgrade) this._memory(candidate.name);
          this.emit("upgrade", candidate.name);
          for (const packet of early) this._onPacket(packet);
          this._flush();
        },
      },
      candidates,
    );
  }

  private _write(packet: Packet) {
    this._queue.push({ packet, data: "" });
    this._flush();
  }

  private _flush() {
    const transport = this.transport;
    if (this.state === "opening" || this.state === "closed" || this._serverClosed) return;
    if (transport.state !== "open" || !transport.writable || this._inFlight.length > 0) return;
    let count = 0;
    while (count < this._queue.length && !this._queue[count]!.reading) count++;
    if (count === 0) return;
    this._inFlight = this._queue.splice(0, count);
    transport.send(this._inFlight.map((message) => message.packet));
  }

  private _onDrain() {
    const sent = this._inFlight;
    this._inFlight = [];
    for (const { callback } of sent) if (callback) callback();
    if (this.state === "closing" && sent.some((message) => message.packet.type === "close")) {
      return this._finish("forced close");
    }
    if (this._serverClosed) return this._finish("transport close");
    if (this._queue.length === 0) this.emit("drain");
    this._flush();
  }

  private _fail(error: CometaError | undefined, reason: CloseReason) {
    if (this.state === "closed") return;
    if (this.state === "closing" && reason === "transport close") return this._finish("forced close");
    if (error) this.emit("error", this._explain(error));
    this._finish(reason, error);
  }

  /** The error with the endpoint, its first useful cause and, for usual mistakes, what to do. */
  private _explain(error: CometaError): CometaError {
    return explain(error, endpointKey(this._endpoint), this._endpoint.path, this.state === "opening");
  }

  private _finish(reason: CloseReason, error?: CometaError) {
    if (this.state === "closed") return;
    this.state = "closed";
    this._env.clearTimeout(this._connectTimer);
    this._env.clearTimeout(this._closeTimer);
    if (this._heartbeat) this._heartbeat.stop();
    this._upgrader.cancel();
    for (const off of this._unsubscribe) off();
    this._unsubscribe = [];
    this.transport.close();
    const unsent = [...this._inFlight, ...this._queue]
      .filter((message) => message.packet.type === "message")
      .map((message) => message.data);
    this._inFlight = [];
    this._queue = [];
    this.emit("close", reason, { error, unsent });
  }
}

