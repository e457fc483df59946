/**
 * The `<script>` build for pages that need only long-polling and WebSocket
 * (dist/cometa.core.min.js): the same global `Cometa`, without the streaming and JSONP
 * transports and without reconnection.
 */
import type { SocketOptions } from "./options.js";
import { BareSocket, BaseSocket } from "./socket.js";
import type { TransportDefinition } from "./transport.js";
import { polling } from "./transports/polling.js";
import { websocket } from "./transports/websocket.js";

/** Long-polling, then WebSocket when the server offers it. */
export const transports: readonly TransportDefinition[] = [polling, websocket];

/** An engine.io v4 socket over long-polling and WebSocket; `transports` may name them as strings. */
export class Socket extends BareSocket {
  constructor(uri?: string, options?: SocketOptions) {
    super(uri, options, transports);
  }
}

export { BareSocket, BaseSocket, polling, websocket };
export {
  CometaError,
  EncodingError,
  HandshakeError,
  HeartbeatError,
  IncomingTooLargeError,
  ProtocolError,
  ServerError,
  TransportError,
  UpgradeError,
  UsageError,
} from "./errors.js";
export { protocolVersion as protocol } from "./protocol.js";
