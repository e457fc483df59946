/**
 * One HTTP request through XMLHttpRequest (browsers) or fetch (Node, service workers), with
 * engine.io's failures turned into typed errors.
 */
import type { Environment } from "../env.js";
import { type CometaError, ProtocolError, TransportError } from "../errors.js";
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
  const finish = (error: CometaError | undefined, body: string) => {
    if (done) return;
    done = true;
    if (timer !== undefined) env.clearTimeout(timer);
    callback(error, body);
  };
  const fail = (cause: unknown) =>
    finish(new TransportError(`${transport} ${request.method} failed: network error`, transport, undefined, { cause }), "");
  const complete = (status: number, body: string) => finish(responseError(status, body, transport), body);

  const headers: Record<string, string> = { ...options.extraHeaders };
  if (request.method === "POST") headers["Content-Type"] = request.contentType ?? "text/plain;charset=UTF-8";

  try {
    if (env.XMLHttpRequest) cancel = viaXhr(env.XMLHttpRequest, options, request, headers, complete, fail);
    else if (env.fetch) cancel = viaFetch(env.fetch, options, request, headers, complete, fail);
    else throw new ProtocolError("neither XMLHttpRequest nor fetch is available");
  } catch (cause) {
    // a synchronous throw (a blocked URL, a forbidden header) is still reported asynchronously
    Promise.resolve().then(() => fail(cause));
  }
  if (options.requestTimeout > 0) {
    timer = env.setTimeout(() => {
      cancel();
      finish(
        new TransportError(`${transport} ${request.method} timed out after ${options.requestTimeout} ms`, transport),
        "",
      );
    }, options.requestTimeout);
  }
  return () => {
    if (done) return;
    done = true;
    if (timer !== undefined) env.clearTimeout(timer);
    cancel();
  };
}

function viaXhr(
  XHR: typeof XMLHttpRequest,
  options: TransportOptions,
  request: HttpRequest,
  headers: Record<string, string>,
  complete: (status: number, body: string) => void,
  fail: (cause: unknown) => void,
): () => void {
  const xhr = new XHR();
  xhr.open(request.method, request.url, true);
  xhr.withCredentials = options.withCredentials;
  for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
  xhr.onreadystatechange = () => {
    if (xhr.readyState !== 4) return;
    // status 0 is a network failure or a CORS refusal; `onerror` may or may not follow
    if (xhr.status === 0) fail(new Error("XMLHttpRequest status 0"));
    else complete(xhr.status, xhr.responseText);
  };
  xhr.onerror = () => fail(new Error("XMLHttpRequest error"));
  xhr.send(request.body ?? null);
  return () => {
    xhr.onreadystatechange = null;
    xhr.onerror = null;
    xhr.abort();
  };
}

function viaFetch(
  fetchFn: typeof fetch,
  options: TransportOptions,
  request: HttpRequest,
  headers: Record<string, string>,
  complete: (status: number, body: string) => void,
  fail: (cause: unknown) => void,
): () => void {
  const controller = typeof AbortController === "function" ? new AbortController() : undefined;
  let cancelled = false;
  fetchFn(request.url, {
    method: request.method,
    body: request.body,
    headers,
    credentials: options.withCredentials ? "include" : "same-origin",
    signal: controller?.signal,
  })
    .then((response) => response.text().then((body) => !cancelled && complete(response.status, body)))
    .catch((cause: unknown) => !cancelled && fail(cause));
  return () => {
    cancelled = true;
    controller?.abort();
  };
}
