/**
 * The upstream half every HTTP transport shares: packets POSTed as `\x1e`-joined payloads no
 * larger than the server's maxPayload, one request at a time, in order.
 */
import { EncodingError } from "../errors.js";
import { encodeTextPacket, type Packet, separator, utf8Length } from "../protocol.js";
import type { TransportContext } from "../transport.js";
import { type Abort, type HttpCallback, httpRequest } from "./http.js";
import type { Lifecycle } from "./lifecycle.js";

/** How many bytes encoded packets take in a POST body, which is what the server's maxPayload counts. */
export interface BodySize {
  /** Bytes of one encoded packet. */
  packet(text: string): number;
  /** Bytes between two packets. */
  separator: number;
  /** Bytes of the body besides the packets. */
  overhead: number;
  /** The most bytes one UTF-16 code unit of a payload can take, separators included. */
  perChar: number;
}

/** A plain text payload: packets joined by U+001E, in UTF-8. */
export const textBody: BodySize = { packet: utf8Length, separator: 1, overhead: 0, perChar: 3 };

/**
 * Encodes packets into payloads of at most `maxPayload` bytes. A packet larger than that on
 * its own travels alone, and the server's refusal of it is reported like any failed request.
 */
export function splitPayloads(packets: readonly Packet[], maxPayload: number, body: BodySize = textBody): string[] {
  const texts = packets.map(encodeTextPacket);
  const whole = texts.join(separator);
  // fits even if every character took its largest size: nothing to count, the usual case
  if (whole && body.overhead + body.perChar * whole.length <= maxPayload) return [whole];
  const payloads: string[] = [];
  let batch: string[] = [];
  let size = 0;
  for (const text of texts) {
    const length = body.packet(text);
    if (batch.length > 0 && size + body.separator + length > maxPayload) {
      payloads.push(batch.join(separator));
      batch = [];
    }
    size = batch.length > 0 ? size + body.separator + length : body.overhead + length;
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
    httpRequest(
      context.env,
      context.options,
      wireName,
      { method: "POST", url: context.url("http", wireName, timestamp(context)), body: payload },
      callback,
    );

/** A cache-busting `t` parameter, unique per request within this context. */
export function timestamp(context: TransportContext, extra?: Record<string, string>): Record<string, string> | undefined {
  if (!context.options.timestampRequests) return extra;
  return { ...extra, t: randomId(context) };
}

/** A short id, unique enough to bust caches and to tell frames and callbacks apart. */
export function randomId(context: TransportContext): string {
  return (context.env.now() * 1000 + Math.floor(context.env.random() * 1000)).toString(36);
}

export interface HttpWriter {
  /** True while a POST is in flight. */
  readonly busy: boolean;
  /** A close packet went up or came down: the session is ending, start no new request. */
  readonly closing: boolean;
  /**
   * POSTs the packets in payloads, one request at a time, in order; not writable until the
   * last is answered, then `drain`. A failed POST fails the transport.
   */
  send(packets: readonly Packet[]): void;
  /**
   * The server's close packet came. A POST still on its way may have reached it: the
   * transport ends once it is answered, so the messages it carries are known to have arrived
   * (or known not to have).
   */
  serverClosed(): void;
  /** Cancels the POST in flight and the payloads after it; for the transport's release. */
  abort(): void;
}

/**
 * The writing half every HTTP transport shares, and how it ends. `afterDrain` runs once the
 * POSTs of a `send` were answered (the polling loop checks whether it may pause).
 */
export function createHttpWriter(
  context: TransportContext,
  lifecycle: Lifecycle,
  post: PostPayload,
  afterDrain: () => void = () => {},
  body: BodySize = textBody,
): HttpWriter {
  let abort: Abort | undefined;
  let busy = false;
  let closing = false;
  let serverClosed = false;
  const end = () => {
    busy = false;
    abort = undefined;
  };

  const postFrom = (payloads: string[], index: number) => {
    if (index === payloads.length) {
      end();
      lifecycle.drained();
      return serverClosed ? lifecycle.finish() : afterDrain();
    }
    abort = post(context, payloads[index]!, (error) => {
      if (!error) return postFrom(payloads, index + 1);
      end();
      // after the server's close packet a refused POST is the session ending, not a failure
      if (serverClosed) lifecycle.finish();
      else lifecycle.fail(error);
    });
  };

  return {
    get busy() {
      return busy;
    },
    get closing() {
      return closing;
    },
    send(packets) {
      lifecycle.writable = false;
      busy = true;
      if (packets.some((packet) => packet.type === "close")) closing = true;
      let payloads;
      try {
        payloads = splitPayloads(packets, context.session.maxPayload, body);
      } catch (cause) {
        // a typed failure and a close, never a throw out of the caller's `send`
        return lifecycle.fail(new EncodingError("could not encode a message to send", { cause }));
      }
      postFrom(payloads, 0);
    },
    serverClosed() {
      closing = serverClosed = true;
      if (!busy) lifecycle.finish();
    },
    abort() {
      if (abort) abort();
      end();
    },
  };
}
