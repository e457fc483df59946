/**
 * Resumable sessions, the server's side (docs/wire.md, "Resumable sessions").
 *
 * A client that offers resumption in its handshake gets the terms in the open packet; from
 * then on its session keeps, in one {@link ResumeState}:
 * - out: the messages handed to a transport (engine.io's `flush`) and not acknowledged yet, in
 *   order. Messages are numbered by position: the client acknowledged 1 … `acked`, the held
 *   ones are `acked + 1` … `acked + handed.length`, and what waits in engine.io's buffer comes
 *   after. So no number is stored per message, and putting messages back is putting the held
 *   ones in front of the buffer.
 * - in: how many of the client's messages were delivered, and the number of the next one
 *   (`6s<S>` sets it): a duplicate is dropped before engine.io's socket sees it, a gap ends
 *   the session.
 * - a broken transport detaches the session instead of closing it, for `window` ms, until a
 *   reattach gives it a new one.
 *
 * The methods put in front of engine.io's (a socket's `onClose` and `close`, a transport's
 * `onPacket`) are shared functions finding their session in a WeakMap: an idle session costs
 * its state object and no closure.
 */
import type { ServerResponse } from "node:http";
import type { Packet } from "engine.io-parser";
import { ackParam, decodeResumeControl, encodeAck, reattachParam, resumeOfferParam, resumeTermsField } from "../wire.js";
import {
  ENGINE_ERRORS,
  type EngineRequest,
  type EngineSocket,
  type EngineTransport,
  type VerifyCallback,
  attachTransport,
  bufferedPackets,
  carryOverSendCallbacks,
  dropTransport,
  endSession,
  flushSession,
  isJsonpTransport,
  overridePacketHandler,
  overrideSession,
  passPacket,
  prependPackets,
  restartHeartbeat,
  sendClosePacket,
  sendControlPacket,
  stockClose,
  stopHeartbeat,
} from "./engine-internals.js";
import type { ResolvedResume } from "./options.js";
import { type Refusal, refusal } from "./refusal.js";
import { ResumeBufferFullError, ResumeWindowError, type UndeliveredMessage } from "./resume-errors.js";
import { packetBytes } from "./transports/packet-queue.js";
import { streamOf } from "./transports/streaming.js";

/** engine.io's `close` reason for a session whose client left more than `maxBytes` unacknowledged. */
export const RESUME_BUFFER_FULL = "resume buffer full";

/**
 * Transport errors that say a request came from someone else holding the sid (a second poll or
 * stream beside the client's, a short poll without its token): the session ends, as without
 * resumption, rather than wait for a reattach that whoever it is could make too.
 */
const INTRUSIONS = new Set(["overlap from client", "data request overlap from client", "poll token mismatch"]);

/**
 * A WebSocket message over maxHttpBufferSize (ws's words, which engine.io's websocket transport
 * passes on as its error): the client would send it again on every reattach, so the session
 * ends as without resumption, and the client hands the message back in its `unsent`.
 */
const TOO_LARGE = /Max payload size exceeded/;

/**
 * The callback index (`j`) of the request that made a JSONP transport, as engine.io reads it
 * (its digits): the page's script tags of one client transport all carry it, and each client
 * transport has its own.
 */
const callbackIndexes = new WeakMap<EngineTransport, string>();

/** A request's JSONP callback index, undefined for a request that is not JSONP. */
function callbackIndex(req: EngineRequest | undefined): string | undefined {
  const j = req?._query.j;
  return j === undefined ? undefined : String(j).replace(/[^0-9]/g, "");
}

/** Every resumable session's state, by its engine.io socket. */
const sessions = new WeakMap<EngineSocket, ResumeState>();
/** The same, by each transport made for the session (a dropped one is forgotten). */
const transports = new WeakMap<EngineTransport, ResumeState>();

/** A count as the wire spells it (src/wire.ts's controls use the same digits), or undefined. */
export function parseCount(value: string | undefined): number | undefined {
  if (value === undefined || !/^(0|[1-9]\d{0,15})$/.test(value)) return undefined;
  return Number(value);
}

