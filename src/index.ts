/**
 * cometa: one realtime connection that works everywhere, speaking engine.io v4.
 */
import type { ReconnectingSocketOptions, SocketOptions } from "./options.js";
import { BareReconnectingSocket, BaseReconnectingSocket } from "./reconnect.js";
import { resumption, withResumption } from "./resume.js";
import { BareSocket, BaseSocket } from "./socket.js";
import type { TransportDefinition } from "./transport.js";
import { iframe } from "./transports/iframe.js";
import { jsonp } from "./transports/jsonp.js";
import { polling } from "./transports/polling.js";
import { shortPolling } from "./transports/short-polling.js";
import { sse } from "./transports/sse.js";
import { websocket } from "./transports/websocket.js";
import { xhrStreaming } from "./transports/xhr-streaming.js";

/**
 * Every transport, in the default order of preference: the session opens on long-polling and
 * upgrades to the best of WebSocket, SSE, XHR streaming and the forever-frame that the server
 * offers. JSONP and short polling are for starting a session where those cannot: name them
 * first in `transports`.
 */
export const transports: readonly TransportDefinition[] = [polling, websocket, sse, xhrStreaming, iframe, jsonp, shortPolling];

/**
 * An engine.io v4 socket with every transport available and resumption; `transports` may name
 * them as strings. Import `BareSocket`, the transports you want and, if you want it,
 * `resumption` instead to ship only those.
 */
export class Socket extends BareSocket {
  constructor(uri?: string, options?: SocketOptions) {
    super(uri, withResumption(options), transports);
  }
}

/** A socket that reconnects with backoff and keeps what is written while disconnected. */
export class ReconnectingSocket extends BareReconnectingSocket {
  constructor(uri?: string, options?: ReconnectingSocketOptions) {
    super(uri, withResumption(options), transports);
  }
}

export { BareReconnectingSocket, BareSocket, iframe, jsonp, polling, resumption, shortPolling, sse, websocket, xhrStreaming };
/** Deprecated names of `BareSocket` and `BareReconnectingSocket`, for code written before 0.2. */
export { BaseReconnectingSocket, BaseSocket };
export type { CloseDetails, CloseReason, SocketEvents, SocketState, TransportInfo } from "./socket.js";
export type { BufferOptions, ReconnectingSocketOptions, ReconnectOptions, SocketOptions } from "./options.js";
export type { Resumption } from "./resume.js";
export type { ReconnectingSocketEvents, ReconnectingSocketState, Session, SessionFactory } from "./reconnect.js";
export type { Listener } from "./emitter.js";
export type { Trace, TraceTopic } from "./trace.js";
export type { Environment, EventSourceConstructor, WebSocketConstructor } from "./env.js";
export type {
  SessionInfo,
  Transport,
  TransportContext,
  TransportDefinition,
  TransportEvents,
  TransportName,
  TransportOptions,
  TransportState,
} from "./transport.js";
export type { BinaryType, MessageData, OpenData, Packet, PacketType, ReceivedPacket } from "./protocol.js";
export {
  BufferOverflowError,
  CometaError,
  EncodingError,
  HandshakeError,
  HeartbeatError,
  IncomingTooLargeError,
  ProtocolError,
  ResumeError,
  ServerError,
  TransportError,
  UpgradeError,
  UsageError,
} from "./errors.js";
export { protocolVersion as protocol } from "./protocol.js";
