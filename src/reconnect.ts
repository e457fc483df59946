/**
 * Reconnection: a socket that outlives its sessions. When one dies (server restart, network
 * cut, heartbeat missed), it opens another after an exponential backoff with jitter, sooner
 * when the browser says it is back online, and sends what was written meanwhile, in order.
 */
import { Emitter, type Listener } from "./emitter.js";
import { type Environment, resolveEnvironment } from "./env.js";
import { BufferOverflowError, type CometaError, ResumeError, ServerError, type UpgradeError, UsageError } from "./errors.js";
import {
  type BufferOptions,
  type ReconnectingSocketOptions,
  type ReconnectOptions,
  resolveReconnectOptions,
  type SocketOptions,
} from "./options.js";
import type { MessageData } from "./protocol.js";
import { BoundedSendQueue, type SendQueue } from "./send-queue.js";
import { BareSocket, type CloseDetails, type CloseReason, type SocketEvents, type SocketState, type TransportInfo } from "./socket.js";
import type { Trace } from "./trace.js";
import type { TransportDefinition } from "./transport.js";
import { volatileStorage } from "./transport-memory.js";

export type { BufferOptions, ReconnectingSocketOptions, ReconnectOptions } from "./options.js";

/**
 * `Socket`'s states, meaning the same, and `reconnecting`: a session was lost and the next is
 * awaited (its delay, or the `online` event) or opening. `opening` is only the first session's
 * handshake; `closing`: `close()` was called and the session is sending what was queued.
 */
export type ReconnectingSocketState = SocketState | "reconnecting";

export type ReconnectingSocketEvents = {
  /** A session opened (the first, or one after a reconnection). */
  open: [];
  message: [data: string | ArrayBuffer | Blob];
  upgrading: [transport: string];
  upgrade: [transport: string];
  upgradeError: [error: UpgradeError];
  /** The session's transport broke and the session is being reattached: no `disconnect` meanwhile. */
  resuming: [error: CometaError];
  /** The session goes on over this transport, nothing lost. */
  resumed: [transport: string];
  /**
   * Something failed, typed: as on `Socket`, not final by itself (`close` is). A session's
   * failure is followed by `disconnect` (if it was open) and a retry; a BufferOverflowError
   * (a message that did not fit in `buffer`) ends nothing.
   */
  error: [error: CometaError];
  /**
   * An open session was lost; a reconnection follows unless `close()` was called.
   * `details.unsent`: messages that can never be sent (a Blob that could not be read, a message
   * the server refused as too large), taken out of the queue and not sent again; what else was
   * written is kept for the next session.
   */
  disconnect: [reason: CloseReason, details: CloseDetails];
  reconnecting: [attempt: number, delay: number];
  /** A session opened again after `attempt` attempts. */
  reconnect: [attempt: number];
  reconnectFailed: [];
  /** Final, once. `details.unsent`: messages not known to be delivered, in order. */
  close: [reason: CloseReason | "reconnect failed", details: CloseDetails];
};

/** What a ReconnectingSocket needs of a session; `BareSocket` is one, tests pass fakes. */
export interface Session {
  readonly state: SocketState;
  readonly transport: TransportInfo;
  on<E extends keyof SocketEvents>(event: E, listener: Listener<SocketEvents[E]>): () => void;
  close(): unknown;
  hasPingExpired(): boolean;
}

/**
 * Makes each session: with the socket's options (its `env` carries the transport memory the
 * sessions share) and the send queue they all send from.
 */
export type SessionFactory<S extends Session> = (options: SocketOptions, queue: SendQueue) => S;

/** Session events a ReconnectingSocket passes on as they are. */
const forwarded = ["message", "upgrading", "upgrade", "upgradeError", "error", "resuming", "resumed"] as const;

/** Window events after which the heartbeat is checked against the clock and a retry is due. */
const wakeEvents = ["online", "focus", "pageshow"];

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
 * A socket that reconnects, over only the transports it is given as values.
 * `ReconnectingSocket` (from the package entry) is this with every transport, by name too.
 */