export interface ResumeHost {
  readonly terms: ResolvedResume;
  session(sid: string | undefined): EngineSocket | undefined;
  /** Gives up the upgrade the session is probing, if any. */
  cancelUpgrade(socket: EngineSocket): void;
  /** engine.io's middlewares, then its checks for a request naming another transport than its session's. */
  verify(req: EngineRequest, res: ServerResponse, callback: VerifyCallback): void;
  /** Builds a transport as engine.io's handshake does (settings included; throws on a bad request). */
  createTransport(name: string, req: EngineRequest): EngineTransport;
  /** Forwards a transport's `headers` event to the server's, as handshake does. */
  forwardHeaders(transport: EngineTransport): void;
  refuse(req: EngineRequest, res: ServerResponse, refused: Refusal): void;
}

interface Break {
  readonly reason: string;
  readonly description: unknown;
  readonly timer: ReturnType<typeof setTimeout>;
}

/** One resumable session. Moved only by the functions of this file. */
/**
 * Where the client cannot read the server's answer to its write (a WebSocket frame has none; a
 * JSONP POST is no-cors, its answer opaque), so the server acknowledges with `6a<N>`.
 */
function acksExplicitly(transport: EngineTransport): boolean {
  return transport.name === "websocket" || isJsonpTransport(transport);
}

/**
 * Milliseconds within which a WebSocket's messages are acknowledged. Each `6a<N>` is a frame of
 * its own there: sent in the turn that delivered, a request and answer exchange would carry two
 * frames for one message each way; within this delay one acknowledges many. The client's send
 * callbacks wait for it.
 */
const WEBSOCKET_ACK_DELAY = 10;
/** Bytes of messages unacknowledged after which a WebSocket's are acknowledged in the same turn. */
const ACK_AT_ONCE_BYTES = 65536;

export class ResumeState {
  /** The client's messages delivered to the application (the `M` of `6a<M>`). */
  private received = 0;
  /** The number the client's next message packet has. */
  private next = 1;
  /** The server's messages the client acknowledged. */
  private acked = 0;
  /** Messages handed to a transport and not acknowledged: numbers `acked + 1` onwards. */
  private handed: Packet[] = [];
  private handedBytes = 0;
  /** Set while detached. */
  private broken: Break | null = null;
  /** The acknowledgement due: at the end of this turn, or within {@link WEBSOCKET_ACK_DELAY}. */
  private ackImmediate: ReturnType<typeof setImmediate> | undefined;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  /** Bytes of messages delivered since the last acknowledgement. */
  private unackedBytes = 0;
  /** The upgrade candidate said what the client has (`6a<N>` before `5`). */
  private requeueOnUpgrade = false;
  /** The client sent `1` on its transport: however the transport ends next, it is not a break. */
  private closing = false;
  private overflowing = false;

  constructor(
    private readonly socket: EngineSocket,
    private readonly host: ResumeHost,
  ) {}

  get isDetached(): boolean {
    return this.broken !== null;
  }

  /** Whether the server could have sent `count` messages to a transport by now. */
  couldHaveSent(count: number): boolean {
    return count <= this.acked + this.handed.length;
  }

  /** Takes over the session and its first transport, made by the handshake. */
  start(): void {
    sessions.set(this.socket, this);
    this.adopt(this.socket.transport, this.socket.request as EngineRequest | undefined);
    overrideSession(this.socket, SESSION_OVERRIDES);
  }

  /** `transport` is the session's, made for `req` (then its JSONP callback index is kept). */
  adopt(transport: EngineTransport, req?: EngineRequest): void {
    const index = callbackIndex(req);
    if (index !== undefined) callbackIndexes.set(transport, index);
    transports.set(transport, this);
    overridePacketHandler(transport, receivePacket);
  }

  /** engine.io hands `buffer` to the transport: its messages are held until acknowledged. */
  handOver(buffer: readonly Packet[]): void {
    for (const packet of buffer) {
      if (packet.type !== "message") continue;
      this.handed.push(packet);
      this.handedBytes += packetBytes(packet);
    }
    if (this.handedBytes > this.host.terms.maxBytes && !this.overflowing) {
      this.overflowing = true;
      // after engine.io's flush is over: closing inside it would have it write to a closed transport
      queueMicrotask(() => this.overflow());
    }
  }

