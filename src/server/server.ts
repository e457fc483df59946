/**
 * cometa's engine.io `Server`: stock polling, JSONP and WebSocket, plus sse, xhr-streaming,
 * iframe and short-polling, and the upgrades from (short-)polling to the streaming ones.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { AttachOptions } from "engine.io";
import type { Packet } from "engine.io-parser";
import {
  type EngineErrorCode,
  type EngineRequest,
  type EngineSocket,
  EngineServerBase,
  type EngineTransport,
  type ErrorContext,
  beginUpgrade,
  engineErrorMessage,
  abandonUpgrade,
  bufferedPackets,
  closeSession,
  guardMessages,
  isUpgrading,
  isUpgradingOrUpgraded,
  watchUpgrades,
  webSocketOf,
} from "./engine-internals.js";
import { abortUpgrade, relabelJsonp, sendEngineError } from "./http.js";
import {
  CLOSE_TIMEOUT,
  type ResolvedOptions,
  STREAMING_TRANSPORTS,
  type ServerOptions,
  type StreamingTransportName,
  isExtensionTransport,
  isStreamingTransport,
  resolveOptions,
} from "./options.js";
import { isRequestFromAllowedSite } from "./origin.js";
import type { StreamFraming } from "./transports/framing.js";
import { IFRAME_DEFAULT_PADDING, iframeFraming, validateIframeRequest } from "./transports/iframe.js";
import { SHORT_POLLING, ShortPollingTransport } from "./transports/short-polling.js";
import { SSE_DEFAULT_PADDING, sseFraming } from "./transports/sse.js";
import { StreamingTransport, packetBytes } from "./transports/streaming.js";
import { XHR_STREAMING_DEFAULT_PADDING, xhrStreamingFraming } from "./transports/xhr-streaming.js";

/** JSONP's callback index is interpolated into JavaScript: digits only. */
const JSONP_INDEX = /^\d{1,9}$/;

interface Refusal {
  readonly code: EngineErrorCode;
  readonly message?: string;
  readonly context?: ErrorContext;
}

export class Server extends EngineServerBase {
  private readonly settings: ResolvedOptions;
  private readonly framings: ReadonlyMap<StreamingTransportName, StreamFraming>;
  /** The transport each session is probing (an upgrade candidate that is not its transport yet). */
  private readonly candidates = new WeakMap<EngineSocket, StreamingTransport>();
  /** The last candidate engine.io's own upgrade path probed for each session (WebSocket). */
  private readonly stockCandidates = new WeakMap<EngineSocket, EngineTransport>();
  /** Sessions opened on JSONP: their polls answer with script, so every request needs proof. */
  private readonly jsonpSessions = new WeakSet<EngineSocket>();

  constructor(options: ServerOptions = {}) {
    const settings = resolveOptions(options);
    super(settings.engine);
    this.settings = settings;
    const padding = settings.paddingBytes;
    const framings = new Map<StreamingTransportName, StreamFraming>([
      ["sse", sseFraming(padding ?? SSE_DEFAULT_PADDING)],
      ["xhr-streaming", xhrStreamingFraming(padding ?? XHR_STREAMING_DEFAULT_PADDING)],
    ]);
    if (settings.isAllowedOrigin) {
      framings.set("iframe", iframeFraming(padding ?? IFRAME_DEFAULT_PADDING, settings.isAllowedOrigin));
    }
    this.framings = framings;
    this.on("headers", relabelJsonp);
    this.on("connection", (socket: EngineSocket) => {
      if ((socket.request as EngineRequest)._query.j !== undefined) this.jsonpSessions.add(socket);
      watchUpgrades(socket, (candidate) => this.stockCandidates.set(socket, candidate));
      guardMessages(socket, refuseRecordSeparator);
      boundBufferedBytes(socket, this.settings.maxBufferedBytes);
    });
  }

