/**
 * Entry of the long-polling + WebSocket script-tag build (dist/cometa.core.min.js, a file name
 * kept for the pages that load it): the same global `Cometa` as the full build, without the
 * streaming and JSONP transports, reconnection and resumption: what engine.io-client does, for
 * pages that weigh every byte. Nothing else here is a "core": the session is src/socket.ts, and
 * the full build's entry is src/index.ts.
 */
import type { SocketOptions } from "./options.js";
import { BareSocket } from "./socket.js";
import type { TransportDefinition } from "./transport.js";
import { polling } from "./transports/polling.js";
import { websocket } from "./transports/websocket.js";

/** Long-polling, then WebSocket when the server offers it. */
export const transports: readonly TransportDefinition[] = [polling, websocket];

/**
 * An engine.io v4 socket over long-polling and WebSocket, without resumption (a plain engine.io
 * session with any server); `transports` may name them as strings.
 */
export class Socket extends BareSocket {
  constructor(uri?: string, options?: SocketOptions) {
    super(uri, options, transports);
  }
}

export { BareSocket, polling, websocket };
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
