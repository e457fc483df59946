// @vitest-environment node
// (the server's framings and engine.io's JSONP transport are Node code; the client adapters
// run on fakes of fetch, EventSource and the page)
/**
 * cometa's own wire, both sides: each encoder and decoder on literal strings, then property
 * tests that feed what cometa/server's framings write into the client's adapters, for every
 * streaming transport and for the polling payload paths with cometa code on them (short-polling
 * tokens, JSONP up and down, the POST payload split), with arbitrary text and binary.
 *
 * What each transport promises for a string the server sends: the streams (sse, xhr-streaming,
 * iframe) and JSONP's script deliver it exactly, lone surrogates included, because JSON
 * escapes them; a polling body is UTF-8, so each lone surrogate arrives as U+FFFD. Upstream,
 * every body is UTF-8 (JSONP's form too): U+FFFD.
 */
import { decodePayload as serverDecodePayload, encodePacket, encodePayload, type Packet as ServerPacket } from "engine.io-parser";
import { transports } from "engine.io";
import { EventSource } from "eventsource";
import fc from "fast-check";
import { type DefaultTreeAdapterMap, parse } from "parse5";
import { describe, expect, test } from "vitest";
import { type Environment, resolveEnvironment } from "../../src/env.js";
import { type Packet, type ReceivedPacket, decodePayload, encodeTextPacket } from "../../src/protocol.js";
import { iframeFraming } from "../../src/server/transports/iframe.js";
import { sseFraming } from "../../src/server/transports/sse.js";
import { xhrStreamingFraming } from "../../src/server/transports/xhr-streaming.js";
import type { Transport, TransportDefinition, TransportOptions } from "../../src/transport.js";
import { iframe } from "../../src/transports/iframe.js";
import { encodeJsonpForm, wellFormed } from "../../src/transports/jsonp.js";
import { shortPolling } from "../../src/transports/short-polling.js";
import { sse } from "../../src/transports/sse.js";
import { splitPayloads } from "../../src/transports/upstream.js";
import { xhrStreaming } from "../../src/transports/xhr-streaming.js";
import {
  decodeSseLine,
  discardingReaderParam,
  decodeIframeMessage,
  decodeJsonFrame,
  decodeLineFrame,
  decodePollToken,
  encodeLineFrame,
  encodeForScript,
  encodeIframeScript,
  encodeJsonLine,
  encodeSseEvent,
  extensionTransports,
  iframeContentType,
  iframeDocumentEnd,
  iframeEnd,
  iframeKeepAlive,
  iframeReady,
  iframeStart,
  iframeTag,
  isPaddingLine,
  isPlainPayload,
  jsonLineContentType,
  jsonLineKeepAlive,
  jsonLineStart,
  lineSeparator,
  noopPacket,
  payloadSeparator,
  plainFramesParam,
  pollTokenPacket,
  pollTokenParam,
  sseContentType,
  sseDataField,
  sseKeepAlive,
  sseStart,
  streamingTransports,
} from "../../src/wire.js";
import { makeContext } from "./support/context.js";

describe("names", () => {
  test("the transports cometa/server adds, streams first", () => {
    expect(streamingTransports).toEqual(["sse", "xhr-streaming", "iframe"]);
    expect(extensionTransports).toEqual(["sse", "xhr-streaming", "iframe", "short-polling"]);
  });

  test("each client adapter is named as the wire names it", () => {
    expect([sse.name, xhrStreaming.name, iframe.name, shortPolling.name]).toEqual(extensionTransports);
  });
});

