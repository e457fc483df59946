/**
 * Server-Sent Events: an event stream carrying a payload of engine.io packets per event (as it
 * is, or as a JSON string when it holds a line break, a NUL or a lone surrogate); upstream
 * POSTs. Needs the cometa/server extension.
 * Where fetch can stream, the stream is read as text lines through it: Chromium's EventSource
 * parses several times slower than a fetch stream reads, and the wire (an event stream, which
 * proxies pass unbuffered) is the same. Elsewhere, through EventSource, whose own reconnect is
 * never used: it would reopen without knowing the session was recycled or lost.
 */
import type { Environment, EventSourceLike } from "../env.js";
import { ProtocolError, TransportError } from "../errors.js";
import type { TransportDefinition } from "../transport.js";
import { decodeSseLine, plainFramesParam, sseDataField } from "../wire.js";
import { canRequest } from "./http.js";
import { type ConnectStream, connectLines, createStreamingTransport, parseLineFrame } from "./stream-core.js";
import { timestamp } from "./upstream.js";

const name = "sse";
const CLOSED = 2;

const canStreamFetch = (env: Environment) => Boolean(env.fetch) && typeof ReadableStream === "function";

/** A line's payload; a line cometa/server never writes (an error page's, say) fails the stream. */
function payloadOfLine(line: string): string | null {
  const frame = decodeSseLine(line);
  if (frame === undefined) throw new ProtocolError(`not an sse line of cometa/server: ${line.slice(0, 80)}`, line);
  return frame === null ? null : parseLineFrame(frame);
}

/** Both readers take plain frames (docs/wire.md, "sse events"). */
const plainFrames = { [plainFramesParam]: "1" };
// a line is `data: ` and one payload, plain or JSON-escaped
// pure: a bundle that leaves sse out drops it
const connectWithFetch = /* @__PURE__ */ connectLines(name, () => plainFrames, payloadOfLine, sseDataField.length + 1);

const connect: ConnectStream = (context, handlers) =>
  canStreamFetch(context.env) ? connectWithFetch(context, handlers) : connectEventSource(context, handlers);

const connectEventSource: ConnectStream = (context, handlers) => {
  const { env, options } = context;
  let source: EventSourceLike;
  try {
    source = new env.EventSource!(context.url("http", name, timestamp(context, plainFrames), true), {
      withCredentials: options.withCredentials,
    });
  } catch (cause) {
    // a synchronous throw (a blocked or malformed URL) is reported a turn later, as a failed
    // request is: the caller has not taken the returned stop function yet
    let stopped = false;
    Promise.resolve().then(() => stopped || handlers.failed(new TransportError("sse stream could not be created", name, undefined, { cause })));
    return () => {
      stopped = true;
    };
  }
  const stop = () => {
    source.onopen = source.onmessage = source.onerror = null;
    source.close();
  };
  source.onopen = () => handlers.opened();
  source.onmessage = (event) => {
    // only the frame's decoding fails the stream: a listener's exception is not the stream's
    let payload: string;
    try {
      payload = parseLineFrame(event.data);
    } catch (error) {
      stop();
      return handlers.failed(error as TransportError);
    }
    handlers.payload(payload);
  };
  source.onerror = () => {
    // CLOSED: the response was refused (HTTP error, wrong type); otherwise the stream ended and
    // EventSource is about to reconnect on its own, which is stopped here in favour of ours
    const refused = source.readyState === CLOSED;
    stop();
    if (refused) handlers.failed(new TransportError("sse stream refused (HTTP error or not an event stream)", name));
    else handlers.ended();
  };
  return stop;
};

export const sse: TransportDefinition = {
  name,
  supported: (env) => typeof env.EventSource === "function" && canRequest(env),
  create: (context) => createStreamingTransport(context, name, connect),
};
