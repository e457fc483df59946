/**
 * maxIncomingBytes on every transport: a polling body, a stream line, an event, an iframe
 * message, a WebSocket frame past it is an IncomingTooLargeError and a close, and what can be
 * stopped while it arrives (fetch bodies, XHR bodies, stream lines) is not read further.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import type { EventSourceConstructor, EventSourceLike } from "../../../src/env.js";
import { resolveEnvironment } from "../../../src/env.js";
import { type CometaError, IncomingTooLargeError, TransportError, UsageError } from "../../../src/errors.js";
import type { ReceivedPacket } from "../../../src/protocol.js";
import { BaseSocket } from "../../../src/socket.js";
import type { Transport, TransportOptions } from "../../../src/transport.js";
import { httpRequest } from "../../../src/transports/http.js";
import { iframe } from "../../../src/transports/iframe.js";
import { jsonp } from "../../../src/transports/jsonp.js";
import { sse } from "../../../src/transports/sse.js";
import { websocket } from "../../../src/transports/websocket.js";
import { xhrStreaming } from "../../../src/transports/xhr-streaming.js";
import { defaultTransportOptions, makeContext } from "../support/context.js";
import { closed, record, until } from "../../support/events.js";
import { fakeDefinition } from "../support/fake-transport.js";
import { fakeWebSocketClass } from "../support/fake-websocket.js";

const openLine = (fields: Record<string, unknown> = {}) =>
  JSON.stringify("0" + JSON.stringify({ sid: "s", upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1e6, ...fields }));

/**
 * A fetch whose response body is `prefix`, then `chunk` after `chunk` up to `total` bytes, made
 * only as the reader asks for them (`served` is what the client accepted), then `suffix`; then
 * it ends, or with `hold` stays open.
 */
function streamingFetch(chunk: string, total: number, prefix = "", { suffix = "", hold = false } = {}) {
  const state = { served: 0, aborted: false, requests: 0 };
  const bytes = new TextEncoder().encode(chunk);
  const fetch = vi.fn((_url: string, init?: RequestInit) => {
    state.requests++;
    let sentPrefix = false;
    let sentSuffix = false;
    let stream!: ReadableStreamDefaultController<Uint8Array>;
    init?.signal?.addEventListener("abort", () => {
      state.aborted = true;
      stream.error(new DOMException("aborted", "AbortError"));
    });
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => void (stream = controller),
        pull: (controller) => {
          if (!sentPrefix && prefix) {
            sentPrefix = true;
            return controller.enqueue(new TextEncoder().encode(prefix));
          }
          if (state.served >= total && suffix && !sentSuffix) {
            sentSuffix = true;
            return controller.enqueue(new TextEncoder().encode(suffix));
          }
          if (state.served >= total) return hold ? new Promise<void>(() => {}) : controller.close();
          state.served += bytes.length;
          controller.enqueue(bytes);
        },
      },
      // nothing is read ahead of the client
      { highWaterMark: 0 },
    );
    return Promise.resolve(new Response(body, { status: 200 }));
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, state };
}

function expectTooLarge(error: unknown, transport: string, limit: number) {
  expect(error).toBeInstanceOf(IncomingTooLargeError);
  const tooLarge = error as IncomingTooLargeError;
  expect(tooLarge).toMatchObject({ name: "IncomingTooLargeError", transport, limit });
  expect(tooLarge.size).toBeGreaterThan(limit);
  expect(tooLarge.message).toContain(String(limit));
  expect(tooLarge.message).toContain(String(tooLarge.size));
  expect(tooLarge.message).toMatch(/raise .*maxIncomingBytes|maxIncomingBytes.*raise/);
}

function watch(transport: Transport) {
  const packets: ReceivedPacket[] = [];
  const errors: CometaError[] = [];
  transport.on("packet", (packet) => packets.push(packet));
  transport.on("error", (error) => errors.push(error));
  const done = new Promise<void>((resolve) => transport.on("close", resolve));
  return { packets, errors, done };
}

