/** `xhr-streaming`: one long text response read incrementally (docs/wire.md; src/wire.ts). */
import type { EngineRequest } from "../engine-internals.js";
import { DEFAULT_DISCARDED_RECYCLE_BYTES, DEFAULT_RECYCLE_BYTES } from "../options.js";
import {
  discardingReaderParam,
  encodeJsonLine,
  jsonLineContentType,
  jsonLineKeepAlive,
  jsonLineStart,
} from "../../wire.js";
import type { StreamFraming } from "./framing.js";

export const XHR_STREAMING_DEFAULT_PADDING = 2048;

export function xhrStreamingFraming(paddingBytes: number): StreamFraming {
  return {
    contentType: jsonLineContentType,
    headers: { "Cache-Control": "no-store", "X-Accel-Buffering": "no" },
    recycleBytes: xhrStreamingRecycleBytes,
    open: () => jsonLineStart(paddingBytes),
    frame: encodeJsonLine,
    keepAlive: () => jsonLineKeepAlive,
    end: () => "",
  };
}

/** A fetch stream keeps nothing of what it read; XMLHttpRequest's `responseText` keeps it all. */
function xhrStreamingRecycleBytes(req: EngineRequest): number {
  return req._query[discardingReaderParam] === "1" ? DEFAULT_DISCARDED_RECYCLE_BYTES : DEFAULT_RECYCLE_BYTES;
}
