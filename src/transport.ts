/**
 * THE transport interface. An adapter moves engine.io packets one way and the other and knows
 * nothing of the socket: the socket gives it a context and listens to its events.
 */
import type { Emitter, Listener } from "./emitter.js";
import type { Environment } from "./env.js";
import type { CometaError } from "./errors.js";
import type { BinaryType, Packet, ReceivedPacket } from "./protocol.js";
import type { Trace } from "./trace.js";

/**
 * - `opening`: connecting; `open`: moving packets; `pausing`/`paused`: an HTTP transport
 *   finishing its in-flight requests before an upgrade; `closed`: final.
 */
export type TransportState = "opening" | "open" | "pausing" | "paused" | "closed";

export type TransportEvents = {
  /** The transport can carry packets (for a handshake: the request went out). */
  open: [];
  packet: [packet: ReceivedPacket];
  /** Everything handed to `send` reached the network; `writable` is true again. */
  drain: [];
  /** A failure; `close` follows. */
  error: [error: CometaError];
  /** Final; emitted once, whether asked for or not. */
  close: [];
};

/** What a session knows that its transports need; the socket updates it after the handshake. */
export interface SessionInfo {
  sid?: string;
  /** Largest upstream payload in bytes the server accepts. */
  maxPayload: number;
}

export interface TransportOptions {
  withCredentials: boolean;
  extraHeaders: Record<string, string>;
  binaryType: BinaryType;
  /** Milliseconds an HTTP request may take before it counts as failed (0: no limit). */
  requestTimeout: number;
  /** Milliseconds between short polls. */
  pollInterval: number;
  /** Append a cache-busting parameter to every HTTP request. */
  timestampRequests: boolean;
  /**
   * The most the server may send in one piece (a polling response, a stream line or event, a
   * frame): more is an IncomingTooLargeError and a close. Bytes, or characters for text
   * received already decoded.
   */
  maxIncomingBytes: number;
}

export interface TransportContext {
  env: Environment;
  /**
   * The engine.io URL for this transport, `sid` included once known, plus `extra` parameters.
   * `receives`: the URL of a GET that opens a downstream response (a poll, a JSONP script, a
   * stream's open or reopen), which on a resumable session carries the count of the server's
   * messages received so far (docs/wire.md, "Resumable sessions").
   */
  url(scheme: "http" | "ws", transport: string, extra?: Record<string, string>, receives?: boolean): string;
  session: SessionInfo;
  options: TransportOptions;
  /** Why a transport did what it did (a gateway re-poll, a pause, a stream reopened); unset: silent. */
  trace?: Trace;
}

export interface Transport extends Pick<Emitter<TransportEvents>, "on" | "once"> {
  /** Removes one listener, every listener of an event, or every listener. */
  off<E extends keyof TransportEvents>(event?: E, listener?: Listener<TransportEvents[E]>): void;
  /** The adapter's name, e.g. `polling`, `websocket`, `sse`. */
  readonly name: string;
  readonly state: TransportState;
  /** True when `send` may be called: nothing of an earlier `send` is still in flight. */
  readonly writable: boolean;
  /**
   * True when `drain` means the server took the write (an HTTP upstream: its answer comes after
   * the server handled the packets); false or absent when it means only that the write left
   * (WebSocket), so a resumable session waits for the server's acknowledgement.
   */
  readonly confirmsDelivery?: boolean;
  open(): void;
  /** Sends packets in order; `drain` follows once they are on the network. */
  send(packets: readonly Packet[]): void;
  /** Closes at once, aborting whatever is in flight; emits `close`. */
  close(): void;
  /**
   * HTTP transports that can be upgraded from: finish the in-flight requests and start no new
   * poll. Resolves when paused; packets received meanwhile are still emitted.
   */
  pause?(): Promise<void>;
  /** Undoes `pause` when the upgrade it was for failed. */
  resume?(): void;
}

/**
 * The transports cometa ships, by the names `transports` accepts on `Socket` and
 * `ReconnectingSocket` (and the names servers list in `upgrades`).
 */
export type { TransportName } from "./wire.js";

export interface TransportDefinition {
  /** The name in `transports` options and in the server's `upgrades` list. */
  readonly name: string;
  /** Whether this environment has what the adapter needs. */
  supported(env: Environment): boolean;
  create(context: TransportContext): Transport;
}
