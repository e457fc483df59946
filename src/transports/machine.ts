/**
 * The one owner of a transport's state and `writable`. A transport is a downstream part (polls,
 * a stream, WebSocket frames) and an upstream part (POSTs, form POSTs, WebSocket sends), as ws
 * splits its receiver from its sender: the parts do the I/O and report what happened, and only
 * this machine moves the state, emits the events, and decides what the parts do next.
 */
import { Emitter } from "../emitter.js";
import { type CometaError, ServerError } from "../errors.js";
import type { Packet, ReceivedPacket } from "../protocol.js";
import type { Transport, TransportContext, TransportEvents, TransportState } from "../transport.js";

interface Part {
  /** A request in flight (or a poll waiting for its timer): pausing waits until it is not. */
  readonly busy?: boolean;
  /** Cancels whatever is in flight; the part reports nothing after this. */
  stop(): void;
}

export interface Downstream extends Part {
  /**
   * Receives: the next poll (after the transport's poll delay; `now`: at once, as on open and
   * resume), the first or a reopened stream.
   */
  next(now?: boolean): void;
  /** Pausing: drops a poll waiting for its timer (not in flight, so nothing to wait for). */
  hold?(): void;
}

export interface Upstream extends Part {
  /** Sends packets in order; reports `sent` once all are on the network, or `failed`. */
  send(packets: readonly Packet[]): void;
  /** `sent` comes with the server's answer, after it handled the packets: the transport's `confirmsDelivery`. */
  readonly _confirms?: boolean;
}

/** What the parts report to the machine; nothing else changes the transport's state. */
export interface Report {
  readonly state: TransportState;
  /** The connection is up (headers arrived, a first answer, the socket opened). */
  opened(): void;
  packet(packet: ReceivedPacket): void;
  /** The server's close packet came down: nothing more will; end once the upstream is idle. */
  serverClosed(): void;
  /**
   * The downstream has nothing in flight: a poll was answered and its packets delivered, or a
   * stream ended (recycled or cut). Polls again or reopens, unless pausing or closing.
   */
  idle(): void;
  /** Everything of the last `send` is on the network. */
  sent(): void;
  /** The end: a failure with its error, or a connection that closed (a WebSocket after opening). */
  end(error?: CometaError): void;
}

export interface Parts {
  down: Downstream;
  up: Upstream;
  /** Writable before it opens: the server takes a POST at any time (HTTP transports). */
  writable?: boolean;
  /** Can pause for an upgrade (polling transports). */
  _pausable?: boolean;
}

/** Milliseconds a transport whose session is gone waits for the close packet on its open response. */
const goneWait = 1000;

export function createTransport(name: string, context: TransportContext, build: (report: Report) => Parts): Transport {
  const events = new Emitter<TransportEvents>();
  const { env, trace } = context;
  /**
   * Emits to the socket, and through it to the application's listeners. A listener that throws
   * is the application's error, not the transport's: it must not end the transport nor cut short
   * the payload or stream being read, nor the next poll. As a browser does for an event listener,
   * it is reported as uncaught (rethrown on a timer of its own, where window.onerror or Node's
   * uncaughtException sees it) and delivery goes on.
   */
  const emit: typeof events.emit = (event, ...args) => {
    try {
      events.emit(event, ...args);
    } catch (error) {
      env.setTimeout(() => {
        throw error;
      }, 0);
    }
  };
  let state: TransportState = "opening";
  let writable = false;
  /** A close packet went up or came down: the session is ending, start no new request. */
  let closing = false;
  let serverClosed = false;
  let resolvePause: (() => void) | undefined;
  /**
   * A write was refused because the session is gone on the server ("Session ID unknown") while
   * a poll or stream is still open: the server's close packet may be on its way down on it, and
   * a browser may deliver the refusal first. The close packet makes it the close the server
   * made; the response ending without one, this refusal.
   */
  let gone: CometaError | undefined;
  let goneTimer: unknown;

  /** Moves to `closed` once; released before listeners run, so one that reopens finds nothing held. */
  const end = (error?: CometaError) => {
    if (state === "closed") return;
    state = "closed";
    env.clearTimeout(goneTimer);
    writable = false;
    resolvePause = undefined;
    down.stop();
    up.stop();
    if (error) {
      // a request timeout, a refusal, a cut: the reason is the error's message
      trace && trace("transport", "failed", { transport: name, reason: error.message });
      emit("error", error);
    }
    emit("close");
  };

  const checkPaused = () => {
    if (state !== "pausing" || down.busy || up.busy) return;
    state = "paused";
    trace && trace("upgrade", "paused", { transport: name });
    const resolve = resolvePause;
    resolvePause = undefined;
    if (resolve) resolve();
  };

  const opened = () => {
    if (state !== "opening") return;
    state = "open";
    if (!up.busy) writable = true;
    emit("open");
  };

  const report: Report = {
    get state() {
      return state;
    },
    opened,
    packet(packet) {
      if (state === "closed") return;
      opened();
      emit("packet", packet);
    },
    serverClosed() {
      closing = serverClosed = true;
      // a POST still on its way may have reached the server: end once it is answered, so the
      // messages it carries are known to have arrived (or known not to have)
      if (!up.busy) end();
    },
    idle() {
      if (state === "closed") return;
      if (gone) return end(gone);
      // the session is ending: a new request would only meet a 400. Once the upstream is idle
      // too (the close packet's POST answered) nothing is left to wait for
      if (closing) up.busy || end();
      else if (state === "pausing" || state === "paused") checkPaused();
      else down.next();
    },
    sent() {
      if (state === "closed") return;
      writable = true;
      emit("drain");
      if (serverClosed) end();
      else checkPaused();
    },
    // After the server's close packet a refused request is the session ending, not a failure.
    // After ours, so is a poll that reached the server behind the close packet's POST (a 400
    // for a session that just ended): the close finishes when that POST is answered.
    end(error) {
      if (serverClosed || (closing && error && !up.busy)) return end();
      if (closing && error) return down.stop();
      // a downstream failing reports with nothing in flight, so an open one means the write's
      if (error instanceof ServerError && error.code === 1 && down.busy && !gone) {
        gone = error;
        up.stop();
        // a response held by a server that never knew the session (a request routed to another
        // process) is not waited for long
        goneTimer = env.setTimeout(() => end(error), goneWait);
        return;
      }
      end(error);
    },
  };

  const { down, up, writable: early, _pausable: pausable } = build(report);
  writable = Boolean(early);

  const transport: Transport = {
    name,
    confirmsDelivery: !!up._confirms,
    get state() {
      return state;
    },
    get writable() {
      return writable;
    },
    on: events.on.bind(events),
    once: events.once.bind(events),
    off: events.off.bind(events),
    open() {
      if (state !== "closed") down.next(true);
    },
    send(packets) {
      if (state === "closed") return;
      writable = false;
      if (packets.some((packet) => packet.type === "close")) closing = true;
      up.send(packets);
    },
    close: () => end(),
  };
  if (pausable) {
    transport.pause = () =>
      new Promise<void>((resolve) => {
        if (state === "closed") return resolve();
        state = "pausing";
        resolvePause = resolve;
        trace && trace("upgrade", "pausing", { transport: name, get: down.busy, post: up.busy });
        if (down.hold) down.hold();
        checkPaused();
      });
    transport.resume = () => {
      if (state !== "pausing" && state !== "paused") return;
      state = "open";
      resolvePause = undefined;
      trace && trace("upgrade", "resumed", { transport: name });
      if (!down.busy) down.next(true);
    };
  }
  return transport;
}
