/**
 * HTTP streaming: one long GET read as it arrives (a fetch ReadableStream; XMLHttpRequest
 * progress where streams are missing), one JSON string (a payload of packets) per line; upstream
 * POSTs. Needs the cometa/server extension.
 */
import { type CometaError, IncomingTooLargeError } from "../errors.js";
import type { TransportDefinition } from "../transport.js";
import { discardingReaderParam } from "../wire.js";
import { canRequest, httpRequest, streamsWithFetch } from "./http.js";
import { createLineReader } from "./line-reader.js";
import { type ConnectStream, createStreamingTransport, parseJsonFrame } from "./stream-core.js";
import { timestamp } from "./upstream.js";

const name = "xhr-streaming";

const connect: ConnectStream = (context, handlers) => {
  const limit = context.options.maxIncomingBytes;
  let stopped = false;
  /** Headers of a 200 arrived: a failure from now on is the stream being cut, not refused. */
  let streaming = false;
  const fail = (error: CometaError) => !stopped && handlers.failed(error);
  const read = createLineReader(
    (line) => {
      if (stopped) return;
      // only the line's decoding fails the stream: a listener's exception is not the stream's
      let payload: string;
      try {
        payload = parseJsonFrame(line);
      } catch (error) {
        return fail(error as CometaError);
      }
      handlers.payload(payload);
    },
    // a line is one payload, JSON-escaped: what the limit bounds on this transport
    limit,
    (length) => fail(new IncomingTooLargeError(name, length, limit)),
  );
  const stop = httpRequest(
    context,
    name,
    {
      method: "GET",
      // read as a fetch stream, the response can run longer before the server recycles it
      url: context.url("http", name, timestamp(context, streamsWithFetch(context.env) ? { [discardingReaderParam]: "1" } : undefined), true),
    },
    (error) => {
      if (stopped) return;
      // a proxy's read timeout cuts a stream it already let through: reopen it, as when it ends
      if (!error) handlers.ended();
      else if (streaming) handlers.ended(true);
      else fail(error);
    },
    {
      opened() {
        streaming = true;
        handlers.opened();
      },
      chunk: read,
    },
  );
  return () => {
    stopped = true;
    stop();
  };
};

export const xhrStreaming: TransportDefinition = {
  name,
  supported: canRequest,
  create: (context) => createStreamingTransport(context, name, connect),
};