  /** The client has the server's messages 1 to `count` (counts only grow). */
  acknowledge(count: number): void {
    const newly = Math.min(count - this.acked, this.handed.length);
    if (newly <= 0) return;
    for (const packet of this.handed.splice(0, newly)) this.handedBytes -= packetBytes(packet);
    this.acked += newly;
  }

  /** The client has messages 1 to `count`: the rest of what it was handed goes out again, first. */
  requeue(count: number): void {
    this.acknowledge(count);
    if (this.handed.length === 0) return;
    prependPackets(this.socket, this.handed);
    this.handed = [];
    this.handedBytes = 0;
  }

  /**
   * A JSONP poll whose answer carries something anyway (messages, a ping): it opens with
   * `6a<N>` again. The page learns of delivery only from these, and one lost with a cut poll
   * would otherwise hold the send callbacks (and at the client's `maxBytes` its writes) until
   * its next message prompted another; this way until the next ping at the latest. An idle
   * poll is not answered for it, which would poll without pause.
   */
  reacknowledge(): void {
    const buffered = bufferedPackets(this.socket);
    if (this.received === 0 || buffered.length === 0) return;
    if (buffered.some((packet) => packet.type === "noop" && decodeResumeControl(packet.data)?.kind === "ack")) return;
    prependPackets(this.socket, [{ type: "noop", data: encodeAck(this.received), options: { compress: true } }]);
  }

  /** A packet from `transport`: false when it is resumption's own (a control, a duplicate). */
  receive(transport: EngineTransport, packet: Packet): boolean {
    const socket = this.socket;
    // a candidate given up (on a reattach, or past engine.io's upgradeTimeout) is closing but
    // its WebSocket still reports frames: its late `6a<N>` and `5` must not put messages back
    if (transport !== socket.transport && transport.readyState !== "open") return false;
    const current = transport === socket.transport && this.broken === null;
    switch (packet.type) {
      case "noop": {
        const control = decodeResumeControl(packet.data);
        if (!control) return true;
        if (control.kind === "ack") {
          this.acknowledge(control.count);
          // on an upgrade candidate: before `5`, which puts back what the count does not cover
          if (transport !== socket.transport) this.requeueOnUpgrade = true;
        } else if (this.broken === null) {
          this.next = control.seq;
        }
        return false;
      }
      case "upgrade":
        if (transport !== socket.transport && this.requeueOnUpgrade) {
          this.requeueOnUpgrade = false;
          // engine.io swaps transports, then flushes its buffer to the new one
          this.requeue(this.acked);
        }
        return true;
      case "close":
        if (current) this.closing = true;
        return true;
      case "message":
        return current ? this.deliver(transport, packet) : true;
      default:
        return true;
    }
  }

  private deliver(transport: EngineTransport, packet: Packet): boolean {
    const seq = this.next;
    if (seq <= this.received) {
      this.next++;
      return false;
    }
    if (seq > this.received + 1) {
      endSession(this.socket, "parse error", new Error(`message ${seq} arrived after message ${this.received}: messages are missing`));
      this.ended();
      return false;
    }
    this.next++;
    this.received++;
    if (acksExplicitly(transport) && this.ackImmediate === undefined) {
      this.unackedBytes += packetBytes(packet);
      // a JSONP acknowledgement rides the answer to the held poll: one per turn
      if (transport.name !== "websocket" || this.unackedBytes >= ACK_AT_ONCE_BYTES) this.ackImmediate = setImmediate(sendAck, this);
      else if (this.ackTimer === undefined) this.ackTimer = setTimeout(sendAck, WEBSOCKET_ACK_DELAY, this);
    }
    return true;
  }

  /**
   * The session is about to end: an acknowledgement still due goes out first, before the `1`.
   * The client counts as unsent what it was not told arrived, and would send it again.
   */
  flushAck(): void {
    if (this.ackTimer !== undefined || this.ackImmediate !== undefined) this.sendAck();
  }

  /** No acknowledgement is due any more: it is being sent, or the session ended. */
  private cancelAck(): void {
    clearImmediate(this.ackImmediate);
    clearTimeout(this.ackTimer);
    this.ackImmediate = this.ackTimer = undefined;
    this.unackedBytes = 0;
  }

