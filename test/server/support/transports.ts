/** The streaming transports as the wire tests see them: name, parser, extra query, type. */
import { IframeParser, SseParser, type StreamParser, XhrStreamingParser } from "./framing.js";

export const PAGE_ORIGIN = "https://app.example";

export interface StreamingCase {
  readonly name: "sse" | "xhr-streaming" | "iframe";
  readonly contentType: string;
  parser(): StreamParser;
  /** Query parameters every GET of this transport needs besides EIO/transport/sid. */
  readonly getQuery: string;
}

export const STREAMING_CASES: readonly StreamingCase[] = [
  { name: "sse", contentType: "text/event-stream; charset=utf-8", parser: () => new SseParser(), getQuery: "" },
  { name: "xhr-streaming", contentType: "text/plain; charset=utf-8", parser: () => new XhrStreamingParser(), getQuery: "" },
  {
    name: "iframe",
    contentType: "text/html; charset=utf-8",
    parser: () => new IframeParser(),
    getQuery: `&origin=${encodeURIComponent(PAGE_ORIGIN)}&f=frame_1`,
  },
];
