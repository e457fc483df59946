/**
 * `iframe`: a "forever frame" HTML document of `<script>` chunks, each handing one payload of
 * packets to the embedding page with postMessage (docs/wire.md, "iframe documents"; src/wire.ts).
 */
import type { IncomingMessage } from "node:http";
import { type OriginCheck, isIframeOriginAcceptable } from "../origin.js";
import { encodeIframeScript, iframeContentType, iframeDocumentEnd, iframeKeepAlive, iframeStart } from "../../wire.js";
import { DEFAULT_RECYCLE_BYTES } from "../options.js";
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
    contentType: iframeContentType,
    headers: { "Cache-Control": "no-store", "X-Accel-Buffering": "no" },
    validate: (req) => validateIframeRequest(req, isAllowed),
    recycleBytes: () => DEFAULT_RECYCLE_BYTES,
    // validate() ran first, so both are present and well-formed; iframeStart encodes them anyway.
    open: (req) => iframeStart(paddingBytes, req._query.origin ?? "", req._query.f ?? ""),
    frame: encodeIframeScript,
    keepAlive: () => iframeKeepAlive,
    end: () => iframeDocumentEnd,
  };
}
