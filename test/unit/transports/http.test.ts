import { HttpResponse } from "msw";
import { describe, expect, test, vi } from "vitest";
import { type Environment, resolveEnvironment } from "../../../src/env.js";
import { type CometaError, ServerError, TransportError } from "../../../src/errors.js";
import { canRequest, type HttpRequest, httpRequest, responseError } from "../../../src/transports/http.js";
import { defaultTransportOptions } from "../support/context.js";
import { engineUrl, useFakeEngine } from "../support/fake-engine.js";
import { turns } from "../../support/events.js";

const harness = useFakeEngine();
const sidUrl = `${engineUrl}?EIO=4&transport=polling&sid=s`;

describe("responseError", () => {
  test("200 is no error", () => {
    expect(responseError(200, "ok", "polling")).toBeUndefined();
  });

  test("4xx with engine.io's JSON is a ServerError", () => {
    const error = responseError(403, '{"code":4,"message":"Forbidden"}', "sse");
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ code: 4, serverMessage: "Forbidden", status: 403, transport: "sse" });
  });

  test("4xx without it, and 5xx even with it, are TransportErrors with the status", () => {
    for (const [status, body] of [
      [400, "Bad Request"],
      [404, ""],
      [500, '{"code":1,"message":"Session ID unknown"}'],
      [502, "<html>bad gateway</html>"],
      [204, ""],
    ] as const) {
      const error = responseError(status, body, "polling");
      expect(error).toBeInstanceOf(TransportError);
      expect(error).not.toBeInstanceOf(ServerError);
      expect(error).toMatchObject({ status, transport: "polling" });
    }
  });
});

test("canRequest needs XMLHttpRequest or fetch", () => {
  expect(canRequest(resolveEnvironment())).toBe(true);
  expect(canRequest(resolveEnvironment({ XMLHttpRequest: undefined }))).toBe(true);
  expect(canRequest(resolveEnvironment({ fetch: undefined }))).toBe(true);
  expect(canRequest(resolveEnvironment({ XMLHttpRequest: undefined, fetch: undefined }))).toBe(false);
});

/** Timers the test fires by hand, so a request timeout needs no waiting and no fake clock. */
function manualTimers() {
  const pending = new Map<number, () => void>();
  let id = 0;
  return {
    pending,
    setTimeout: (callback: () => void) => {
      pending.set(++id, callback);
      return id;
    },
    clearTimeout: (handle: unknown) => void pending.delete(handle as number),
    fireAll: () => {
      const callbacks = [...pending.values()];
      pending.clear();
      for (const callback of callbacks) callback();
    },
  };
}

const flavours: [string, Partial<Environment>][] = [
  ["XMLHttpRequest", {}],
  ["fetch", { XMLHttpRequest: undefined }],
];

