/**
 * What each transport tells the session through its context: which of its requests receive
 * (the GETs that open a downstream response carry `receives`, so a resumable session adds its
 * count to them, and a reopened stream asks again), and whether its `drain` means the server
 * took the write (`confirmsDelivery`). The context here adds `ack=<n>` to a receiving URL, n
 * counting the calls, as a session whose count moves would.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { type EventHandler, type EventSourceLike, resolveEnvironment } from "../../../src/env.js";
import type { TransportContext, TransportDefinition } from "../../../src/transport.js";
import { iframe } from "../../../src/transports/iframe.js";
import { jsonp } from "../../../src/transports/jsonp.js";
import { polling } from "../../../src/transports/polling.js";
import { shortPolling } from "../../../src/transports/short-polling.js";
import { sse } from "../../../src/transports/sse.js";
import { websocket } from "../../../src/transports/websocket.js";
import { xhrStreaming } from "../../../src/transports/xhr-streaming.js";
import { settle, until } from "../../support/events.js";
import { makeContext } from "../support/context.js";
import { fakeWebSocketClass } from "../support/fake-websocket.js";

const serverOrigin = "http://127.0.0.1:4567";

class FakeEventSource implements EventSourceLike {
  readyState = 0;
  onopen: EventHandler<unknown> | null = null;
  onerror: EventHandler<unknown> | null = null;
  onmessage: EventHandler<{ data: string }> | null = null;
  constructor(readonly url: string) {
    requests.push({ kind: "EventSource", url, end: () => this.onerror?.({}) });
  }
  close() {
    this.readyState = 2;
  }
}

interface Request {
  kind: string;
  url: string;
  /** Answers the request with a 200 and this body, or ends the stream. */
  end(body?: string): void;
}

/** Every request the transport made, in order, whatever carried it. */
let requests: Request[] = [];

function setup(definition: TransportDefinition) {
  requests = [];
  const { WebSocket, instances } = fakeWebSocketClass();
  const fetch = vi.fn(
    (url: string, init: RequestInit) =>
      new Promise<Response>((resolve) =>
        requests.push({ kind: String(init.method), url, end: (body = "ok") => resolve(new Response(body, { status: 200 })) }),
      ),
  );
  const env = resolveEnvironment({
    XMLHttpRequest: undefined,
    fetch: fetch as unknown as typeof globalThis.fetch,
    EventSource: FakeEventSource,
    WebSocket,
    // short polls come one turn later rather than after pollInterval
    setTimeout: (callback) => setTimeout(callback, 0),
  });
  const base = makeContext(env, {}, { sid: "s1" }, serverOrigin);
  const receives: unknown[] = [];
  let count = 0;
  const context: TransportContext = {
    ...base,
    url(scheme, name, extra, receiving) {
      receives.push(receiving);
      return base.url(scheme, name, receiving ? { ...extra, ack: String(++count) } : extra);
    },
  };
  const transport = definition.create(context);
  /** Each request as its kind and its `ack`, "-" when it has none. */
  const seen = () => requests.map(({ kind, url }) => `${kind} ${new URL(url).searchParams.get("ack") || "-"}`);
  return { transport, seen, receives, instances, request: (kind: string, index = 0) => requests.filter((r) => r.kind === kind)[index]! };
}

const send = (transport: { send(packets: { type: "message"; data: string }[]): void }) => transport.send([{ type: "message", data: "up" }]);

afterEach(() => {
  for (const node of Array.from(document.querySelectorAll("script, iframe"))) node.remove();
});

describe("a receiving GET carries `receives`, each time afresh; a POST and a WebSocket do not", () => {
  test("polling: each poll, not the POST", async () => {
    const { transport, seen, request } = setup(polling);
    transport.open();
    send(transport);
    request("GET").end("6");
    await until(() => seen().length === 3);
    request("POST").end();
    expect(seen()).toEqual(["GET 1", "POST -", "GET 2"]);
    transport.close();
  });

  test("short-polling: each poll, its token along, not the POST", async () => {
    const { transport, seen, request } = setup(shortPolling);
    transport.open();
    send(transport);
    request("GET").end("6kT1");
    await until(() => seen().length === 3);
    expect(seen()).toEqual(["GET 1", "POST -", "GET 2"]);
    expect(new URL(request("GET", 1).url).searchParams.get("k")).toBe("T1");
    transport.close();
  });

  test("jsonp: each script, not the form POST", async () => {
    const { transport, seen } = setup(jsonp);
    transport.open();
    const script = () => document.querySelector("script")!;
    const first = new URL(script().src);
    send(transport);
    await until(() => seen().length === 1);
    const registry = (window as unknown as { ___eio: ((payload: string) => void)[] }).___eio;
    registry[Number(first.searchParams.get("j"))]!("6");
    expect(seen()).toEqual(["POST -"]);
    expect([first.searchParams.get("ack"), new URL(script().src).searchParams.get("ack")]).toEqual(["1", "2"]);
    transport.close();
  });

  test("sse: the stream's open and its reopen, not the POST", async () => {
    // read as a fetch stream: fetch can stream here
    const { transport, seen, request } = setup(sse);
    transport.open();
    send(transport);
    request("GET").end("");
    await until(() => seen().length === 3);
    expect(seen()).toEqual(["GET 1", "POST -", "GET 2"]);
    transport.close();
  });

  test("xhr-streaming: the stream's open and its reopen, not the POST", async () => {
    const { transport, seen, request } = setup(xhrStreaming);
    transport.open();
    send(transport);
    request("GET").end("");
    await until(() => seen().length === 3);
    expect(seen()).toEqual(["GET 1", "POST -", "GET 2"]);
    transport.close();
  });

  test("iframe: the document's open and its reopen, not the POST", async () => {
    const { transport, seen } = setup(iframe);
    transport.open();
    const frame = () => document.querySelector("iframe")!;
    const first = frame();
    const firstUrl = new URL(first.src);
    send(transport);
    await until(() => seen().length === 1);
    const post = (data: unknown) =>
      window.dispatchEvent(new MessageEvent("message", { data: ["cometa", firstUrl.searchParams.get("f"), data], origin: serverOrigin, source: first.contentWindow }));
    post(1);
    post("4hello");
    post(0);
    expect(frame()).not.toBe(first);
    expect(seen()).toEqual(["POST -"]);
    expect([firstUrl.searchParams.get("ack"), new URL(frame().src).searchParams.get("ack")]).toEqual(["1", "2"]);
    transport.close();
  });

  test("websocket: its URL is not a receiving one", () => {
    const { transport, receives, instances } = setup(websocket);
    transport.open();
    expect(receives).toEqual([undefined]);
    expect(new URL(instances[0]!.url).searchParams.has("ack")).toBe(false);
    transport.close();
  });
});

describe("confirmsDelivery: true where a readable HTTP answer follows the server's handling of the write", () => {
  test.each([
    ["polling", true, polling],
    ["short-polling", true, shortPolling],
    // its POST is no-cors: the answer is opaque
    ["jsonp", false, jsonp],
    ["sse", true, sse],
    ["xhr-streaming", true, xhrStreaming],
    ["iframe", true, iframe],
    ["websocket", false, websocket],
  ] as const)("%s: %s", async (_, confirms, definition) => {
    const { transport } = setup(definition);
    expect(transport.confirmsDelivery).toBe(confirms);
    transport.close();
    await settle();
  });
});
