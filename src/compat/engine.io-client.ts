/**
 * cometa/engine.io-client: engine.io-client 6.6's exports over cometa, so socket.io-client 4.8
 * runs unchanged on cometa's seven transports when a bundler aliases `engine.io-client` here.
 * This is the browser build; Node resolves the `node` one (compat/node/), which uses `ws`.
 */
import { transports as cometaTransports } from "../index.js";
import { protocolVersion } from "../protocol.js";
import {
  type BinaryKind,
  type Platform,
  type SocketOptions,
  SocketWithoutUpgrade as BaseWithoutUpgrade,
  SocketWithUpgrade as BaseWithUpgrade,
} from "./socket.js";

const browser: Platform = {
  binaryType: "arraybuffer",
  env: () => ({}),
  binary: (data: ArrayBuffer, binaryType: BinaryKind) => (binaryType === "blob" ? new Blob([data]) : data),
};

export class SocketWithoutUpgrade extends BaseWithoutUpgrade {
  constructor(uri?: string | SocketOptions | null, options?: SocketOptions) {
    super(uri, options, browser);
  }
}

export class SocketWithUpgrade extends BaseWithUpgrade {
  constructor(uri?: string | SocketOptions | null, options?: SocketOptions) {
    super(uri, options, browser);
  }
}

/**
 * engine.io-client's `Socket`: every cometa transport by name. With no `transports` option it
 * opens on long-polling and upgrades to the best of websocket, sse, xhr-streaming and iframe
 * that the server offers.
 */
export class Socket extends BaseWithUpgrade {
  constructor(uri?: string | SocketOptions | null, options?: SocketOptions) {
    super(uri, options, browser, cometaTransports);
  }
}

export const protocol = protocolVersion;
export { parse } from "./parseuri.js";
export type { ParsedUri } from "./parseuri.js";
export { installTimerFunctions, nextTick } from "./util.js";
export { Fetch, NodeWebSocket, NodeXHR, Transport, TransportError, transports, WebSocket, WebTransport, XHR } from "./transports.js";
export type { BinaryKind, SocketOptions, TransportView } from "./socket.js";
