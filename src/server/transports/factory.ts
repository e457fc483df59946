/** Builds the extension's transports by name, as engine.io's handshake and upgrades ask for them. */
import type { EngineRequest, EngineTransport } from "../engine-internals.js";
import { CLOSE_TIMEOUT, type ResolvedOptions, type StreamingTransportName, isExtensionTransport } from "../options.js";
import type { StreamFraming } from "./framing.js";
import { IFRAME_DEFAULT_PADDING, iframeFraming } from "./iframe.js";
import { SHORT_POLLING, createShortPollingTransport } from "./short-polling.js";
import { SSE_DEFAULT_PADDING, sseFraming } from "./sse.js";
import { createStreamingTransport } from "./streaming.js";
import { XHR_STREAMING_DEFAULT_PADDING, xhrStreamingFraming } from "./xhr-streaming.js";

/** A transport of this extension by name; undefined for a name that is not one, or not enabled. */
export type TransportFactory = (name: string, req: EngineRequest) => EngineTransport | undefined;

export function extensionTransports(settings: ResolvedOptions, maxHttpBufferSize: () => number): TransportFactory {
  const padding = settings.paddingBytes;
  const framings = new Map<StreamingTransportName, StreamFraming>([
    ["sse", sseFraming(padding ?? SSE_DEFAULT_PADDING)],
    ["xhr-streaming", xhrStreamingFraming(padding ?? XHR_STREAMING_DEFAULT_PADDING)],
  ]);
  if (settings.isAllowedOrigin) {
    framings.set("iframe", iframeFraming(padding ?? IFRAME_DEFAULT_PADDING, settings.isAllowedOrigin));
  }
  return (name, req) => {
    if (!isExtensionTransport(name) || !settings.enabled.has(name)) return undefined;
    // The framings and the POST parser speak v4 (`\x1e` payloads); v3 clients use polling.
    if (req._query.EIO !== "4") throw new Error(`the ${name} transport speaks engine.io protocol v4 only`);
    const http = { maxHttpBufferSize: maxHttpBufferSize(), closeTimeout: CLOSE_TIMEOUT };
    if (name === SHORT_POLLING) return createShortPollingTransport(req, http);
    const framing = framings.get(name);
    if (!framing) return undefined;
    return createStreamingTransport(req, name, framing, {
      ...http,
      recycleBytes: settings.recycleBytes,
      keepAliveInterval: settings.keepAliveInterval,
    });
  };
}
