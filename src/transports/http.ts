/**
 * The one HTTP client of the HTTP transports: XMLHttpRequest where there is one (browsers),
 * fetch where not (Node, service workers), with engine.io's failures turned into typed errors.
 * A request reads its body whole (polls, POST answers) or as it arrives (a stream).
 */
import type { Environment } from "../env.js";
import { type CometaError, IncomingTooLargeError, TransportError } from "../errors.js";
import { parseServerError } from "../protocol.js";
import type { TransportContext } from "../transport.js";

export interface HttpRequest {
  method: "GET" | "POST";
  url: string;
  body?: string;
  contentType?: string;
}

/**
 * Called once: the answer's body and, for anything but a 200, its error. A streamed 200 calls
 * back with an empty body when it ends; a network failure is a TransportError without status.
 */
export type HttpCallback = (error: CometaError | undefined, body: string) => void;

/** A streamed read: a 200's headers arrived, then its text piece by piece. */
export interface HttpStream {
  opened(): void;
  chunk(text: string): void;
}

/** Cancels the request; its callback is never called after this. */
export type Abort = () => void;

export function canRequest(env: Environment): boolean {
  return Boolean(env.XMLHttpRequest || env.fetch);
}

/**
 * Whether a streamed response is read through fetch, which keeps nothing of what it read:
 * XMLHttpRequest keeps the whole response in responseText, and browsers pace its progress events.
 */
export function streamsWithFetch(env: Environment): boolean {
  return !env.XMLHttpRequest || Boolean(env.fetch && typeof ReadableStream === "function");
}

/** The error for a finished response that is not a 200, or undefined for a 200. */
export function responseError(status: number, body: string, transport: string): CometaError | undefined {
  if (status === 200) return undefined;
  const serverError = status >= 400 && status < 500 ? parseServerError(body, status, transport) : undefined;
  if (serverError) return serverError;
  return new TransportError(`${transport} request failed with HTTP ${status}`, transport, status);
}

/**
 * Sends one request. Read whole, a body is bounded by `maxIncomingBytes` while it arrives and
 * the request by `requestTimeout`; streamed (`stream` given), a 200 has neither bound (it lives
 * long; its reader bounds each piece), and its text goes to `stream` as it comes.
 */
export function httpRequest(
  context: Pick<TransportContext, "env" | "options">,
  transport: string,
  request: HttpRequest,
  callback: HttpCallback,
  stream?: HttpStream,
): Abort {
  const { env, options } = context;
  let done = false;
  let timer: unknown;
  let cancel: () => void = () => {};
  /** A streamed 200: its text goes to `stream`, not into the body. */
  let streaming = false;
  // the one way out: answered, failed, timed out, or (without a body) aborted by the caller
  const finish = (error: CometaError | undefined, body?: string) => {
    if (done) return;
    done = true;
    env.clearTimeout(timer);
    if (body === undefined) cancel();
    else callback(error, body);
  };
  const fail = (cause: unknown) =>
    finish(new TransportError(`${transport} ${request.method} failed: network error`, transport, undefined, { cause }), "");
  const complete = (status: number, body: string) => finish(responseError(status, body, transport), body);
  const headersArrived = (status: number) => {
    if (stream && status === 200 && !streaming && !done) {
      streaming = true;
      stream.opened();
    }
  };
  const limit = options.maxIncomingBytes;
  /** Whether a body read whole is past the limit; if so it is not read further, whatever it would have been. */
  const tooLarge = (size: number) => {
    if (streaming || size <= limit) return false;
    cancel();
    finish(new IncomingTooLargeError(transport, size, limit), "");
    return true;
  };

  const headers: Record<string, string> = { ...options.extraHeaders };
  if (request.method === "POST") headers["Content-Type"] = request.contentType || "text/plain;charset=UTF-8";

  try {
    const XHR = env.XMLHttpRequest;
    if (XHR && !(stream && streamsWithFetch(env))) {
      const xhr = new XHR();
      /** How much of responseText went to `stream` already. */
      let seen = 0;
      const progress = () => {
        const text = xhr.responseText;
        if (!streaming) return tooLarge(text.length);
        if (text.length > seen && !done) stream!.chunk(text.slice(seen));
        seen = text.length;
      };
      xhr.open(request.method, request.url, true);
      xhr.withCredentials = options.withCredentials;
      for (const name in headers) xhr.setRequestHeader(name, headers[name]!);
      xhr.onreadystatechange = () => {
        if (xhr.readyState === 2) headersArrived(xhr.status);
        if (xhr.readyState !== 4) return;
        // status 0 is a network failure or a CORS refusal; `onerror` may or may not follow
        if (!xhr.status) return fail(xhr);
        headersArrived(xhr.status);
        progress();
        complete(xhr.status, streaming ? "" : xhr.responseText);
      };
      xhr.onerror = () => fail(xhr);
      xhr.onprogress = progress;
      xhr.send(request.body || null);
      cancel = () => {
        xhr.onreadystatechange = xhr.onerror = xhr.onprogress = null;
        xhr.abort();
      };
    } else {
      const controller = typeof AbortController === "function" ? new AbortController() : undefined;
      env.fetch!(request.url, {
        method: request.method,
        body: request.body,
        // Node's fetch asks for gzip, and engine.io then compresses every payload: CPU for
        // nothing on short payloads, and a compressed stream is held back until the
        // compressor flushes (browsers drop this header; XMLHttpRequest is theirs)
        headers: { "Accept-Encoding": "identity", ...headers },
        credentials: options.withCredentials ? "include" : "same-origin",
        signal: controller && controller.signal,
      })
        .then((response) => {
          headersArrived(response.status);
          // read piece by piece rather than with text(), which would hold any length; a 204
          // has no body at all
          const reader = response.body && response.body.getReader();
          const decoder = new TextDecoder();
          let body = "";
          let size = 0;
          const take = (text: string) => {
            if (!streaming) body += text;
            else if (text && !done) stream!.chunk(text);
          };
          const pump = (): Promise<void> | void => {
            if (!reader) return complete(response.status, "");
            return reader.read().then(({ done: end, value }) => {
              if (done) return;
              if (end) {
                take(decoder.decode());
                return complete(response.status, body);
              }
              if (tooLarge((size += value.length))) return;
              take(decoder.decode(value, { stream: true }));
              return pump();
            });
          };
          return pump();
        })
        .catch(fail);
      cancel = () => controller && controller.abort();
    }
  } catch (cause) {
    // a synchronous throw (a blocked URL, a forbidden header) is still reported asynchronously
    Promise.resolve().then(() => fail(cause));
  }
  if (options.requestTimeout > 0 && !stream) {
    timer = env.setTimeout(() => {
      cancel();
      finish(new TransportError(`${transport} ${request.method} timed out after ${options.requestTimeout} ms`, transport), "");
    }, options.requestTimeout);
  }
  return () => finish(undefined);
}
