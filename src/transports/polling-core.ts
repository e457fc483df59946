/**
 * The polling transports (long-polling, short polling, JSONP): a downstream part that polls,
 * one GET in flight at most, and the POST writer upstream, owned by one machine that pauses
 * both before an upgrade.
 */
import type { CometaError } from "../errors.js";
import { decodePayload } from "../protocol.js";
import type { Transport, TransportContext } from "../transport.js";
import { type Abort, type HttpCallback, httpRequest } from "./http.js";
import { createTransport, type Downstream, type Report } from "./machine.js";
import { type BodySize, createHttpWriter, type PostPayload, postText, timestamp } from "./upstream.js";

/** Gateway errors in a row on held polls before they count as a failure. */
const maxGatewayErrors = 3;

export interface PollingVariant {
  /** The adapter's name. */
  name: string;
  /** The `transport=` value on the wire, when it is not `name`. */
  _wireName?: string;
  /** Starts one GET of a payload. */
  get(context: TransportContext, callback: HttpCallback): Abort;
  /** Milliseconds to wait between a poll's answer and the next poll; none unless given. */
  _pollDelay?(context: TransportContext): number;
  /** How a payload goes up; a text POST unless given. */
  post?: PostPayload;
  /** How big packets are in that POST's body; a text payload's sizes unless given. */
  _postBody?: BodySize;
  /** The POST's answer cannot be read (an opaque response): its end says nothing of delivery. */
  _opaquePost?: boolean;
}

/** The usual downstream: a GET answered with a text payload, a receiving GET (its URL says so). */
export const getText =
  (wireName: string): PollingVariant["get"] =>
  (context, callback) =>
    httpRequest(context, wireName, { method: "GET", url: context.url("http", wireName, timestamp(context), true) }, callback);

/**
 * The downstream part: one GET at a time, its payload's packets reported in order. A proxy's
 * gateway error on a held poll is polled through a few times before it counts as a failure.
 */
export function createPoller(context: TransportContext, variant: PollingVariant, report: Report): Downstream {
  const { env } = context;
  let abortGet: Abort | undefined;
  let pollTimer: unknown;
  let gatewayErrors = 0;
  const wait = () => {
    env.clearTimeout(pollTimer);
    pollTimer = undefined;
  };

  const onPayload: HttpCallback = (error, body) => {
    abortGet = undefined;
    if (error) {
      // a proxy's read timeout ends a held poll with a gateway error: poll again, a few times
      const status = (error as { status?: number }).status;
      if (context.session.sid && status && status >= 502 && status <= 504 && ++gatewayErrors <= maxGatewayErrors) {
        const trace = context.trace;
        trace && trace("poll", "gateway error: polling again", { transport: variant.name, status, attempt: gatewayErrors });
        return report.idle();
      }
      return report.end(error);
    }
    gatewayErrors = 0;
    let packets;
    try {
      packets = decodePayload(body, context.options.binaryType);
    } catch (cause) {
      return report.end(cause as CometaError);
    }
    // a listener may close the transport on any packet: the machine then takes no more
    for (const packet of packets) {
      report.packet(packet);
      // the server ends the session with a close packet: nothing more will come
      if (packet.type === "close") return report.serverClosed();
    }
    report.idle();
  };

  const poll = () => {
    abortGet = variant.get(context, onPayload);
  };

  return {
    get busy() {
      return Boolean(abortGet) || pollTimer !== undefined;
    },
    next(now) {
      const delay = now || !variant._pollDelay ? 0 : variant._pollDelay(context);
      if (delay > 0) {
        pollTimer = env.setTimeout(() => {
          pollTimer = undefined;
          poll();
        }, delay);
      } else poll();
    },
    // a short poll waiting for its timer is not in flight: pausing need not wait for it
    hold: wait,
    stop() {
      if (abortGet) abortGet();
      abortGet = undefined;
      wait();
    },
  };
}

export function createPollingTransport(context: TransportContext, variant: PollingVariant): Transport {
  return createTransport(variant.name, context, (report) => ({
    down: createPoller(context, variant, report),
    up: createHttpWriter(context, report, variant.post || postText(variant._wireName || variant.name), variant._postBody, !variant._opaquePost),
    // the server takes a POST at any time; the socket only writes once the session is open
    writable: true,
    _pausable: true,
  }));
}
