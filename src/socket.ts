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
  type UpgradeError,
  UsageError,
} from "./errors.js";
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
import type { SessionInfo, Transport, TransportContext, TransportDefinition, TransportOptions } from "./transport.js";
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
  transports?: readonly (TransportDefinition | string)[];
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
  upgrade: true,
  rememberUpgrade: false,
  withCredentials: false,
  binaryType: "arraybuffer" as BinaryType,
  connectTimeout: 20000,
  probeTimeout: 10000,
  requestTimeout: 0,
  pollInterval: 1000,
  timestampRequests: true,
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

  readonly #env: Environment;
  readonly #endpoint: Endpoint;
  readonly #definitions: readonly TransportDefinition[];
  readonly #options: typeof defaultOptions;
  readonly #transportOptions: TransportOptions;
  readonly #session: SessionInfo = { maxPayload: 1e6 };
  #queue: QueuedMessage[] = [];
  #inFlight: QueuedMessage[] = [];
  #unsubscribe: (() => void)[] = [];
  #heartbeat: Heartbeat | undefined;
  #upgrader: Upgrader | undefined;
  #connectTimer: unknown;
  #closeTimer: unknown;
  #remembered: string | undefined;

  constructor(uri?: string, options: SocketOptions & { resolveTransport?: (name: string) => TransportDefinition | undefined } = {}) {
    super();
    if (options === null || typeof options !== "object") throw new UsageError("options must be an object");
    this.#env = resolveEnvironment(options.env);
    this.#options = { ...defaultOptions };
    for (const key of Object.keys(defaultOptions) as (keyof typeof defaultOptions)[]) {
      if (options[key] !== undefined) (this.#options as Record<string, unknown>)[key] = options[key];
    }
    for (const key of ["connectTimeout", "probeTimeout", "requestTimeout", "pollInterval"] as const) {
      const value = this.#options[key];
      if (typeof value !== "number" || !(value >= 0)) throw new UsageError(`${key} must be a number of milliseconds`);
    }
    if (this.#options.binaryType !== "arraybuffer" && this.#options.binaryType !== "blob") {
      throw new UsageError(`binaryType must be "arraybuffer" or "blob"`);
    }
    this.#endpoint = parseEndpoint(uri, this.#options.path, options.query ?? {}, this.#env);
    this.#definitions = (options.transports ?? []).map((entry) => {
      const definition = typeof entry === "string" ? options.resolveTransport?.(entry) : entry;
      if (!definition || typeof definition.create !== "function") {
        throw new UsageError(`unknown transport ${JSON.stringify(typeof entry === "string" ? entry : String(entry))}`);
      }
      return definition;
    });
    if (this.#definitions.length === 0) throw new UsageError("no transports given");
    this.#transportOptions = {
      withCredentials: this.#options.withCredentials,
      extraHeaders: { ...options.extraHeaders },
      binaryType: this.#options.binaryType,
      requestTimeout: this.#options.requestTimeout,
      pollInterval: this.#options.pollInterval,
      timestampRequests: this.#options.timestampRequests,
    };

    const first = this.#firstTransport();
    this.transport = this.#create(first);
    this.#connectTimer = this.#env.setTimeout(
      () => this.#fail(new HandshakeError(`no handshake within ${this.#options.connectTimeout} ms`), "transport error"),
      this.#options.connectTimeout,
    );
    this.#use(this.transport);
    this.transport.open();
  }

  /** Queues a message; `callback` runs once it is handed to the network. */
  send(data: MessageData, callback?: () => void): this {
    if (this.state === "closing" || this.state === "closed") {
      throw new UsageError(`cannot send on a ${this.state} socket`);
    }
    if (typeof data !== "string" && !isBinary(data) && !isBlob(data)) {
      throw new UsageError("a message must be a string, an ArrayBuffer, a typed array or a Blob");
    }
    if (typeof data === "string" && data.includes(separator)) {
      // engine.io v4 joins polling payloads with U+001E and stock servers split on it: such a
      // string would arrive cut in two, so it is refused rather than corrupted
      throw new UsageError("a message cannot contain U+001E, the separator of engine.io payloads");
    }
    if (callback !== undefined && typeof callback !== "function") throw new UsageError("callback must be a function");
    if (this.#heartbeat?.expired()) {
      // the timer may be throttled; the clock says the link is already dead
      this.#queue.push({ packet: { type: "message" }, data, callback });
      this.#fail(new HeartbeatError("no ping from the server in time"), "ping timeout");
      return this;
    }
    const message: QueuedMessage = { packet: { type: "message", data: isBlob(data) ? undefined : data }, data, callback };
    if (isBlob(data)) {
      message.reading = true;
      data.arrayBuffer().then(
        (buffer) => {
          message.packet.data = buffer;
          message.reading = false;
          this.#flush();
        },
        (cause: unknown) => this.#fail(new UsageError("could not read the Blob being sent", { cause }), "transport error"),
      );
    }
    this.#queue.push(message);
    this.#flush();
    return this;
  }

  /** Sends what is queued, then a close packet, then closes. */
  close(): this {
    if (this.state === "closing" || this.state === "closed") return this;
    if (this.state === "opening") {
      this.#finish("forced close");
      return this;
    }
    this.state = "closing";
    this.#upgrader?.cancel();
    this.#queue.push({ packet: { type: "close" }, data: "" });
    // bounded, so a server that stopped answering cannot hold the close forever
    this.#closeTimer = this.#env.setTimeout(() => this.#finish("forced close"), this.#options.requestTimeout || 10000);
    this.#flush();
    return this;
  }

  #firstTransport(): TransportDefinition {
    const supported = this.#definitions.filter((definition) => definition.supported(this.#env));
    if (supported.length === 0) {
      throw new UsageError(`none of the transports [${this.#definitions.map((d) => d.name)}] works in this environment`);
    }
    if (this.#options.rememberUpgrade) {
      const name = this.#env.storage?.getItem(memoryKeyPrefix + endpointKey(this.#endpoint)) ?? undefined;
      const remembered = supported.find((definition) => definition.name === name);
      if (remembered) {
        this.#remembered = remembered.name;
        return remembered;
      }
    }
    return supported[0]!;
  }

  #create(definition: TransportDefinition): Transport {
    const context: TransportContext = {
      env: this.#env,
      session: this.#session,
      options: this.#transportOptions,
      url: (scheme, transport, extra) =>
        endpointUrl(this.#endpoint, scheme, { ...extra, transport, sid: this.#session.sid }),
    };
    return definition.create(context);
  }

  #use(transport: Transport) {
    for (const off of this.#unsubscribe) off();
    this.transport = transport;
    this.#unsubscribe = [
      transport.on("packet", (packet) => this.#onPacket(packet)),
      transport.on("drain", () => this.#onDrain()),
      transport.on("error", (error) => this.#onTransportError(error)),
      transport.on("close", () => this.#fail(undefined, "transport close")),
    ];
  }

  #onTransportError(error: CometaError) {
    if (this.state === "opening" && this.#remembered) {
      // the remembered transport no longer works here: forget it and start the usual way
      this.#env.storage?.setItem(memoryKeyPrefix + endpointKey(this.#endpoint), "");
      this.#remembered = undefined;
      const old = this.transport;
      this.#use(this.#create(this.#definitions.filter((d) => d.supported(this.#env))[0]!));
      old.close();
      this.transport.open();
      return;
    }
    const reason = error instanceof ProtocolError ? "parse error" : "transport error";
    this.#fail(error, reason);
  }

  #onPacket(packet: ReceivedPacket) {
    if (this.state === "closed") return;
    this.emit("packet", packet);
    switch (packet.type) {
      case "open":
        return this.#onOpen(packet.data);
      case "ping":
        this.#heartbeat?.beat();
        this.emit("ping");
        this.#write({ type: "pong" });
        return;
      case "message":
        if (this.state === "opening") return this.#fail(new HandshakeError("message before the open packet"), "parse error");
        this.emit("message", packet.data ?? "");
        return;
      case "close":
        return this.#finish("transport close");
      default:
        // noop, and pong/upgrade which a server does not send on a current transport
        return;
    }
  }

  #onOpen(data: unknown) {
    if (this.state !== "opening") return this.#fail(new ProtocolError("a second open packet"), "parse error");
    let open: OpenData;
    try {
      open = parseOpenData(data);
    } catch (error) {
      return this.#fail(error as CometaError, "parse error");
    }
    this.#env.clearTimeout(this.#connectTimer);
    this.id = open.sid;
    this.handshake = open;
    this.#session.sid = open.sid;
    this.#session.maxPayload = open.maxPayload;
    this.state = "open";
    this.#heartbeat = createHeartbeat(this.#env, open.pingInterval + open.pingTimeout, () =>
      this.#fail(new HeartbeatError(`no ping within ${open.pingInterval + open.pingTimeout} ms`), "ping timeout"),
    );
    this.#heartbeat.beat();
    this.emit("handshake", open);
    this.emit("open");
    this.#flush();
    if (this.state === "open" && this.#options.upgrade && this.transport.pause) this.#startUpgrades(open.upgrades);
  }

  #startUpgrades(advertised: readonly string[]) {
    const current = this.transport.name;
    const candidates = this.#definitions.filter(
      (definition) =>
        definition.name !== current && advertised.includes(definition.name) && definition.supported(this.#env),
    );
    if (candidates.length === 0) return;
    this.#upgrader = startUpgrades(
      {
        env: this.#env,
        probeTimeout: this.#options.probeTimeout,
        current: () => this.transport,
        create: (definition) => this.#create(definition),
        upgrading: (name) => this.emit("upgrading", name),
        failed: (error) => this.emit("upgradeError", error),
        upgraded: (candidate, early) => {
          const old = this.transport;
          this.#upgrader = undefined;
          this.#use(candidate);
          old.close();
          if (this.#options.rememberUpgrade) {
            this.#env.storage?.setItem(memoryKeyPrefix + endpointKey(this.#endpoint), candidate.name);
          }
          this.emit("upgrade", candidate.name);
          for (const packet of early) this.#onPacket(packet);
          this.#flush();
        },
      },
      candidates,
    );
  }

  #write(packet: Packet) {
    this.#queue.push({ packet, data: "" });
    this.#flush();
  }

  #flush() {
    const transport = this.transport;
    if (this.state === "opening" || this.state === "closed") return;
    if (transport.state !== "open" || !transport.writable || this.#inFlight.length > 0) return;
    let count = 0;
    while (count < this.#queue.length && !this.#queue[count]!.reading) count++;
    if (count === 0) return;
    this.#inFlight = this.#queue.splice(0, count);
    transport.send(this.#inFlight.map((message) => message.packet));
  }

  #onDrain() {
    const sent = this.#inFlight;
    this.#inFlight = [];
    for (const message of sent) message.callback?.();
    if (this.state === "closing" && sent.some((message) => message.packet.type === "close")) {
      return this.#finish("forced close");
    }
    if (this.#queue.length === 0) this.emit("drain");
    this.#flush();
  }

  #fail(error: CometaError | undefined, reason: CloseReason) {
    if (this.state === "closed") return;
    if (this.state === "closing" && reason === "transport close") return this.#finish("forced close");
    if (error) this.emit("error", error);
    this.#finish(reason, error);
  }

  #finish(reason: CloseReason, error?: CometaError) {
    if (this.state === "closed") return;
    this.state = "closed";
    this.#env.clearTimeout(this.#connectTimer);
    this.#env.clearTimeout(this.#closeTimer);
    this.#heartbeat?.stop();
    this.#upgrader?.cancel();
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    this.transport.close();
    const unsent = [...this.#inFlight, ...this.#queue]
      .filter((message) => message.packet.type === "message")
      .map((message) => message.data);
    this.#inFlight = [];
    this.#queue = [];
    this.emit("close", reason, { error, unsent });
  }
}

