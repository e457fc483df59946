/** `sse`: an EventSource stream, one event per payload of packets (docs/wire.md, "sse events"; src/wire.ts). */
import { encodeSseEvent, sseContentType, sseKeepAlive, sseStart } from "../../wire.js";
import { DEFAULT_DISCARDED_RECYCLE_BYTES } from "../options.js";
import type { StreamFraming } from "./framing.js";

export const SSE_DEFAULT_PADDING = 2048;

export function sseFraming(paddingBytes: number): StreamFraming {
  return {
    contentType: sseContentType,
    // no-transform: proxies must not compress (and so buffer) the stream.
    headers: { "Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no" },
    // EventSource keeps nothing of the stream it read
    recycleBytes: () => DEFAULT_DISCARDED_RECYCLE_BYTES,
    open: () => sseStart(paddingBytes),
    frame: encodeSseEvent,
    keepAlive: () => sseKeepAlive,
    end: () => "",
  };
}
