/**
 * `short-polling`: every GET is answered at once, with the queued payload or a noop (`6`), for
 * networks that cut held requests. The client polls on its own interval. POSTs as polling.
 */
import type { ServerResponse } from "node:http";
import { type Packet, encodePayload } from "engine.io-parser";
import { type EngineRequest, EngineTransportBase } from "../engine-internals.js";
import { sendEngineError, transportHeaders } from "../http.js";
import { UpstreamReceiver, dispatchPayload } from "../upstream.js";

export interface ShortPollingSettings {
  readonly maxHttpBufferSize: number;
  /** How long an orderly close waits for the next GET to carry `1` (engine.io polling: 30 s). */
  readonly closeTimeout: number;
}

export const SHORT_POLLING = "short-polling";

export class ShortPollingTransport extends EngineTransportBase {
  /** The GET being answered; only set while its `ready` event runs (answers are synchronous). */
  private poll: { req: EngineRequest; res: ServerResponse } | null = null;
  /** Packets sent with no GET to carry them (engine.io checks `writable`, so defensive only). */
  private pending: Packet[] = [];
  private pendingClose: (() => void) | null = null;
  private closeTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly upstream: UpstreamReceiver;

  constructor(
    req: EngineRequest,
    private readonly settings: ShortPollingSettings,
  ) {
    super(req);
    this.upstream = new UpstreamReceiver({
      maxBytes: settings.maxHttpBufferSize,
      onPayload: (payload) => this.onPayload(payload),
      onError: (message) => this.onError(message),
      headers: (request, base) => transportHeaders(this, request, base),
    });
  }

  get name(): string {
    return SHORT_POLLING;
  }

  override onRequest(req: EngineRequest): void {
    const res = req.res;
    req.res = null;
    if (!res) return;
    if (req.method === "GET") this.answerPoll(req, res);
    else if (req.method === "POST") this.upstream.receive(req, res);
    else sendEngineError(res, 3);
  }

  override send(packets: Packet[]): void {
    if (!this.poll) {
      this.pending.push(...packets);
      return;
    }
    this.respond(packets);
  }

  override doClose(fn?: () => void): void {
    this.upstream.abort();
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      fn?.();
      this.onClose();
    };
    if (this.discarded) {
      finish();
    } else {
      // No GET is ever held: the `1` goes out with the next poll (or the timer gives up).
      this.pendingClose = finish;
      this.closeTimer = setTimeout(finish, this.settings.closeTimeout);
    }
  }

  protected override onClose(): void {
    if (this.readyState === "closed") return;
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = null;
    this.pendingClose = null;
    super.onClose();
  }

  private answerPoll(req: EngineRequest, res: ServerResponse): void {
    // "closing" still takes a GET: it carries the orderly `1` (see doClose).
    if (this.readyState === "closed") {
      sendEngineError(res, 3);
      return;
    }
    this.poll = { req, res };
    if (this.pending.length > 0) {
      const pending = this.pending;
      this.pending = [];
      this.respond(pending);
      return;
    }
    this.writable = true;
    // The socket flushes its buffer into send() synchronously, if it has anything.
    this.emit("ready");
    if (this.poll) this.respond(this.pendingClose ? [] : [{ type: "noop" }]);
  }

  private respond(packets: Packet[]): void {
    const poll = this.poll;
    if (!poll) return;
    this.poll = null;
    this.writable = false;
    const close = this.pendingClose;
    const all = close ? [...packets, { type: "close" } as Packet] : packets;
    encodePayload(all, (payload) => {
      poll.res.writeHead(
        200,
        transportHeaders(this, poll.req, {
          "Content-Type": "text/plain; charset=utf-8",
          "Content-Length": Buffer.byteLength(payload),
          "Cache-Control": "no-store",
        }),
      );
      poll.res.end(payload);
    });
    this.emit("drain");
    close?.();
  }

  private onPayload(payload: string): void {
    dispatchPayload(payload, {
      isClosed: () => this.readyState === "closed",
      onClose: () => this.onClose(),
      onPacket: (packet) => this.onPacket(packet),
    });
  }
}
