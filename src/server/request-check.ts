/**
 * The checks every request gets before engine.io's own, HTTP and WebSocket alike: the page's
 * origin, JSONP's callback index, the forever-frame's parameters, and which transports a
 * WebSocket may upgrade (docs/wire.md, "Cross-site refusal").
 */
import { reattachParam } from "../wire.js";
import { ENGINE_ERRORS, type EngineRequest, type EngineSocket } from "./engine-internals.js";
import { type ResolvedOptions, isExtensionTransport } from "./options.js";
import { isRequestFromAllowedSite } from "./origin.js";
import { type Refusal, refusal } from "./refusal.js";
import { validateIframeRequest } from "./transports/iframe.js";

/** JSONP's callback index is interpolated into JavaScript: digits only. */
const JSONP_INDEX = /^\d{1,9}$/;

export type RequestKind = "http" | "websocket";

export interface RequestCheckHost {
  session(sid: string | undefined): EngineSocket | undefined;
  /** Sessions opened on JSONP: their polls answer with script, so every request needs proof. */
  isJsonpSession(socket: EngineSocket): boolean;
  /** The upgrades a session on `name` may make. */
  upgradesFrom(name: string): readonly string[];
}

export type RequestCheck = (req: EngineRequest, kind: RequestKind) => Refusal | null;

export function createRequestCheck(
  settings: Pick<ResolvedOptions, "isAllowedOrigin" | "enabled">,
  host: RequestCheckHost,
): RequestCheck {
  /**
   * JSONP and the forever-frame exist for browsers only, and their answers are the ones a
   * cross-site page can use without CORS (a script runs, a frame posts): a request of theirs
   * that says nothing about its page is refused rather than taken for a non-browser client.
   * A JSONP session's polls stay JSONP (script) even when a request leaves `j` out.
   */
  const isBrowserOnly = (req: EngineRequest): boolean => {
    const { j, sid, transport } = req._query;
    if (j !== undefined || transport === "iframe") return true;
    const session = host.session(sid);
    return session !== undefined && host.isJsonpSession(session) && session.transport.name === "polling";
  };

  return (req, kind) => {
    const isAllowed = settings.isAllowedOrigin;
    if (isAllowed && !isRequestFromAllowedSite(req.headers, isAllowed, { browserOnly: isBrowserOnly(req) })) {
      return refusal(ENGINE_ERRORS.FORBIDDEN, "ORIGIN_NOT_ALLOWED");
    }
    const { j, sid, transport } = req._query;
    if (j !== undefined && !JSONP_INDEX.test(j)) return refusal(ENGINE_ERRORS.BAD_REQUEST, "INVALID_JSONP_INDEX");
    if (kind === "http") {
      // Before the handshake creates a session that the document could then not carry.
      if (transport === "iframe" && req.method === "GET" && isAllowed && settings.enabled.has("iframe")) {
        const refused = validateIframeRequest(req, isAllowed);
        if (refused) return refusal(refused.code, "INVALID_IFRAME_REQUEST");
      }
      return null;
    }
    // engine.io would build any transport named in the query around the WebSocket: only its own.
    if (isExtensionTransport(transport)) return refusal(ENGINE_ERRORS.BAD_REQUEST, "TRANSPORT_HANDSHAKE_ERROR");
    // A reattach replaces whatever transport the session had (resume.ts judges it).
    if (sid && req._query[reattachParam] !== undefined) return null;
    // A stream does not upgrade (see Upgrades.offers); sessions on engine.io's own transports
    // are engine.io's to answer, as stock engine.io does (an upgraded one: accepted, then closed).
    const session = host.session(sid);
    if (session && isExtensionTransport(session.transport.name) && !host.upgradesFrom(session.transport.name).includes(transport ?? "")) {
      return refusal(ENGINE_ERRORS.BAD_REQUEST, "UPGRADE_REFUSED");
    }
    return null;
  };
}
