/**
 * cometa's own wire, the one place both sides spell it (docs/wire.md): transport names, the
 * three stream framings, keep-alives, the iframe message and the short-polling token. The
 * server imports the encoders, the client adapters the decoders, so a change to either side
 * that the other does not follow fails to compile or fails test/unit/wire.test.ts.
 *
 * Pure and dependency-free: it is bundled into the script-tag builds, where whatever the
 * client does not import is dropped.
 */

/** The streams cometa/server adds: one long GET each. */
export type StreamingTransportName = "sse" | "xhr-streaming" | "iframe";
/** The `transport=` values cometa/server adds to engine.io's `polling` and `websocket`. */
export type ExtensionTransportName = StreamingTransportName | "short-polling";
/**
 * The transports cometa's client ships, by the names `transports` accepts and servers list in
 * `upgrades`. `jsonp` is `transport=polling` with a `j` parameter on the wire.
 */
export type TransportName = "polling" | "websocket" | "jsonp" | ExtensionTransportName;

export const streamingTransports: readonly StreamingTransportName[] = ["sse", "xhr-streaming", "iframe"];
export const extensionTransports: readonly ExtensionTransportName[] = ["sse", "xhr-streaming", "iframe", "short-polling"];

/** The noop packet (`6`) as text: what keep-alives carry where a packet must. */
export const noopPacket = "6";

/**
 * What one stream frame carries (an event, a line, an iframe message): every packet of one
 * write, joined as engine.io joins a long-polling payload. cometa/server refuses U+001E inside
 * a string message and the client never sends one, so it never occurs inside a packet; binary
 * packets are `b` + base64. A frame of one packet is that packet as it is.
 */
export const payloadSeparator = "\x1e";

/**
 * The query parameter (value `1`) of an sse or xhr-streaming GET whose client reads plain
 * frames ({@link encodeLineFrame}). Without it cometa/server writes every frame as JSON, which
 * is all that earlier clients read.
 */
export const plainFramesParam = "pf";

/**
 * Whether a payload can travel in a line as it is: no `\r` or `\n` (they end a line), no NUL
 * (Firefox's EventSource drops it from a field) and no lone surrogate (UTF-8 cannot carry one).
 * For cometa/server; `isWellFormed` where the runtime has it (Node 20), a scan where not.
 */
export function isPlainPayload(payload: string): boolean {
  if (payload.indexOf("\n") >= 0 || payload.indexOf("\r") >= 0 || payload.indexOf("\0") >= 0) return false;
  const wellFormed = (payload as { isWellFormed?: () => boolean }).isWellFormed;
  return wellFormed ? wellFormed.call(payload) : !/[\ud800-\udbff](?![\udc00-\udfff])|(?:^|[^\ud800-\udbff])[\udc00-\udfff]/.test(payload);
}

/**
 * What an sse event or an xhr-streaming line carries for a payload: `plain` (the client sent
 * {@link plainFramesParam}) and a payload that can travel as it is, the payload itself, else
 * its JSON string. A payload starts with a packet type (a digit, or `b`), never with `"`, so
 * the reader tells them apart by the first character ({@link decodeLineFrame}); JSON costs the
 * reader a parse and the server an escape of every U+001E, so plain frames carry more per second.
 */
export const encodeLineFrame = (payload: string, plain?: boolean): string =>
  plain && isPlainPayload(payload) ? payload : JSON.stringify(payload);

/**
 * The payload a JSON-framed line or event carries (xhr-streaming, sse), or undefined when the
 * frame is not a JSON string. JSON escapes `\r`, `\n` and lone surrogates, so a frame is one
 * line and the page gets the exact string the server sent.
 */
export function decodeJsonFrame(frame: string): string | undefined {
  try {
    const packet: unknown = JSON.parse(frame);
    if (typeof packet === "string") return packet;
  } catch {
    // not JSON: the caller names the frame in its error
  }
}

/**
 * The payload of a line or event ({@link encodeLineFrame}): a JSON string's value, or the
 * frame as it is when it opens with a packet type (`0` to `6`, or `b`); undefined for anything
 * else (a page that is not a stream of cometa/server's, say), bad JSON included.
 */
export function decodeLineFrame(frame: string): string | undefined {
  const first = frame.charCodeAt(0);
  if (first === 34 /* " */) return decodeJsonFrame(frame);
  if ((first >= 48 /* 0 */ && first <= 54) /* 6 */ || first === 98 /* b */) return frame;
}

// --- sse: `text/event-stream`, one `data:` event per payload ---

