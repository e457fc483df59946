/** Small HTTP helpers shared by the server and the transports: headers and error bodies. */
import type { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { type EngineErrorCode, engineErrorMessage } from "./engine-internals.js";

/** Every response of the extension says exactly what it is and forbids MIME sniffing. */
export const NOSNIFF = "nosniff";

/**
 * Final headers for a response of `transport`: `base` plus nosniff, then the transport's
 * `headers` event, through which engine.io adds cookies and emits the server's
 * `headers` / `initial_headers` events (so user hooks see our responses too).
 */
export function transportHeaders(
  transport: EventEmitter,
  req: IncomingMessage,
  base: OutgoingHttpHeaders,
): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = { ...base, "X-Content-Type-Options": NOSNIFF };
  transport.emit("headers", headers, req);
  return headers;
}

/** engine.io's error response: `{code, message}` as JSON, 403 for FORBIDDEN, else 400. */
export function sendEngineError(res: ServerResponse, code: EngineErrorCode, message?: string): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  const body = JSON.stringify({ code, message: message ?? engineErrorMessage(code) });
  res.writeHead(code === 4 ? 403 : 400, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
    "X-Content-Type-Options": NOSNIFF,
  });
  res.end(body);
}

/** The same error for an HTTP Upgrade (WebSocket) request: raw response, then the socket dies. */
export function abortUpgrade(socket: Duplex, code: EngineErrorCode, message?: string): void {
  socket.on("error", () => {
    // The peer may already be gone; nothing to report.
  });
  if (socket.writable) {
    const body = JSON.stringify({ code, message: message ?? engineErrorMessage(code) });
    socket.write(
      `HTTP/1.1 ${code === 4 ? "403 Forbidden" : "400 Bad Request"}\r\n` +
        "Connection: close\r\n" +
        "Content-Type: application/json\r\n" +
        "X-Content-Type-Options: nosniff\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/**
 * Stock JSONP answers its `<script>` GETs as text/plain; with nosniff (which we add to every
 * response) browsers refuse to run that, so JSONP GETs are relabelled as JavaScript.
 * Listens to the server's `headers` event (fed by each transport's `headers`).
 */
export function relabelJsonp(headers: OutgoingHttpHeaders, req: IncomingMessage & { _query?: Record<string, string | undefined> }): void {
  if (req.method !== "GET" || typeof req._query?.j !== "string") return;
  const type = headers["Content-Type"];
  if (typeof type === "string" && type.startsWith("text/plain")) {
    headers["Content-Type"] = "text/javascript; charset=utf-8";
  }
}
