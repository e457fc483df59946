/** HTTP details every response of the extension shares: nosniff, JSONP's type, other paths. */
import type { IncomingMessage, OutgoingHttpHeaders, Server as HttpServer, ServerResponse } from "node:http";

/** Every response of the extension says exactly what it is and forbids MIME sniffing. */
export const NOSNIFF = "nosniff";

/** `base` with nosniff, for the transports' responses. */
export function withNosniff(base: OutgoingHttpHeaders): OutgoingHttpHeaders {
  return { ...base, "X-Content-Type-Options": NOSNIFF };
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

/**
 * On an HTTP server with no other request listener, answers paths outside `served` with 404:
 * engine.io hands them to the listeners the server had before it attached, and with none such
 * a request would hang (a client given the wrong `path` would wait out its connectTimeout).
 * `engineListener` is engine.io's own; a listener added later answers for itself.
 */
export function answerOtherPaths(server: HttpServer, served: string, engineListener: unknown): void {
  const notFound = (req: IncomingMessage, res: ServerResponse): void => {
    const others = server.listeners("request").filter((listener) => listener !== engineListener && listener !== notFound);
    if (others.length > 0 || res.headersSent || (req.url ?? "").startsWith(served)) return;
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": NOSNIFF });
    res.end(`Not found: engine.io is served at ${served}`);
  };
  server.on("request", notFound);
}
