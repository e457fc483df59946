// @vitest-environment node
/** Refusals answered as engine.io answers them: JSON `{code, message}`, 403 for FORBIDDEN, else 400. */
import type { ServerResponse } from "node:http";
import { PassThrough } from "node:stream";
import { Server as StockServer } from "engine.io";
import { describe, expect, it } from "vitest";
import { ENGINE_ERRORS, connectionError, refusal, refuseUpgrade, sendRefusal } from "../../../src/server/refusal.js";

/** The parts of a ServerResponse sendRefusal uses, recording what it wrote. */
function fakeResponse(headersSent = false) {
  const written = { status: 0, headers: {} as Record<string, unknown>, body: undefined as string | undefined, ended: false };
  const res = {
    headersSent,
    get writableEnded() {
      return written.ended;
    },
    writeHead(status: number, headers: Record<string, unknown>) {
      written.status = status;
      written.headers = headers;
      return res;
    },
    end(body?: string) {
      written.body = body;
      written.ended = true;
    },
  };
  return { res: res as unknown as ServerResponse, written };
}

describe("refusals", () => {
  it("names the codes as engine.io's Server.errors does", () => {
    expect(ENGINE_ERRORS).toEqual(StockServer.errors);
  });

  it("answers with engine.io's message for the code, 403 for FORBIDDEN and 400 for the rest", () => {
    for (const code of Object.values(ENGINE_ERRORS)) {
      const { res, written } = fakeResponse();
      sendRefusal(res, refusal(code, "SOME_CHECK"));
      expect(written.status).toBe(code === ENGINE_ERRORS.FORBIDDEN ? 403 : 400);
      expect(JSON.parse(written.body!)).toEqual({ code, message: StockServer.errorMessages[code] });
      expect(written.headers).toMatchObject({ "Content-Type": "application/json", "X-Content-Type-Options": "nosniff" });
      expect(written.headers["Content-Length"]).toBe(Buffer.byteLength(written.body!));
    }
  });

  it("keeps a message of its own, and only ends a response already under way", () => {
    const own = fakeResponse();
    sendRefusal(own.res, { code: ENGINE_ERRORS.BAD_REQUEST, message: "Bad frame id" });
    expect(JSON.parse(own.written.body!)).toEqual({ code: 3, message: "Bad frame id" });
    const started = fakeResponse(true);
    sendRefusal(started.res, refusal(ENGINE_ERRORS.BAD_REQUEST));
    expect(started.written).toMatchObject({ status: 0, body: undefined, ended: true });
  });

  it("refuses a WebSocket upgrade with a raw HTTP answer, then drops the socket", async () => {
    const socket = new PassThrough();
    let raw = "";
    socket.on("data", (chunk: Buffer) => (raw += chunk.toString()));
    refuseUpgrade(socket, refusal(ENGINE_ERRORS.FORBIDDEN, "ORIGIN_NOT_ALLOWED"));
    expect(socket.destroyed).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(raw).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(raw).toContain("X-Content-Type-Options: nosniff\r\n");
    expect(raw.endsWith('\r\n\r\n{"code":4,"message":"Forbidden"}')).toBe(true);
  });

  it("reports connection_error with engine.io's fields, the check's name in the context", () => {
    const req = {};
    expect(connectionError(req, refusal(ENGINE_ERRORS.BAD_REQUEST, "INVALID_JSONP_INDEX"))).toEqual({
      req,
      code: 3,
      message: "Bad request",
      context: { name: "INVALID_JSONP_INDEX" },
    });
  });
});
