/** The streaming transports as the wire tests see them: name, parser, extra query, type. */
import { IframeParser, SseParser, type StreamParser, XhrStreamingParser } from "./framing.js";

export const PAGE_ORIGIN = "https://app.example";

export interface StreamingCase {
  readonly name: "sse" | "xhr-streaming" | "iframe";
  readonly contentType: string;
  parser(): StreamParser;
  /** Query parameters every GET of this transport needs besides EIO/transport/sid. */
  readonly getQuery: string;
  /**
   * Headers a browser would send on every request of this transport: the forever-frame is used
   * by pages only, so the server wants the page's word (here its Referer) on each request.
   */
  readonly headers: Readonly<Record<string, string>>;
}

/** What a page of PAGE_ORIGIN sends (with the default Referrer-Policy) to another origin. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = { Referer: `${PAGE_ORIGIN}/` };

export const STREAMING_CASES: readonly StreamingCase[] = [
  // with `pf=1`, as cometa's client asks: frames as they are where they can be
  { name: "sse", contentType: "text/event-stream; charset=utf-8", parser: () => new SseParser(), getQuery: "&pf=1", headers: {} },
  {
    name: "xhr-streaming",
    contentType: "text/plain; charset=utf-8",
    parser: () => new XhrStreamingParser(),
    getQuery: "&pf=1",
    headers: {},
  },
  {
    name: "iframe",
    contentType: "text/html; charset=utf-8",
    parser: () => new IframeParser(),
    getQuery: `&origin=${encodeURIComponent(PAGE_ORIGIN)}&f=frame_1`,
    headers: PAGE_HEADERS,
  },
];
