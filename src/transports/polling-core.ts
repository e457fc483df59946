/**
 * The polling loop shared by long-polling, short polling and JSONP: one GET in flight at most,
 * one POST in flight at most, and a pause that lets both finish before an upgrade.
 */
import type { CometaError } from "../errors.js";
import { decodePayload } from "../protocol.js";
import type { Transport, TransportContext } from "../transport.js";
import { type Abort, type HttpCallback, httpRequest } from "./http.js";
import { Lifecycle } from "./lifecycle.js";
import { type BodySize, createHttpWriter, type PostPayload, postText, timestamp } from "./upstream.js";

/** Gateway errors in a row on held polls before they count as a failure. */
const maxGatewayErrors = 3;

export interface PollingVariant {
  /** The adapter's name. */
  name: string;
  /** The `transport=` value on the wire. */
  wireName: string;
  /** Starts one GET of a payload. */
  get(context: TransportContext, callback: HttpCallback): Abort;
  /** Milliseconds to wait between a poll's answer and the next poll. */
  pollDelay(context: TransportContext): number;
  /** How a payload goes up; a text POST unless given. */
  post?: PostPayload;
  /** How big packets are in that POST's body; a text payload's sizes unless given. */
  postBody?: BodySize;
}

/** The usual downstream: a GET answered with a text payload. */
export const getText =
  (wireName: string): PollingVariant["get"] =>
  (context, callback) =>
    httpRequest(context.env, context.options, wireName, { method: "GET", url: context.url("http", wireName, timestamp(context)) }, callback);

export function createPollingTransport(context: TransportContext, variant: PollingVariant): Transport {
  const { env } = context;
  let abortGet: Abort | undefined;
  let pollTimer: unknown;
  let resolvePause: (() => void) | undefined;
  const lifecycle = new Lifecycle(() => {
    if (abortGet) abortGet();
    abortGet = undefined;
    env.clearTimeout(pollTimer);
    pollTimer = undefined;
    writer.abort();
    resolvePause = undefined;
  });
  const fail = (error: CometaError) => lifecycle.fail(error);
  const writer = createHttpWriter(
    context,
    lifecycle,
    variant.post || postText(variant.wireName),
    () => checkPaused(),
    variant.postBody,
  );
  // the server takes a POST at any time; the socket only writes once the session is open
  lifecycle.writable = true;
  let gatewayErrors = 0;

  const checkPaused = () => {
    if (lifecycle.state === "pausing" && !abortGet && pollTimer === undefined && !writer.busy) {
      lifecycle.state = "paused";
      const resolve = resolvePause;
      resolvePause = undefined;
      if (resolve) resolve();
    }
  };

  const schedulePoll = () => {
    // the session is ending: a new poll would only meet a 400
    if (writer.closing) return;
    if (lifecycle.state !== "open" && lifecycle.state !== "opening") return checkPaused();
    const delay = variant.pollDelay(context);
    if (delay > 0) {
      pollTimer = env.setTimeout(() => {
        pollTimer = undefined;
        if (lifecycle.state === "pausing") checkPaused();
        else poll();
      }, delay);
    } else poll();
  };

  const onPayload: HttpCallback = (error, body) => {
    abortGet = undefined;
    if (error) {
      // a proxy's read timeout ends a held poll with a gateway error: poll again, a few times
      const status = (error as { status?: number }).status;
      if (context.session.sid && status && status >= 502 && status <= 504 && ++gatewayErrors <= maxGatewayErrors) {
        return schedulePoll();
      }
      return fail(error);
    }
    gatewayErrors = 0;
    let packets;
    try {
      packets = decodePayload(body, context.options.binaryType);
    } catch (cause) {
      return fail(cause as CometaError);
    }
    lifecycle.opened();
    for (const packet of packets) {
      if (lifecycle.closed) return;
      lifecycle.receive(packet);
      // the server ends the session with a close packet: nothing more will come
      if (packet.type === "close") return writer.serverClosed();
    }
    schedulePoll();
  };

  const poll = () => {
    if (lifecycle.closed) return;
    abortGet = variant.get(context, onPayload);
  };

  return Object.assign(lifecycle, {
    name: variant.name,
    open() {
      poll();
    },
    send: writer.send,
    close() {
      lifecycle.finish();
    },
    pause() {
      return new Promise<void>((resolve) => {
        if (lifecycle.closed) return resolve();
        lifecycle.state = "pausing";
        resolvePause = resolve;
        // a short poll waiting for its timer is not in flight: pausing need not wait for it
        env.clearTimeout(pollTimer);
        pollTimer = undefined;
        checkPaused();
      });
    },
    resume() {
      if (lifecycle.state !== "pausing" && lifecycle.state !== "paused") return;
      lifecycle.state = "open";
      resolvePause = undefined;
      if (!abortGet && pollTimer === undefined) poll();
    },
  });
}
