// @vitest-environment node
/**
 * The sse adapter: read as a fetch stream where fetch can stream, on a fake EventSource where it
 * cannot: the URL it opens, what it does with events, lines and errors.
 */
import { describe, expect, test, vi } from "vitest";
import { type EventHandler, type EventSourceLike, resolveEnvironment } from "../../../src/env.js";
import { IncomingTooLargeError, ProtocolError, TransportError } from "../../../src/errors.js";
import type { Trace } from "../../../src/trace.js";
import { sse } from "../../../src/transports/sse.js";
import { record } from "../../support/events.js";
import { makeContext } from "../support/context.js";

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

class FakeEventSource implements EventSourceLike {
  static instances: FakeEventSource[] = [];
  readyState = CONNECTING;
  closed = false;
  onopen: EventHandler<unknown> | null = null;
  onerror: EventHandler<unknown> | null = null;
  onmessage: EventHandler<{ data: string }> | null = null;
  constructor(
    readonly url: string,
    readonly init?: { withCredentials?: boolean },
  ) {
    FakeEventSource.instances.push(this);
  }
  close() {
    this.closed = true;
    this.readyState = CLOSED;
  }
  // the server's side
  open() {
    this.readyState = OPEN;
    this.onopen?.({});
  }
  event(data: string) {
    this.onmessage?.({ data });
  }
  /** The stream ended: EventSource reports an error and, left alone, would reconnect. */
  end() {
    this.readyState = CONNECTING;
    this.onerror?.({});
  }
  /** An HTTP error or a wrong Content-Type: EventSource gives up. */
  refuse() {
    this.readyState = CLOSED;
    this.onerror?.({});
  }
}

function setup(options = {}, EventSource: typeof FakeEventSource = FakeEventSource) {
  FakeEventSource.instances = [];
  const trace = vi.fn<Trace>();
  const timers: (() => void)[] = [];
  // no fetch that could stream the response: EventSource reads it (POSTs would take XMLHttpRequest)
  const env = resolveEnvironment({
    EventSource,
    XMLHttpRequest: class {} as unknown as typeof XMLHttpRequest,
    fetch: undefined,
    setTimeout: (callback) => timers.push(callback),
  });
  const context = { ...makeContext(env, options, { sid: "s1" }), trace };
  const transport = sse.create(context);
  const events = record(transport, ["open", "packet", "error", "close"]);
  transport.open();
  const source = () => FakeEventSource.instances[FakeEventSource.instances.length - 1]!;
  return { transport, events, names: () => events.map(([name]) => name), source, trace, timers };
}

test("supported with an EventSource and a way to POST", () => {
  expect(sse.supported(resolveEnvironment({ EventSource: FakeEventSource }))).toBe(true);
  expect(sse.supported(resolveEnvironment({ EventSource: undefined }))).toBe(false);
  expect(sse.supported(resolveEnvironment({ EventSource: FakeEventSource, XMLHttpRequest: undefined, fetch: undefined }))).toBe(false);
});

describe("sse through EventSource, where fetch cannot stream", () => {
  test("opens the session's sse URL, with credentials as asked", () => {
    const { source } = setup({ withCredentials: true });
    const url = new URL(source().url);
    expect(url.searchParams.get("transport")).toBe("sse");
    expect(url.searchParams.get("sid")).toBe("s1");
    expect(url.searchParams.get("EIO")).toBe("4");
    expect(url.searchParams.has("t")).toBe(true);
    // EventSource hands over an event's data as it came: plain frames read as well as JSON
    expect(url.searchParams.get("pf")).toBe("1");
    expect(source().init).toEqual({ withCredentials: true });
  });

  test("open, then one packet per event's JSON string", () => {
    const { source, events, transport } = setup();
    source().open();
    source().event('"4hello\\nworld"');
    source().event('"6"');
    expect(transport.state).toBe("open");
    expect(events).toEqual([["open"], ["packet", { type: "message", data: "hello\nworld" }], ["packet", { type: "noop" }]]);
  });

  test("a plain event is its payload as it is", () => {
    const { source, events } = setup();
    source().open();
    source().event("4plain\x1e2");
    expect(events).toEqual([["open"], ["packet", { type: "message", data: "plain" }], ["packet", { type: "ping" }]]);
  });

  test("an event that is neither a payload nor a JSON string: ProtocolError, the EventSource closed", () => {
    const { source, events } = setup();
    source().open();
    source().event('"4broken');
    expect(events.map(([name]) => name)).toEqual(["open", "error", "close"]);
    expect(events[1]![1]).toBeInstanceOf(ProtocolError);
    expect(source().closed).toBe(true);
  });

  test("a listener that throws: the event's other packets still delivered, the stream kept, the error rethrown on a timer", () => {
    const { source, events, transport, timers } = setup();
    const failure = new Error("application bug");
    transport.on("packet", (packet) => {
      if (packet.data === "a") throw failure;
    });
    source().open();
    source().event(JSON.stringify("4a\x1e4b\x1e4c"));
    expect(events).toEqual([
      ["open"],
      ["packet", { type: "message", data: "a" }],
      ["packet", { type: "message", data: "b" }],
      ["packet", { type: "message", data: "c" }],
    ]);
    expect(transport.state).toBe("open");
    expect(source().closed).toBe(false);
    expect(timers).toHaveLength(1);
    expect(timers[0]!).toThrow(failure);
  });

  test("an EventSource constructor that throws: a TransportError with it as cause, a turn later", async () => {
    const failure = new SyntaxError("blocked URL");
    class ThrowingEventSource extends FakeEventSource {
      constructor(url: string) {
        super(url);
        throw failure;
      }
    }
    const { events } = setup({}, ThrowingEventSource);
    expect(events).toEqual([]);
    await Promise.resolve();
    expect(events.map(([name]) => name)).toEqual(["error", "close"]);
    expect(events[0]![1]).toBeInstanceOf(TransportError);
    expect((events[0]![1] as Error).cause).toBe(failure);
  });

  test("the stream ends: EventSource's own reconnect is stopped and ours opens a new one, traced", () => {
    const { source, names, trace } = setup();
    const first = source();
    first.open();
    first.event('"4a"');
    first.end();
    expect(first.closed).toBe(true);
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(source()).not.toBe(first);
    expect(trace).toHaveBeenCalledWith("stream", "ended", expect.objectContaining({ transport: "sse", carried: true }));
    expect(names()).toEqual(["open", "packet"]);
  });

  test("a refused stream (HTTP error, not an event stream) is a TransportError, not a reopen", () => {
    const { source, events } = setup();
    source().refuse();
    expect(events.map(([name]) => name)).toEqual(["error", "close"]);
    expect(events[0]![1]).toBeInstanceOf(TransportError);
    expect((events[0]![1] as Error).message).toMatch(/refused/);
    expect(FakeEventSource.instances).toHaveLength(1);
  });

  test("close() closes the EventSource; nothing after it", () => {
    const { source, transport, names } = setup();
    const first = source();
    first.open();
    transport.close();
    expect(first.closed).toBe(true);
    expect(first.onmessage).toBeNull();
    expect(names()).toEqual(["open", "close"]);
  });
});

