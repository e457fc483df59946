// @vitest-environment node
/** The one check HTTP requests and WebSocket upgrades get before engine.io's own. */
import type { Socket as EngineSocket } from "engine.io";
import { describe, expect, it } from "vitest";
import type { EngineRequest } from "../../../src/server/engine-internals.js";
import { compileAllowedOrigins } from "../../../src/server/origin.js";
import { type RequestKind, createRequestCheck } from "../../../src/server/request-check.js";

const PAGE = "https://app.example";

function request(query: Record<string, string>, headers: Record<string, string> = {}, method = "GET"): EngineRequest {
  return { _query: { EIO: "4", ...query }, headers, method } as unknown as EngineRequest;
}

/** Sessions by sid, each on a transport; `jsonp` ones opened with `j`. */
function checkWith(
  sessions: Record<string, { transport: string; jsonp?: boolean }> = {},
  { allowedOrigins = [PAGE] as string[] | null, enabled = ["sse", "xhr-streaming", "iframe", "short-polling"] } = {},
) {
  const sockets = new Map(
    Object.entries(sessions).map(([sid, s]) => [sid, { transport: { name: s.transport }, jsonp: s.jsonp === true }]),
  );
  const check = createRequestCheck(
    { isAllowedOrigin: allowedOrigins !== null ? compileAllowedOrigins(allowedOrigins) : undefined, enabled: new Set(enabled) as never },
    {
      session: (sid) => (sid ? (sockets.get(sid) as unknown as EngineSocket | undefined) : undefined),
      isJsonpSession: (socket) => (socket as unknown as { jsonp: boolean }).jsonp,
      upgradesFrom: (name) => (name === "polling" ? ["websocket", "sse"] : []),
    },
  );
  return (req: EngineRequest, kind: RequestKind) => {
    const refused = check(req, kind);
    return refused && { code: refused.code, name: refused.context?.name };
  };
}

describe.each(["http", "websocket"] as const)("over %s", (kind) => {
  it("refuses a page of another origin with FORBIDDEN, and lets non-browser clients through", () => {
    const check = checkWith();
    expect(check(request({ transport: "polling" }, { origin: "https://evil.example" }), kind)).toEqual({
      code: 4,
      name: "ORIGIN_NOT_ALLOWED",
    });
    expect(check(request({ transport: "polling" }, { origin: PAGE }), kind)).toBeNull();
    expect(check(request({ transport: "polling" }), kind)).toBeNull();
  });

  it("wants the page's word on every request of a JSONP session while it polls", () => {
    const check = checkWith({ s1: { transport: "polling", jsonp: true }, s2: { transport: "polling" } });
    expect(check(request({ transport: "polling", sid: "s1" }), kind)).toEqual({ code: 4, name: "ORIGIN_NOT_ALLOWED" });
    expect(check(request({ transport: "polling", sid: "s1" }, { referer: `${PAGE}/chat` }), kind)).toBeNull();
    expect(check(request({ transport: "polling", sid: "s2" }), kind)).toBeNull();
  });

  it("checks nothing about origins without allowedOrigins", () => {
    const check = checkWith({}, { allowedOrigins: null });
    expect(check(request({ transport: "polling" }, { origin: "https://evil.example" }), kind)).toBeNull();
  });

  it("refuses a JSONP index that is not 1 to 9 digits", () => {
    const check = checkWith({}, { allowedOrigins: null });
    expect(check(request({ transport: "polling", j: "0;alert(1)" }), kind)).toEqual({ code: 3, name: "INVALID_JSONP_INDEX" });
    expect(check(request({ transport: "polling", j: "1234567890" }), kind)).toEqual({ code: 3, name: "INVALID_JSONP_INDEX" });
  });
});

describe("over http", () => {
  it("checks an iframe GET's frame id and origin before any session exists", () => {
    const check = checkWith();
    const headers = { referer: `${PAGE}/` };
    expect(check(request({ transport: "iframe", origin: PAGE, f: "frame_1" }, headers), "http")).toBeNull();
    expect(check(request({ transport: "iframe", origin: PAGE, f: "a b" }, headers), "http")).toEqual({
      code: 3,
      name: "INVALID_IFRAME_REQUEST",
    });
    expect(check(request({ transport: "iframe", origin: "https://other.example", f: "f" }, headers), "http")).toEqual({
      code: 4,
      name: "INVALID_IFRAME_REQUEST",
    });
    // the POSTs carry packets, not a document: no frame parameters needed
    expect(check(request({ transport: "iframe", sid: "x" }, headers, "POST"), "http")).toBeNull();
  });
});

describe("over websocket", () => {
  it("refuses a WebSocket naming one of the extension's transports", () => {
    const check = checkWith();
    for (const transport of ["sse", "xhr-streaming", "iframe", "short-polling"]) {
      expect(check(request({ transport }, { origin: PAGE }), "websocket")).toEqual({ code: 3, name: "TRANSPORT_HANDSHAKE_ERROR" });
    }
  });

  it("refuses an upgrade from a stream, and leaves sessions on engine.io's own transports to engine.io", () => {
    const check = checkWith({ stream: { transport: "sse" }, polled: { transport: "polling" }, upgraded: { transport: "websocket" } });
    expect(check(request({ transport: "websocket", sid: "stream" }), "websocket")).toEqual({ code: 3, name: "UPGRADE_REFUSED" });
    expect(check(request({ transport: "websocket", sid: "polled" }), "websocket")).toBeNull();
    // stock engine.io accepts a second WebSocket for an upgraded session and closes it
    expect(check(request({ transport: "websocket", sid: "upgraded" }), "websocket")).toBeNull();
    expect(check(request({ transport: "websocket", sid: "unknown" }), "websocket")).toBeNull();
  });
});
