/**
 * The session: handshake, heartbeat, the write and close. It talks to exactly one transport at
 * a time; the upgrade manager owns candidates until they are handed over. Resumption is a
 * piece it gets as a value (src/resume.ts), through `ResumeHost`: without it the session is a
 * stock engine.io client's. Its options, its send queue and the transport memory of
 * `rememberUpgrade` live in files of their own.
 */
import { Emitter, type Listener } from "./emitter.js";
import { type CometaError, HandshakeError, HeartbeatError, ProtocolError, refusedAsTooLarge, UpgradeError, UsageError } from "./errors.js";
import { explain, unavailable } from "./explain.js";
import { createHeartbeat, type Heartbeat } from "./heartbeat.js";
import { resolveSocketOptions, type SessionSettings, type SocketOptions } from "./options.js";
import { type MessageData, type OpenData, type Packet, parseOpenData, type ReceivedPacket } from "./protocol.js";
import type { ResumeHost, ResumeSession } from "./resume.js";
import { SendQueue } from "./send-queue.js";
import type { Trace } from "./trace.js";
import type { SessionInfo, Transport, TransportDefinition, TransportState } from "./transport.js";
import { type TransportMemory, transportMemory } from "./transport-memory.js";
import { startUpgrades, type Upgrader } from "./upgrade.js";
import { endpointKey, endpointUrl } from "./url.js";

/**
 * - `opening`: the handshake is under way; `open`: messages flow; `resuming`: the transport of a
 *   resumable session broke and the session is being reattached to another (`send` queues);
 *   `closing`: `close()` was called and what was queued is going out before the close packet;
 *   `closed`: final.
 */
export type SocketState = "opening" | "open" | "resuming" | "closing" | "closed";

/** The transport in use, read-only: what it is called and whether it can take a write now. */
export interface TransportInfo {
  /** e.g. `polling`, `websocket`, `sse`. */
  readonly name: string;
  readonly state: TransportState;
  /** False while a write is in flight. */
  readonly writable: boolean;
}

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
  /**
   * Messages not known to be delivered, in order, for the caller to resend: never handed to the
   * network or, on a resumable session, not acknowledged by the server.
   */
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
  /** Everything written so far was taken by the transport. */
  drain: [];
  /**
   * Something failed, typed. Not final by itself: `close` is. On a `Socket` every failure ends
   * the session, so `close` follows (with the same error in `details.error`).
   */
  error: [error: CometaError];
  /** Final, once. */
  close: [reason: CloseReason, details: CloseDetails];
  upgrading: [transport: string];
  upgrade: [transport: string];
  upgradeError: [error: UpgradeError];
  /** The transport of a resumable session broke (how: the error); no `close` while it resumes. */
  resuming: [error: CometaError];
  /** The session goes on over this transport; nothing written or received was lost. */
  resumed: [transport: string];
};

export type { SocketOptions } from "./options.js";

/**
 * An engine.io v4 session over only the transports it is given as values, so a bundler keeps
 * only those. `Socket` (from the package entry) is this with every transport, by name too.
 */
export class BareSocket {
  private readonly _events = new Emitter<SocketEvents>();
  private _transport: Transport;
  private _state: SocketState = "opening";
  private _handshake: OpenData | undefined;
  private readonly _settings: SessionSettings;
  /** Read only by the trace calls, each written `trace && trace(...)`: nothing is built when off. */
  private readonly _trace: Trace | undefined;
  private readonly _session: SessionInfo = { maxPayload: 1e6 };
  private readonly _queue: SendQueue;
  /** The queue is this session's alone: it empties at the end. */
  private readonly _ownQueue: boolean;
  private readonly _memory: TransportMemory;
  private _unsubscribe: (() => void)[] = [];
  private _heartbeat: Heartbeat | undefined;
  /** The upgrade under way. */
  private _switching: Upgrader = { cancel() {} };
  /** Set when the open packet granted resumption. */
  private _resume: ResumeSession | undefined;
  private _connectTimer: unknown;
  private _closeTimer: unknown;
  private _remembered: string | undefined;
  /** The transport the handshake came on. */
  private _openedOn = "";
  /** `close()` was called and its close packet is not written yet. */
  private _closeWaits = false;
  /** The server sent its close packet; the session ends once the in-flight write settles. */
  private _serverClosed = false;

