/**
 * What the extension's HTTP transports share (short polling and the streams): POSTs carry
 * packets up as polling's do, GETs carry them down their own way, and an orderly close sends
 * `1` on a response, now if one can carry it, else with the next GET (as stock polling does).
 */
import type { ServerResponse } from "node:http";
import { type EngineRequest, EngineTransportBase } from "../engine-internals.js";
import { sendEngineError, transportHeaders } from "../http.js";
import { UpstreamReceiver, dispatchPayload } from "../upstream.js";

export interface HttpTransportSettings {
  /** Largest POST body accepted (engine.io's `maxHttpBufferSize`). */
  readonly maxHttpBufferSize: number;
  /** How long an orderly close waits for a GET to carry `1` (engine.io polling: 30 s). */
  readonly closeTimeout: number;
}

export abstract class HttpTransport extends EngineTransportBase {
  /** An orderly close waiting for a GET to carry the `1` packet (as polling's shouldClose). */
  protected pendingClose: (() => void) | null = null;
  private closeTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly upstream: UpstreamReceiver;

  constructor(
    req: EngineRequest,
    private readonly httpSettings: HttpTransportSettings,
  ) {
    super(req);
    this.upstream = new UpstreamReceiver({
      maxBytes: httpSettings.maxHttpBufferSize,
      onPayload: (payload) =>
        dispatchPayload(payload, {
          isClosed: () => this.readyState === "closed",
          onClose: () => this.onClose(),
          onPacket: (packet) => this.onPacket(packet),
        }),
      onError: (message) => this.onError(message),
      headers: (request, base) => transportHeaders(this, request, base),
    });
  }

  /** A GET: this transport's way down. */
  protected abstract onGet(req: EngineRequest, res: ServerResponse): void;

  /** Writes `1` now if a response can carry it and says so; false to wait for the next GET. */
  protected abstract closeNow(): boolean;

  override onRequest(req: EngineRequest): void {
    const res = req.res;
    // engine.io keeps the handshake request for the session's lifetime: drop its response.
    req.res = null;
    if (!res) return;
    if (req.method === "GET") this.onGet(req, res);
    else if (req.method === "POST") this.upstream.receive(req, res);
    else sendEngineError(res, 3);
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
    if (this.closeNow() || this.discarded) finish();
    else {
      this.pendingClose = finish;
      this.closeTimer = setTimeout(finish, this.httpSettings.closeTimeout);
    }
  }

  protected override onClose(): void {
    if (this.readyState === "closed") return;
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = null;
    this.pendingClose = null;
    super.onClose();
  }
}