export const sseContentType = "text/event-stream; charset=utf-8";
/** A comment line of padding: flushes browsers and proxies that hold back the first KiB. */
export const sseStart = (paddingBytes: number): string => `:${" ".repeat(paddingBytes)}\n\n`;
/** One event for one payload; EventSource hands the client its data, for {@link decodeLineFrame}. */
export const encodeSseEvent = (payload: string, plain?: boolean): string => `data: ${encodeLineFrame(payload, plain)}\n\n`;
/** A comment: proxies see traffic, EventSource dispatches nothing. */
export const sseKeepAlive = ":\n\n";
/** The field that carries an event's frame, as {@link encodeSseEvent} writes it. */
export const sseDataField = "data:";
/**
 * What one line of the event stream carries, for a client that reads the stream as text rather
 * than through EventSource: the frame of a `data:` line (for {@link decodeLineFrame}), null
 * for a line that carries none (the blank line ending an event, a comment: the padding, a
 * keep-alive), undefined for any other line (cometa/server writes no other field). A trailing
 * `\r` (a CRLF line end) is dropped, as EventSource drops it.
 */
export function decodeSseLine(line: string): string | null | undefined {
  if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
  if (line === "" || line.charCodeAt(0) === 58 /* : */) return null;
  if (line.lastIndexOf(sseDataField, 0) !== 0) return;
  // EventSource drops one space after the colon
  return line.slice(line.charCodeAt(sseDataField.length) === 32 ? sseDataField.length + 1 : sseDataField.length);
}

// --- xhr-streaming: `text/plain`, one payload per line (plain, or a JSON string) ---

export const jsonLineContentType = "text/plain; charset=utf-8";
/** Ends every line; JSON escapes it inside a frame, so it never occurs in one. */
export const lineSeparator = "\n";
/** A padding line of spaces: blank lines are skipped by the reader ({@link isPaddingLine}). */
export const jsonLineStart = (paddingBytes: number): string => " ".repeat(paddingBytes) + lineSeparator;
/** One line for one payload. */
export const encodeJsonLine = (payload: string, plain?: boolean): string => encodeLineFrame(payload, plain) + lineSeparator;
/**
 * The query parameter (value `1`) of an xhr-streaming GET read by a reader that keeps nothing of
 * what it read (a fetch stream). XMLHttpRequest keeps the whole response in `responseText`, so
 * without it cometa/server recycles the response sooner (docs/wire.md, "Recycling").
 */
export const discardingReaderParam = "rd";
/** A noop frame (`encodeJsonLine(noopPacket)`, spelled out: nothing runs at import): the client ignores it, proxies see traffic. */
export const jsonLineKeepAlive = '"6"\n';
/** Padding and blank lines carry nothing. */
export const isPaddingLine = (line: string): boolean => line.trim() === "";

// --- iframe: an HTML document of `<script>` chunks, each posting to the embedding page ---

export const iframeContentType = "text/html; charset=utf-8";
/** The first element of every message the document posts: `[iframeTag, frameId, body]`. */
export const iframeTag = "cometa";
/** Body of the bootstrap's message: the document is up and the server has the GET. */
export const iframeReady = 1;
/** Body of the last message: every payload of this document was posted. */
export const iframeEnd = 0;

/**
 * A string as a JavaScript string literal safe inside an HTML `<script>` element.
 * `JSON.stringify` alone is not enough: the HTML tokenizer ends a script at `</script`
 * whatever the JavaScript says, and `<!--` / `<script` switch it into the "escaped" states
 * where a later `</script>` no longer ends the element. Escaping every `<` (and `>`, `&` for
 * good measure) rules all of these out. U+2028/U+2029 were line terminators inside string
 * literals before ES2019 (old engines throw a SyntaxError). Lone surrogates come out of a
 * well-formed `JSON.stringify` (Node 12+) as `\udXXX`, so the page gets the exact string.
 */
export const encodeForScript = (value: string): string =>
  JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (char) => "\\u" + char.charCodeAt(0).toString(16).padStart(4, "0"));

/**
 * The document's head and bootstrap: `p(d)` posts `[iframeTag, frameId, d]` to the page's
 * exact origin, and posts {@link iframeReady} at once (a probe before that could overtake
 * the GET). `origin` and `frameId` are encoded here, never trusted. Each script removes itself
 * once it posted: the document's DOM stays the same size however many frames it carries (13,000
 * scripts left 39,000 nodes in Chromium; removed, none).
 */
export const iframeStart = (paddingBytes: number, origin: string, frameId: string): string =>
  '<!doctype html><html><head><meta charset="utf-8"></head><body>\n' +
  `<!--${" ".repeat(paddingBytes)}-->\n` +
  `<script>var o=${encodeForScript(origin)},f=${encodeForScript(frameId)};` +
  `function p(d){parent.postMessage([${JSON.stringify(iframeTag)},f,d],o);` +
  `var s=document.currentScript;s&&s.parentNode&&s.parentNode.removeChild(s)}p(${iframeReady})</script>\n`;