  /**
   * @param registry the transports `options.transports` may name, and the default when it is
   * absent (`Socket` passes every transport; with `BareSocket` alone, pass values).
   * @param queue a send queue that outlives this session (a ReconnectingSocket's); by default
   * the session has its own, unbounded.
   */
  constructor(uri?: string, options: SocketOptions = {}, registry: readonly TransportDefinition[] = [], queue?: SendQueue) {
    const settings = (this._settings = resolveSocketOptions(uri, options, registry));
    const trace = (this._trace = settings.trace);
    this._memory = transportMemory(settings.env.storage, endpointKey(settings.endpoint));
    this._ownQueue = !queue;
    this._queue = queue || new SendQueue();
    this._queue.flush = () => this._flush();

    const first = this._firstTransport();
    trace && trace("session", `opening on ${first.name}`, { transport: first.name, remembered: !!this._remembered });
    this._transport = this._create(first);
    this._connectTimer = settings.env.setTimeout(
      () =>
        this._fail(
          new HandshakeError(
            `no handshake within ${settings.connectTimeout} ms: is the server up, and serving engine.io at \`path\` ${settings.endpoint.path}?`,
          ),
          "transport error",
        ),
      settings.connectTimeout,
    );
    this._use(this._transport);
    this._transport.open();
  }

  get state(): SocketState {
    return this._state;
  }

  /** The transport in use. */
  get transport(): TransportInfo {
    return this._transport;
  }

  /** The session id, once the handshake is done. */
  get id(): string | undefined {
    return this._handshake && this._handshake.sid;
  }

  /** The open packet's data, once the handshake is done. */
  get handshake(): OpenData | undefined {
    return this._handshake;
  }

  /** Whether the server granted resumption in the handshake (cometa/server does, stock servers do not). */
  get resumable(): boolean {
    return !!this._resume;
  }

  /** Subscribes; returns the function that unsubscribes. */
  on<E extends keyof SocketEvents>(event: E, listener: Listener<SocketEvents[E]>): () => void {
    return this._events.on(event, listener);
  }

  once<E extends keyof SocketEvents>(event: E, listener: Listener<SocketEvents[E]>): () => void {
    return this._events.once(event, listener);
  }

  /** Removes one listener, every listener of an event, or every listener. */
  off<E extends keyof SocketEvents>(event?: E, listener?: Listener<SocketEvents[E]>): this {
    this._events.off(event, listener);
    return this;
  }

  /**
   * Queues a message. `callback` runs once the server acknowledged it on a resumable session,
   * otherwise once the transport took it (an HTTP write answered; on WebSocket, taken with at
   * most 64 KiB left unsent).
   */
  send(data: MessageData, callback?: () => void): this {
    if (this._state === "closing" || this._state === "closed") {
      throw new UsageError(`cannot send on a ${this._state} socket`);
    }
    this._queue.add(data, callback);
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
    const expired = this._state === "open" && this._heartbeat!.expired();
    if (expired) this._pingTimedOut();
    return expired;
  }

  /** Sends what is queued, then a close packet, then closes. */
  close(): this {
    if (this._state === "closing" || this._state === "closed") return this;
    if (this._state === "opening" || this._state === "resuming") {
      this._finish("forced close");
      return this;
    }
    this._state = "closing";
    this._switching.cancel();
    // bounded, so a server that stopped answering cannot hold the close forever
    this._closeTimer = this._settings.env.setTimeout(
      () => this._finish("forced close"),
      this._settings.transport.requestTimeout || 10000,
    );
    this._closeWaits = true;
    this._flush();
    return this;
  }

