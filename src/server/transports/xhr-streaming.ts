/** `xhr-streaming`: one long text response read incrementally (docs/wire.md). */
import type { StreamFraming } from "./framing.js";

export const XHR_STREAMING_DEFAULT_PADDING = 2048;

/** The noop packet as a frame: the client ignores it, proxies see traffic. */
const NOOP_FRAME = `${JSON.stringify("6")}\n`;

export function xhrStreamingFraming(paddingBytes: number): StreamFraming {
  return {
    contentType: "text/plain; charset=utf-8",
    headers: { "Cache-Control": "no-store", "X-Accel-Buffering": "no" },
    // One line of spaces: readers skip it as a blank line.
    open: () => `${" ".repeat(paddingBytes)}\n`,
    // JSON escapes every control character, so a frame never contains a raw \n.
    frame: (packet) => `${JSON.stringify(packet)}\n`,
    keepAlive: () => NOOP_FRAME,
    end: () => "",
  };
}
