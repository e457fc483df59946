/**
 * The one shape of a refused request, and how it is answered: engine.io's JSON body
 * `{code, message}` over HTTP (403 for FORBIDDEN, else 400), the same as a raw response on a
 * WebSocket upgrade, and engine.io's `connection_error` event with its own fields.
 */
import type { ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { ENGINE_ERRORS, type EngineErrorCode, type ErrorContext, engineErrorMessage } from "./engine-internals.js";
import { NOSNIFF } from "./http.js";

export { ENGINE_ERRORS };

export interface Refusal {
  readonly code: EngineErrorCode;
  /** The body's `message`; engine.io's message for the code when absent. */
  readonly message?: string;
  /** `connection_error`'s `context` (its `name` says which check refused). */
  readonly context?: ErrorContext;
}

/** A refusal with engine.io's message, named by the check that made it. */
export function refusal(code: EngineErrorCode, name?: string, extra: ErrorContext = {}): Refusal {
  return name === undefined ? { code } : { code, context: { ...extra, name } };
}

const statusOf = (code: EngineErrorCode): number => (code === ENGINE_ERRORS.FORBIDDEN ? 403 : 400);
const bodyOf = (refused: Refusal): string =>
  JSON.stringify({ code: refused.code, message: refused.message ?? engineErrorMessage(refused.code) });

/** Answers an HTTP request; a response already under way is only ended. */
export function sendRefusal(res: ServerResponse, refused: Refusal): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const body = bodyOf(refused);
  res.writeHead(statusOf(refused.code), {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
    "X-Content-Type-Options": NOSNIFF,
  });
  res.end(body);
}

/** Answers an HTTP Upgrade (WebSocket) request on its raw socket, then drops the socket. */
export function refuseUpgrade(socket: Duplex, refused: Refusal): void {
  socket.on("error", () => {
    // The peer may already be gone; nothing to report.
  });
  if (socket.writable) {
    const body = bodyOf(refused);
    socket.write(
      `HTTP/1.1 ${refused.code === ENGINE_ERRORS.FORBIDDEN ? "403 Forbidden" : "400 Bad Request"}\r\n` +
        "Connection: close\r\n" +
        "Content-Type: application/json\r\n" +
        `X-Content-Type-Options: ${NOSNIFF}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** engine.io's `connection_error` event fields for a refusal. */
export function connectionError(req: unknown, refused: Refusal) {
  return {
    req,
    code: refused.code,
    message: refused.message ?? engineErrorMessage(refused.code),
    context: refused.context,
  };
}