  private _firstTransport(): TransportDefinition {
    const { definitions, env, rememberUpgrade } = this._settings;
    const supported = definitions.filter((definition) => definition.supported(env));
    if (supported.length === 0) {
      throw new UsageError(`none of the transports [${definitions.map((d) => d.name)}] works in this environment`);
    }
    if (rememberUpgrade) {
      const name = this._memory.recall();
      const remembered = supported.find((definition) => definition.name === name);
      if (remembered) {
        this._remembered = remembered.name;
        return remembered;
      }
    }
    return supported[0]!;
  }

  private _create(definition: TransportDefinition): Transport {
    const { env, endpoint, transport, resumption } = this._settings;
    const session = this._session;
    let created: Transport | undefined;
    return (created = definition.create({
      env,
      session,
      options: transport,
      url: (scheme, name, extra, receives) => {
        const sid = session.sid;
        const resume = this._resume;
        return endpointUrl(endpoint, scheme, {
          ...extra,
          transport: name,
          sid,
          // the handshake offers resumption; an upgrade candidate's GETs say nothing of it
          ...(resume ? resume.query(!!receives && created === this._transport) : !sid && resumption && resumption.query),
        });
      },
      trace: this._trace,
    }));
  }

  private _use(transport: Transport) {
    const trace = this._trace;
    for (const off of this._unsubscribe) off();
    this._transport = transport;
    this._unsubscribe = [
      transport.on("open", () => trace && trace("transport", "open", { transport: transport.name })),
      transport.on("packet", (packet) => this._onPacket(packet)),
      transport.on("drain", () => this._onDrain()),
      transport.on("error", (error) => this._onTransportError(error)),
      transport.on("close", () => {
        trace && trace("transport", "closed", { transport: transport.name });
        this._fail(undefined, "transport close");
      }),
    ];
  }

  /** Stops the heartbeat and the upgrade under way, stops listening to the transport in use and closes it. */
  private _halt() {
    if (this._heartbeat) this._heartbeat.stop();
    this._switching.cancel();
    for (const off of this._unsubscribe) off();
    this._unsubscribe = [];
    this._transport.close();
  }

  private _onTransportError(error: CometaError) {
    const trace = this._trace;
    const name = this._transport.name;
    trace && trace("transport", `${name} failed: ${error.message}`, { transport: name, error });
    // the server closed the session: a write still in flight is refused (Session ID unknown),
    // which ends it as the close packet said; what it carried goes back in `unsent`
    if (this._serverClosed) return this._finish("transport close");
    if (this._state === "opening" && this._remembered) {
      // the remembered transport no longer works here: forget it and start the usual way
      this._memory.forget();
      this._remembered = undefined;
      const old = this._transport;
      // memory is cleared, so this is the first supported transport again
      this._use(this._create(this._firstTransport()));
      trace && trace("session", `remembered ${name} failed: opening on ${this._transport.name}`, { transport: this._transport.name });
      old.close();
      this._transport.open();
      return;
    }
    // a message the server refuses as too large would be refused again by every session that
    // sends it: it leaves the queue with this session, in its close event's `unsent`
    if (refusedAsTooLarge(error)) this._queue.refuseTooLarge(this._session.maxPayload);
    const reason = error instanceof ProtocolError ? "parse error" : "transport error";
    this._fail(error, reason);
  }

  private _onPacket(packet: ReceivedPacket) {
    const resume = this._resume;
    if (this._state === "closed") return;
    // a message the server sends again after a switch of transport, already delivered
    if (resume && packet.type === "message" && !resume.receive(packet.data)) return;
    const events = this._events;
    events.emit("packet", packet);
    switch (packet.type) {
      case "open":
        return this._onOpen(packet.data);
      case "ping":
        if (this._heartbeat) this._heartbeat.beat();
        events.emit("ping");
        this._write({ type: "pong" });
        return;
      case "message":
        if (this._state === "opening") return this._fail(new HandshakeError("message before the open packet"), "parse error");
        events.emit("message", packet.data || "");
        return;
      case "close":
        // the server ends the session. A message still in flight may have reached it: wait for
        // its answer (the transport ends right after), so `unsent` holds only what surely did not
        if (!this._queue.busy) return this._finish("transport close");
        this._serverClosed = true;
        return;
      case "noop":
        return resume && resume.control(packet.data);
      default:
        // pong/upgrade, which a server does not send on a current transport
        return;
    }
  }