  /** Acknowledges the messages delivered from a WebSocket or a JSONP POST. */
  sendAck(): void {
    this.cancelAck();
    const socket = this.socket;
    if (socket.readyState !== "open" || this.broken !== null || !acksExplicitly(socket.transport)) return;
    sendControlPacket(socket, encodeAck(this.received));
  }

  /** Whether engine.io's `onClose(reason)` is a broken transport, which detaches instead. */
  isBreak(reason: string, description: unknown): boolean {
    if (this.broken !== null) return reason === "transport error" || reason === "transport close" || reason === "ping timeout";
    if (this.socket.readyState !== "open") return false;
    // the client said it leaves: however its transport ends now (a write that met its closed
    // end fails before the close is seen), there is nothing to resume
    if (this.closing) return false;
    if (reason === "ping timeout") return true;
    if (reason === "transport error") return !(description instanceof Error && (INTRUSIONS.has(description.message) || TOO_LARGE.test(description.message)));
    // An HTTP transport closes on the client's `1` only; a WebSocket also when it breaks.
    return reason === "transport close" && this.socket.transport.name === "websocket";
  }

  detach(reason: string, description: unknown): void {
    if (this.broken !== null) return;
    const socket = this.socket;
    this.host.cancelUpgrade(socket);
    transports.delete(socket.transport);
    dropTransport(socket);
    stopHeartbeat(socket);
    this.broken = { reason, description, timer: setTimeout(expire, this.host.terms.window, this) };
    socket.emit("detached", reason, description);
  }

  /**
   * `transport` takes over the session; the client has the server's messages 1 to `count`.
   * Out first: `6a<M>`, then what `count` does not cover, then what waited.
   */
  reattach(transport: EngineTransport, count: number): void {
    const socket = this.socket;
    if (this.broken !== null) {
      clearTimeout(this.broken.timer);
      this.broken = null;
    } else {
      // the client gave the current transport up
      this.host.cancelUpgrade(socket);
      transports.delete(socket.transport);
      dropTransport(socket);
    }
    this.requeue(count);
    prependPackets(socket, [{ type: "noop", data: encodeAck(this.received), options: { compress: true } }]);
    carryOverSendCallbacks(socket);
    this.adopt(transport);
    attachTransport(socket, transport);
    restartHeartbeat(socket);
    this.closing = false;
    this.requeueOnUpgrade = false;
    socket.emit("reattached", transport.name);
  }

  /** The window passed: the session ends with the break's reason. */
  expire(): void {
    const broken = this.broken;
    if (!broken) return;
    const error = new ResumeWindowError(this.host.terms.window, this.undelivered(), broken.description);
    endSession(this.socket, broken.reason, error);
    this.ended();
  }

  /**
   * A POST of the session was answered 413: its client ends the session on that answer (the
   * message would be refused again on every transport) and will not reattach, so the server
   * ends it too rather than keep it for the window.
   */
  refusedAsTooLarge(): void {
    if (this.socket.readyState !== "open") return;
    endSession(this.socket, "transport error", new Error("a POST of the session was over maxHttpBufferSize (413)"));
    this.ended();
  }

  /** Ended by `close()` while detached: at once, there is no transport to drain. */
  closeDetached(): void {
    endSession(this.socket, "forced close");
    this.ended();
  }

  private overflow(): void {
    if (this.socket.readyState === "closed") return;
    this.flushAck();
    const error = new ResumeBufferFullError(this.host.terms.maxBytes, this.handedBytes, this.undelivered());
    endSession(this.socket, RESUME_BUFFER_FULL, error);
    this.ended();
  }

  /** The session is over, however: nothing more to hold or wait for. */
  ended(): void {
    if (this.broken) clearTimeout(this.broken.timer);
    this.cancelAck();
    this.broken = null;
    this.handed = [];
    this.handedBytes = 0;
  }

  /** Messages handed and not acknowledged, then messages never handed, in order. */
  private undelivered(): UndeliveredMessage[] {
    const messages: UndeliveredMessage[] = [];
    for (const packet of [...this.handed, ...bufferedPackets(this.socket)]) {
      if (packet.type === "message" && packet.data !== undefined) messages.push(packet.data);
    }
    return messages;
  }
}

function sendAck(state: ResumeState): void {
  state.sendAck();
}