describe("httpRequest (polling, short polling, POST answers)", () => {
  const options = (maxIncomingBytes: number): TransportOptions => ({ ...defaultTransportOptions, maxIncomingBytes });

  test("fetch: an endless body stops being read past the limit", async () => {
    const { fetch, state } = streamingFetch("x".repeat(1000), 1e6);
    const env = resolveEnvironment({ XMLHttpRequest: undefined, fetch });
    const callback = vi.fn();
    const done = new Promise<void>((resolve) =>
      httpRequest({ env, options: options(10_000) }, "polling", { method: "GET", url: "http://localhost/" }, (...args) => {
        callback(...args);
        resolve();
      }),
    );
    await done;
    expect(callback).toHaveBeenCalledOnce();
    expectTooLarge(callback.mock.calls[0]![0], "polling", 10_000);
    expect(state.served).toBeLessThanOrEqual(11_000);
    expect(state.aborted).toBe(true);
  });

  test("fetch: a body of exactly the limit is read whole, multi-byte characters across chunks included", async () => {
    // "é" is two bytes: chunks of 3 bytes cut every other one in half
    const { fetch } = streamingFetch("aé", 9, "4");
    const env = resolveEnvironment({ XMLHttpRequest: undefined, fetch });
    const body = await new Promise<string>((resolve) =>
      httpRequest({ env, options: options(10) }, "polling", { method: "GET", url: "http://localhost/" }, (error, text) => {
        expect(error).toBeUndefined();
        resolve(text);
      }),
    );
    expect(body).toBe("4aéaéaé");
  });

  test("fetch: a response without a body (204) is still reported by its status", async () => {
    const fetch = vi.fn(() => Promise.resolve(new Response(null, { status: 204 }))) as unknown as typeof globalThis.fetch;
    const env = resolveEnvironment({ XMLHttpRequest: undefined, fetch });
    const error = await new Promise<unknown>((resolve) =>
      httpRequest({ env, options: options(10) }, "polling", { method: "GET", url: "http://localhost/" }, resolve),
    );
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ status: 204 });
  });

  test("XMLHttpRequest: a body growing past the limit is aborted at the progress event that passes it", () => {
    const instances: GrowingXhr[] = [];
    class GrowingXhr {
      readyState = 0;
      status = 0;
      responseText = "";
      withCredentials = false;
      aborted = false;
      onreadystatechange: (() => void) | null = null;
      onerror: (() => void) | null = null;
      onprogress: (() => void) | null = null;
      open() {}
      setRequestHeader() {}
      send() {
        instances.push(this);
      }
      abort() {
        this.aborted = true;
      }
      /** The server's side: more of the body arrives. */
      arrive(text: string) {
        this.readyState = 3;
        this.status = 200;
        this.responseText += text;
        this.onprogress?.();
      }
      finish() {
        this.readyState = 4;
        this.onreadystatechange?.();
      }
    }
    const env = resolveEnvironment({ XMLHttpRequest: GrowingXhr as unknown as typeof XMLHttpRequest });
    const callback = vi.fn();
    httpRequest({ env, options: options(100) }, "polling", { method: "GET", url: "http://localhost/" }, callback);
    const xhr = instances[0]!;
    xhr.arrive("4" + "x".repeat(59));
    expect(callback).not.toHaveBeenCalled();
    xhr.arrive("x".repeat(60));
    expect(callback).toHaveBeenCalledOnce();
    expectTooLarge(callback.mock.calls[0]![0], "polling", 100);
    expect(callback.mock.calls[0]![0]).toMatchObject({ size: 120 });
    expect(xhr.aborted).toBe(true);
    expect(xhr.onprogress).toBeNull();
    xhr.finish();
    expect(callback).toHaveBeenCalledOnce();
  });
});

