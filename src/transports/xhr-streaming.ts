/**
 * HTTP streaming: one long GET read as it arrives (a fetch ReadableStream; XMLHttpRequest
 * progress where streams are missing), one JSON string per line; upstream POSTs. Needs the
 * cometa/server extension.
 */
import { type CometaError, ProtocolError, TransportError } from "../errors.js";
import type { TransportDefinition } from "../transport.js";
import { canRequest, responseError } from "./http.js";
import { type ConnectStream, createStreamingTransport, parseJsonFrame } from "./stream-core.js";
import { timestamp } from "./upstream.js";

const name = "xhr-streaming";

/**
 * Splits text into lines across chunk boundaries; blank lines (the padding) are skipped. A
 * line still open after `maxLength()` characters is not a frame of ours: `onOverflow` runs.
 */
export function createLineReader(
  onLine: (line: string) => void,
  maxLength: () => number = () => Infinity,
  onOverflow: (length: number) => void = () => {},
): (chunk: string) => void {
  let rest = "";
  return (chunk) => {
    const text = rest + chunk;
    let start = 0;
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n", start)) {
      const line = text.slice(start, end);
      start = end + 1;
      if (line.trim() !== "") onLine(line);
    }
    rest = text.slice(start);
    if (rest.length > maxLength()) onOverflow(rest.length);
  };
}

/**
 * How far a frame may exceed maxPayload: the server's messages are not bound by it, and JSON
 * escaping can grow a packet sixfold, so this only catches a stream that is not ours.
 */
const frameAllowance = 16;

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
    // read when checked: the handshake on this very stream sets maxPayload
    () => frameAllowance * context.session.maxPayload,
    (length) => fail(new ProtocolError(`${name} frame of over ${length} characters without an end`)),
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
