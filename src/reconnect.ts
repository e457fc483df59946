/**
 * Reconnection: a socket that outlives its sessions. When one dies (server restart, network
 * cut, heartbeat missed), it opens another after an exponential backoff with jitter, sooner
 * when the browser says it is back online, and sends what was written meanwhile, in order.
 */
import { Emitter } from "./emitter.js";
import { type Environment, type KeyValueStorage, resolveEnvironment } from "./env.js";
import { BufferOverflowError, type CometaError, ServerError, type UpgradeError, UsageError } from "./errors.js";
import { isBinary, type MessageData, utf8Length } from "./protocol.js";
import { BaseSocket, type CloseDetails, type CloseReason, type SocketOptions } from "./socket.js";
import type { TransportDefinition } from "./transport.js";

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
  /** Messages kept while disconnected. Default 1000. */
  maxMessages?: number;
  /** Bytes kept while disconnected (strings counted as UTF-8). Default 1000000. */
  maxBytes?: number;
}

export interface ReconnectingSocketOptions extends SocketOptions {
  reconnect?: ReconnectOptions;
  buffer?: BufferOptions;
}

export type ReconnectingSocketState = "connecting" | "open" | "reconnecting" | "closed";

export type ReconnectingSocketEvents = {
  /** A session opened (the first, or one after a reconnection). */
  open: [];
  message: [data: string | ArrayBuffer | Blob];
  upgrading: [transport: string];
  upgrade: [transport: string];
  upgradeError: [error: UpgradeError];
  error: [error: CometaError];
  /** An open session was lost; a reconnection follows unless `close()` was called. */
  disconnect: [reason: CloseReason, details: CloseDetails];
  reconnecting: [attempt: number, delay: number];
  /** A session opened again after `attempt` attempts. */
  reconnect: [attempt: number];
  reconnectFailed: [];
  /** Final. `details.unsent`: messages never handed to the network. */
  close: [reason: CloseReason | "reconnect failed", details: CloseDetails];
};

interface Pending {
  data: MessageData;
  callback?: () => void;
  bytes: number;
}

/** Session events a ReconnectingSocket passes on as they are. */
const forwarded = ["message", "upgrading", "upgrade", "upgradeError", "error"] as const;

/** Window events after which the heartbeat is checked against the clock and a retry is due. */
const wakeEvents = ["online", "focus", "pageshow"];

const reconnectDefaults: Required<ReconnectOptions> = {
  initialDelay: 500,
  maxDelay: 10000,
  factor: 2,
  jitter: 0.5,
  maxAttempts: Infinity,
};

function sizeOf(data: MessageData): number {
  return typeof data === "string" ? utf8Length(data) : isBinary(data) ? data.byteLength : (data as Blob).size;
}

/**
 * The delay before attempt `attempt` (1-based): exponential up to `maxDelay`, then spread by
 * jitter within [base × (1 − jitter), min(maxDelay, base × (1 + jitter))]. The spread stays
 * under the cap, so `maxDelay` is never exceeded and delays at the cap still differ.
 */
export function backoffDelay(options: Required<ReconnectOptions>, attempt: number, random: () => number): number {
  const base = Math.min(options.maxDelay, options.initialDelay * Math.pow(options.factor, attempt - 1));
  const low = base * (1 - options.jitter);
  const high = Math.min(options.maxDelay, base * (1 + options.jitter));
  return Math.max(0, Math.round(low + (high - low) * random()));
}

/**
 * A socket that reconnects. `ReconnectingSocket` (from the package entry) is this with every
 * transport available by name.
 */
export class BaseReconnectingSocket extends Emitter<ReconnectingSocketEvents> {
  state: ReconnectingSocketState = "connecting";
  /** The current session, if one is open or opening. */
  socket: BaseSocket | undefined;

  private readonly _env: Environment;
  private readonly _retry: Required<ReconnectOptions>;
  private readonly _limits: Required<BufferOptions>;
  private readonly _socketOptions: SocketOptions;
  /** Written while no session could take it, oldest first. */
  private _buffer: Pending[] = [];
  /** Handed to the current session but not yet to the network. */
  private _inSession: Pending[] = [];
  private _attempt = 0;
  private _everOpened = false;
  private _timer: unknown;
  private _unsubscribe: (() => void)[] = [];
  /** The page woke up or came back online: timers may have been throttled meanwhile. */
  private readonly _onWake = () => {
    this.socket?.hasPingExpired();
    this._retryNow();
  };

  constructor(
    private readonly _uri: string | undefined,
    options: ReconnectingSocketOptions = {},
    private readonly _registry: readonly TransportDefinition[] = [],
  ) {
    super();
    if (options === null || typeof options !== "object") throw new UsageError("options must be an object");
    const { reconnect, buffer, ...socketOptions } = options;
    this._retry = { ...reconnectDefaults, ...reconnect };
    this._limits = { maxMessages: 1000, maxBytes: 1e6, ...buffer };
    for (const [key, value] of Object.entries({ ...this._retry, ...this._limits })) {
      if (typeof value !== "number" || !(value >= 0)) throw new UsageError(`${key} must be a non-negative number`);
    }
    if (this._retry.jitter > 1) throw new UsageError("jitter must be between 0 and 1");
    const env = resolveEnvironment(options.env);
    // sessions share one memory of the transport that worked, even where there is no sessionStorage
    const items: Record<string, string> = {};
    const memory: KeyValueStorage = { getItem: (key) => items[key] ?? null, setItem: (key, value) => void (items[key] = value) };
    this._env = { ...env, storage: env.storage ?? memory };
    this._socketOptions = { ...socketOptions, env: this._env };
    for (const event of wakeEvents) this._env.window?.addEventListener?.(event, this._onWake);
    // the first session is made here, so a bad URL or option throws to the caller
    this._open();
  }