  /**
   * engine.io's `attach`, under the constructor's `path` when `options` names none, so
   * `new Server({ path: "/socket.io/" }).attach(http)` serves where it was told. Two
   * different paths are refused rather than one of them silently ignored.
   */
  override attach(server: HttpServer, options: AttachOptions = {}): void {
    const path = this.settings.path;
    const trimmed = (value: string) => value.replace(/\/$/, "");
    if (path !== undefined && options.path !== undefined && trimmed(options.path) !== trimmed(path)) {
      throw new TypeError(
        `cometa/server: attach() was given path ${JSON.stringify(options.path)} but the Server was made with ` +
          `path ${JSON.stringify(path)}; give it in one place`,
      );
    }
    const attachOptions = { ...options, path: options.path ?? path };
    // engine.io hands other paths to the listeners the server had before; with none, such a
    // request would hang, and a client given the wrong `path` would wait out its connectTimeout
    const alone = server.listeners("request").length === 0;
    super.attach(server, attachOptions);
    if (!alone) return;
    const served = this._computePath(attachOptions);
    const engineListener = server.listeners("request").at(-1);
    const notFound = (req: IncomingMessage, res: ServerResponse): void => {
      // a listener added since attach() answers for itself
      const others = server.listeners("request").filter((listener) => listener !== engineListener && listener !== notFound);
      if (others.length > 0 || res.headersSent || (req.url ?? "").startsWith(served)) return;
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" });
      res.end(`Not found: engine.io is served at ${served}`);
    };
    server.on("request", notFound);
  }

