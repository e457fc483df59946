/**
 * cometa: one realtime connection that works everywhere, speaking engine.io v4.
 */
import { BaseSocket, type SocketOptions } from "./socket.js";
import type { TransportDefinition } from "./transport.js";
import { polling } from "./transports/polling.js";
import { websocket } from "./transports/websocket.js";

/** Every transport this build carries, in the default order of preference. */
export const transports: readonly TransportDefinition[] = [polling, websocket];

/**
 * An engine.io v4 socket with every transport available; `transports` may name them as
 * strings. Import `BaseSocket` and the transports you want instead to ship only those.
 */
export class Socket extends BaseSocket {
  constructor(uri?: string, options: SocketOptions = {}) {
    super(uri, {
      ...options,
      transports: options.transports ?? transports,
      resolveTransport: (name) => transports.find((definition) => definition.name === name),
    });
  }
}

export { BaseSocket, polling, websocket };
export type { CloseDetails, CloseReason, SocketEvents, SocketOptions, SocketState } from "./socket.js";
export type { Environment, EventSourceConstructor, WebSocketConstructor } from "./env.js";
export type {
  SessionInfo,
  Transport,
  TransportContext,
  TransportDefinition,
  TransportEvents,
  TransportOptions,
  TransportState,
} from "./transport.js";
export type { BinaryType, MessageData, OpenData, Packet, PacketType, ReceivedPacket } from "./protocol.js";
export {
  CometaError,
  HandshakeError,
  HeartbeatError,
  ProtocolError,
  ServerError,
  TransportError,
  UpgradeError,
  UsageError,
} from "./errors.js";
export { protocolVersion as protocol } from "./protocol.js";
