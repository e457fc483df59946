/**
 * `iframe`: a "forever frame" HTML document of `<script>` chunks, each handing one packet to
 * the embedding page with postMessage (docs/wire.md, "iframe documents").
 */
import type { IncomingMessage } from "node:http";
import { type OriginCheck, isIframeOriginAcceptable } from "../origin.js";
import { encodeForScript } from "../script-encoding.js";
import type { Refusal, StreamFraming } from "./framing.js";

export const IFRAME_DEFAULT_PADDING = 1024;

/** The frame id the page uses to tell its iframes apart; never more than a token. */
const FRAME_ID = /^[A-Za-z0-9_-]{1,32}$/;

type QueryRequest = IncomingMessage & { _query: Record<string, string | undefined> };

/**
 * Checks `origin` and `f` of an iframe GET. The document posts every packet to `origin`, so
 * a wrong origin would hand the session to another site: 403. A malformed `f`: 400.
 */
export function validateIframeRequest(req: QueryRequest, isAllowed: OriginCheck): Refusal | null {
  const frameId = req._query.f;
  if (frameId === undefined || !FRAME_ID.test(frameId)) return { code: 3, message: "Bad request" };
  if (!isIframeOriginAcceptable(req._query.origin, req.headers, isAllowed)) return { code: 4, message: "Forbidden" };
  return null;
}

export function iframeFraming(paddingBytes: number, isAllowed: OriginCheck): StreamFraming {
  return {
    contentType: "text/html; charset=utf-8",
    headers: { "Cache-Control": "no-store", "X-Accel-Buffering": "no" },
    validate: (req) => validateIframeRequest(req, isAllowed),
    open: (req) => {
      // validate() ran first, so both are present and well-formed; still encoded, never trusted.
      const origin = encodeForScript(req._query.origin ?? "");
      const frameId = encodeForScript(req._query.f ?? "");
      return (
        '<!doctype html><html><head><meta charset="utf-8"></head><body>\n' +
        `<!--${" ".repeat(paddingBytes)}-->\n` +
        // p(1): the document is up, so the page may POST to it (a probe before this could
        // overtake the GET); p(0) at the end says every packet was posted (docs/wire.md)
        `<script>var o=${origin},f=${frameId};function p(d){parent.postMessage(["cometa",f,d],o)}p(1)</script>\n`
      );
    },
    frame: (packet) => `<script>p(${encodeForScript(packet)})</script>\n`,
    // A noop packet: proxies see traffic, the page ignores it.
    keepAlive: () => `<script>p(${encodeForScript("6")})</script>\n`,
    end: () => "<script>p(0)</script></body></html>",
  };
}