  override handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const request = this.prepareRequest(req);
    // Set before anything answers, so stock responses (polling, errors) carry it too.
    res.setHeader("X-Content-Type-Options", "nosniff");
    const refusal = this.refusalFor(request);
    if (refusal) {
      this.refuse(request, res, refusal);
      return;
    }
    const { sid, transport } = request._query;
    if (sid && isStreamingTransport(transport)) {
      const socket = this.session(sid);
      if (socket && socket.transport.name !== transport) {
        this.handleCandidateRequest(request, res, transport);
        return;
      }
    }
    super.handleRequest(req, res);
  }

  override handleUpgrade(req: IncomingMessage, socket: Duplex, upgradeHead: Buffer): void {
    const request = this.prepareRequest(req);
    const isAllowed = this.settings.isAllowedOrigin;
    if (isAllowed && !isRequestFromAllowedSite(request.headers, isAllowed)) {
      this.emitConnectionError(request, { code: 4, context: { name: "ORIGIN_NOT_ALLOWED" } });
      abortUpgrade(socket, 4);
      return;
    }
    // engine.io would build any transport named in the query around the WebSocket: only its own.
    if (isExtensionTransport(request._query.transport)) {
      this.emitConnectionError(request, { code: 3, context: { name: "TRANSPORT_HANDSHAKE_ERROR" } });
      abortUpgrade(socket, 3);
      return;
    }
    // engine.io lets any session upgrade to WebSocket; a stream must not (see extensionUpgrades).
    const sid = request._query.sid;
    const session = sid ? this.session(sid) : undefined;
    if (session && !this.upgrades(session.transport.name).includes(request._query.transport ?? "")) {
      this.emitConnectionError(request, { code: 3, context: { name: "UPGRADE_REFUSED" } });
      abortUpgrade(socket, 3);
      return;
    }
    super.handleUpgrade(req, socket, upgradeHead);
  }

  protected extensionTransport(name: string, req: EngineRequest): EngineTransport | undefined {
    if (!isExtensionTransport(name) || !this.settings.enabled.has(name)) return undefined;
    // The framings and the POST parser speak v4 (`\x1e` payloads); v3 clients use polling.
    if (req._query.EIO !== "4") throw new Error(`the ${name} transport speaks engine.io protocol v4 only`);
    const maxHttpBufferSize = this.opts.maxHttpBufferSize ?? 1e6;
    if (name === SHORT_POLLING) return new ShortPollingTransport(req, { maxHttpBufferSize, closeTimeout: CLOSE_TIMEOUT });
    const framing = this.framings.get(name);
    if (!framing) return undefined;
    return new StreamingTransport(req, name, framing, {
      recycleBytes: this.settings.recycleBytes,
      keepAliveInterval: this.settings.keepAliveInterval,
      maxHttpBufferSize,
      closeTimeout: CLOSE_TIMEOUT,
    });
  }

  /**
   * (short-)polling upgrades to engine.io's own list plus the streaming transports; a stream
   * does not upgrade further (it cannot be paused the way a poll can, so a later switch would
   * race packets still in the old stream against the new transport).
   */
  protected extensionUpgrades(name: string): string[] | undefined {
    if (name === "polling" || name === SHORT_POLLING) {
      return [...this.stockPollingUpgrades(), ...STREAMING_TRANSPORTS.filter((n) => this.settings.enabled.has(n))];
    }
    if (isExtensionTransport(name)) return [];
    return undefined;
  }

  /** Checks every request gets before engine.io's own. */
  private refusalFor(req: EngineRequest): Refusal | null {
    const isAllowed = this.settings.isAllowedOrigin;
    if (isAllowed && !isRequestFromAllowedSite(req.headers, isAllowed, { browserOnly: this.isBrowserOnly(req) })) {
      return { code: 4, context: { name: "ORIGIN_NOT_ALLOWED" } };
    }
    const { j, transport } = req._query;
    if (j !== undefined && !JSONP_INDEX.test(j)) {
      return { code: 3, context: { name: "INVALID_JSONP_INDEX" } };
    }
    // Before the handshake creates a session that the document could then not carry.
    if (transport === "iframe" && req.method === "GET" && isAllowed && this.settings.enabled.has("iframe")) {
      const refusal = validateIframeRequest(req, isAllowed);
      if (refusal) return { code: refusal.code, context: { name: "INVALID_IFRAME_REQUEST" } };
    }
    return null;
  }

  /**
   * JSONP and the forever-frame exist for browsers only, and their answers are the ones a
   * cross-site page can use without CORS (a script runs, a frame posts): a request of theirs
   * that says nothing about its page is refused rather than taken for a non-browser client.
   * A JSONP session's polls stay JSONP (script) even when a request leaves `j` out.
   */
  private isBrowserOnly(req: EngineRequest): boolean {
    const { j, sid, transport } = req._query;
    if (j !== undefined || transport === "iframe") return true;
    const session = sid ? this.session(sid) : undefined;
    return session !== undefined && this.jsonpSessions.has(session) && session.transport.name === "polling";
  }

  /**
   * A request naming a streaming transport other than the session's: the GET that opens an
   * upgrade candidate, then that candidate's POSTs (`2probe`, `5`) and reopen GETs, until the
   * upgrade completes (then the candidate is the session's transport and engine.io routes).
   */
  private handleCandidateRequest(req: EngineRequest, res: ServerResponse, name: StreamingTransportName): void {
    this.applyMiddlewares(req, res, (err) => {
      if (err) {
        this.refuse(req, res, { code: 3, context: { name: "MIDDLEWARE_FAILURE" } });
        return;
      }
      this.verifyUpgradeRequest(req, (code, context) => {
        if (code !== undefined) {
          this.refuse(req, res, { code, context });
          return;
        }
        const socket = req._query.sid ? this.session(req._query.sid) : undefined;
        if (!socket) {
          this.refuse(req, res, { code: 1 });
          return;
        }
        req.res = res;
        let candidate = this.candidates.get(socket);
        if (candidate?.name === name) {
          candidate.onRequest(req);
          return;
        }
        const stockCandidate = this.stockCandidates.get(socket);
        if (
          !candidate &&
          stockCandidate &&
          req.method === "GET" &&
          isUpgrading(socket) &&
          socket.transport !== stockCandidate
        ) {
          // the same for a WebSocket the client gave up on (a proxy let it open, then it went
          // silent): its TCP close may take its time to reach us, the GET came first
          abandonUpgrade(stockCandidate);
          this.stockCandidates.delete(socket);
        }
        if (candidate && req.method === "GET" && candidate.readyState === "open") {
          // A client probes one candidate at a time: a GET for another means it gave this one
          // up (its probe timed out), possibly before its dropped stream reached us. Closing it
          // runs engine.io's upgrade cleanup, so the new candidate is not refused.
          candidate.close();
          candidate = this.candidates.get(socket);
        }
        if (
          req.method !== "GET" ||
          candidate ||
          socket.readyState !== "open" ||
          isUpgradingOrUpgraded(socket) ||
          !socket.transport ||
          !this.upgrades(socket.transport.name).includes(name) ||
          !this.settings.enabled.has(name)
        ) {
          this.refuse(req, res, { code: 3, context: { name: "UPGRADE_REFUSED" } });
          return;
        }
        let transport: EngineTransport;
        try {
          transport = this.createTransport(name, req);
        } catch (error) {
          this.refuse(req, res, { code: 3, context: { name: "TRANSPORT_HANDSHAKE_ERROR", error } });
          return;
        }
        if (!(transport instanceof StreamingTransport)) {
          this.refuse(req, res, { code: 3, context: { name: "UPGRADE_REFUSED" } });
          return;
        }
        this.probe(socket, transport);
        transport.onRequest(req);
      });
    });
  }

  /** Hands `candidate` to engine.io's upgrade path and tracks it until it wins or fails. */
  private probe(socket: EngineSocket, candidate: StreamingTransport): void {
    candidate.markAsCandidate();
    // Handshake wires this for the first transport; a candidate needs it for header hooks too.
    candidate.on("headers", (headers, request) => this.emit("headers", headers, request));
    this.candidates.set(socket, candidate);
    const forget = (): void => {
      if (this.candidates.get(socket) === candidate) this.candidates.delete(socket);
      candidate.off("close", forget);
      socket.off("upgrade", onUpgrade);
      socket.off("close", forget);
    };
    const onUpgrade = (transport: EngineTransport): void => {
      if (transport === candidate) candidate.adopt();
      forget();
    };
    candidate.once("close", forget);
    socket.once("upgrade", onUpgrade);
    socket.once("close", forget);
    beginUpgrade(socket, candidate);
  }

  private refuse(req: EngineRequest, res: ServerResponse, refusal: Refusal): void {
    this.emitConnectionError(req, refusal);
    sendEngineError(res, refusal.code, refusal.message);
  }

  /** engine.io's `connection_error` event, with the same shape as its own. */
  private emitConnectionError(req: EngineRequest, refusal: Refusal): void {
    this.emit("connection_error", {
      req,
      code: refusal.code,
      message: refusal.message ?? engineErrorMessage(refusal.code),
      context: refusal.context,
    });
  }
}