describe("sse", () => {
  test("literal framing", () => {
    expect(sseContentType).toBe("text/event-stream; charset=utf-8");
    expect(sseStart(3)).toBe(":   \n\n");
    expect(encodeSseEvent('4a\nb\r"\u2028')).toBe('data: "4a\\nb\\r\\"\u2028"\n\n');
    expect(encodeSseEvent("4\ud800")).toBe('data: "4\\ud800"\n\n');
    expect(sseKeepAlive).toBe(":\n\n");
    // where the client asked for plain frames, a payload that can travel as it is does
    expect(encodeSseEvent("4a\x1e4\u2028 😀 </script>", true)).toBe("data: 4a\x1e4\u2028 😀 </script>\n\n");
    expect(encodeSseEvent("4a\nb", true)).toBe('data: "4a\\nb"\n\n');
    // read as text lines: a data line's frame, nothing for blank lines and comments, CRLF as LF
    expect(sseDataField).toBe("data:");
    expect(decodeSseLine('data: "4a"')).toBe('"4a"');
    expect(decodeSseLine('data:"4a"')).toBe('"4a"');
    expect(decodeSseLine('data:  "4a"\r')).toBe(' "4a"');
    expect([decodeSseLine(""), decodeSseLine("\r"), decodeSseLine(":   "), decodeSseLine(":")]).toEqual([null, null, null, null]);
    expect([decodeSseLine("event: x"), decodeSseLine("<html>"), decodeSseLine(' data: "4a"')]).toEqual([undefined, undefined, undefined]);
  });

  test("one event carries the packets of one write, joined by U+001E (escaped by JSON)", () => {
    expect(payloadSeparator).toBe("\x1e");
    expect(encodeSseEvent(["4hello", "4a\nb", "bAQID", "2"].join(payloadSeparator))).toBe('data: "4hello\\u001e4a\\nb\\u001ebAQID\\u001e2"\n\n');
  });

  test("the server's framing is the wire's", () => {
    const framing = sseFraming(4);
    expect(framing.contentType).toBe(sseContentType);
    expect(framing.open({} as never)).toBe(sseStart(4));
    expect(framing.frame("4x", false)).toBe(encodeSseEvent("4x"));
    expect(framing.frame("4x", true)).toBe(encodeSseEvent("4x", true));
    expect(framing.frame("4x", true)).toBe("data: 4x\n\n");
    expect(framing.keepAlive()).toBe(sseKeepAlive);
  });
});

describe("JSON lines (xhr-streaming)", () => {
  test("literal framing", () => {
    expect(jsonLineContentType).toBe("text/plain; charset=utf-8");
    expect(lineSeparator).toBe("\n");
    expect(jsonLineStart(2)).toBe("  \n");
    expect(encodeJsonLine("4a\nb")).toBe('"4a\\nb"\n');
    expect(jsonLineKeepAlive).toBe(encodeJsonLine(noopPacket));
    expect(jsonLineKeepAlive).toBe('"6"\n');
    expect(discardingReaderParam).toBe("rd");
    expect(encodeJsonLine(["4hello", "4a\nb", "bAQID"].join(payloadSeparator))).toBe('"4hello\\u001e4a\\nb\\u001ebAQID"\n');
  });

  test("padding lines are blank after trimming", () => {
    expect(isPaddingLine("")).toBe(true);
    expect(isPaddingLine("    \t")).toBe(true);
    expect(isPaddingLine('"6"')).toBe(false);
  });

  test("the server's framing is the wire's", () => {
    const framing = xhrStreamingFraming(3);
    expect(framing.contentType).toBe(jsonLineContentType);
    expect(framing.open({} as never)).toBe(jsonLineStart(3));
    expect(framing.frame("4x", false)).toBe(encodeJsonLine("4x"));
    expect(framing.frame("4x", true)).toBe("4x\n");
    expect(framing.keepAlive()).toBe(jsonLineKeepAlive);
  });

  test("decodeJsonFrame: a JSON string or nothing", () => {
    expect(decodeJsonFrame('"4hi"')).toBe("4hi");
    expect(decodeJsonFrame('"4\\ud800"')).toBe("4\ud800");
    expect(decodeJsonFrame("4hi")).toBeUndefined();
    expect(decodeJsonFrame("42")).toBeUndefined();
    expect(decodeJsonFrame('{"a":1}')).toBeUndefined();
    expect(decodeJsonFrame("")).toBeUndefined();
  });

  test("plain frames: a payload goes as it is unless it holds a line end or a lone surrogate", () => {
    expect(plainFramesParam).toBe("pf");
    expect(encodeJsonLine("4hello\x1e4😀\x1ebAQID", true)).toBe("4hello\x1e4😀\x1ebAQID\n");
    for (const payload of ["4a\nb", "4a\rb", "4a\0b", "4\ud800", "4\udc00x", "4x\ud83d", "4\ude00\ud83d"]) {
      expect(isPlainPayload(payload)).toBe(false);
      expect(encodeJsonLine(payload, true)).toBe(JSON.stringify(payload) + "\n");
    }
    for (const payload of ["4", "4\ud83d\ude00", "4\u2028\u2029\x1e\x7f", "b+/=="]) {
      expect(isPlainPayload(payload)).toBe(true);
      expect(encodeLineFrame(payload, true)).toBe(payload);
      expect(encodeLineFrame(payload, false)).toBe(JSON.stringify(payload));
    }
  });

  test("isPlainPayload scans for lone surrogates where the runtime has no isWellFormed", () => {
    const proto = String.prototype as { isWellFormed?: unknown };
    const own = Object.getOwnPropertyDescriptor(proto, "isWellFormed");
    delete proto.isWellFormed;
    try {
      expect(["4\ud800", "4\udc00x", "4x\ud83d", "\ude00", "4\ude00\ud83d"].map(isPlainPayload)).toEqual([false, false, false, false, false]);
      expect(["4", "4\ud83d\ude00", "\ud83d\ude00\ud83d\ude00", "4é"].map(isPlainPayload)).toEqual([true, true, true, true]);
    } finally {
      if (own) Object.defineProperty(proto, "isWellFormed", own);
    }
  });

  test("decodeLineFrame: a JSON string's value, or a frame opening with a packet type as it is; nothing else", () => {
    expect(decodeLineFrame('"4a\\nb"')).toBe("4a\nb");
    expect(decodeLineFrame("4hi\x1e2")).toBe("4hi\x1e2");
    expect(["0{}", "1", "2", "3", "4", "5", "6", "bAQID"].map(decodeLineFrame)).toEqual(["0{}", "1", "2", "3", "4", "5", "6", "bAQID"]);
    // what a page that is not a cometa stream holds: never read as packets
    for (const frame of ['"4hi', "", "7x", "<html>", " 4hi", "a4", "B"]) expect(decodeLineFrame(frame)).toBeUndefined();
  });
});

