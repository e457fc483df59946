/** `sse`: an EventSource stream, one event per packet (docs/wire.md, "sse events"). */
import type { StreamFraming } from "./framing.js";

export const SSE_DEFAULT_PADDING = 2048;

export function sseFraming(paddingBytes: number): StreamFraming {
  return {
    contentType: "text/event-stream; charset=utf-8",
    // no-transform: proxies must not compress (and so buffer) the stream.
    headers: { "Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no" },
    // A comment line of padding flushes browsers and proxies that hold back the first KiB.
    open: () => `:${" ".repeat(paddingBytes)}\n\n`,
    // JSON keeps \r, \n and lone surrogates escaped, so a packet is always one `data:` line.
    frame: (packet) => `data: ${JSON.stringify(packet)}\n\n`,
    keepAlive: () => ":\n\n",
    end: () => "",
  };
}