  /** The current session's transport name. */
  get transport(): string | undefined {
    return this.socket?.transport.name;
  }

  /**
   * Sends now if a session is open, otherwise keeps the message (within the buffer's bounds)
   * for the next session. `callback` runs once it is handed to the network.
   */
  send(data: MessageData, callback?: () => void): this {
    if (this.state === "closed") throw new UsageError("cannot send on a closed socket");
    const pending: Pending = { data, callback, bytes: sizeOf(data) };
    if (this.state === "open" && this.socket?.state === "open" && !this.socket.hasPingExpired()) this._hand(pending);
    else if (this._fits(pending, this._buffer)) this._buffer.push(pending);
    else this._overflow([pending]);
    return this;
  }

  /** Final: closes the session (after flushing it) and stops reconnecting. */
  close(): this {
    if (this.state === "closed") return this;
    const wasOpen = this.socket;
    this._stop();
    if (wasOpen && wasOpen.state !== "closed") {
      // its close event arrives through _onClose, which sees state "closed" and ends here
      this.state = "closed";
      wasOpen.close();
    } else this._end("forced close", {});
    return this;
  }

  private _open() {
    this.state = this._attempt === 0 && !this._everOpened ? "connecting" : "reconnecting";
    const socket = new BaseSocket(this._uri, this._socketOptions, this._registry);
    this.socket = socket;
    this._unsubscribe = [
      socket.on("open", () => this._onOpen()),
      socket.on("close", (reason, details) => this._onClose(reason, details)),
      ...forwarded.map((event) =>
        socket.on(event, (...args: unknown[]) => (this.emit as (event: string, ...args: unknown[]) => void)(event, ...args)),
      ),
    ];
  }

  private _onOpen() {
    const attempts = this._attempt;
    this._attempt = 0;
    this.state = "open";
    if (this._everOpened) this.emit("reconnect", attempts);
    this._everOpened = true;
    const waiting = this._buffer;
    this._buffer = [];
    for (const pending of waiting) this._hand(pending);
    this.emit("open");
  }

  private _hand(pending: Pending) {
    this._inSession.push(pending);
    this.socket!.send(pending.data, () => {
      const index = this._inSession.indexOf(pending);
      if (index >= 0) this._inSession.splice(index, 1);
      pending.callback?.();
    });
  }

  private _onClose(reason: CloseReason, details: CloseDetails) {
    for (const off of this._unsubscribe) off();
    this._unsubscribe = [];
    const wasOpen = this.state === "open";
    this.socket = undefined;
    // what the lost session never handed to the network goes first, in the order it was written
    const returned = this._inSession;
    this._inSession = [];
    const keep: Pending[] = [];
    const lost: Pending[] = [];
    for (const pending of [...returned, ...this._buffer]) (this._fits(pending, keep) ? keep : lost).push(pending);
    this._buffer = keep;
    if (lost.length > 0) this._overflow(lost);
    if (this.state === "closed") return this._end(reason, details);
    if (wasOpen) this.emit("disconnect", reason, details);
    this._attempt++;
    if (this._attempt > this._retry.maxAttempts) {
      this.emit("reconnectFailed");
      this._stop();
      return this._end("reconnect failed", details);
    }
    this.state = "reconnecting";
    // a lost session id (server restart, another node behind the balancer) needs no backoff
    const sessionLost = details.error instanceof ServerError && details.error.code === 1;
    const delay = sessionLost ? 0 : backoffDelay(this._retry, this._attempt, this._env.random);
    this.emit("reconnecting", this._attempt, delay);
    const navigator = (this._env.window as { navigator?: { onLine?: boolean } } | undefined)?.navigator;
    if (navigator?.onLine === false) {
      // no timer while offline: the `online` event starts the next attempt
      return;
    }
    this._timer = this._env.setTimeout(() => {
      this._timer = undefined;
      this._open();
    }, delay);
  }

  private _retryNow() {
    if (this.state !== "reconnecting" || this.socket) return;
    this._env.clearTimeout(this._timer);
    this._timer = undefined;
    this._open();
  }

  /** Whether `pending` can join `into` within the buffer's bounds. */
  private _fits(pending: Pending, into: Pending[]): boolean {
    let bytes = pending.bytes;
    for (const kept of into) bytes += kept.bytes;
    return into.length < this._limits.maxMessages && bytes <= this._limits.maxBytes;
  }

  private _overflow(lost: Pending[]) {
    this.emit(
      "error",
      new BufferOverflowError(
        `${lost.length} message(s) did not fit in the reconnection buffer (${this._limits.maxMessages} messages, ${this._limits.maxBytes} bytes)`,
        lost.map((pending) => pending.data),
      ),
    );
  }

  private _stop() {
    this._env.clearTimeout(this._timer);
    this._timer = undefined;
    for (const event of wakeEvents) this._env.window?.removeEventListener?.(event, this._onWake);
  }

  private _end(reason: CloseReason | "reconnect failed", details: Partial<CloseDetails>) {
    this.state = "closed";
    const unsent = this._buffer.map((pending) => pending.data);
    this._buffer = [];
    this.emit("close", reason, { error: details.error, unsent });
  }
}
