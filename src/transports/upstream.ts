/**
 * The upstream half every HTTP transport shares: packets POSTed as `\x1e`-joined payloads,
 * in batches no larger than the server's maxPayload, one request at a time, in order.
 */
import { encodedTextLength, encodePayload, type Packet } from "../protocol.js";
import type { TransportContext } from "../transport.js";
import { type Abort, type HttpCallback, httpRequest } from "./http.js";
import type { Lifecycle } from "./lifecycle.js";

/** How many bytes packets take in a POST body, which is what the server's maxPayload counts. */
export interface BodySize {
  packet(packet: Packet): number;
  /** Bytes between two packets. */
  separator: number;
  /** Bytes of the body besides the packets. */
  overhead: number;
}

/** A plain text payload: packets joined by U+001E. */
export const textBody: BodySize = { packet: encodedTextLength, separator: 1, overhead: 0 };

/**
 * Splits packets into payloads of at most `maxPayload` bytes. A packet larger than that on
 * its own travels alone, and the server's refusal of it is reported like any failed request.
 */
export function splitBatches(packets: readonly Packet[], maxPayload: number, body: BodySize = textBody): Packet[][] {
  if (body === textBody && packets.length > 0 && fitsSurely(packets, maxPayload)) return [packets.slice()];
  const batches: Packet[][] = [];
  let batch: Packet[] = [];
  let size = 0;
  for (const packet of packets) {
    const length = body.packet(packet);
    if (batch.length > 0 && size + body.separator + length > maxPayload) {
      batches.push(batch);
      batch = [];
    }
    size = batch.length > 0 ? size + body.separator + length : body.overhead + length;
    batch.push(packet);
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

/** Whether packets fit even if every character took 3 bytes: no need to count them exactly. */
function fitsSurely(packets: readonly Packet[], maxPayload: number): boolean {
  let bound = 0;
  for (const { data } of packets) {
    bound += 2 + (data === undefined ? 0 : typeof data === "string" ? 3 * data.length : Math.ceil(data.byteLength / 3) * 4);
    if (bound > maxPayload) return false;
  }
  return true;
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
   * POSTs the packets in batches, one request at a time, in order; not writable until the
   * last is answered, then `drain`. A failed POST fails the transport.
   */
  send(packets: readonly Packet[]): void;
  /**
   * The server's close packet came. A POST still on its way may have reached it: the
   * transport ends once it is answered, so the messages it carries are known to have arrived
   * (or known not to have).
   */
  serverClosed(): void;
  /** Cancels the POST in flight and the batches after it; for the transport's release. */
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

  const postFrom = (batches: Packet[][], index: number) => {
    if (index === batches.length) {
      end();
      lifecycle.drained();
      return serverClosed ? lifecycle.finish() : afterDrain();
    }
    abort = post(context, encodePayload(batches[index]!), (error) => {
      if (!error) return postFrom(batches, index + 1);
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
      postFrom(splitBatches(packets, context.session.maxPayload, body), 0);
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
