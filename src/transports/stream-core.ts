/**
 * What the streaming transports share (xhr-streaming, sse, iframe): one long downstream that
 * delivers packets as they come and is reopened with the same sid when the server ends it
 * (recycling) or a proxy cuts it; upstream POSTs like polling.
 */
import { type CometaError, IncomingTooLargeError, ProtocolError, TransportError } from "../errors.js";
import { decodeFrame } from "../protocol.js";
import { decodeJsonFrame } from "../wire.js";
import type { Transport, TransportContext } from "../transport.js";
import type { Abort } from "./http.js";
import { Lifecycle } from "./lifecycle.js";
import { createHttpWriter, postText } from "./upstream.js";

export interface StreamHandlers {
  /** The response started: headers arrived, or the stream is otherwise known to be up. */
  opened(): void;
  /** One engine.io packet, as text. */
  packet(text: string): void;
  /** The response ended normally (recycled, or cut by a proxy). */
  ended(): void;
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

export function createStreamingTransport(context: TransportContext, name: string, connect: ConnectStream): Transport {
  let abortStream: Abort | undefined;
  let emptyStreams = 0;
  const lifecycle = new Lifecycle(() => {
    abortStream?.();
    abortStream = undefined;
    writer.abort();
  });
  const fail = (error: CometaError) => lifecycle.fail(error);
  const writer = createHttpWriter(context, lifecycle, postText(name));
  lifecycle.writable = true;

  const open = () => {
    let carried = false;
    const openedAt = context.env.now();
    abortStream = connect(context, {
      opened: () => lifecycle.opened(),
      packet(text) {
        if (lifecycle.closed) return;
        carried = true;
        // an EventSource event or a postMessage arrives whole, so it can only be refused after
        // the fact; xhr-streaming bounds its lines while they arrive
        const limit = context.options.maxIncomingBytes;
        if (text.length > limit) return fail(new IncomingTooLargeError(name, text.length, limit));
        let packet;
        try {
          packet = decodeFrame(text, context.options.binaryType);
        } catch (error) {
          return fail(error as CometaError);
        }
        lifecycle.opened();
        lifecycle.receive(packet);
        if (packet.type === "close") writer.serverClosed();
      },
      ended() {
        if (lifecycle.closed) return;
        if (writer.closing) return lifecycle.finish();
        abortStream = undefined;
        emptyStreams = carried || context.env.now() - openedAt >= workingStreamMs ? 0 : emptyStreams + 1;
        if (!context.session.sid) return fail(new TransportError(`${name} stream ended before the handshake`, name));
        if (emptyStreams >= maxEmptyStreams) {
          return fail(new TransportError(`${name} stream ended ${maxEmptyStreams} times without data`, name));
        }
        open();
      },
      failed: fail,
    });
  };

  return Object.assign(lifecycle, {
    name,
    open,
    send: writer.send,
    close() {
      lifecycle.finish();
    },
  });
}

/** The packet a JSON-framed line or event carries (xhr-streaming, sse). */
export function parseJsonFrame(frame: string): string {
  const packet = decodeJsonFrame(frame);
  if (packet === undefined) throw new ProtocolError(`frame is not a JSON string: ${frame.slice(0, 80)}`, frame);
  return packet;
}