describe.each(flavours)("httpRequest over %s", (_, overrides) => {
  const request = (req: HttpRequest, options = {}, env: Partial<Environment> = {}) =>
    new Promise<{ error: CometaError | undefined; body: string; calls: number }>((resolve) => {
      let calls = 0;
      httpRequest({ env: resolveEnvironment({ ...overrides, ...env }), options: { ...defaultTransportOptions, ...options } }, "polling", req, (error, body) => {
        calls++;
        resolve({ error, body, calls });
      });
    });

  test("GET: no body, no Content-Type, the extra headers, the answer's body", async () => {
    const { engine } = harness;
    engine.push("4hello");
    const result = await request({ method: "GET", url: sidUrl }, { extraHeaders: { "X-A": "1" } });
    expect(result).toEqual({ error: undefined, body: "4hello", calls: 1 });
    const seen = engine.requests[0]!;
    expect(seen.method).toBe("GET");
    expect(seen.url.href).toBe(sidUrl);
    expect(seen.headers.get("x-a")).toBe("1");
    expect(seen.headers.get("content-type")).toBeNull();
    expect(seen.credentials).toBe("same-origin");
  });

  test("POST: the body as given, Content-Type text/plain;charset=UTF-8", async () => {
    const { engine } = harness;
    const result = await request({ method: "POST", url: sidUrl, body: "4é😀\x1e4b" }, { withCredentials: true });
    expect(result.error).toBeUndefined();
    expect(result.body).toBe("ok");
    const seen = engine.posts[0]!;
    expect(seen.body).toBe("4é😀\x1e4b");
    expect(seen.headers.get("content-type")).toBe("text/plain;charset=UTF-8");
    expect(seen.credentials).toBe("include");
  });

  test("POST with a content type of its own (the JSONP form post)", async () => {
    const { engine } = harness;
    await request({ method: "POST", url: sidUrl, body: "d=4a", contentType: "application/x-www-form-urlencoded" });
    expect(engine.posts[0]!.headers.get("content-type")).toBe("application/x-www-form-urlencoded");
  });

  test("HTTP 400 with engine.io's JSON: ServerError and the body", async () => {
    const { engine } = harness;
    engine.script("GET", HttpResponse.json({ code: 1, message: "Session ID unknown" }, { status: 400 }));
    const { error, calls } = await request({ method: "GET", url: sidUrl });
    expect(error).toBeInstanceOf(ServerError);
    expect((error as ServerError).code).toBe(1);
    expect(calls).toBe(1);
  });

  test("HTTP 500: TransportError with status 500", async () => {
    const { engine } = harness;
    engine.script("GET", new HttpResponse("boom", { status: 500 }));
    const { error } = await request({ method: "GET", url: sidUrl });
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).status).toBe(500);
  });

  test("a network error: one callback, TransportError with a cause", async () => {
    const { engine } = harness;
    engine.script("GET", HttpResponse.error());
    const { error, calls } = await request({ method: "GET", url: sidUrl });
    await turns(3);
    expect(calls).toBe(1);
    expect(error).toBeInstanceOf(TransportError);
    expect(error!.message).toMatch(/network error/);
    expect((error as TransportError).status).toBeUndefined();
    expect(error!.cause).toBeDefined();
  });

  test("abort: the callback is never called, even when the answer comes", async () => {
    const { engine } = harness;
    let calls = 0;
    const abort = httpRequest({ env: resolveEnvironment(overrides), options: defaultTransportOptions }, "polling", { method: "GET", url: sidUrl }, () => calls++);
    await engine.until(() => engine.heldGets.length === 1);
    abort();
    abort();
    engine.push("4late");
    await turns(5);
    expect(calls).toBe(0);
  });

  test("requestTimeout: TransportError, the request cancelled, a late answer ignored", async () => {
    const { engine } = harness;
    const timers = manualTimers();
    const calls: (CometaError | undefined)[] = [];
    httpRequest(
      {
        env: resolveEnvironment({ ...overrides, setTimeout: timers.setTimeout, clearTimeout: timers.clearTimeout }),
        options: { ...defaultTransportOptions, requestTimeout: 5000 },
      },
      "polling",
      { method: "GET", url: sidUrl },
      (error) => calls.push(error),
    );
    expect(timers.pending.size).toBe(1);
    await engine.until(() => engine.heldGets.length === 1);
    timers.fireAll();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeInstanceOf(TransportError);
    expect(calls[0]!.message).toMatch(/timed out after 5000 ms/);
    engine.push("4late");
    await turns(5);
    expect(calls).toHaveLength(1);
  });

  test("an answer in time clears the timeout timer", async () => {
    const { engine } = harness;
    const timers = manualTimers();
    engine.push("6");
    await request({ method: "GET", url: sidUrl }, { requestTimeout: 5000 }, {
      setTimeout: timers.setTimeout,
      clearTimeout: timers.clearTimeout,
    });
    expect(timers.pending.size).toBe(0);
  });
});