export class BareReconnectingSocket<S extends Session = BareSocket> {
  private readonly _events = new Emitter<ReconnectingSocketEvents>();
  private _state: ReconnectingSocketState = "opening";
  private _socket: S | undefined;
  private readonly _env: Environment;
  private readonly _retry: Required<ReconnectOptions>;
  private readonly _limits: Required<BufferOptions>;
  private readonly _socketOptions: SocketOptions;
  private readonly _trace: Trace | undefined;
  private readonly _createSession: SessionFactory<S>;
  /** What is written and not yet on the network, across sessions: each session sends from it. */
  private readonly _queue: BoundedSendQueue;
  private _attempt = 0;
  private _everOpened = false;
  private _timer: unknown;
  private _unsubscribe: (() => void)[] = [];
  /** The page woke up or came back online: timers may have been throttled meanwhile. */
  private readonly _onWake = (event: Event) => {
    const socket = this._socket;
    const trace = this._trace;
    // the heartbeat is checked, and a retry that waits goes now
    trace && trace("reconnect", "woke up", { event: event.type });
    if (socket) socket.hasPingExpired();
    this._retryNow();
  };

  /**
   * @param registry the transports `options.transports` may name, and the default when it is absent.
   * @param createSession how each session is made; by default a `BareSocket`.
   */
  constructor(uri?: string, options: ReconnectingSocketOptions = {}, registry: readonly TransportDefinition[] = [], createSession?: SessionFactory<S>) {
    const { retry, limits } = resolveReconnectOptions(options);
    this._retry = retry;
    this._limits = limits;
    this._queue = new BoundedSendQueue(limits);
    this._trace = options.trace;
    const { reconnect, buffer, ...socketOptions } = options;
    const env = resolveEnvironment(options.env);
    // sessions share one memory of the transport that worked, even where there is no sessionStorage
    this._env = { ...env, storage: env.storage || volatileStorage() };
    this._socketOptions = { ...socketOptions, env: this._env };
    this._createSession =
      createSession || (((sessionOptions, queue) => new BareSocket(uri, sessionOptions, registry, queue)) as SessionFactory<BareSocket> as unknown as SessionFactory<S>);
    this._listenWake(true);
    // the first session is made here, so a bad URL or option throws to the caller
    this._open();
  }

  get state(): ReconnectingSocketState {
    return this._state;
  }

  /** The current session, if one is open or opening. */
  get socket(): S | undefined {
    return this._socket;
  }

  /** The current session's transport; undefined between sessions. */
  get transport(): TransportInfo | undefined {
    return this._socket && this._socket.transport;
  }

  /** Subscribes; returns the function that unsubscribes. */
  on<E extends keyof ReconnectingSocketEvents>(event: E, listener: Listener<ReconnectingSocketEvents[E]>): () => void {
    return this._events.on(event, listener);
  }

  once<E extends keyof ReconnectingSocketEvents>(event: E, listener: Listener<ReconnectingSocketEvents[E]>): () => void {
    return this._events.once(event, listener);
  }

  /** Removes one listener, every listener of an event, or every listener. */
  off<E extends keyof ReconnectingSocketEvents>(event?: E, listener?: Listener<ReconnectingSocketEvents[E]>): this {
    this._events.off(event, listener);
    return this;
  }

  /**
   * Sends now if a session is open, otherwise keeps the message (within the buffer's bounds)
   * for the next session. `callback` runs once the transport took it (on a resumable
   * session: once the server acknowledged it).
   */
  send(data: MessageData, callback?: () => void): this {
    const socket = this._socket;
    if (this._state === "closing" || this._state === "closed") throw new UsageError(`cannot send on a ${this._state} socket`);
    const queue = this._queue;
    const bytes = queue.measure(data);
    if (!queue.fits(bytes)) {
      const { maxMessages, maxBytes } = this._limits;
      this._events.emit(
        "error",
        new BufferOverflowError(`a message did not fit in the send buffer (${maxMessages} messages, ${maxBytes} bytes)`, [data]),
      );
      return this;
    }
    queue.add(data, callback, bytes);
    // a session that is open sends it now; the heartbeat is checked first, as a throttled timer
    // may hide a dead link (the session then closes and the message waits for the next one)
    if (socket && !socket.hasPingExpired()) queue.flush();
    return this;
  }