  private _onOpen(data: unknown) {
    if (this._state !== "opening") return this._fail(new ProtocolError("a second open packet"), "parse error");
    let open: OpenData;
    try {
      open = parseOpenData(data);
    } catch (error) {
      return this._fail(error as CometaError, "parse error");
    }
    const { env, resumption } = this._settings;
    const trace = this._trace;
    env.clearTimeout(this._connectTimer);
    this._handshake = open;
    this._openedOn = this._transport.name;
    this._session.sid = open.sid;
    this._session.maxPayload = open.maxPayload;
    this._state = "open";
    trace && trace("session", `handshake on ${this._transport.name}`, open as unknown as Record<string, unknown>);
    this._heartbeat = createHeartbeat(env, open.pingInterval + open.pingTimeout, () => this._pingTimedOut());
    this._heartbeat.beat();
    if (resumption) this._resume = resumption.start(this._host(), open);
    this._events.emit("handshake", open);
    this._events.emit("open");
    this._ready();
  }

  /**
   * Messages flow on the transport in use: what waits goes out, and better transports are
   * probed. `resumed`: again after a break, when what the environment lacks was already said.
   */
  private _ready(resumed?: boolean) {
    this._flush();
    // resumed: the server also serves the transport the session opened on (a session opened on
    // WebSocket was offered no upgrade, and may go back to it from long-polling)
    const upgrades = this._handshake!.upgrades;
    if (this._state === "open" && this._settings.upgrade && this._transport.pause) {
      this._startUpgrades(resumed ? upgrades.concat(this._openedOn) : upgrades, resumed);
    }
  }

  private _pingTimedOut() {
    const { pingInterval, pingTimeout } = this._handshake!;
    const message = `no ping within ${pingInterval + pingTimeout} ms`;
    const trace = this._trace;
    trace && trace("heartbeat", message, { pingInterval, pingTimeout });
    this._fail(new HeartbeatError(message), "ping timeout");
  }

  private _startUpgrades(advertised: readonly string[], resumed?: boolean) {
    const { definitions, env, probeTimeout, rememberUpgrade } = this._settings;
    const events = this._events;
    const resume = this._resume;
    const current = this._transport.name;
    const candidates = definitions.filter(
      (definition) =>
        definition.name !== current && advertised.includes(definition.name) && (!resume || resume.usable(definition.name)) && definition.supported(env),
    );
    // said once per session: the best transport on offer lacks a global the app can supply
    const best = definitions.find((definition) => definition.name !== current && advertised.includes(definition.name));
    const hint = best && !best.supported(env) ? unavailable(best.name) : undefined;
    if (hint && !resumed) events.emit("upgradeError", new UpgradeError(hint, best!.name));
    if (candidates.length === 0) return;
    this._switching = startUpgrades(
      {
        env,
        probeTimeout,
        trace: this._trace,
        current: () => this._transport,
        create: (definition) => this._create(definition),
        upgrading: (name) => events.emit("upgrading", name),
        before: resume && resume.before,
        failed: (error) => {
          events.emit("upgradeError", this._explain(error) as UpgradeError);
          // the current transport resumed: what was written during the attempt goes out now
          this._flush();
        },
        upgraded: (candidate, early) => {
          const old = this._transport;
          this._use(candidate);
          old.close();
          if (rememberUpgrade) this._memory.remember(candidate.name);
          events.emit("upgrade", candidate.name);
          for (const packet of early) this._onPacket(packet);
          this._flush();
        },
      },
      candidates,
    );
  }