describe("sse read as a fetch stream", () => {
  const encoder = new TextEncoder();
  function start(options = {}) {
    const calls: { url: string; write(text: string): void; end(): void }[] = [];
    const fetch = vi.fn((url: string, init: RequestInit) => {
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
      let respond!: (response: Response) => void;
      const answer = new Promise<Response>((resolve, reject) => {
        respond = resolve;
        init.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
      });
      let answered = false;
      const ok = () => answered || ((answered = true), respond(new Response(body, { status: 200, headers: { "Content-Type": "text/event-stream" } })));
      calls.push({ url, write: (text) => (ok(), controller.enqueue(encoder.encode(text))), end: () => (ok(), controller.close()) });
      return answer;
    });
    FakeEventSource.instances = [];
    const env = resolveEnvironment({ EventSource: FakeEventSource, XMLHttpRequest: undefined, fetch: fetch as unknown as typeof globalThis.fetch });
    const context = makeContext(env, options, { sid: "s1" });
    const transport = sse.create(context);
    const events = record(transport, ["open", "packet", "error", "close"]);
    transport.open();
    return { transport, events, calls };
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

  test("one GET of the session's sse URL, no EventSource; data lines read, comments and blank lines skipped, CRLF too", async () => {
    const { calls, events, transport } = start();
    expect(FakeEventSource.instances).toHaveLength(0);
    expect(calls).toHaveLength(1);
    const url = new URL(calls[0]!.url);
    expect([url.searchParams.get("transport"), url.searchParams.get("sid"), url.searchParams.get("pf")]).toEqual(["sse", "s1", "1"]);
    calls[0]!.write(":" + " ".repeat(16) + "\n\ndata: " + JSON.stringify("4hello\nworld\x1e4two"));
    calls[0]!.write("\n\n:\n\ndata: \"6\"\r\n\r\n");
    await settle();
    expect(events).toEqual([
      ["open"],
      ["packet", { type: "message", data: "hello\nworld" }],
      ["packet", { type: "message", data: "two" }],
      ["packet", { type: "noop" }],
    ]);
    transport.close();
  });

  test("a data line past maxIncomingBytes (plus `data: `) is refused while it arrives: IncomingTooLargeError", async () => {
    const { calls, events } = start({ maxIncomingBytes: 100 });
    calls[0]!.write('data: "4' + "a".repeat(97) + '"\n\n');
    await settle();
    expect(events.map(([name]) => name)).toEqual(["open", "packet"]);
    calls[0]!.write('data: "4' + "a".repeat(98) + '"');
    await settle();
    expect(events.map(([name]) => name)).toEqual(["open", "packet", "error", "close"]);
    expect(events[2]![1]).toBeInstanceOf(IncomingTooLargeError);
  });

  test("a line cometa/server never writes (an error page's) is a ProtocolError and a close", async () => {
    const { calls, events } = start();
    calls[0]!.write("<html>\n");
    await settle();
    expect(events.map(([name]) => name)).toEqual(["open", "error", "close"]);
    expect(events[1]![1]).toBeInstanceOf(ProtocolError);
  });

  test("the stream ends: a new GET opens", async () => {
    const { calls, events, transport } = start();
    calls[0]!.write('data: "4a"\n\n');
    calls[0]!.end();
    await settle();
    expect(calls).toHaveLength(2);
    expect(new URL(calls[1]!.url).searchParams.get("transport")).toBe("sse");
    expect(events.map(([name]) => name)).toEqual(["open", "packet"]);
    transport.close();
  });
});