describe("iframe", () => {
  test("encodeForScript escapes what could end the script or open a comment", () => {
    expect(encodeForScript("</script><!--&\u2028\u2029")).toBe('"\\u003c/script\\u003e\\u003c!--\\u0026\\u2028\\u2029"');
    expect(encodeForScript("4\ud800")).toBe('"4\\ud800"');
  });

  test("literal document", () => {
    expect(iframeContentType).toBe("text/html; charset=utf-8");
    expect(iframeTag).toBe("cometa");
    expect([iframeReady, iframeEnd]).toEqual([1, 0]);
    expect(iframeStart(2, "https://page.example", "f1")).toBe(
      '<!doctype html><html><head><meta charset="utf-8"></head><body>\n' +
        "<!--  -->\n" +
        '<script>var o="https://page.example",f="f1";function p(d){parent.postMessage(["cometa",f,d],o);' +
          "var s=document.currentScript;s&&s.parentNode&&s.parentNode.removeChild(s)}p(1)</script>\n",
    );
    expect(encodeIframeScript("4<b>")).toBe('<script>p("4\\u003cb\\u003e")</script>\n');
    expect(encodeIframeScript(["4</script>", "4\u2028", "bAQID"].join(payloadSeparator))).toBe(
      '<script>p("4\\u003c/script\\u003e\\u001e4\\u2028\\u001ebAQID")</script>\n',
    );
    expect(iframeKeepAlive).toBe(encodeIframeScript(noopPacket));
    expect(iframeDocumentEnd).toBe("<script>p(0)</script></body></html>");
  });

  test("an origin or frame id never leaves its string literal", () => {
    expect(iframeStart(0, '"</script><script>alert(1)//', "f")).toContain('var o="\\"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)//"');
  });

  test("the server's framing is the wire's", () => {
    const framing = iframeFraming(2, () => true);
    const req = { _query: { origin: "https://page.example", f: "f1" }, headers: {} };
    expect(framing.contentType).toBe(iframeContentType);
    expect(framing.open(req as never)).toBe(iframeStart(2, "https://page.example", "f1"));
    // a script literal is JSON whatever the GET says
    expect(framing.frame("4x", true)).toBe(encodeIframeScript("4x"));
    expect(framing.frame("4x", false)).toBe(encodeIframeScript("4x"));
    expect(framing.keepAlive()).toBe(iframeKeepAlive);
    expect(framing.end()).toBe(iframeDocumentEnd);
  });

  test("decodeIframeMessage: a packet, ready or end of this frame; nothing else", () => {
    expect(decodeIframeMessage(["cometa", "f1", "4hi"], "f1")).toBe("4hi");
    expect(decodeIframeMessage(["cometa", "f1", 1], "f1")).toBe(iframeReady);
    expect(decodeIframeMessage(["cometa", "f1", 0], "f1")).toBe(iframeEnd);
    expect(decodeIframeMessage(["cometa", "f2", "4hi"], "f1")).toBeUndefined();
    expect(decodeIframeMessage(["other", "f1", "4hi"], "f1")).toBeUndefined();
    expect(decodeIframeMessage(["cometa", "f1", 2], "f1")).toBeUndefined();
    expect(decodeIframeMessage(["cometa", "f1", { x: 1 }], "f1")).toBeUndefined();
    expect(decodeIframeMessage("cometa", "f1")).toBeUndefined();
    expect(decodeIframeMessage(null, "f1")).toBeUndefined();
  });
});

