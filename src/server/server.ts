/**
 * cometa's engine.io `Server`: stock polling, JSONP and WebSocket, plus sse, xhr-streaming,
 * iframe and short-polling, and the upgrades from (short-)polling to the streaming ones.
 *
 * engine.io's public `Server`, extended once: each method engine.io calls on it hands over to a
 * composed part (request-check.ts, upgrades.ts, resume.ts, transports/factory.ts,
 * session-guards.ts); what engine.io does not expose is reached through engine-internals.ts only.
 */
import type { IncomingMessage, Server as HttpServer, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { AttachOptions } from "engine.io";
import type { Packet } from "engine.io-parser";
import {
  EngineServer,
  type EngineRequest,
  type EngineSocket,
  type VerifyCallback,
  applyMiddlewares,
  assertEngineInternals,
  configureTransport,
  engineOptions,
  interceptWebSockets,
  maxHttpBufferSize,
  prepareRequest,
  releaseHeldPollOnProbe,
  routeTransportCreation,
  servedPath,
  sessionOf,
  stockUpgrades,
  verifyAsUpgrade,
} from "./engine-internals.js";
import { prefixSid } from "./affinity.js";
import { NOSNIFF, answerOtherPaths, relabelJsonp } from "./http.js";
import { type ResolvedOptions, type ServerOptions, isStreamingTransport, resolveOptions } from "./options.js";
import { ENGINE_ERRORS, type Refusal, connectionError, refuseUpgrade, sendRefusal } from "./refusal.js";
import { type RequestCheck, createRequestCheck } from "./request-check.js";
import { Resumption } from "./resume.js";
import { guardSession } from "./session-guards.js";
import { extensionTransports } from "./transports/factory.js";
import { Upgrades } from "./upgrades.js";

export class Server extends EngineServer {
  private readonly settings: ResolvedOptions;
  private readonly check: RequestCheck;
  private readonly upgradeRegistry: Upgrades;
  /** undefined when resumption is off (`resume: false`). */
  private readonly resumption: Resumption | undefined;
  /** Sessions opened on JSONP: their polls answer with script, so every request needs proof. */
  private readonly jsonpSessions = new WeakSet<EngineSocket>();

  constructor(options: ServerOptions = {}) {
    const settings = resolveOptions(options);
    // Checked before engine.io's constructor runs, so a broken engine.io fails with our message.
    assertEngineInternals();
    super(engineOptions(settings.engine));
    this.settings = settings;
    const createExtension = extensionTransports(settings, () => maxHttpBufferSize(this));
    routeTransportCreation(this, createExtension, (transport, req) => this.resumption?.onTransportCreated(transport, req));
    this.upgradeRegistry = new Upgrades({
      enabled: settings.enabled,
      stockUpgrades: (name) => stockUpgrades(this, name),
      allowsUpgrades: () => Boolean(this.opts.allowUpgrades),
      session: (sid) => sessionOf(this, sid),
      verify: (req, res, callback) => verify(req, res, callback),
      createTransport: (name, req) => this.createTransport(name as "polling", req),
      refuse: (req, res, refused) => this.refuse(req, res, refused),
      forwardHeaders: (transport) => transport.on("headers", (headers, request) => this.emit("headers", headers, request)),
    });
    const verify = (req: EngineRequest, res: ServerResponse, callback: VerifyCallback) =>
      applyMiddlewares(this, req, res, (err) => {
        if (err) callback(ENGINE_ERRORS.BAD_REQUEST, { name: "MIDDLEWARE_FAILURE" });
        else verifyAsUpgrade(this, req, callback);
      });
    this.resumption = settings.resume && new Resumption({
      terms: settings.resume,
      session: (sid) => sessionOf(this, sid),
      cancelUpgrade: (socket) => this.upgradeRegistry.cancel(socket),
      verify,
      createTransport: (name, req) => {
        const transport = this.createTransport(name as "polling", req);
        configureTransport(this, transport);
        return transport;
      },
      forwardHeaders: (transport) => transport.on("headers", (headers, request) => this.emit("headers", headers, request)),
      refuse: (req, res, refused) => this.refuse(req, res, refused),
    });
    if (this.resumption) {
      const resumption = this.resumption;
      this.on("flush", (socket: EngineSocket, buffer: Packet[]) => resumption.onFlush(socket, buffer));
      interceptWebSockets(this, (req, websocket) => resumption.takeWebSocket(req, websocket));
    }
    this.check = createRequestCheck(settings, {
      session: (sid) => sessionOf(this, sid),
      isJsonpSession: (socket) => this.jsonpSessions.has(socket),
      upgradesFrom: (name) => this.upgradeRegistry.offers(name),
    });
    this.on("headers", relabelJsonp);
    this.on("connection", (socket: EngineSocket) => {
      if ((socket.request as EngineRequest)._query.j !== undefined) this.jsonpSessions.add(socket);
      this.upgradeRegistry.watch(socket);
      guardSession(socket, settings.maxBufferedBytes);
      releaseHeldPollOnProbe(socket);
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
    const alone = server.listeners("request").length === 0;
    super.attach(server, attachOptions);
    if (alone) answerOtherPaths(server, servedPath(this, attachOptions), server.listeners("request").at(-1));
  }

  override handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const request = prepareRequest(this, req);
    // Set before anything answers, so stock responses (polling, errors) carry it too.
    res.setHeader("X-Content-Type-Options", NOSNIFF);
    // A page cannot abort a JSONP script: one sent on a kept-alive connection that the network
    // dropped silently (a NAT that forgot it) hangs, and holds one of the browser's few
    // connections to this host, for minutes. Kept alive, every idle connection is such a trap
    // after a silent outage, until none is left for the next poll or reattach. Closed after
    // each answer, only the requests in flight during the outage are lost (a new connection
    // for each, the price).
    if (request._query.j !== undefined) res.setHeader("Connection", "close");
    const refused = this.check(request, "http");
    if (refused) {
      // a page outside allowedOrigins gets no CORS header: it must not read the session's answers
      this.refuse(request, res, refused);
      return;
    }
    const { sid, transport } = request._query;
    const resumption = this.resumption;
    if (resumption && sid) {
      const refusedHere = resumption.isReattach(request) ? resumption.refusal(request, "http") : resumption.admit(request, "http");
      if (refusedHere) {
        this.refuseAsStock(request, res, refusedHere);
        return;
      }
      if (resumption.isReattach(request) && sessionOf(this, sid)) {
        resumption.reattachOverHttp(request, res);
        return;
      }
      resumption.watchWrite(request, res);
    }
    if (sid && isStreamingTransport(transport)) {
      const socket = sessionOf(this, sid);
      if (socket && socket.transport.name !== transport) {
        this.upgradeRegistry.handleCandidateRequest(request, res, transport);
        return;
      }
    }
    super.handleRequest(req, res);
  }

  override handleUpgrade(req: IncomingMessage, socket: Duplex, upgradeHead: Buffer): void {
    const request = prepareRequest(this, req);
    let refused = this.check(request, "websocket");
    const resumption = this.resumption;
    if (!refused && resumption && request._query.sid) {
      refused = resumption.isReattach(request) ? resumption.refusal(request, "websocket") : resumption.admit(request, "websocket");
    }
    if (refused) {
      this.emit("connection_error", connectionError(request, refused));
      refuseUpgrade(socket, refused);
      return;
    }
    super.handleUpgrade(req, socket, upgradeHead);
  }

  /** engine.io's id, prefixed with `nodeId` when there is one (affinity.ts). */
  override generateId(req: IncomingMessage): string | PromiseLike<string> {
    const id = super.generateId(req);
    const nodeId = this.settings.nodeId;
    if (nodeId === undefined) return id;
    return typeof id === "string" ? prefixSid(nodeId, id) : Promise.resolve(id).then((random) => prefixSid(nodeId, random));
  }

  /** `Socket#getAvailableUpgrades` asks this (and filters by the `transports` option). */
  override upgrades(name: string): string[] {
    return this.upgradeRegistry.offers(name);
  }

  /**
   * A refusal of a resumable session's request made before engine.io saw it, answered after
   * its middlewares (`use()` and `cors`) as its own refusals are: the page can read why (a
   * reattach refused, a request of a detached session), where without CORS headers it would see
   * only a network error.
   */
  private refuseAsStock(req: EngineRequest, res: ServerResponse, refused: Refusal): void {
    applyMiddlewares(this, req, res, () => {
      if (!res.headersSent && !res.writableEnded) this.refuse(req, res, refused);
    });
  }

  private refuse(req: EngineRequest, res: ServerResponse, refused: Refusal): void {
    this.emit("connection_error", connectionError(req, refused));
    sendRefusal(res, refused);
  }
}