  private _write(packet: Packet) {
    this._queue.control(packet);
    this._flush();
  }

  private _flush() {
    const transport = this._transport;
    const state = this._state;
    const resume = this._resume;
    const queue = this._queue;
    // closing: the close packet follows what is queued. Where a write's end says nothing of
    // delivery (WebSocket, JSONP), a resumable session first waits for the server's
    // acknowledgements, which cannot come after the close packet, so `unsent` is only what the
    // server did not get (the close timer bounds the wait)
    if (
      this._closeWaits &&
      (!resume || transport.confirmsDelivery || (resume.settled() && queue.waiting === 0 && !queue.busy))
    ) {
      this._closeWaits = false;
      queue.control({ type: "close" });
    }
    // resuming: the transport in use is closed, and a write waits for the next
    if (state === "opening" || state === "closed" || this._serverClosed) return;
    if (transport.state !== "open" || !transport.writable) return;
    let packets: Packet[];
    try {
      packets = resume ? resume.take() : this._queue.take();
    } catch (error) {
      return this._fail(error as CometaError, "transport error");
    }
    if (packets.length > 0) transport.send(packets);
  }

  private _onDrain() {
    const sent = this._queue.sent();
    if (this._state === "closing" && sent.some((packet) => packet.type === "close")) {
      return this._finish("forced close");
    }
    if (this._serverClosed) return this._finish("transport close");
    if (this._queue.waiting === 0) this._events.emit("drain");
    this._flush();
  }

  private _fail(error: CometaError | undefined, reason: CloseReason) {
    const resume = this._resume;
    if (this._state === "closed") return;
    if (this._state === "closing" && reason === "transport close") return this._finish("forced close");
    if (this._state === "open" && resume && !this._serverClosed && resume.broke(error, reason)) return;
    if (error) this._events.emit("error", this._explain(error));
    this._finish(reason, error);
  }

  /** What resumption may use of the session, and the two moves of its state it asks for. */
  private _host(): ResumeHost {
    return {
      settings: this._settings,
      queue: this._queue,
      memory: this._memory,
      transport: () => this._transport,
      create: (definition) => this._create(definition),
      fail: (error, reason) => this._fail(error, reason),
      detach: (cause) => {
        // a send callback run by the cut write's acknowledgement may have closed the session
        if (this._state !== "open") return false;
        this._state = "resuming";
        this._halt();
        this._events.emit("resuming", cause);
        return this._state === "resuming";
      },
      attach: (transport) => {
        this._use(transport);
        this._state = "open";
        this._heartbeat!.beat();
        this._events.emit("resumed", transport.name);
        this._ready(true);
      },
    };
  }

  /** The error with the endpoint, its first useful cause and, for usual mistakes, what to do. */
  private _explain(error: CometaError): CometaError {
    const { endpoint } = this._settings;
    return explain(error, endpointKey(endpoint), endpoint.path, this._state === "opening");
  }

  private _finish(reason: CloseReason, error?: CometaError) {
    if (this._state === "closed") return;
    this._state = "closed";
    const { env } = this._settings;
    const trace = this._trace;
    env.clearTimeout(this._connectTimer);
    env.clearTimeout(this._closeTimer);
    if (this._resume) this._resume.stop();
    this._halt();
    // a queue shared with the next session keeps its messages for it
    const unsent = this._ownQueue ? this._queue.clear() : this._queue.release();
    this._queue.flush = () => {};
    trace && trace("session", `closed: ${reason}`, { reason, error, unsent: unsent.length });
    this._events.emit("close", reason, { error, unsent });
  }
}

/** @deprecated renamed `BareSocket` (the socket with no transport of its own, not a base class). */
export const BaseSocket = BareSocket;
/** @deprecated renamed `BareSocket`. */
export type BaseSocket = BareSocket;