describe("short-polling tokens", () => {
  test("the token packet is a noop whose data is k + token", () => {
    expect(pollTokenParam).toBe("k");
    expect(pollTokenPacket("abc")).toEqual({ type: "noop", data: "kabc" });
  });

  test("decodePollToken splits the token from the payload the session sees", () => {
    expect(decodePollToken("6kabc")).toEqual(["abc", "6"]);
    expect(decodePollToken("6kabc\x1e4hi\x1e2")).toEqual(["abc", "4hi\x1e2"]);
    expect(decodePollToken("4hi")).toEqual([undefined, "4hi"]);
    expect(decodePollToken("6")).toEqual([undefined, "6"]);
    expect(decodePollToken("6k")).toEqual(["", "6"]);
  });
});

// --- property tests: the server's bytes into the client's adapters ---

/** Text that stresses every framing: script and comment openers, line and record separators, lone surrogates. */
const specials = ["\u2028", "\u2029", "</script>", "</SCRIPT ", "<!--", "-->", "<script>", "\ud800", "\udbff", "\udc00", "\udfff"];
const unit = fc.oneof(
  fc.constantFrom(...specials, "😀", "é", "\n", "\r", "\r\n", "\0", "\x1e", '"', "\\", "\\n", "\\\n", "&", "\ufeff", "data: x\n\n", ":"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
);
const text = fc.string({ unit, maxLength: 24 });
const message = fc.oneof(
  { weight: 3, arbitrary: text.map((data): Packet => ({ type: "message", data })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 48 }).map((data): Packet => ({ type: "message", data })) },
  { weight: 1, arbitrary: fc.constantFrom<Packet>({ type: "ping" }, { type: "pong" }, { type: "noop" }) },
);
const packetList = fc.array(message, { minLength: 1, maxLength: 8 });
/**
 * What the streams carry: the packets of one write joined in one frame. A string message never
 * holds U+001E (cometa/server refuses it on send), so it is taken out of the text here.
 */
const streamMessage = message.map((packet): Packet => (typeof packet.data === "string" ? { ...packet, data: packet.data.replaceAll("\x1e", "") } : packet));
const batchList = fc.array(fc.array(streamMessage, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 5 });
/** Where the response is cut into the chunks the client reads, as fractions of its length. */
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 });

/** A packet as the client reports it: text as is, binary as its bytes. */
function normal(packet: { type: string; data?: unknown }): { type: string; data?: string | number[] } {
  const { type, data } = packet;
  // engine.io-parser reads `4` as a message without data; the session hands on "" for both
  if (data === undefined || data === "") return { type };
  if (typeof data === "string") return { type, data };
  const view = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data as ArrayBuffer);
  return { type, data: Array.from(view) };
}

