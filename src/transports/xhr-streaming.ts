/**
 * HTTP streaming: one long GET read as it arrives (a fetch ReadableStream; XMLHttpRequest
 * progress where streams are missing), one JSON string (a payload of packets) per line; upstream
 * POSTs. Needs the cometa/server extension.
 */
import type { TransportDefinition } from "../transport.js";
import { discardingReaderParam, plainFramesParam } from "../wire.js";
import { canRequest, streamsWithFetch } from "./http.js";
import { connectLines, createStreamingTransport, parseLineFrame } from "./stream-core.js";

const name = "xhr-streaming";

// a line is one payload, plain or JSON-escaped: what maxIncomingBytes bounds on this
// transport. Read as a fetch stream, the response can run longer before the server recycles it.
// pure: a bundle that leaves xhr-streaming out drops it
const connect = /* @__PURE__ */ connectLines(
  name,
  (context) => ({ [plainFramesParam]: "1", ...(streamsWithFetch(context.env) ? { [discardingReaderParam]: "1" } : undefined) }),
  parseLineFrame,
);

export const xhrStreaming: TransportDefinition = {
  name,
  supported: canRequest,
  create: (context) => createStreamingTransport(context, name, connect),
};
