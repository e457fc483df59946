/**
 * The streaming transports (xhr-streaming, sse, iframe): a downstream part holding one long
 * response that delivers packets as they come and is reopened with the same sid when the
 * server ends it (recycling) or a proxy cuts it, and the POST writer upstream.
 */
import { type CometaError, IncomingTooLargeError, ProtocolError, TransportError } from "../errors.js";
import { decodePayload } from "../protocol.js";
import type { Transport, TransportContext } from "../transport.js";
import { decodeLineFrame, type StreamingTransportName } from "../wire.js";
import { type Abort, httpRequest } from "./http.js";
import { createLineReader } from "./line-reader.js";
import { createTransport, type Downstream, type Report } from "./machine.js";
import { createHttpWriter, postText, timestamp } from "./upstream.js";

export interface StreamHandlers {
  /** The response started: headers arrived, or the stream is otherwise known to be up. */
  opened(): void;
  /** One frame's payload: engine.io packets joined by U+001E (src/wire.ts). */
  payload(text: string): void;
  /** The response ended: normally (recycled, or ended by a proxy), or `cut` on the way. */
  ended(cut?: boolean): void;
  failed(error: CometaError): void;
}

/** Opens one downstream response; the returned function tears it down. */
export type ConnectStream = (context: TransportContext, handlers: StreamHandlers) => Abort;

/**
 * Consecutive responses that may end early without carrying a packet before that counts as
 * failure: a server or proxy answering and closing at once would otherwise loop forever.
 */
const maxEmptyStreams = 3;
/**
 * A stream that lived this long was a working stream, whatever it carried: an idle session
 * behind a proxy's read timeout is cut empty every few seconds and must reopen for ever.
 */
const workingStreamMs = 1000;

/** The downstream part: one response at a time, reopened each time it ends until the machine says not. */
export function createStreamReceiver(
  context: TransportContext,
  name: StreamingTransportName,
  connect: ConnectStream,
  report: Report,
): Downstream {
  const { env, trace } = context;
  let abortStream: Abort | undefined;
  let emptyStreams = 0;
  /** The last response ended: the next `next` is a reopen. */
  let reopen = false;
  let carried = false;
  let openedAt = 0;
  let cut: boolean | undefined;

  const open = () => {
    if (reopen) {
      const ms = env.now() - openedAt;
      emptyStreams = carried || ms >= workingStreamMs ? 0 : emptyStreams + 1;
      // recycled, or ended by a proxy, or cut on the way; `empty` counts the streams in a row
      // that ended early without a packet (a failure follows at maxEmptyStreams), else it reopens
      trace && trace("stream", cut ? "cut" : "ended", { transport: name, carried, ms, empty: emptyStreams });
      if (!context.session.sid) return report.end(new TransportError(`${name} stream ended before the handshake`, name));
      if (emptyStreams >= maxEmptyStreams) {
        return report.end(new TransportError(`${name} stream ended ${maxEmptyStreams} times without data`, name));
      }
    }
    carried = false;
    openedAt = env.now();
    abortStream = connect(context, {
      opened: report.opened,
      payload(text) {
        carried = true;
        // an EventSource event or a postMessage arrives whole, so it can only be refused after
        // the fact; xhr-streaming bounds its lines while they arrive
        const limit = context.options.maxIncomingBytes;
        if (text.length > limit) return report.end(new IncomingTooLargeError(name, text.length, limit));
        let packets;
        try {
          packets = decodePayload(text, context.options.binaryType);
        } catch (error) {
          return report.end(error as CometaError);
        }
        // a listener may close the transport on any packet: the machine then takes no more
        for (const packet of packets) {
          report.packet(packet);
          if (packet.type === "close") return report.serverClosed();
        }
      },
      ended(wasCut) {
        abortStream = undefined;
        reopen = true;
        cut = wasCut;
        report.idle();
      },
      failed(error) {
        // torn down before the report: the machine tells a downstream failure by nothing being in flight
        const abort = abortStream;
        abortStream = undefined;
        if (abort) abort();
        report.end(error);
      },
    });
  };

  return {
    get busy() {
      return Boolean(abortStream);
    },
    next: open,
    stop() {
      if (abortStream) abortStream();
      abortStream = undefined;
    },
  };
}

export function createStreamingTransport(context: TransportContext, name: StreamingTransportName, connect: ConnectStream): Transport {
  return createTransport(name, context, (report) => ({
    down: createStreamReceiver(context, name, connect, report),
    up: createHttpWriter(context, report, postText(name)),
    writable: true,
  }));
}

/** The payload a line or event carries (xhr-streaming, sse): plain, or a JSON string. */
export function parseLineFrame(frame: string): string {
  const payload = decodeLineFrame(frame);
  if (payload === undefined) throw new ProtocolError(`frame is neither a payload nor a JSON string: ${frame.slice(0, 80)}`, frame);
  return payload;
}

/**
 * A stream read as text lines through the HTTP client (a fetch stream where there is one,
 * XMLHttpRequest progress where not): `payloadOf` gives each line's payload, null for a line
 * that carries none; one it throws on fails the stream. A line is bounded by `maxIncomingBytes`
 * plus `overhead` (what the framing adds around a JSON-escaped payload) while it arrives.
 */
export function connectLines(
  name: StreamingTransportName,
  query: (context: TransportContext) => Record<string, string> | undefined,
  payloadOf: (line: string) => string | null,
  overhead = 0,
): ConnectStream {
  return (context, handlers) => {
    const limit = context.options.maxIncomingBytes;
    let stopped = false;
    /** Headers of a 200 arrived: a failure from now on is the stream being cut, not refused. */
    let streaming = false;
    const fail = (error: CometaError) => !stopped && handlers.failed(error);
    const read = createLineReader(
      (line) => {
        if (stopped) return;
        // only the line's decoding fails the stream: a listener's exception is not the stream's
        let payload: string | null;
        try {
          payload = payloadOf(line);
        } catch (error) {
          return fail(error as CometaError);
        }
        if (payload !== null) handlers.payload(payload);
      },
      limit + overhead,
      (length) => fail(new IncomingTooLargeError(name, length, limit)),
    );
    const stop = httpRequest(
      context,
      name,
      { method: "GET", url: context.url("http", name, timestamp(context, query(context)), true) },
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
}
