/**
 * Client-to-server for every cometa transport: a POST whose body is an engine.io payload
 * (packets joined by \x1e), handled as engine.io's polling transport handles its POSTs
 * (build/transports/polling.js `onDataRequest`): one POST at a time, binary bodies refused
 * under protocol v4, `maxHttpBufferSize` enforced with 413, answered `ok`.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { type Packet, decodePayload } from "engine.io-parser";
import { withNosniff } from "./http.js";

/**
 * Polling's own answer to a broken POST: a bare status, no engine.io `{code, message}` body
 * (that is for refused handshakes and sessions, src/server/refusal.ts).
 */
const answerBare = (res: ServerResponse, status: 400 | 413): void => void res.writeHead(status, withNosniff({})).end();

export interface UpstreamHost {
  /** Largest accepted body in bytes (the server's `maxHttpBufferSize`). */
  readonly maxBytes: number;
  /** A complete body, as text. */
  onPayload(payload: string): void;
  /** Protocol violation; engine.io closes the session on a transport error. */
  onError(message: string): void;
  /** Final headers for the `ok` answer (adds nosniff, runs the `headers` event). */
  headers(req: IncomingMessage, base: OutgoingHttpHeaders): OutgoingHttpHeaders;
}

export class UpstreamReceiver {
  private active: IncomingMessage | null = null;

  constructor(private readonly host: UpstreamHost) {}

  receive(req: IncomingMessage, res: ServerResponse): void {
    if (this.active) {
      // Same as polling: two POSTs in flight means a broken or hostile client.
      this.host.onError("data request overlap from client");
      answerBare(res, 400);
      return;
    }
    if (req.headers["content-type"] === "application/octet-stream") {
      this.host.onError("invalid content");
      answerBare(res, 400);
      return;
    }
    this.active = req;
    let body = "";
    let length = 0;
    let tooLarge = false;
    const cleanup = (): void => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("close", onClose);
      if (this.active === req) this.active = null;
    };
    const onData = (chunk: string): void => {
      length += Buffer.byteLength(chunk);
      if (length > this.host.maxBytes) {
        tooLarge = true;
        answerBare(res, 413);
        cleanup();
        return;
      }
      body += chunk;
    };
    const onEnd = (): void => {
      cleanup();
      if (tooLarge) return;
      // Answer before dispatching: a `1` (close) in the body tears the transport down.
      res.writeHead(200, this.host.headers(req, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": 2 }));
      res.end("ok");
      this.host.onPayload(body);
    };
    const onClose = (): void => {
      cleanup();
      this.host.onError("data request connection closed prematurely");
    };
    req.setEncoding("utf8");
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("close", onClose);
  }

  /** Drops an in-flight POST (the transport is closing). */
  abort(): void {
    const req = this.active;
    this.active = null;
    req?.destroy();
  }
}

/**
 * Hands a payload's packets to a transport as polling's `onData` does: a `close` packet
 * closes the transport and drops whatever follows it; nothing is dispatched once closed.
 */
export function dispatchPayload(
  payload: string,
  transport: { isClosed(): boolean; onClose(): void; onPacket(packet: Packet): void },
): void {
  for (const packet of decodePayload(payload)) {
    if (transport.isClosed()) return;
    if (packet.type === "close") {
      transport.onClose();
      return;
    }
    transport.onPacket(packet);
  }
}
