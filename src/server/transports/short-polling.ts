/**
 * `short-polling`: every GET is answered at once, with the queued payload or a noop (`6`), for
 * networks that cut held requests. The client polls on its own interval. POSTs as polling.
 *
 * No GET is held, so a second reader's GET between the client's polls would not overlap
 * anything: each answer therefore starts with `6k<token>`, and only a GET that sends that token
 * back (`k=<token>`) gets the next answer. Tokens are single-use; any other GET is refused
 * and ends the session, as an overlapping poll does. (src/wire.ts spells the token.)
 */
import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { type Packet, encodePayload } from "engine.io-parser";
import { pollTokenPacket, pollTokenParam } from "../../wire.js";
import { ENGINE_ERRORS, type EngineRequest, type TransportAdapter, type TransportHost } from "../engine-internals.js";
import { withNosniff } from "../http.js";
import { sendRefusal } from "../refusal.js";
import {
  type Downstream,
  type HttpTransportParts,
  type HttpTransportSettings,
  type OrderlyClose,
  createHttpTransport,
} from "./http-transport.js";

export type ShortPollingSettings = HttpTransportSettings;

export const SHORT_POLLING = "short-polling";

export type ShortPollingTransport = TransportAdapter<HttpTransportParts<ShortPollDownstream>>;

export function createShortPollingTransport(req: EngineRequest, settings: ShortPollingSettings): ShortPollingTransport {
  return createHttpTransport(req, SHORT_POLLING, settings, (host, close) => new ShortPollDownstream(host, close));
}

export class ShortPollDownstream implements Downstream {
  /** The GET being answered; only set while its `ready` event runs (answers are synchronous). */
  private poll: { req: EngineRequest; res: ServerResponse } | null = null;
  /** Packets sent with no GET to carry them (engine.io checks `writable`, so defensive only). */
  private pending: Packet[] = [];
  /**
   * The token the next GET must carry; null until the first answer (the handshake's GET, which
   * has no sid, so nobody but its sender can have made it).
   */
  private token: string | null = null;

  constructor(
    private readonly host: TransportHost,
    private readonly orderlyClose: OrderlyClose,
  ) {}

  send(packets: Packet[]): void {
    if (!this.poll) {
      this.pending.push(...packets);
      return;
    }
    this.respond(packets);
  }

  /** No GET is ever held: the `1` goes out with the next poll (or the timer gives up). */
  closeNow(): boolean {
    return false;
  }

  release(): void {
    this.pending = [];
  }

  /**
   * A GET takes what is queued. Its client polls one GET at a time, the next only after the
   * last answer arrived, with that answer's token: a GET that overlaps an answer still on its
   * way cannot carry it, and is answered as engine.io answers an overlapping poll (400, and the
   * session ends).
   */
  onGet(req: EngineRequest, res: ServerResponse): void {
    // "closing" still takes a GET: it carries the orderly `1` (see OrderlyClose).
    if (this.host.readyState === "closed") {
      sendRefusal(res, { code: ENGINE_ERRORS.BAD_REQUEST });
      return;
    }
    // A GET without the token of the last answer is not from the session's client (or that
    // client lost an answer, and with it maybe packets): end the session rather than hand the
    // queue to whoever knows the sid. A retry with the used token is refused too: the sid and
    // that token sit in the same URL, so accepting it would serve whoever saw that URL.
    if (this.token !== null && req._query[pollTokenParam] !== this.token) {
      sendRefusal(res, { code: ENGINE_ERRORS.BAD_REQUEST });
      this.host.fail("poll token mismatch");
      return;
    }
    this.poll = { req, res };
    if (this.pending.length > 0) {
      const pending = this.pending;
      this.pending = [];
      this.respond(pending);
      return;
    }
    this.host.writable = true;
    // The socket flushes its buffer into send() synchronously, if it has anything.
    this.host.ready();
    // The token packet is itself a noop: an empty answer needs nothing more.
    if (this.poll) this.respond([]);
  }

  private respond(packets: Packet[]): void {
    const poll = this.poll;
    if (!poll) return;
    this.poll = null;
    this.host.writable = false;
    const closing = this.orderlyClose.waiting;
    // Single-use: the next GET needs the token of this answer.
    this.token = randomBytes(16).toString("base64url");
    const all: Packet[] = [pollTokenPacket(this.token), ...packets];
    if (closing) all.push({ type: "close" });
    encodePayload(all, (payload) => {
      poll.res.writeHead(
        200,
        this.host.headers(
          poll.req,
          withNosniff({
            "Content-Type": "text/plain; charset=utf-8",
            "Content-Length": Buffer.byteLength(payload),
            "Cache-Control": "no-store",
          }),
        ),
      );
      poll.res.end(payload);
    });
    this.host.drained();
    if (closing) this.orderlyClose.finish();
  }
}
