/**
 * The upstream part every HTTP transport shares: packets POSTed as `\x1e`-joined payloads no
 * larger than the server's maxPayload, one request at a time, in order.
 */
import { EncodingError } from "../errors.js";
import { encodeTextPacket, type Packet, separator, utf8Length } from "../protocol.js";
import type { TransportContext } from "../transport.js";
import { type Abort, type HttpCallback, httpRequest } from "./http.js";
import type { Report, Upstream } from "./machine.js";

/** How many bytes encoded packets take in a POST body, which is what the server's maxPayload counts. */
export interface BodySize {
  /** Bytes of one encoded packet. */
  packet(text: string): number;
  /** Bytes between two packets. */
  _separator: number;
  /** Bytes of the body besides the packets. */
  _overhead: number;
  /** The most bytes one UTF-16 code unit of a payload can take, separators included. */
  _perChar: number;
}

/** A plain text payload: packets joined by U+001E, in UTF-8. */
export const textBody: BodySize = { packet: utf8Length, _separator: 1, _overhead: 0, _perChar: 3 };

/**
 * Encodes packets into payloads of at most `maxPayload` bytes. A packet larger than that on
 * its own travels alone, and the server's refusal of it is reported like any failed request.
 */
export function splitPayloads(packets: readonly Packet[], maxPayload: number, body: BodySize = textBody): string[] {
  const texts = packets.map(encodeTextPacket);
  const whole = texts.join(separator);
  // fits even if every character took its largest size: nothing to count, the usual case
  if (whole && body._overhead + body._perChar * whole.length <= maxPayload) return [whole];
  const payloads: string[] = [];
  let batch: string[] = [];
  let size = 0;
  for (const text of texts) {
    const length = body.packet(text);
    if (batch.length > 0 && size + body._separator + length > maxPayload) {
      payloads.push(batch.join(separator));
      batch = [];
    }
    size = batch.length > 0 ? size + body._separator + length : body._overhead + length;
    batch.push(text);
  }
  if (batch.length > 0) payloads.push(batch.join(separator));
  return payloads;
}

/** Sends one payload upstream; calls back once it was accepted. */
export type PostPayload = (context: TransportContext, payload: string, callback: HttpCallback) => Abort;

/** The usual upstream: a POST with the payload as its text body, answered `ok`. */
export const postText =
  (wireName: string): PostPayload =>
  (context, payload, callback) =>
    httpRequest(context, wireName, { method: "POST", url: context.url("http", wireName, timestamp(context)), body: payload }, callback);

/** A cache-busting `t` parameter, unique per request within this context. */
export function timestamp(context: TransportContext, extra?: Record<string, string>): Record<string, string> | undefined {
  if (!context.options.timestampRequests) return extra;
  return { ...extra, t: randomId(context) };
}

/** A short id, unique enough to bust caches and to tell frames and callbacks apart. */
export function randomId(context: TransportContext): string {
  return (context.env.now() * 1000 + Math.floor(context.env.random() * 1000)).toString(36);
}

/**
 * The upstream part every HTTP transport shares: each `send` POSTed as payloads, one request
 * at a time, in order; `sent` once the last is answered, `end` with the error at the first refusal.
 */
export function createHttpWriter(
  context: TransportContext,
  report: Pick<Report, "sent" | "end">,
  post: PostPayload,
  body: BodySize = textBody,
  confirms = true,
): Upstream {
  let abort: Abort | undefined;
  let busy = false;
  const stop = () => {
    if (abort) abort();
    abort = undefined;
    busy = false;
  };

  const postFrom = (payloads: string[], index: number) => {
    abort = undefined;
    if (index === payloads.length) {
      busy = false;
      return report.sent();
    }
    abort = post(context, payloads[index]!, (error) => {
      if (!error) return postFrom(payloads, index + 1);
      busy = false;
      abort = undefined;
      report.end(error);
    });
  };

  return {
    get busy() {
      return busy;
    },
    _confirms: confirms,
    send(packets) {
      busy = true;
      let payloads;
      try {
        payloads = splitPayloads(packets, context.session.maxPayload, body);
      } catch (cause) {
        busy = false;
        // a typed failure and a close, never a throw out of the caller's `send`
        return report.end(new EncodingError("could not encode a message to send", { cause }));
      }
      postFrom(payloads, 0);
    },
    stop,
  };
}
