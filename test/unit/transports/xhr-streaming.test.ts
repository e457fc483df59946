// @vitest-environment node
/**
 * The xhr-streaming adapter on a fake fetch (a ReadableStream the test writes into) and on a
 * fake XMLHttpRequest (progress events) where fetch streams are missing.
 */
import { describe, expect, test, vi } from "vitest";
import { type Environment, resolveEnvironment } from "../../../src/env.js";
import { IncomingTooLargeError, ProtocolError, ServerError, TransportError } from "../../../src/errors.js";
import type { Trace } from "../../../src/trace.js";
import { xhrStreaming } from "../../../src/transports/xhr-streaming.js";
import { record, until } from "../../support/events.js";
import { makeContext } from "../support/context.js";

const encoder = new TextEncoder();

/** A fetch whose every response the test controls: status, then body text, then end or cut. */
function controlledFetch() {
  const calls: { url: string; init: RequestInit; write(text: string | Uint8Array): void; end(): void; cut(): void; refuse(status: number, body: string): void }[] = [];
  const fetch = vi.fn((url: string, init: RequestInit) => {
    let respond!: (response: Response) => void;
    let fail!: (error: unknown) => void;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
    const answer = new Promise<Response>((resolve, reject) => ((respond = resolve), (fail = reject)));
    init.signal?.addEventListener("abort", () => fail(new DOMException("aborted", "AbortError")));
    let answered = false;
    /** The 200's headers, once: a body is read by one response only. */
    const ok = () => answered || ((answered = true), respond(new Response(body, { status: 200 })));
    calls.push({
      url,
      init,
      write(text) {
        ok();
        controller.enqueue(typeof text === "string" ? encoder.encode(text) : text);
      },
      end: () => (ok(), controller.close()),
      cut: () => controller.error(new TypeError("network error")),
      refuse: (status, text) => respond(new Response(text, { status })),
    });
    return answer;
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, calls };
}

function setup(env: Partial<Environment>, options = {}) {
  const trace = vi.fn<Trace>();
  const context = { ...makeContext(resolveEnvironment(env), options, { sid: "s1" }), trace };
  const transport = xhrStreaming.create(context);
  const events = record(transport, ["open", "packet", "error", "close"]);
  transport.open();
  return { transport, events, names: () => events.map(([name]) => name), trace };
}

describe("xhr-streaming over fetch", () => {
  const start = (options = {}, env: Partial<Environment> = {}) => {
    const { fetch, calls } = controlledFetch();
    return { ...setup({ XMLHttpRequest: undefined, fetch, ...env }, options), calls };
  };

  test("one GET of the session's stream, uncompressed, with the extra headers and credentials asked for", () => {
    const { calls } = start({ withCredentials: true, extraHeaders: { "X-A": "1" } });
    expect(calls).toHaveLength(1);
    const url = new URL(calls[0]!.url);
    expect(url.searchParams.get("transport")).toBe("xhr-streaming");
    expect(url.searchParams.get("sid")).toBe("s1");
    expect(calls[0]!.init.method).toBe("GET");
    expect(calls[0]!.init.headers).toEqual({ "Accept-Encoding": "identity", "X-A": "1" });
    expect(calls[0]!.init.credentials).toBe("include");
  });

  test("every GET says its reader keeps nothing (rd=1) and reads plain frames (pf=1), reopens included", async () => {
    const { calls } = start();
    const flags = (url: string) => [new URL(url).searchParams.get("rd"), new URL(url).searchParams.get("pf")];
    expect(flags(calls[0]!.url)).toEqual(["1", "1"]);
    calls[0]!.write("\n");
    calls[0]!.end();
    await until(() => calls.length === 2);
    expect(flags(calls[1]!.url)).toEqual(["1", "1"]);
  });

  test("padding skipped; lines read as they arrive, split anywhere, multi-byte characters included", async () => {
    const { calls, events } = start();
    const bytes = encoder.encode(' '.repeat(16) + '\n"4é😀"\n"6"\n"4b');
    for (let i = 0; i < bytes.length; i += 3) calls[0]!.write(bytes.slice(i, i + 3));
    await until(() => events.length === 3);
    expect(events).toEqual([["open"], ["packet", { type: "message", data: "é😀" }], ["packet", { type: "noop" }]]);
    calls[0]!.write('"\n');
    await until(() => events.length === 4);
    expect(events[3]).toEqual(["packet", { type: "message", data: "b" }]);
  });

  test("plain lines (pf=1) read as they are, JSON lines beside them", async () => {
    const { calls, events } = start();
    calls[0]!.write("   \n4plain 😀\x1e2\n" + JSON.stringify("4a\nb") + "\nbAQID\n");
    await until(() => events.length === 5);
    expect(events.slice(1).map(([, packet]) => packet)).toEqual([
      { type: "message", data: "plain 😀" },
      { type: "ping" },
      { type: "message", data: "a\nb" },
      { type: "message", data: new Uint8Array([1, 2, 3]).buffer },
    ]);
  });

  test("a 200 that is not a cometa stream (a portal's page): ProtocolError and a close, nothing read as packets", async () => {
    const { calls, events, names } = start();
    calls[0]!.write("<!doctype html>\n<p>log in</p>\n");
    await until(() => names().includes("close"));
    expect(names()).toEqual(["open", "error", "close"]);
    expect(events[1]![1]).toBeInstanceOf(ProtocolError);
  });

  test("a listener that throws: the line's other packets and the next lines still delivered, the stream kept, the error rethrown on a timer", async () => {
    const timers: (() => void)[] = [];
    const { calls, events, transport } = start({}, { setTimeout: (callback: () => void) => timers.push(callback) });
    const failure = new Error("application bug");
    transport.on("packet", (packet) => {
      if (packet.data === "a") throw failure;
    });
    calls[0]!.write(JSON.stringify("4a\x1e4b\x1e4c") + "\n");
    calls[0]!.write('"4d"\n');
    await until(() => events.length === 5);
    expect(events.slice(1).map(([, packet]) => (packet as { data: string }).data)).toEqual(["a", "b", "c", "d"]);
    expect(transport.state).toBe("open");
    expect(calls).toHaveLength(1);
    expect(timers).toHaveLength(1);
    expect(timers[0]!).toThrow(failure);
  });

  test("the stream ends: a new GET with the same sid, traced", async () => {
    const { calls, trace, names } = start();
    calls[0]!.write('"4a"\n');
    calls[0]!.end();
    await until(() => calls.length === 2);
    expect(new URL(calls[1]!.url).searchParams.get("sid")).toBe("s1");
    expect(trace).toHaveBeenCalledWith("stream", "ended", expect.objectContaining({ transport: "xhr-streaming", carried: true }));
    expect(names()).toEqual(["open", "packet"]);
  });

  test("cut after its headers (a proxy's read timeout): reopened, traced as a cut", async () => {
    const { calls, trace, names } = start();
    calls[0]!.write('"4a"\n');
    await until(() => names().length === 2);
    calls[0]!.cut();
    await until(() => calls.length === 2);
    expect(trace).toHaveBeenCalledWith("stream", "cut", expect.objectContaining({ transport: "xhr-streaming" }));
    expect(names()).toEqual(["open", "packet"]);
  });

  test("refused with engine.io's JSON: the ServerError, no reopen", async () => {
    const { calls, events } = start();
    calls[0]!.refuse(400, '{"code":1,"message":"Session ID unknown"}');
    await until(() => events.length === 2);
    expect(events[0]![1]).toBeInstanceOf(ServerError);
    expect(calls).toHaveLength(1);
  });

  test("a line longer than maxIncomingBytes is not read to its end", async () => {
    const { calls, events } = start({ maxIncomingBytes: 10 });
    calls[0]!.write('"4' + "x".repeat(20));
    await until(() => events.length === 3);
    expect(events[1]![1]).toBeInstanceOf(IncomingTooLargeError);
    expect((calls[0]!.init.signal as AbortSignal).aborted).toBe(true);
  });

  test("a stream is never timed out by requestTimeout, whatever its length", async () => {
    const timers: unknown[] = [];
    const { fetch, calls } = controlledFetch();
    setup({ XMLHttpRequest: undefined, fetch, setTimeout: (callback) => timers.push(callback) }, { requestTimeout: 10 });
    expect(calls).toHaveLength(1);
    expect(timers).toHaveLength(0);
  });

  test("close() aborts the GET", () => {
    const { calls, transport } = start();
    transport.close();
    expect((calls[0]!.init.signal as AbortSignal).aborted).toBe(true);
  });
});

describe("xhr-streaming over XMLHttpRequest progress (no fetch streams)", () => {
  class ProgressXhr {
    static instances: ProgressXhr[] = [];
    readyState = 0;
    status = 0;
    responseText = "";
    withCredentials = false;
    aborted = false;
    method = "";
    url = "";
    headers: Record<string, string> = {};
    onreadystatechange: (() => void) | null = null;
    onerror: (() => void) | null = null;
    onprogress: (() => void) | null = null;
    open(method: string, url: string) {
      this.method = method;
      this.url = url;
    }
    setRequestHeader(name: string, value: string) {
      this.headers[name] = value;
    }
    send() {
      ProgressXhr.instances.push(this);
    }
    abort() {
      this.aborted = true;
    }
    headersArrived(status = 200) {
      this.status = status;
      this.readyState = 2;
      this.onreadystatechange?.();
    }
    arrive(text: string) {
      this.readyState = 3;
      this.responseText += text;
      this.onprogress?.();
    }
    done() {
      this.readyState = 4;
      this.onreadystatechange?.();
    }
  }
  const start = () => {
    ProgressXhr.instances = [];
    const context = setup({ XMLHttpRequest: ProgressXhr as unknown as typeof XMLHttpRequest, fetch: undefined }, { extraHeaders: { "X-A": "1" } });
    return { ...context, xhr: () => ProgressXhr.instances[ProgressXhr.instances.length - 1]! };
  };

  test("opens at the headers, reads only what each progress event adds", () => {
    const { xhr, events } = start();
    expect(xhr().method).toBe("GET");
    // responseText keeps the whole response: no rd=1, the server recycles it sooner
    expect(new URL(xhr().url).searchParams.has("rd")).toBe(false);
    expect(new URL(xhr().url).searchParams.get("pf")).toBe("1");
    expect(xhr().headers).toEqual({ "X-A": "1" });
    xhr().headersArrived();
    expect(events).toEqual([["open"]]);
    xhr().arrive('   \n"4a"\n"4');
    xhr().arrive('b"\n');
    expect(events.slice(1)).toEqual([
      ["packet", { type: "message", data: "a" }],
      ["packet", { type: "message", data: "b" }],
    ]);
  });

  test("the end reads what is left and reopens", () => {
    const { xhr, events } = start();
    const first = xhr();
    first.headersArrived();
    first.responseText = '"4last"\n';
    first.done();
    expect(events).toEqual([["open"], ["packet", { type: "message", data: "last" }]]);
    expect(ProgressXhr.instances).toHaveLength(2);
  });

  test("status 0 before any header: a TransportError; after a 200: a cut, reopened", () => {
    const refused = start();
    refused.xhr().done();
    expect(refused.names()).toEqual(["error", "close"]);
    expect(refused.events[0]![1]).toBeInstanceOf(TransportError);

    const cut = start();
    cut.xhr().headersArrived();
    cut.xhr().status = 0;
    cut.xhr().done();
    expect(cut.names()).toEqual(["open"]);
    expect(ProgressXhr.instances).toHaveLength(2);
  });
});
