/**
 * WebSocket: one engine.io packet per frame, binary frames for binary data. The browser's
 * WebSocket, or in Node whatever `env.WebSocket` is given (the `ws` package, or Node's own).
 * The socket's events are the downstream part, its `send` the upstream part, which drains once
 * the socket's `bufferedAmount` is at most `highWaterMark`: a writer faster than the network
 * waits there instead of piling its messages up inside the WebSocket.
 */
import type { WebSocketLike } from "../env.js";
import { IncomingTooLargeError, TransportError } from "../errors.js";
import { decodeFrame, encodeFramePacket } from "../protocol.js";
import type { TransportContext, TransportDefinition } from "../transport.js";
import { createTransport, type Parts, type Report } from "./machine.js";

const name = "websocket";
const OPEN = 1;
/**
 * Bytes the socket may hold unsent when the next write is taken. Not 0: a browser lowers
 * `bufferedAmount` only after the task that sent (its network thread reports later), so waiting
 * for 0 held every write behind a timer, 4 ms at least, and an echo took that long.
 */
const highWaterMark = 65536;
/** Milliseconds between checks of `bufferedAmount` while it is above `highWaterMark`: from 4, doubling up to this. */
const maxDrainDelay = 50;

function frames(context: TransportContext, report: Report): Parts {
  const { env, options } = context;
  let ws: WebSocketLike | undefined;
  /** The next check of `bufferedAmount`, while a write waits for it to come down to `highWaterMark`. */
  let drainTimer: unknown;
  /** Drains once at most `highWaterMark` is buffered, checking again `delay` ms later until then; closed meanwhile, never. */
  const drain = (delay: number) => {
    if (!ws) return;
    if (!(ws.bufferedAmount! > highWaterMark)) return report.sent();
    drainTimer = env.setTimeout(() => drain(Math.min(delay * 2, maxDrainDelay)), delay);
  };
  const failed = (message: string, cause?: unknown) => report.end(new TransportError(message, name, undefined, { cause }));

  const open = () => {
    const url = context.url("ws", name);
    const headers = options.extraHeaders;
    let socket: WebSocketLike;
    try {
      // the third argument is how the `ws` package takes headers; browsers ignore it
      socket = ws = Object.keys(headers).length > 0 ? new env.WebSocket!(url, undefined, { headers }) : new env.WebSocket!(url);
    } catch (cause) {
      // the URL without its query, which carries the sid and the application's tokens
      Promise.resolve().then(() => failed(`websocket could not be created for ${url.split("?")[0]}`, cause));
      return;
    }
    socket.binaryType = "arraybuffer";
    socket.onopen = report.opened;
    socket.onmessage = (event) => {
      // a text frame's length or a binary frame's bytes; the frame is already whole in memory
      const data = event.data as { length?: number; byteLength?: number } | null;
      const size = (data && (data.length || data.byteLength)) || 0;
      if (size > options.maxIncomingBytes) return report.end(new IncomingTooLargeError(name, size, options.maxIncomingBytes));
      let packet;
      try {
        packet = decodeFrame(event.data, options.binaryType);
      } catch (cause) {
        return report.end(cause as TransportError);
      }
      report.packet(packet);
    };
    socket.onerror = (event) => {
      const cause = (event && (event as { error?: unknown }).error) || event;
      // Node's `ws` names a refused handshake's status (a reattach to a session the server no
      // longer has is a 400); browsers say nothing of it
      const refused = /Unexpected server response: (\d{3})/.exec(String(cause && (cause as Error).message));
      if (report.state !== "opening") return failed("websocket error", cause);
      report.end(new TransportError("websocket connection failed", name, refused ? +refused[1]! : undefined, { cause }));
    };
    socket.onclose = (event) => {
      if (report.state === "opening") failed(`websocket closed before opening (code ${event && event.code})`);
      else report.end();
    };
  };

  return {
    // a WebSocket has no request to wait for: never busy
    down: {
      next: open,
      stop() {
        const socket = ws;
        ws = undefined;
        if (!socket) return;
        socket.onopen = socket.onmessage = socket.onclose = null;
        // a no-op handler, since some implementations (ws) throw on unhandled error events
        socket.onerror = () => {};
        try {
          socket.close();
        } catch {
          // closing a socket that never connected can throw in some engines; it is gone either way
        }
      },
    },
    up: {
      send(packets) {
        if (!ws || ws.readyState !== OPEN) return failed("websocket is not open");
        try {
          for (const packet of packets) ws.send(encodeFramePacket(packet));
        } catch (cause) {
          return failed("websocket send failed", cause);
        }
        // checked asynchronously, so a socket flushing in a `drain` listener never recurses
        Promise.resolve().then(() => drain(4));
      },
      stop() {
        env.clearTimeout(drainTimer);
      },
    },
  };
}

export const websocket: TransportDefinition = {
  name,
  supported: (env) => typeof env.WebSocket === "function",
  create: (context) => createTransport(name, context, (report) => frames(context, report)),
};