describe("xhr-streaming", () => {
  test("a message far larger than the server's maxPayload arrives whole (2 MB, maxPayload 1e5)", async () => {
    const piece = "y".repeat(64 * 1024);
    const big = "4" + piece.repeat(32);
    // the open line, then the message in 64 KB pieces, then the stream stays open
    const prefix = " ".repeat(2048) + "\n" + openLine({ maxPayload: 1e5 }) + "\n" + '"4';
    const { fetch } = streamingFetch(piece, piece.length * 32, prefix, { suffix: '"\n', hold: true });
    const context = makeContext(resolveEnvironment({ fetch }), {}, { maxPayload: 1e5 });
    const transport = xhrStreaming.create(context);
    const { packets, errors } = watch(transport);
    transport.open();
    await until(() => packets.length === 2 || errors.length > 0, 1000);
    expect(errors).toEqual([]);
    expect(packets[1]).toEqual({ type: "message", data: big.slice(1) });
    transport.close();
  });

  test("a line that never ends is cut off at maxIncomingBytes: IncomingTooLargeError, reading stops", async () => {
    const { fetch, state } = streamingFetch("z".repeat(1000), 1e6, openLine() + "\n" + '"4');
    const context = makeContext(resolveEnvironment({ fetch }), { maxIncomingBytes: 20_000 });
    const transport = xhrStreaming.create(context);
    const { packets, errors, done } = watch(transport);
    transport.open();
    await done;
    expect(packets.map((packet) => packet.type)).toEqual(["open"]);
    expect(errors).toHaveLength(1);
    expectTooLarge(errors[0], "xhr-streaming", 20_000);
    expect(state.served).toBeLessThanOrEqual(21_000);
    expect(state.aborted).toBe(true);
  });
});

describe("sse", () => {
  function fakeEventSource() {
    const sources: FakeSource[] = [];
    class FakeSource implements EventSourceLike {
      readyState = 0;
      closed = false;
      onopen: ((event: unknown) => void) | null = null;
      onerror: ((event: unknown) => void) | null = null;
      onmessage: ((event: { data: string }) => void) | null = null;
      constructor(readonly url: string) {
        sources.push(this);
      }
      close() {
        this.closed = true;
        this.readyState = 2;
      }
    }
    return { EventSource: FakeSource as unknown as EventSourceConstructor, sources };
  }

  test("an event past the limit is refused after the fact: IncomingTooLargeError, the source closed", () => {
    const { EventSource, sources } = fakeEventSource();
    // without a fetch that can stream, EventSource reads the stream (sse.test.ts: the line limit of a fetch stream)
    const context = makeContext(resolveEnvironment({ EventSource, fetch: undefined }), { maxIncomingBytes: 100 }, { sid: "s" });
    const transport = sse.create(context);
    const { packets, errors } = watch(transport);
    transport.open();
    const source = sources[0]!;
    source.onopen!({});
    source.onmessage!({ data: JSON.stringify("4" + "a".repeat(99)) });
    expect(packets).toHaveLength(1);
    source.onmessage!({ data: JSON.stringify("4" + "a".repeat(100)) });
    expect(packets).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expectTooLarge(errors[0], "sse", 100);
    expect(source.closed).toBe(true);
    expect(transport.state).toBe("closed");
  });
});

describe("iframe", () => {
  afterEach(() => {
    for (const frame of document.querySelectorAll("iframe")) frame.remove();
  });

  test("a message past the limit: IncomingTooLargeError, the frame removed", () => {
    const origin = "http://127.0.0.1:4567";
    const context = makeContext(resolveEnvironment(), { maxIncomingBytes: 100 }, { sid: "s" }, origin);
    const transport = iframe.create(context);
    const { packets, errors } = watch(transport);
    transport.open();
    const frame = document.querySelector("iframe")!;
    const id = new URL(frame.src).searchParams.get("f");
    const deliver = (body: unknown) =>
      window.dispatchEvent(new MessageEvent("message", { data: ["cometa", id, body], origin, source: frame.contentWindow }));
    deliver(1);
    deliver("4" + "b".repeat(99));
    expect(packets).toHaveLength(1);
    deliver("4" + "b".repeat(100));
    expect(errors).toHaveLength(1);
    expectTooLarge(errors[0], "iframe", 100);
    expect(document.querySelectorAll("iframe")).toHaveLength(0);
  });
});

