/** `xhr-streaming`: one long text response read incrementally (docs/wire.md; src/wire.ts). */
import { encodeJsonLine, jsonLineContentType, jsonLineKeepAlive, jsonLineStart } from "../../wire.js";
import type { StreamFraming } from "./framing.js";

export const XHR_STREAMING_DEFAULT_PADDING = 2048;

export function xhrStreamingFraming(paddingBytes: number): StreamFraming {
  return {
    contentType: jsonLineContentType,
    headers: { "Cache-Control": "no-store", "X-Accel-Buffering": "no" },
    open: () => jsonLineStart(paddingBytes),
    frame: encodeJsonLine,
    keepAlive: () => jsonLineKeepAlive,
    end: () => "",
  };
}
