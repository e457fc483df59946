/**
 * cometa/engine.io-client for Node: as the browser build, with `ws` as the WebSocket (Node 20
 * has none), binary delivered as Buffer and `process.nextTick`, as engine.io-client does in Node.
 */
import WebSocketImpl from "ws";
import { transports as cometaTransports } from "../../index.js";
import { protocolVersion } from "../../protocol.js";
import type { Environment, WebSocketConstructor } from "../../env.js";
import {
  type BinaryKind,
  type Platform,
  type SocketOptions,
  SocketWithoutUpgrade as BaseWithoutUpgrade,
  SocketWithUpgrade as BaseWithUpgrade,
} from "../socket.js";

/** `ws`, with its TCP socket unref'ed once open, so it does not keep the process alive. */
class UnrefWebSocket extends WebSocketImpl {
  constructor(...args: ConstructorParameters<typeof WebSocketImpl>) {
    super(...args);
    this.once("open", () => (this as unknown as { _socket?: { unref(): void } })._socket?.unref());
  }
}

/** Timers that do not keep the process alive, for `autoUnref`. */
const unrefTimers: Pick<Environment, "setTimeout" | "clearTimeout"> = {
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
};

const node: Platform = {
  binaryType: "nodebuffer",
  env: (options) =>
    options.autoUnref
      ? { WebSocket: UnrefWebSocket as unknown as WebSocketConstructor, ...unrefTimers }
      : { WebSocket: WebSocketImpl as unknown as WebSocketConstructor },
  binary: (data: ArrayBuffer, binaryType: BinaryKind) =>
    binaryType === "nodebuffer" ? Buffer.from(data) : binaryType === "blob" ? new Blob([data]) : data,
};

export class SocketWithoutUpgrade extends BaseWithoutUpgrade {
  constructor(uri?: string | SocketOptions | null, options?: SocketOptions) {
    super(uri, options, node);
  }
}

export class SocketWithUpgrade extends BaseWithUpgrade {
  constructor(uri?: string | SocketOptions | null, options?: SocketOptions) {
    super(uri, options, node);
  }
}

/** engine.io-client's `Socket`: every cometa transport by name (in Node: polling, websocket, xhr-streaming...). */
export class Socket extends BaseWithUpgrade {
  constructor(uri?: string | SocketOptions | null, options?: SocketOptions) {
    super(uri, options, node, cometaTransports);
  }
}

export const protocol = protocolVersion;
export const nextTick: (callback: () => void, setTimeoutFn?: unknown) => void = process.nextTick;
export { parse } from "../parseuri.js";
export type { ParsedUri } from "../parseuri.js";
export { installTimerFunctions } from "../util.js";
export {
  Fetch,
  NodeWebSocket,
  NodeXHR,
  Transport,
  TransportError,
  transports,
  WebSocket,
  WebTransport,
  XHR,
} from "../transports.js";
export type { BinaryKind, SocketOptions, TransportView } from "../socket.js";