describe("websocket", () => {
  function setup(maxIncomingBytes: number) {
    const { WebSocket, instances } = fakeWebSocketClass();
    const transport = websocket.create(makeContext(resolveEnvironment({ WebSocket }), { maxIncomingBytes }));
    const watched = watch(transport);
    transport.open();
    instances[0]!.serverOpen();
    return { ws: instances[0]!, transport, ...watched };
  }

  test("a text frame past the limit: IncomingTooLargeError and the socket closed", () => {
    const { ws, packets, errors } = setup(100);
    ws.serverSend("4" + "c".repeat(99));
    expect(packets).toHaveLength(1);
    ws.serverSend("4" + "c".repeat(100));
    expect(errors).toHaveLength(1);
    expectTooLarge(errors[0], "websocket", 100);
    expect(ws.closeCalls).toHaveLength(1);
  });

  test("a binary frame is counted in bytes", () => {
    const { ws, packets, errors } = setup(100);
    ws.serverSend(new ArrayBuffer(100));
    expect(packets).toHaveLength(1);
    ws.serverSend(new ArrayBuffer(101));
    expectTooLarge(errors[0], "websocket", 100);
  });
});

describe("jsonp", () => {
  afterEach(() => {
    for (const script of document.querySelectorAll("script")) script.remove();
  });

  test("a response past the limit: IncomingTooLargeError and a close", () => {
    const fetch = vi.fn(() => Promise.resolve(new Response(null))) as unknown as typeof globalThis.fetch;
    const context = makeContext(resolveEnvironment({ fetch }), { maxIncomingBytes: 100 }, {}, "http://127.0.0.1:4567");
    const transport = jsonp.create(context);
    const { packets, errors } = watch(transport);
    transport.open();
    const index = Number(new URL(document.querySelector("script")!.src).searchParams.get("j"));
    const registry = (window as unknown as { ___eio: ((payload: string) => void)[] }).___eio;
    registry[index]!("4" + "d".repeat(100));
    expect(packets).toEqual([]);
    expectTooLarge(errors[0], "jsonp", 100);
    expect(transport.state).toBe("closed");
  });
});

describe("the maxIncomingBytes socket option", () => {
  test("defaults to 1e8 and reaches the transports; a value given reaches them too", () => {
    const first = fakeDefinition("fake");
    new BaseSocket("http://localhost:3000", { transports: [first.definition] }).close();
    expect(first.last.context.options.maxIncomingBytes).toBe(1e8);
    const second = fakeDefinition("fake");
    new BaseSocket("http://localhost:3000", { transports: [second.definition], maxIncomingBytes: 5e8 }).close();
    expect(second.last.context.options.maxIncomingBytes).toBe(5e8);
  });

  test.each([0, -1, Number.NaN, "many"])("%s is refused with a UsageError", (value) => {
    const { definition } = fakeDefinition("fake");
    expect(() => new BaseSocket("http://localhost:3000", { transports: [definition], maxIncomingBytes: value as number })).toThrow(
      UsageError,
    );
  });

  test("past it, the session closes with the error (transport error), nothing uncaught", async () => {
    const { WebSocket, instances } = fakeWebSocketClass();
    const socket = new BaseSocket("http://localhost:3000", { transports: [websocket], env: { WebSocket }, maxIncomingBytes: 1000 });
    const events = record(socket, ["open", "message", "error", "close"]);
    const ended = closed(socket);
    const ws = instances[0]!;
    ws.serverOpen();
    ws.serverSend(JSON.parse(openLine()) as string);
    ws.serverSend("4" + "e".repeat(1000));
    const { reason, details } = await ended;
    expect(reason).toBe("transport error");
    expectTooLarge(details.error, "websocket", 1000);
    expect(events.map(([name]) => name)).toEqual(["open", "error", "close"]);
  });
});
