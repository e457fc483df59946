/**
 * WebSocket: one engine.io packet per frame, binary frames for binary data. The browser's
 * WebSocket, or in Node whatever `env.WebSocket` is given (the `ws` package, or Node's own).
 */
import type { WebSocketLike } from "../env.js";
import { type CometaError, IncomingTooLargeError, TransportError } from "../errors.js";
import { decodeFrame, encodeFramePacket, type Packet } from "../protocol.js";
import type { TransportDefinition } from "../transport.js";
import { Lifecycle } from "./lifecycle.js";

const OPEN = 1;

export const websocket: TransportDefinition = {
  name: "websocket",
  supported: (env) => typeof env.WebSocket === "function",
  create(context) {
    let ws: WebSocketLike | undefined;
    const lifecycle = new Lifecycle(() => {
      if (!ws) return;
      const socket = ws;
      ws = undefined;
      socket.onopen = socket.onmessage = socket.onclose = null;
      // a no-op handler, since some implementations (ws) throw on unhandled error events
      socket.onerror = () => {};
      try {
        socket.close();
      } catch {
        // closing a socket that never connected can throw in some engines; it is gone either way
      }
    });
    const fail = (error: CometaError) => lifecycle.fail(error);

    return Object.assign(lifecycle, {
      name: "websocket",
      open() {
        const { env, options } = context;
        const url = context.url("ws", "websocket");
        const headers = options.extraHeaders;
        try {
          // the third argument is how the `ws` package takes headers; browsers ignore it
          ws = Object.keys(headers).length > 0 ? new env.WebSocket!(url, undefined, { headers }) : new env.WebSocket!(url);
        } catch (cause) {
          Promise.resolve().then(() => fail(new TransportError(`websocket could not be created for ${url}`, "websocket", undefined, { cause })));
          return;
        }
        ws.binaryType = "arraybuffer";
        ws.onopen = () => {
          lifecycle.writable = true;
          lifecycle.opened();
        };
        ws.onmessage = (event) => {
          // a text frame's length or a binary frame's bytes; the frame is already whole in memory
          const data = event.data as { length?: number; byteLength?: number } | null;
          const size = (data && (data.length || data.byteLength)) || 0;
          if (size > options.maxIncomingBytes) return fail(new IncomingTooLargeError("websocket", size, options.maxIncomingBytes));
          try {
            lifecycle.receive(decodeFrame(event.data, options.binaryType));
          } catch (cause) {
            fail(cause as CometaError);
          }
        };
        ws.onerror = (event) => {
          const cause = (event && (event as { error?: unknown }).error) || event;
          fail(new TransportError(lifecycle.state === "opening" ? "websocket connection failed" : "websocket error", "websocket", undefined, { cause }));
        };
        ws.onclose = (event) => {
          if (lifecycle.state === "opening") {
            fail(new TransportError(`websocket closed before opening (code ${event && event.code})`, "websocket"));
          } else lifecycle.finish();
        };
      },
      send(packets: readonly Packet[]) {
        if (!ws || ws.readyState !== OPEN) return fail(new TransportError("websocket is not open", "websocket"));
        lifecycle.writable = false;
        try {
          for (const packet of packets) ws.send(encodeFramePacket(packet));
        } catch (cause) {
          return fail(new TransportError("websocket send failed", "websocket", undefined, { cause }));
        }
        // drain asynchronously, so a socket flushing in a `drain` listener never recurses
        Promise.resolve().then(() => lifecycle.drained());
      },
      close() {
        lifecycle.finish();
      },
    });
  },
};
