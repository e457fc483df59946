/**
 * What every session gets when it opens, whatever its transport: sends of U+001E refused, and
 * a bound on the bytes it may hold for its client.
 */
import type { Packet } from "engine.io-parser";
import { payloadSeparator } from "../wire.js";
import {
  type EngineSocket,
  type EngineTransport,
  bufferedPackets,
  closeSession,
  guardMessages,
  webSocketOf,
} from "./engine-internals.js";
import { streamOf } from "./transports/streaming.js";
import { packetBytes } from "./transports/packet-queue.js";

/** engine.io's `close` reason for a session that held more than `maxBufferedBytes` for its client. */
export const BUFFER_FULL = "transport buffer full";

export function guardSession(socket: EngineSocket, maxBufferedBytes: number): void {
  guardMessages(socket, refuseRecordSeparator);
  boundBufferedBytes(socket, maxBufferedBytes);
}

/**
 * engine.io v4 joins packets with U+001E in long-polling and JSONP payloads, and engine.io
 * clients split on it: such a string would arrive as two messages there, intact elsewhere.
 * Refused on every transport, so a session behaves the same whichever it is on (as cometa's
 * client refuses to send one). socket.io is unaffected: its encoder escapes U+001E.
 */
function refuseRecordSeparator(data: unknown): void {
  if (typeof data === "string" && data.includes(payloadSeparator)) {
    throw new TypeError(
      "cometa/server: send() refuses a string containing U+001E: engine.io v4 separates packets with it " +
        "on long-polling and JSONP, where the client would receive two messages. Escape it (JSON.stringify " +
        "does) or send it as binary.",
    );
  }
}

/**
 * Ends a session whose client lets more than `maxBytes` pile up: engine.io's buffer, plus what
 * its transport holds (a stream's pending packets and response, a WebSocket's `bufferedAmount`).
 * Checked as each packet is created, so the session never holds more than the bound plus the
 * packet that crossed it.
 */
function boundBufferedBytes(socket: EngineSocket, maxBytes: number): void {
  if (maxBytes === Infinity) return;
  // engine.io's buffer, counted as packets join it and zeroed when it is handed over whole;
  // recounted before acting, so a buffer changed behind our back never ends a session wrongly.
  let waiting = 0;
  socket.on("flush", () => {
    waiting = 0;
  });
  socket.on("packetCreate", (packet: Packet) => {
    const size = packetBytes(packet);
    waiting += size;
    if (waiting + transportBufferedBytes(socket.transport) <= maxBytes) return;
    waiting = size;
    for (const queued of bufferedPackets(socket)) waiting += packetBytes(queued);
    const held = waiting + transportBufferedBytes(socket.transport);
    if (held <= maxBytes) return;
    // Dropped first: an orderly end would keep the unread bytes while the connection lives.
    dropConnection(socket.transport);
    closeSession(
      socket,
      BUFFER_FULL,
      new Error(`the client let ${held} bytes pile up, more than maxBufferedBytes (${maxBytes})`),
    );
  });
}

function transportBufferedBytes(transport: EngineTransport): number {
  return streamOf(transport)?.bufferedBytes ?? webSocketOf(transport)?.bufferedAmount ?? 0;
}

function dropConnection(transport: EngineTransport): void {
  const stream = streamOf(transport);
  if (stream) stream.destroyStream();
  else webSocketOf(transport)?.terminate();
}
