/**
 * One HTTP request through XMLHttpRequest (browsers) or fetch (Node, service workers), with
 * engine.io's failures turned into typed errors.
 */
import type { Environment } from "../env.js";
import { type CometaError, IncomingTooLargeError, TransportError } from "../errors.js";
import { parseServerError } from "../protocol.js";
import type { TransportOptions } from "../transport.js";

export interface HttpRequest {
  method: "GET" | "POST";
  url: string;
  body?: string;
  contentType?: string;
}

export type HttpCallback = (error: CometaError | undefined, body: string) => void;

/** Cancels the request; its callback is never called after this. */
export type Abort = () => void;

export function canRequest(env: Environment): boolean {
  return Boolean(env.XMLHttpRequest || env.fetch);
}

/** The error for a finished response that is not a 200, or undefined for a 200. */
export function responseError(status: number, body: string, transport: string): CometaError | undefined {
  if (status === 200) return undefined;
  const serverError = status >= 400 && status < 500 ? parseServerError(body, status, transport) : undefined;
  if (serverError) return serverError;
  return new TransportError(`${transport} request failed with HTTP ${status}`, transport, status);
}

export function httpRequest(
  env: Environment,
  options: TransportOptions,
  transport: string,
  request: HttpRequest,
  callback: HttpCallback,
): Abort {
  let done = false;
  let timer: unknown;
  let cancel: () => void = () => {};
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
  const limit = options.maxIncomingBytes;
  /** Whether a body is past the limit; if so it is not read further, whatever it would have been. */
  const tooLarge = (size: number) => {
    if (size <= limit) return false;
    cancel();
    finish(new IncomingTooLargeError(transport, size, limit), "");
    return true;
  };

  const headers: Record<string, string> = { ...options.extraHeaders };
  if (request.method === "POST") headers["Content-Type"] = request.contentType || "text/plain;charset=UTF-8";

  try {
    const XHR = env.XMLHttpRequest;
    if (XHR) {
      const xhr = new XHR();
      xhr.open(request.method, request.url, true);
      xhr.withCredentials = options.withCredentials;
      for (const name in headers) xhr.setRequestHeader(name, headers[name]!);
      // status 0 is a network failure or a CORS refusal; `onerror` may or may not follow
      xhr.onreadystatechange = () => xhr.readyState === 4 && (xhr.status ? complete(xhr.status, xhr.responseText) : fail(xhr));
      xhr.onerror = () => fail(xhr);
      xhr.onprogress = () => tooLarge(xhr.responseText.length);
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
        // nothing on short payloads (browsers drop this header; XMLHttpRequest is theirs)
        headers: { "Accept-Encoding": "identity", ...headers },
        credentials: options.withCredentials ? "include" : "same-origin",
        signal: controller && controller.signal,
      })
        .then((response) => {
          // read piece by piece rather than with text(), which would hold any length; a 204
          // has no body at all
          const reader = response.body && response.body.getReader();
          const decoder = new TextDecoder();
          let body = "";
          let size = 0;
          const pump = (): Promise<void> | void => {
            if (!reader) return complete(response.status, "");
            return reader.read().then(({ done, value }) => {
              if (done) return complete(response.status, body + decoder.decode());
              if (tooLarge((size += value.length))) return;
              body += decoder.decode(value, { stream: true });
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
  if (options.requestTimeout > 0) {
    timer = env.setTimeout(() => {
      cancel();
      finish(new TransportError(`${transport} ${request.method} timed out after ${options.requestTimeout} ms`, transport), "");
    }, options.requestTimeout);
  }
  return () => finish(undefined);
}

