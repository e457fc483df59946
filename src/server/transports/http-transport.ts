/**
 * The extension's HTTP transports (short polling and the streams), composed: POSTs carry
 * packets up as polling's do (upstream.ts), GETs carry them down the downstream's way, and an
 * orderly close sends `1` on a response, now if one can carry it, else with the next GET (as
 * stock polling does), giving up after `closeTimeout`.
 */
import type { ServerResponse } from "node:http";
import type { Packet } from "engine.io-parser";
import {
  ENGINE_ERRORS,
  type EngineRequest,
  TransportAdapter,
  type TransportHost,
  type TransportParts,
} from "../engine-internals.js";
import { withNosniff } from "../http.js";
import { sendRefusal } from "../refusal.js";
import { UpstreamReceiver, dispatchPayload } from "../upstream.js";

export interface HttpTransportSettings {
  /** Largest POST body accepted (engine.io's `maxHttpBufferSize`). */
  readonly maxHttpBufferSize: number;
  /** How long an orderly close waits for a GET to carry `1` (engine.io polling: 30 s). */
  readonly closeTimeout: number;
}

/**
 * An orderly close waiting for a GET to carry the `1` packet (stock polling's `shouldClose`).
 * The downstream asks {@link waiting} when it answers and calls {@link finish} once `1` went out.
 */
export class OrderlyClose {
  private done: (() => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  get waiting(): boolean {
    return this.done !== null;
  }

  /** Waits for {@link finish} at most `timeout` ms. */
  wait(done: () => void, timeout: number): void {
    this.done = done;
    this.timer = setTimeout(() => this.finish(), timeout);
  }

  finish(): void {
    const done = this.done;
    this.cancel();
    done?.();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.done = null;
  }
}

/** The GET side of an HTTP transport. */
export interface Downstream {
  send(packets: Packet[]): void;
  /** A GET: this transport's way down. */
  onGet(req: EngineRequest, res: ServerResponse): void;
  /** Writes `1` now if a response can carry it and says so; false to wait for the next GET. */
  closeNow(): boolean;
  /** The transport closed: drop what is held. */
  release(): void;
}

/** The HTTP transport `name`, its GETs served by the downstream `build` makes. */
export function createHttpTransport<D extends Downstream>(
  req: EngineRequest,
  name: string,
  settings: HttpTransportSettings,
  build: (host: TransportHost, close: OrderlyClose) => D,
): TransportAdapter<HttpTransportParts<D>> {
  return new TransportAdapter(req, name, (host) => new HttpTransportParts(host, settings, build));
}

export class HttpTransportParts<D extends Downstream> implements TransportParts {
  readonly downstream: D;
  private readonly orderlyClose = new OrderlyClose();
  private readonly upstream: UpstreamReceiver;

  constructor(
    private readonly host: TransportHost,
    private readonly settings: HttpTransportSettings,
    build: (host: TransportHost, close: OrderlyClose) => D,
  ) {
    this.downstream = build(host, this.orderlyClose);
    this.upstream = new UpstreamReceiver({
      maxBytes: settings.maxHttpBufferSize,
      onPayload: (payload) =>
        dispatchPayload(payload, {
          isClosed: () => host.readyState === "closed",
          onClose: () => host.closed(),
          onPacket: (packet) => host.receive(packet),
        }),
      onError: (message) => host.fail(message),
      headers: (request, base) => host.headers(request, withNosniff(base)),
    });
  }

  send(packets: Packet[]): void {
    this.downstream.send(packets);
  }

  onRequest(req: EngineRequest, res: ServerResponse): void {
    if (req.method === "GET") this.downstream.onGet(req, res);
    else if (req.method === "POST") this.upstream.receive(req, res);
    else sendRefusal(res, { code: ENGINE_ERRORS.BAD_REQUEST });
  }

  close(done: () => void): void {
    this.upstream.abort();
    if (this.downstream.closeNow() || this.host.discarded) done();
    else this.orderlyClose.wait(done, this.settings.closeTimeout);
  }

  release(): void {
    this.orderlyClose.cancel();
    this.downstream.release();
  }
}