function expire(state: ResumeState): void {
  state.expire();
}

/** In front of every packet a resumable session's transport receives. */
function receivePacket(this: EngineTransport, packet: Packet): void {
  const state = transports.get(this);
  if (!state || state.receive(this, packet)) passPacket(this, packet);
}

const SESSION_OVERRIDES = {
  onClose(this: EngineSocket, reason: string, description?: unknown): void {
    const state = sessions.get(this);
    if (state?.isBreak(reason, description)) {
      state.detach(reason, description);
      return;
    }
    endSession(this, reason, description);
    state?.ended();
  },
  close(this: EngineSocket, discard?: boolean): EngineSocket {
    const state = sessions.get(this);
    if (state?.isDetached) state.closeDetached();
    else {
      // Server.close() (a shutdown) closes with discard, which ends a transport without the 1;
      // a resumable client would take that for a break and reattach to a server that is gone.
      // A transport that can carry the 1 now (a WebSocket, a held poll, an open stream) gets it.
      const open = state !== undefined && this.readyState === "open";
      if (open) state.flushAck();
      if (open && this.transport.name === "websocket") sendClosePacket(this);
      // (a busy WebSocket included: engine.io's close without discard waits for its drain)
      stockClose(this, discard && !(open && (this.transport.writable || this.transport.name === "websocket")));
    }
    return this;
  },
};

/** What a reattach request asks for, once checked. */
interface ReattachTarget {
  readonly socket: EngineSocket;
  readonly state: ResumeState;
  readonly count: number;
}

/** The server's part: terms in the open packet, and the requests of resumable sessions. */
export class Resumption {
  private readonly termsJson: string;

  constructor(private readonly host: ResumeHost) {
    this.termsJson = JSON.stringify({ window: host.terms.window, maxBytes: host.terms.maxBytes });
  }

  /**
   * engine.io's server `flush` event (a socket hands its buffer to its transport). The first
   * one of a session carries the open packet, written inside engine.io's Socket constructor,
   * before `connection`: the terms join it, and the session becomes resumable.
   */
  onFlush(socket: EngineSocket, buffer: Packet[]): void {
    let state = sessions.get(socket);
    if (!state) {
      const open = buffer[0];
      if (open?.type !== "open" || typeof open.data !== "string" || !open.data.endsWith("}") || !this.isOffered(socket)) return;
      open.data = `${open.data.slice(0, -1)},${JSON.stringify(resumeTermsField)}:${this.termsJson}}`;
      state = new ResumeState(socket, this.host);
      state.start();
    }
    state.handOver(buffer);
  }

  /** A transport just made for a request naming a session (an upgrade candidate, a reattach). */
  onTransportCreated(transport: EngineTransport, req: EngineRequest): void {
    const socket = this.host.session(req._query.sid);
    if (socket) sessions.get(socket)?.adopt(transport, req);
  }

  /**
   * Before engine.io sees a request of an existing session (not a reattach): a detached session
   * takes none, nor does the transport in use take a JSONP request of another client transport,
   * and a GET on the transport in use puts back what its `ack` does not cover.
   */
  /** Watches a POST of a resumable session: a 413 answer ends the session (`refusedAsTooLarge`). */
  watchWrite(req: EngineRequest, res: ServerResponse): void {
    const socket = this.host.session(req._query.sid);
    const state = socket && sessions.get(socket);
    if (!state || req.method !== "POST") return;
    res.once("finish", () => {
      if (res.statusCode === 413) state.refusedAsTooLarge();
    });
  }