/**
 * engine.io v4 joins packets with U+001E in long-polling and JSONP payloads, and engine.io
 * clients split on it: such a string would arrive as two messages there, intact elsewhere.
 * Refused on every transport, so a session behaves the same whichever it is on (as cometa's
 * client refuses to send one). socket.io is unaffected: its encoder escapes U+001E.
 */
function refuseRecordSeparator(data: unknown): void {
  if (typeof data === "string" && data.includes("\u001e")) {
    throw new TypeError(
      "cometa/server: send() refuses a string containing U+001E: engine.io v4 separates packets with it " +
        "on long-polling and JSONP, where the client would receive two messages. Escape it (JSON.stringify " +
        "does) or send it as binary.",
    );
  }
}

/** engine.io's `close` reason for a session that held more than `maxBufferedBytes` for its client. */
export const BUFFER_FULL = "transport buffer full";

/**
 * Ends a session whose client lets more than `maxBytes` pile up: engine.io's buffer, plus what
 * its transport holds (a stream's pending packets and response, a WebSocket's `bufferedAmount`).
 * Checked as each packet is created, so the session never holds more than the bound plus the
 * packet that crossed it.
 */
function boundBufferedBytes(socket: EngineSocket, maxBytes: number): void {
  if (maxBytes === Infinity) return;
  // engine.io's buffer, counted as packets join it and zeroed when it is handed over whole;
  // recounted before acting, so a buffer changed behind our back never ends a session wrongly.
  let waiting = 0;
  socket.on("flush", () => {
    waiting = 0;
  });
  socket.on("packetCreate", (packet: Packet) => {
    const size = packetBytes(packet);
    waiting += size;
    if (waiting + transportBufferedBytes(socket.transport) <= maxBytes) return;
    waiting = size;
    for (const queued of bufferedPackets(socket)) waiting += packetBytes(queued);
    const held = waiting + transportBufferedBytes(socket.transport);
    if (held <= maxBytes) return;
    // Dropped first: an orderly end would keep the unread bytes while the connection lives.
    dropConnection(socket.transport);
    closeSession(
      socket,
      BUFFER_FULL,
      new Error(`the client let ${held} bytes pile up, more than maxBufferedBytes (${maxBytes})`),
    );
  });
}

function transportBufferedBytes(transport: EngineTransport): number {
  if (transport instanceof StreamingTransport) return transport.bufferedBytes;
  return webSocketOf(transport)?.bufferedAmount ?? 0;
}

function dropConnection(transport: EngineTransport): void {
  if (transport instanceof StreamingTransport) transport.destroyStream();
  else webSocketOf(transport)?.terminate();
}