  /** Final: closes the session (after it sent what was queued) and stops reconnecting. */
  close(): this {
    const socket = this._socket;
    if (this._state === "closing" || this._state === "closed") return this;
    this._stop();
    if (socket && socket.state !== "closed") {
      // its close event arrives through _onClose, which sees "closing" and ends here
      this._state = "closing";
      socket.close();
    } else this._end("forced close");
    return this;
  }

  private _open() {
    this._state = this._everOpened || this._attempt > 0 ? "reconnecting" : "opening";
    const socket = (this._socket = this._createSession(this._socketOptions, this._queue));
    const events = this._events as unknown as Emitter<Record<string, unknown[]>>;
    this._unsubscribe = [
      socket.on("open", () => this._onOpen()),
      socket.on("close", (reason, details) => this._onClose(reason, details)),
      socket.on("resuming", () => (this._state = "resuming")),
      socket.on("resumed", () => (this._state = "open")),
      ...forwarded.map((event) => socket.on(event, (...args: unknown[]) => events.emit(event, ...args))),
    ];
  }

  private _onOpen() {
    const attempts = this._attempt;
    this._attempt = 0;
    this._state = "open";
    if (this._everOpened) this._events.emit("reconnect", attempts);
    this._everOpened = true;
    this._events.emit("open");
  }

  private _onClose(reason: CloseReason, details: CloseDetails) {
    const trace = this._trace;
    const events = this._events;
    const retry = this._retry;
    for (const off of this._unsubscribe) off();
    this._unsubscribe = [];
    const wasOpen = this._state === "open" || this._state === "resuming";
    this._socket = undefined;
    // what the lost session did not deliver is still in the queue, in order, but
    // for what can never be sent (`details.unsent`): that went back to the application with
    // `disconnect`, or goes in the final `close`
    if (this._state === "closing") return this._end(reason, details.error, details.unsent);
    if (wasOpen) events.emit("disconnect", reason, details);
    const attempt = ++this._attempt;
    if (attempt > retry.maxAttempts) {
      trace && trace("reconnect", "gave up", { attempts: retry.maxAttempts, reason });
      events.emit("reconnectFailed");
      this._stop();
      return this._end("reconnect failed", details.error, wasOpen ? [] : details.unsent);
    }
    this._state = "reconnecting";
    // a lost session id (server restart, another node behind the balancer), or a session that
    // could not resume (it already waited out its window, or the server no longer has it),
    // needs no backoff
    const error = details.error;
    const sessionLost = (error instanceof ServerError && error.code === 1) || error instanceof ResumeError;
    const delay = sessionLost ? 0 : backoffDelay(retry, attempt, this._env.random);
    const window = this._env.window as { navigator?: { onLine?: boolean } } | undefined;
    const offline = !!window && !!window.navigator && window.navigator.onLine === false;
    trace &&
      trace("reconnect", sessionLost ? "session ID unknown: at once" : offline ? "offline: waiting" : "retrying", {
        reason,
        error,
        attempt,
        delay,
        offline,
      });
    events.emit("reconnecting", attempt, delay);
    // no timer while offline: the `online` event starts the next attempt
    if (offline) return;
    this._timer = this._env.setTimeout(() => {
      this._timer = undefined;
      this._open();
    }, delay);
  }

  private _retryNow() {
    if (this._state !== "reconnecting" || this._socket) return;
    this._env.clearTimeout(this._timer);
    this._timer = undefined;
    this._open();
  }

  private _listenWake(on: boolean) {
    const window = this._env.window;
    if (window && window.addEventListener) {
      for (const event of wakeEvents) {
        if (on) window.addEventListener(event, this._onWake);
        else window.removeEventListener(event, this._onWake);
      }
    }
  }

  private _stop() {
    this._env.clearTimeout(this._timer);
    this._timer = undefined;
    this._listenWake(false);
  }

  private _end(reason: CloseReason | "reconnect failed", error?: CometaError, refused: MessageData[] = []) {
    this._state = "closed";
    this._events.emit("close", reason, { error, unsent: [...refused, ...this._queue.clear()] });
  }
}

/** @deprecated renamed `BareReconnectingSocket`. */
export const BaseReconnectingSocket = BareReconnectingSocket;
/** @deprecated renamed `BareReconnectingSocket`. */
export type BaseReconnectingSocket<S extends Session = BareSocket> = BareReconnectingSocket<S>;
