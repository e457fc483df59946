/**
 * HTTP streaming: one long GET read as it arrives (a fetch ReadableStream; XMLHttpRequest
 * progress where streams are missing), one JSON string per line; upstream POSTs. Needs the
 * cometa/server extension.
 */
import { type CometaError, IncomingTooLargeError, TransportError } from "../errors.js";
import type { TransportDefinition } from "../transport.js";
import { canRequest, responseError } from "./http.js";
import { isPaddingLine, lineSeparator } from "../wire.js";
import { type ConnectStream, createStreamingTransport, parseJsonFrame } from "./stream-core.js";
import { timestamp } from "./upstream.js";

const name = "xhr-streaming";

/**
 * Splits text into lines across chunk boundaries; blank lines (the padding) are skipped. A
 * line longer than `maxLength` characters, ended or not, is not read further: `onOverflow` runs
 * instead and the reader is done.
 */
export function createLineReader(
  onLine: (line: string) => void,
  maxLength = Infinity,
  onOverflow: (length: number) => void = () => {},
): (chunk: string) => void {
  // the open line's pieces, joined once when its end comes: only new text is scanned, so a
  // long line costs time in proportion to its length, not to its square
  let pieces: string[] = [];
  let length = 0;
  return (chunk) => {
    // once over the limit, `length` stays over it and nothing more is read
    for (let start = 0; length <= maxLength; ) {
      const end = chunk.indexOf(lineSeparator, start);
      const piece = end < 0 ? chunk.slice(start) : chunk.slice(start, end);
      if ((length += piece.length) > maxLength) {
        pieces = [];
        return onOverflow(length);
      }
      pieces.push(piece);
      if (end < 0) return;
      const line = pieces.join("");
      pieces = [];
      length = 0;
      start = end + 1;
      if (!isPaddingLine(line)) onLine(line);
    }
  };
}

const connect: ConnectStream = (context, handlers) => {
  const { env, options } = context;
  const url = context.url("http", name, timestamp(context));
  let stopped = false;
  const fail = (error: CometaError) => !stopped && handlers.failed(error);
  /** Headers of a 200 arrived: a failure from now on is the stream being cut, not refused. */
  let streaming = false;
  const networkError = (cause: unknown) => {
    if (stopped) return;
    // a proxy's read timeout cuts a stream it already let through: reopen it, as when it ends
    if (streaming) handlers.ended();
    else fail(new TransportError(`${name} stream failed: network error`, name, undefined, { cause }));
  };
  const read = createLineReader(
    (line) => {
      if (stopped) return;
      try {
        handlers.packet(parseJsonFrame(line));
      } catch (error) {
        fail(error as CometaError);
      }
    },
    // a line is one packet, JSON-escaped: what the limit bounds on this transport
    options.maxIncomingBytes,
    (length) => fail(new IncomingTooLargeError(name, length, options.maxIncomingBytes)),
  );
  const status = (code: number, body: () => string | Promise<string>, then: () => void) => {
    if (code === 200) return then();
    Promise.resolve(body()).then((text) => fail(responseError(code, text, name)!), networkError);
  };

  if (env.fetch && typeof ReadableStream === "function") {
    const controller = new AbortController();
    env
      .fetch(url, {
        // a compressed stream is held back until the compressor flushes
        headers: { "Accept-Encoding": "identity", ...options.extraHeaders },
        credentials: options.withCredentials ? "include" : "same-origin",
        signal: controller.signal,
      })
      .then((response) =>
        status(response.status, () => response.text(), () => {
          streaming = true;
          handlers.opened();
          const reader = response.body!.getReader();
          const decoder = new TextDecoder();
          const pump = (): Promise<void> =>
            reader.read().then(({ done, value }) => {
              if (stopped) return;
              if (done) return void (read(decoder.decode()), !stopped && handlers.ended());
              read(decoder.decode(value, { stream: true }));
              return pump();
            });
          return pump();
        }),
      )
      .catch(networkError);
    return () => {
      stopped = true;
      controller.abort();
    };
  }

  const xhr = new env.XMLHttpRequest!();
  let seen = 0;
  const progress = () => {
    const text = xhr.responseText;
    if (text.length > seen) {
      read(text.slice(seen));
      seen = text.length;
    }
  };
  xhr.open("GET", url, true);
  xhr.withCredentials = options.withCredentials;
  for (const header in options.extraHeaders) xhr.setRequestHeader(header, options.extraHeaders[header]!);
  xhr.onprogress = () => xhr.status === 200 && progress();
  xhr.onreadystatechange = () => {
    if (xhr.readyState === 2 && xhr.status === 200) {
      streaming = true;
      handlers.opened();
    }
    if (xhr.readyState !== 4 || stopped) return;
    if (xhr.status === 0) return networkError(xhr);
    status(xhr.status, () => xhr.responseText, () => {
      progress();
      if (!stopped) handlers.ended();
    });
  };
  xhr.send();
  return () => {
    stopped = true;
    xhr.onprogress = xhr.onreadystatechange = null;
    xhr.abort();
  };
};

export const xhrStreaming: TransportDefinition = {
  name,
  supported: canRequest,
  create: (context) => createStreamingTransport(context, name, connect),
};