describe("httpRequest failures before the request leaves", () => {
  test("an XMLHttpRequest that throws on open: reported asynchronously as TransportError", async () => {
    class Throwing {
      open() {
        throw new DOMException("blocked", "SecurityError");
      }
    }
    const errors: unknown[] = [];
    httpRequest(
      { env: resolveEnvironment({ XMLHttpRequest: Throwing as unknown as typeof XMLHttpRequest }), options: defaultTransportOptions },
      "polling",
      { method: "GET", url: sidUrl },
      (error) => errors.push(error),
    );
    expect(errors).toEqual([]);
    await turns(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TransportError);
    expect((errors[0] as TransportError).cause).toBeInstanceOf(DOMException);
  });

  test("no XMLHttpRequest and no fetch: reported, not thrown", async () => {
    const errors: unknown[] = [];
    expect(() =>
      httpRequest(
        { env: resolveEnvironment({ XMLHttpRequest: undefined, fetch: undefined }), options: defaultTransportOptions },
        "polling",
        { method: "GET", url: sidUrl },
        (error) => errors.push(error),
      ),
    ).not.toThrow();
    await turns(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(TransportError);
    expect((errors[0] as TransportError).cause).toBeDefined();
  });
});

describe("httpRequest streamed (the xhr-streaming GET)", () => {
  const bodyOf = (chunks: string[], status = 200) =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
          controller.close();
        },
      }),
      { status },
    );

  test("fetch: opened at the headers, the text piece by piece, past maxIncomingBytes and without a timeout", async () => {
    const timers: unknown[] = [];
    const env = resolveEnvironment({ XMLHttpRequest: undefined, fetch: async () => bodyOf(["abc", "defgh", "ij"]), setTimeout: (callback) => timers.push(callback) });
    const seen: string[] = [];
    const result = await new Promise<{ error: CometaError | undefined; body: string }>((resolve) =>
      httpRequest(
        { env, options: { ...defaultTransportOptions, maxIncomingBytes: 4, requestTimeout: 10 } },
        "xhr-streaming",
        { method: "GET", url: sidUrl },
        (error, body) => resolve({ error, body }),
        { opened: () => seen.push("opened"), chunk: (text) => seen.push(text) },
      ),
    );
    expect(seen).toEqual(["opened", "abc", "defgh", "ij"]);
    expect(result).toEqual({ error: undefined, body: "" });
    expect(timers).toHaveLength(0);
  });

  test("fetch: a refusal is read whole and reported, never opened", async () => {
    const env = resolveEnvironment({ XMLHttpRequest: undefined, fetch: async () => bodyOf(['{"code":3,', '"message":"Bad request"}'], 400) });
    const seen: string[] = [];
    const error = await new Promise<CometaError | undefined>((resolve) =>
      httpRequest({ env, options: defaultTransportOptions }, "xhr-streaming", { method: "GET", url: sidUrl }, resolve, {
        opened: () => seen.push("opened"),
        chunk: (text) => seen.push(text),
      }),
    );
    expect(error).toBeInstanceOf(ServerError);
    expect(seen).toEqual([]);
  });

  test("a streamed read prefers fetch streams to XMLHttpRequest, a whole read XMLHttpRequest", async () => {
    const fetch = vi.fn(async () => bodyOf(["x"]));
    const XHR = vi.fn(() => ({ open() {}, setRequestHeader() {}, send() {}, abort() {} }));
    const env = resolveEnvironment({ XMLHttpRequest: XHR as unknown as typeof XMLHttpRequest, fetch: fetch as unknown as typeof globalThis.fetch });
    const context = { env, options: defaultTransportOptions };
    await new Promise((resolve) => httpRequest(context, "xhr-streaming", { method: "GET", url: sidUrl }, resolve, { opened() {}, chunk() {} }));
    expect(fetch).toHaveBeenCalledOnce();
    expect(XHR).not.toHaveBeenCalled();
    httpRequest(context, "polling", { method: "GET", url: sidUrl }, () => {});
    expect(XHR).toHaveBeenCalledOnce();
  });
});