  admit(req: EngineRequest, kind: "http" | "websocket"): Refusal | null {
    const socket = this.host.session(req._query.sid);
    const state = socket && sessions.get(socket);
    if (!socket || !state) return null;
    if (state.isDetached) return refusal(ENGINE_ERRORS.BAD_REQUEST, "SESSION_DETACHED");
    if (kind !== "http" || req._query.transport !== socket.transport.name) return null;
    // A page cannot abort a script, and a browser sends a GET again (a POST too, at times) when
    // its connection is reset before an answer: a JSONP request of a client transport given up
    // (a broken one, a reattach try that timed out) can come after another took over. Let in,
    // it would overlap the poll held (which ends the session), or be answered under the
    // callback of the transport in use, which the page runs as the answer to its own poll:
    // messages it already has, counted as new ones.
    if (callbackIndex(req) !== callbackIndexes.get(socket.transport)) return refusal(ENGINE_ERRORS.BAD_REQUEST, "STALE_JSONP_REQUEST");
    if (req.method === "GET") {
      const count = parseCount(req._query[ackParam]);
      if (count !== undefined) {
        // a stream keeps what its last response could not carry: it all goes out again from here
        const kept = streamOf(socket.transport)?.takeBackPending() ?? [];
        state.requeue(count);
        prependPackets(socket, kept.filter((packet) => packet.type !== "message"));
        if (isJsonpTransport(socket.transport)) state.reacknowledge();
      }
    }
    return null;
  }

  /** Whether the request is a reattach (`sid` and `reattach`). */
  isReattach(req: EngineRequest): boolean {
    return Boolean(req._query.sid) && req._query[reattachParam] !== undefined;
  }

  /**
   * A reattach's own refusal, before engine.io's checks: null for a sid the server does not
   * have (engine.io answers it: "Session ID unknown"), and for one it takes.
   */
  refusal(req: EngineRequest, kind: "http" | "websocket"): Refusal | null {
    const target = this.target(req);
    if (target === undefined) return null;
    if (target === null) return refusal(ENGINE_ERRORS.BAD_REQUEST, "REATTACH_REFUSED");
    const name = req._query.transport;
    const fits = kind === "websocket" ? name === "websocket" : req.method === "GET" && name !== "websocket" && name !== "webtransport";
    return fits ? null : refusal(ENGINE_ERRORS.BAD_REQUEST, "REATTACH_REFUSED");
  }

  /** An HTTP reattach (checked by {@link refusal} first): engine.io's checks, then the new transport. */
  reattachOverHttp(req: EngineRequest, res: ServerResponse): void {
    this.host.verify(req, res, (code, context) => {
      if (code !== undefined) {
        this.host.refuse(req, res, { code, context });
        return;
      }
      const target = this.target(req);
      if (!target) {
        this.host.refuse(req, res, target === undefined ? refusal(ENGINE_ERRORS.UNKNOWN_SID) : refusal(ENGINE_ERRORS.BAD_REQUEST, "REATTACH_REFUSED"));
        return;
      }
      let transport: EngineTransport;
      try {
        transport = this.host.createTransport(req._query.transport ?? "", req);
      } catch (error) {
        this.host.refuse(req, res, refusal(ENGINE_ERRORS.BAD_REQUEST, "TRANSPORT_HANDSHAKE_ERROR", { error }));
        return;
      }
      this.host.forwardHeaders(transport);
      target.state.reattach(transport, target.count);
      req.res = res;
      transport.onRequest(req);
      flushSession(target.socket);
    });
  }

  /**
   * A WebSocket `ws` accepted for a reattach (engine.io's checks passed): true when it is one,
   * which this takes. engine.io itself would refuse it for a session that upgraded once.
   */
  takeWebSocket(req: EngineRequest, websocket: { close(): void }): boolean {
    if (!this.isReattach(req)) return false;
    const target = this.target(req);
    if (!target) {
      websocket.close();
      return true;
    }
    (req as EngineRequest & { websocket?: unknown }).websocket = websocket;
    let transport: EngineTransport;
    try {
      transport = this.host.createTransport("websocket", req);
    } catch {
      websocket.close();
      return true;
    }
    target.state.reattach(transport, target.count);
    flushSession(target.socket);
    return true;
  }

  /** undefined: no such session; null: a session that cannot take this reattach. */
  private target(req: EngineRequest): ReattachTarget | null | undefined {
    const socket = this.host.session(req._query.sid);
    if (!socket) return undefined;
    const state = sessions.get(socket);
    const count = parseCount(req._query[reattachParam]);
    if (!state || count === undefined || !state.couldHaveSent(count) || socket.readyState !== "open") return null;
    return { socket, state, count };
  }

  private isOffered(socket: EngineSocket): boolean {
    const query = (socket.request as EngineRequest | undefined)?._query;
    return socket.protocol === 4 && query?.[resumeOfferParam] === "1";
  }
}