/** What a packet is once a UTF-8 body carried it: lone surrogates as U+FFFD. */
const overUtf8 = (packet: Packet): Packet => (typeof packet.data === "string" ? { ...packet, data: wellFormed(packet.data) } : packet);

/** The packet as cometa/server's streams encode it before framing: never binary, `b` + base64. */
function serverEncoded(packet: Packet): string {
  let encoded = "";
  encodePacket(packet as ServerPacket, false, (data) => (encoded = data as string));
  return encoded;
}

/** A stream body as the server writes it: the opening, one frame per batch, keep-alives between. */
function streamBody(
  framing: { open(req: never): string; frame(payload: string, plain: boolean): string; keepAlive(): string; end(): string },
  req: unknown,
  batches: readonly (readonly Packet[])[],
  plain = false,
): string {
  const frames = batches.map((batch) => framing.frame(batch.map(serverEncoded).join(payloadSeparator), plain) + framing.keepAlive());
  return framing.open(req as never) + frames.join("") + framing.end();
}

/** The body's UTF-8 bytes (as Node writes a string: lone surrogates as U+FFFD) in chunks cut at `at`. */
function chunked(body: string, at: readonly number[]): Uint8Array[] {
  const bytes = new TextEncoder().encode(body);
  const points = [...new Set(at.map((fraction) => Math.floor(fraction * bytes.length)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    if (point > start) chunks.push(bytes.slice(start, point));
    start = Math.max(start, point);
  }
  return chunks;
}

function streamResponse(chunks: readonly Uint8Array[], contentType: string): Response {
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  return new Response(stream, { status: 200, headers: { "Content-Type": contentType } });
}

/**
 * Opens the adapter, lets the first response be read whole, and resolves with the packets it
 * reported once the adapter asks for the next response (so everything before was read).
 */
function receive(
  definition: TransportDefinition,
  env: Partial<Environment>,
  done: (resolve: () => void) => void,
  options: Partial<TransportOptions> = {},
): Promise<ReceivedPacket[]> {
  const context = makeContext(resolveEnvironment(env), options, { sid: "s1" }, "http://127.0.0.1:4567");
  const transport: Transport = definition.create(context);
  const packets: ReceivedPacket[] = [];
  return new Promise<ReceivedPacket[]>((resolve, reject) => {
    transport.on("packet", (packet) => packets.push(packet));
    transport.on("error", reject);
    done(() => {
      transport.close();
      resolve(packets);
    });
    transport.open();
  });
}

/** A fetch answering its first call with `first` and holding every later one; `again` runs at the second. */
function fetchOnce(first: () => Response, again: () => void): typeof fetch {
  let calls = 0;
  return ((_url: unknown, init?: RequestInit) => {
    if (++calls === 1) return Promise.resolve(first());
    again();
    return new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener("abort", () => reject(new Error("aborted"))));
  }) as typeof fetch;
}

describe("server framing → client adapter, arbitrary packets", () => {
  test("xhr-streaming: every packet of every batch exactly, however the bytes are cut", async () => {
    const framing = xhrStreamingFraming(64);
    await fc.assert(
      fc.asyncProperty(batchList, cuts, fc.boolean(), async (packets, at, plain) => {
        let next!: () => void;
        const received = await receive(
          xhrStreaming,
          { XMLHttpRequest: undefined, fetch: fetchOnce(() => streamResponse(chunked(streamBody(framing, {}, packets, plain), at), jsonLineContentType), () => next()) },
          (resolve) => (next = resolve),
        );
        expect(received.map(normal)).toEqual(withKeepAlives(packets));
      }),
      { numRuns: 60 },
    );
  });

  test("sse: every packet of every batch exactly, read as a fetch stream, however the bytes are cut", async () => {
    const framing = sseFraming(64);
    await fc.assert(
      fc.asyncProperty(batchList, cuts, fc.boolean(), async (packets, at, plain) => {
        let next!: () => void;
        const fetch = fetchOnce(() => streamResponse(chunked(streamBody(framing, {}, packets, plain), at), sseContentType), () => next());
        const received = await receive(sse, { EventSource: undefined, XMLHttpRequest: undefined, fetch }, (resolve) => (next = resolve));
        // keep-alives are comments, which carry nothing
        expect(received.map(normal)).toEqual(packets.flat().map(normal));
      }),
      { numRuns: 40 },
    );
  });

  test("sse: every packet of every batch exactly, through a real EventSource where fetch cannot stream, however the bytes are cut", async () => {
    const framing = sseFraming(64);
    await fc.assert(
      fc.asyncProperty(batchList, cuts, fc.boolean(), async (packets, at, plain) => {
        let next!: () => void;
        const fetch = fetchOnce(() => streamResponse(chunked(streamBody(framing, {}, packets, plain), at), sseContentType), () => next());
        class FetchingEventSource extends EventSource {
          constructor(url: string, init?: { withCredentials?: boolean }) {
            super(url, { ...init, fetch });
          }
        }
        const received = await receive(sse, { EventSource: FetchingEventSource, XMLHttpRequest: undefined, fetch: undefined }, (resolve) => (next = resolve));
        // keep-alives are comments: EventSource dispatches nothing for them
        expect(received.map(normal)).toEqual(packets.flat().map(normal));
      }),
      { numRuns: 40 },
    );
  });

  test("iframe: every packet of every batch exactly, through an HTML parser and the page's message checks", async () => {
    const framing = iframeFraming(16, () => true);
    const pageOrigin = "https://page.example";
    await fc.assert(
      fc.asyncProperty(batchList, async (packets) => {
        let next!: () => void;
        const { env } = fakePage(pageOrigin, (src, frameWindow, post) => {
          const url = new URL(src);
          const body = streamBody(framing, { _query: { origin: url.searchParams.get("origin"), f: url.searchParams.get("f") }, headers: {} }, packets);
          // the document as the browser gets it: UTF-8 bytes, parsed as HTML (parse5, jsdom's
          // parser, ends a script where a browser does), its scripts run in order in one realm
          const scripts = scriptsOf(new TextDecoder().decode(new TextEncoder().encode(body)));
          const parent = { postMessage: (data: unknown, origin: string) => origin === pageOrigin && post({ data, origin: url.origin, source: frameWindow }) };
          // scripts run as one here, so none is the current script to remove
          new Function("parent", "document", scripts.join(";\n"))(parent, { currentScript: null });
        }, () => next());
        const received = await receive(iframe, env, (resolve) => (next = resolve));
        expect(received.map(normal)).toEqual(withKeepAlives(packets));
      }),
      { numRuns: 40 },
    );
  });

  test("short-polling: the token is taken off and sent back; packets as a UTF-8 body carries them", async () => {
    await fc.assert(
      fc.asyncProperty(packetList, fc.base64String({ minLength: 4, maxLength: 24 }), cuts, async (packets, token, at) => {
        const sent = packets.filter((packet) => typeof packet.data !== "string" || !packet.data.includes("\x1e"));
        // what ShortPollingTransport answers: the token packet first, then the queue
        let payload = "";
        encodePayload([pollTokenPacket(token), ...sent] as ServerPacket[], (encoded) => (payload = encoded));
        const urls: string[] = [];
        let next!: () => void;
        const answer = fetchOnce(() => streamResponse(chunked(payload, at), "text/plain; charset=utf-8"), () => next());
        const fetch = ((url: string, init?: RequestInit) => (urls.push(url), answer(url, init))) as typeof globalThis.fetch;
        // pollInterval 0: the next poll goes out as soon as the answer is read
        const received = await receive(shortPolling, { XMLHttpRequest: undefined, fetch }, (resolve) => (next = resolve), { pollInterval: 0 });
        const expected = sent.length > 0 ? sent.map(overUtf8) : [{ type: "noop" } as Packet];
        expect(received.map(normal)).toEqual(expected.map(normal));
        expect(new URL(urls[1]!).searchParams.get(pollTokenParam)).toBe(token);
        expect(new URL(urls[0]!).searchParams.has(pollTokenParam)).toBe(false);
      }),
      { numRuns: 60 },
    );
  });
});

describe("polling payloads with cometa code on them, arbitrary packets", () => {
  const noSeparator = (packets: Packet[]) => packets.filter((packet) => typeof packet.data !== "string" || !packet.data.includes("\x1e"));

  /** engine.io's own JSONP transport (`j=0`), driven without sockets: its body parsing and its script. */
  function stockJsonp() {
    const received: ServerPacket[] = [];
    let script = "";
    const transport = transports.polling({ _query: { EIO: "4", j: "0" } } as never);
    Object.assign(transport, {
      req: { cleanup() {} },
      res: { writeHead() {}, end: (data: string) => (script = data) },
      headers: (_req: unknown, headers: unknown) => headers,
      onPacket: (packet: ServerPacket) => received.push(packet),
      onClose() {},
    });
    return { transport: transport as unknown as { onData(body: string): void; send(packets: ServerPacket[]): void }, received, script: () => script };
  }

  test("jsonp up: the client's form POSTs, read by engine.io's JSONP transport, are the packets as UTF-8 carries them", () => {
    fc.assert(
      fc.property(packetList, fc.integer({ min: 20, max: 400 }), (list, maxPayload) => {
        const packets = noSeparator(list);
        const stock = stockJsonp();
        for (const payload of splitPayloads(packets, maxPayload)) stock.transport.onData("d=" + encodeJsonpForm(payload));
        expect(stock.received.map(normal)).toEqual(packets.map(overUtf8).map(normal));
      }),
      // a backslash before a line feed: the escaping older clients used turned it into `\n`
      { numRuns: 500, examples: [[[{ type: "message", data: "\\\n" }], 100]] },
    );
  });

  test("jsonp down: engine.io's script, run as the page runs it, hands the client the exact payload", () => {
    fc.assert(
      fc.property(packetList, (list) => {
        const packets = noSeparator(list);
        fc.pre(packets.length > 0);
        const stock = stockJsonp();
        stock.transport.send(packets as ServerPacket[]);
        let delivered = "";
        const script = new TextDecoder().decode(new TextEncoder().encode(stock.script()));
        new Function("___eio", script)([(payload: string) => (delivered = payload)]);
        expect(decodePayload(delivered).map(normal)).toEqual(packets.map(normal));
      }),
      { numRuns: 200 },
    );
  });

  test("POST payloads: split to fit maxPayload in UTF-8 bytes, read back by engine.io's parser in order", () => {
    fc.assert(
      fc.property(packetList, fc.integer({ min: 8, max: 300 }), (list, maxPayload) => {
        const packets = noSeparator(list);
        const payloads = splitPayloads(packets, maxPayload);
        const bytes = payloads.map((payload) => new TextEncoder().encode(payload));
        for (const [i, body] of bytes.entries()) {
          if (payloads[i]!.includes("\x1e")) expect(body.length).toBeLessThanOrEqual(maxPayload);
        }
        const read = bytes.flatMap((body) => serverDecodePayload(new TextDecoder().decode(body)));
        expect(read.map(normal)).toEqual(packets.map(overUtf8).map(normal));
        expect(payloads.join("\x1e")).toBe(packets.map(encodeTextPacket).join("\x1e"));
      }),
      { numRuns: 200 },
    );
  });
});

type Node = DefaultTreeAdapterMap["node"];

/** The text of every `<script>` of an HTML document, in document order, as an HTML parser splits them. */
function scriptsOf(html: string): string[] {
  const scripts: string[] = [];
  const visit = (node: Node) => {
    if (node.nodeName === "script" && "childNodes" in node) {
      scripts.push(node.childNodes.map((child) => ("value" in child ? child.value : "")).join(""));
    }
    if ("childNodes" in node) node.childNodes.forEach(visit);
  };
  visit(parse(html));
  return scripts;
}

/** The packets as the client reports them with the noop keep-alive streamBody writes after each batch. */
const withKeepAlives = (batches: readonly (readonly Packet[])[]) => batches.flatMap((batch) => [...batch.map(normal), { type: "noop" }]);

/**
 * A page for the iframe adapter: a window taking `message` listeners, a loaded document whose
 * iframes run `serve` when inserted (the first one only; a second insertion is the reopen).
 */
function fakePage(
  pageOrigin: string,
  serve: (src: string, frameWindow: object, post: (event: { data: unknown; origin: string; source: object }) => void) => void,
  reopened: () => void,
): { env: Partial<Environment> } {
  const listeners = new Set<(event: unknown) => void>();
  const win = {
    location: { origin: pageOrigin },
    addEventListener: (type: string, listener: (event: unknown) => void) => type === "message" && listeners.add(listener),
    removeEventListener: (_type: string, listener: (event: unknown) => void) => listeners.delete(listener),
  };
  let inserted = 0;
  const doc = {
    readyState: "complete",
    createElement: () => {
      const frameWindow = {};
      const frame = {
        style: {},
        tabIndex: 0,
        src: "",
        onload: null as null | (() => void),
        contentWindow: frameWindow,
        setAttribute() {},
        remove() {},
      };
      return frame;
    },
    body: {
      appendChild(frame: { src: string; contentWindow: object }) {
        if (++inserted > 1) return reopened();
        // the adapter reads contentWindow right after inserting: run the document a turn later
        setTimeout(() => serve(frame.src, frame.contentWindow, (event) => listeners.forEach((listener) => listener(event))), 0);
      },
    },
  };
  return { env: { window: win as unknown as Window, document: doc as unknown as Document } };
}

/** What a browser does with the literal: evaluate it as JavaScript. */
const evaluateScript = (literal: string): unknown => new Function(`return ${literal};`)();

/** Strings that could end the script, open a comment or break the literal. */
const scriptCases: Record<string, string> = {
  "closing script tag": "</script><script>alert(1)</script>",
  "upper-case closing tag": "</SCRIPT >",
  "comment opener": "<!-- <script>",
  "script opener": "<script>",
  "ampersand and gt": "a && b > c &amp; &lt;",
  "U+2028 and U+2029": "line\u2028para\u2029end",
  quotes: `"double" 'single' \`back\``,
  backslashes: "\\ \\\\ \\u003c \\n",
  "control characters": "\n\r\t\0\x1e\x7f",
  "astral characters": "🎉 𝄞",
  empty: "",
};

describe("encodeForScript, on hostile strings", () => {
  test.each(Object.entries(scriptCases))("%s: no `<`, evaluates back to the original", (_, input) => {
    const out = encodeForScript(input);
    expect(out).not.toContain("<");
    expect(out).not.toContain(">");
    expect(out).not.toMatch(/[\u2028\u2029]/);
    expect(JSON.parse(out)).toBe(input);
    expect(evaluateScript(out)).toBe(input);
  });

  test("escapes exactly as docs/wire.md says", () => {
    expect(encodeForScript("</script>")).toBe('"\\u003c/script\\u003e"');
    expect(encodeForScript("<!--")).toBe('"\\u003c!--"');
    expect(encodeForScript("a&b")).toBe('"a\\u0026b"');
    expect(encodeForScript("\u2028\u2029")).toBe('"\\u2028\\u2029"');
    expect(encodeForScript('"\\')).toBe('"\\"\\\\"');
  });

  test("keeps lone surrogates as escapes (valid UTF-8 on the wire) that evaluate back", () => {
    for (const input of ["\ud800", "\udfff", "a\ud83dz", "\ude00\ud83d", "🎉\ud800🎉"]) {
      const out = encodeForScript(input);
      expect(out).toMatch(/\\ud[89a-f][0-9a-f]{2}/);
      expect(out).not.toMatch(/[\ud800-\udfff](?![\udc00-\udfff])/u);
      expect(Buffer.from(out, "utf8").toString("utf8")).toBe(out);
      expect(evaluateScript(out)).toBe(input);
      expect(JSON.parse(out)).toBe(input);
    }
  });

  test("handles a 1 MB string of hostile content", () => {
    const unit = "</script><!--<script>\u2028\u2029\"'\\\ud800&>x";
    const input = unit.repeat(Math.ceil(1_000_000 / unit.length));
    const out = encodeForScript(input);
    expect(out.includes("<")).toBe(false);
    expect(evaluateScript(out)).toBe(input);
  });
});