/** One script, one message, for one payload. */
export const encodeIframeScript = (payload: string): string => `<script>p(${encodeForScript(payload)})</script>\n`;
/** A noop packet (`encodeIframeScript(noopPacket)`, spelled out): proxies see traffic, the page ignores it. */
export const iframeKeepAlive = '<script>p("6")</script>\n';
/** The end marker and the end of the document, written before the response ends. */
export const iframeDocumentEnd = `<script>p(${iframeEnd})</script></body></html>`;

/**
 * What one message posted by a frame carries: a payload (string), {@link iframeReady} or
 * {@link iframeEnd}; undefined for anything not in the shape or from another frame. The
 * caller checks `event.source` and `event.origin` first.
 */
export function decodeIframeMessage(data: unknown, frameId: string): string | 0 | 1 | undefined {
  if (!Array.isArray(data) || data[0] !== iframeTag || data[1] !== frameId) return;
  const body: unknown = data[2];
  if (typeof body === "string" || body === iframeReady || body === iframeEnd) return body;
}

// --- short-polling: every answer opens with a noop carrying the next poll's token ---

/** The query parameter a GET sends the token back in (engine.io's own: EIO, transport, sid, t, b64, j). */
export const pollTokenParam = "k";
/** The first packet of every answer: stock parsers see a noop whose data is `k` + token. */
export const pollTokenPacket = (token: string): { type: "noop"; data: string } => ({ type: "noop", data: pollTokenParam + token });

/**
 * Splits an answer's text payload into its token and the payload the session sees. An answer
 * that was only the token reads as a noop; one without a token is returned as it came.
 */
export function decodePollToken(payload: string): [token: string | undefined, payload: string] {
  const prefix = noopPacket + pollTokenParam;
  if (!payload.startsWith(prefix)) return [undefined, payload];
  const end = payload.indexOf(payloadSeparator);
  return end < 0 ? [payload.slice(prefix.length), noopPacket] : [payload.slice(prefix.length, end), payload.slice(end + 1)];
}

// --- resumable sessions (docs/wire.md, "Resumable sessions") ---

/**
 * The handshake's query parameter by which a client offers resumption (value `1`). A stock
 * server ignores it; cometa/server accepts by adding {@link ResumeTerms} to the open packet.
 */
export const resumeOfferParam = "resume";
/**
 * The query parameter of a request that reattaches a session to a new transport (with `sid`
 * and `transport`): the count of the server's messages the client has received.
 */
export const reattachParam = "reattach";
/**
 * The query parameter of every GET that receives on the transport in use (polls, stream opens):
 * the count of the server's messages the client has received, after which the server resends
 * what that count does not cover.
 */
export const ackParam = "ack";
/** The open packet's field that carries the {@link ResumeTerms}. */
export const resumeTermsField = "resume";

/** What cometa/server grants in the open packet. */
export interface ResumeTerms {
  /** Milliseconds the server keeps a session whose transport broke, waiting for a reattach. */
  window: number;
  /** Bytes of messages the server holds sent but not acknowledged before it ends the session. */
  maxBytes: number;
}

/** The terms in an open packet's data (already JSON-parsed), or undefined when there are none. */
export function readResumeTerms(open: unknown): ResumeTerms | undefined {
  const terms = open !== null && typeof open === "object" ? (open as Record<string, unknown>)[resumeTermsField] : undefined;
  if (terms === null || typeof terms !== "object") return;
  const { window, maxBytes } = terms as Record<string, unknown>;
  if (typeof window !== "number" || !(window > 0) || typeof maxBytes !== "number" || !(maxBytes > 0)) return;
  return { window, maxBytes };
}

/**
 * A resumption control: the data of a noop packet (`6`), which stock peers ignore.
 * - `ack`: the sender has received the peer's messages 1 to `count` of this session.
 * - `next`: the sender's next message is its message number `seq` (1-based).
 */
export type ResumeControl = { kind: "ack"; count: number } | { kind: "next"; seq: number };

export const encodeAck = (count: number): string => "a" + count;
export const encodeNext = (seq: number): string => "s" + seq;

/** The control a noop's data carries, or undefined when it is not one (a keep-alive, a poll token). */
export function decodeResumeControl(data: unknown): ResumeControl | undefined {
  if (typeof data !== "string" || !/^[as](0|[1-9]\d{0,15})$/.test(data)) return;
  const value = Number(data.slice(1));
  return data[0] === "a" ? { kind: "ack", count: value } : { kind: "next", seq: value };
}
