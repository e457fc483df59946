/**
 * engine.io-client's transport classes, as names: socket.io-client users pass them in
 * `transports` (`[WebSocket]`), and engine.io-client reads `prototype.name`. Each one stands for
 * a cometa transport (the static `definition`), which does the work.
 */
import { Emitter } from "../emitter.js";
import type { TransportDefinition } from "../transport.js";
import { polling } from "../transports/polling.js";
import { websocket } from "../transports/websocket.js";

/** engine.io-client's error of a transport; cometa itself reports its own typed errors. */
export class TransportError extends Error {
  readonly type = "TransportError";
  constructor(
    reason: string,
    readonly description: unknown,
    readonly context?: unknown,
  ) {
    super(reason);
  }
}

/**
 * The base of engine.io-client's transports. Here it only names one: subclasses that implement
 * engine.io-client's transport methods themselves are not run (cometa's transports are).
 */
export class Transport extends Emitter<Record<string, unknown[]>> {
  /** The cometa transport a subclass stands for. */
  static definition?: TransportDefinition;
  declare readonly name: string;
}

function named(name: string, definition?: TransportDefinition): typeof Transport {
  class Named extends Transport {
    static override definition = definition;
  }
  // on the prototype, where engine.io-client reads a transport class's name
  Object.defineProperty(Named.prototype, "name", { value: name });
  return Named;
}

/** Long-polling (cometa's polling uses XMLHttpRequest where there is one, fetch otherwise). */
export const XHR = /* @__PURE__ */ named("polling", polling);
export const Fetch = /* @__PURE__ */ named("polling", polling);
export const NodeXHR = /* @__PURE__ */ named("polling", polling);
export const WebSocket = /* @__PURE__ */ named("websocket", websocket);
export const NodeWebSocket = /* @__PURE__ */ named("websocket", websocket);
/** cometa has no WebTransport: naming it is refused with a UsageError. */
export const WebTransport = /* @__PURE__ */ named("webtransport");

/** engine.io-client's default transports by name. */
export const transports = { polling: XHR, websocket: WebSocket, webtransport: WebTransport };
