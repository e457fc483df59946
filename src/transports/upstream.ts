/**
 * The upstream half every HTTP transport shares: packets POSTed as `\x1e`-joined payloads,
 * in batches no larger than the server's maxPayload, one request at a time, in order.
 */
import type { CometaError } from "../errors.js";
import { encodedTextLength, encodePayload, type Packet } from "../protocol.js";
import type { TransportContext } from "../transport.js";
import { type Abort, httpRequest } from "./http.js";

/**
 * Splits packets into payloads of at most `maxPayload` bytes. A packet larger than that on
 * its own travels alone, and the server's refusal of it is reported like any failed request.
 */
export function splitBatches(packets: readonly Packet[], maxPayload: number): Packet[][] {
  const batches: Packet[][] = [];
  let batch: Packet[] = [];
  let size = 0;
  for (const packet of packets) {
    const length = encodedTextLength(packet);
    // every packet after the first costs one separator byte more
    if (batch.length > 0 && size + 1 + length > maxPayload) {
      batches.push(batch);
      batch = [];
    }
    size = batch.length > 0 ? size + 1 + length : length;
    batch.push(packet);
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

export interface Upstream {
  /** True while a POST is in flight. */
  readonly busy: boolean;
  /** POSTs the packets in order; `done` follows when the last POST was answered `ok`. */
  send(packets: readonly Packet[], done: () => void): void;
  abort(): void;
}

export type PostEncoder = (payload: string) => { body: string; contentType?: string; extra?: Record<string, string> };

export function createUpstream(
  context: TransportContext,
  transport: string,
  onError: (error: CometaError) => void,
  encodeBody: PostEncoder = (payload) => ({ body: payload }),
): Upstream {
  let abort: Abort | undefined;
  let busy = false;

  const post = (batches: Packet[][], index: number, done: () => void) => {
    if (index === batches.length) {
      busy = false;
      abort = undefined;
      done();
      return;
    }
    const { body, contentType, extra } = encodeBody(encodePayload(batches[index]!));
    abort = httpRequest(
      context.env,
      context.options,
      transport,
      { method: "POST", url: context.url("http", transport, timestamp(context, extra)), body, contentType },
      (error) => {
        abort = undefined;
        if (error) {
          busy = false;
          onError(error);
        } else post(batches, index + 1, done);
      },
    );
  };

  return {
    get busy() {
      return busy;
    },
    send(packets, done) {
      busy = true;
      post(splitBatches(packets, context.session.maxPayload), 0, done);
    },
    abort() {
      abort?.();
      abort = undefined;
      busy = false;
    },
  };
}

/** A cache-busting `t` parameter, unique per request within this context. */
export function timestamp(context: TransportContext, extra?: Record<string, string>): Record<string, string> | undefined {
  if (!context.options.timestampRequests) return extra;
  return { ...extra, t: (context.env.now() * 1000 + Math.floor(context.env.random() * 1000)).toString(36) };
}
