/**
 * Upgrades: which transports a session may move to, and the one registry of the candidate each
 * session is probing, whether engine.io probes it (WebSocket) or this extension does (a stream).
 *
 * engine.io routes a request naming another transport than its session's only when it is an
 * HTTP Upgrade; a stream candidate's requests (its GET, its POSTs `2probe` and `5`, its reopen
 * GETs) come here until the upgrade completes, after which it is the session's transport and
 * engine.io routes them itself.
 */
import type { ServerResponse } from "node:http";
import {
  ENGINE_ERRORS,
  type EngineRequest,
  type EngineSocket,
  type EngineTransport,
  type VerifyCallback,
  abandonUpgrade,
  beginUpgrade,
  isUpgrading,
  isUpgradingOrUpgraded,
  watchUpgrades,
} from "./engine-internals.js";
import { SHORT_POLLING } from "./transports/short-polling.js";
import { type StreamingTransportName, STREAMING_TRANSPORTS, isExtensionTransport } from "./options.js";
import { type Refusal, refusal } from "./refusal.js";
import { streamOf } from "./transports/streaming.js";

export interface UpgradesHost {
  /** Extension transports enabled on this server. */
  readonly enabled: ReadonlySet<string>;
  /** engine.io's own upgrades from one of its transports (`allowUpgrades` applied). */
  stockUpgrades(name: string): string[];
  /** Whether engine.io upgrades at all (`allowUpgrades`). */
  allowsUpgrades(): boolean;
  session(sid: string | undefined): EngineSocket | undefined;
  /** engine.io's middlewares, then its checks for an upgrade request. */
  verify(req: EngineRequest, res: ServerResponse, callback: VerifyCallback): void;
  /** Builds a transport as engine.io's handshake would (throws on a bad request). */
  createTransport(name: string, req: EngineRequest): EngineTransport;
  /** Answers a refused request (and reports it as engine.io's `connection_error`). */
  refuse(req: EngineRequest, res: ServerResponse, refused: Refusal): void;
  /** Forwards a candidate's `headers` event to the server's, as handshake does for the first transport. */
  forwardHeaders(transport: EngineTransport): void;
}

interface Candidate {
  readonly transport: EngineTransport;
  /** Who drives its probe: engine.io's own WebSocket path, or this registry (a stream). */
  readonly by: "engine.io" | "stream";
}

export class Upgrades {
  private readonly candidates = new WeakMap<EngineSocket, Candidate>();

  constructor(private readonly host: UpgradesHost) {}

  /**
   * (short-)polling upgrades to engine.io's own list plus the streaming transports; a stream
   * does not upgrade further (it cannot be paused the way a poll can, so a later switch would
   * race packets still in the old stream against the new transport).
   */
  offers(name: string): string[] {
    if (!this.host.allowsUpgrades()) return [];
    if (name === "polling" || name === SHORT_POLLING) {
      return [...this.host.stockUpgrades("polling"), ...STREAMING_TRANSPORTS.filter((n) => this.host.enabled.has(n))];
    }
    if (isExtensionTransport(name)) return [];
    return this.host.stockUpgrades(name);
  }

  /** Registers the candidates engine.io's own upgrade path probes on a new session. */
  watch(socket: EngineSocket): void {
    watchUpgrades(socket, (candidate) => {
      // a stream is tracked before it is handed to engine.io's upgrade path
      if (this.candidates.get(socket)?.transport !== candidate) this.track(socket, { transport: candidate, by: "engine.io" });
    });
  }

  /** A request naming a streaming transport other than its session's. */
  handleCandidateRequest(req: EngineRequest, res: ServerResponse, name: StreamingTransportName): void {
    this.host.verify(req, res, (code, context) => {
      if (code !== undefined) {
        this.host.refuse(req, res, { code, context });
        return;
      }
      const socket = this.host.session(req._query.sid);
      if (!socket) {
        this.host.refuse(req, res, refusal(ENGINE_ERRORS.UNKNOWN_SID));
        return;
      }
      req.res = res;
      const current = this.candidates.get(socket);
      if (current?.by === "stream" && current.transport.name === name) {
        current.transport.onRequest(req);
        return;
      }
      if (req.method === "GET") this.giveUp(socket, current);
      if (
        req.method !== "GET" ||
        this.candidates.has(socket) ||
        socket.readyState !== "open" ||
        isUpgradingOrUpgraded(socket) ||
        !socket.transport ||
        !this.offers(socket.transport.name).includes(name) ||
        !this.host.enabled.has(name)
      ) {
        this.host.refuse(req, res, refusal(ENGINE_ERRORS.BAD_REQUEST, "UPGRADE_REFUSED"));
        return;
      }
      let transport: EngineTransport;
      try {
        transport = this.host.createTransport(name, req);
      } catch (error) {
        this.host.refuse(req, res, refusal(ENGINE_ERRORS.BAD_REQUEST, "TRANSPORT_HANDSHAKE_ERROR", { error }));
        return;
      }
      const stream = streamOf(transport);
      if (!stream) {
        this.host.refuse(req, res, refusal(ENGINE_ERRORS.BAD_REQUEST, "UPGRADE_REFUSED"));
        return;
      }
      stream.markAsCandidate();
      this.host.forwardHeaders(transport);
      this.track(socket, { transport, by: "stream" });
      beginUpgrade(socket, transport);
      transport.onRequest(req);
    });
  }

  /** Gives up the candidate `socket` is probing, if any (a resumable session changes transport). */
  cancel(socket: EngineSocket): void {
    this.giveUp(socket, this.candidates.get(socket));
  }

  /**
   * A client probes one candidate at a time: a GET for another stream means it gave the current
   * one up (its probe timed out), possibly before the dropped connection reached us. Ending it
   * runs engine.io's upgrade cleanup, so the new candidate is not refused.
   */
  private giveUp(socket: EngineSocket, candidate: Candidate | undefined): void {
    if (!candidate) return;
    if (candidate.by === "engine.io") {
      // a WebSocket a proxy let open, then silenced: its TCP close may take its time to reach us
      if (isUpgrading(socket) && socket.transport !== candidate.transport) abandonUpgrade(candidate.transport);
    } else if (candidate.transport.readyState === "open") {
      candidate.transport.close();
    }
    this.forget(socket, candidate);
  }

  /** Keeps `candidate` until it wins (the session's `upgrade`) or fails (its `close`). */
  private track(socket: EngineSocket, candidate: Candidate): void {
    this.candidates.set(socket, candidate);
    const done = (): void => {
      candidate.transport.off("close", done);
      socket.off("upgrade", onUpgrade);
      socket.off("close", done);
      this.forget(socket, candidate);
    };
    const onUpgrade = (transport: EngineTransport): void => {
      if (transport === candidate.transport) streamOf(transport)?.adopt();
      done();
    };
    candidate.transport.once("close", done);
    socket.once("upgrade", onUpgrade);
    socket.once("close", done);
  }

  private forget(socket: EngineSocket, candidate: Candidate): void {
    if (this.candidates.get(socket) === candidate) this.candidates.delete(socket);
  }
}
