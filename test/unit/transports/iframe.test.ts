/**
 * The forever-frame's DOM work in jsdom: when the iframe is inserted, which messages it accepts,
 * how it reopens after the document ends and what it leaves behind. (jsdom's postMessage sets
 * no origin or source, so messages are dispatched here as a browser would deliver them; the
 * real round trip runs in Chromium, test/browser.)
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { resolveEnvironment } from "../../../src/env.js";
import type { ReceivedPacket } from "../../../src/protocol.js";
import { iframe } from "../../../src/transports/iframe.js";
import { makeContext } from "../support/context.js";

const serverOrigin = "http://127.0.0.1:4567";

function setup(envOverrides = {}) {
  const env = resolveEnvironment(envOverrides);
  const context = makeContext(env, {}, { sid: "s1" }, serverOrigin);
  const transport = iframe.create(context);
  const packets: ReceivedPacket[] = [];
  const errors: Error[] = [];
  transport.on("packet", (packet) => packets.push(packet));
  transport.on("error", (error) => errors.push(error));
  return { env, transport, packets, errors };
}

const frames = () => Array.from(document.querySelectorAll("iframe"));

function deliver(frame: HTMLIFrameElement, data: unknown, overrides: Partial<MessageEventInit> = {}) {
  window.dispatchEvent(new MessageEvent("message", { data, origin: serverOrigin, source: frame.contentWindow, ...overrides }));
}

afterEach(() => {
  for (const frame of frames()) frame.remove();
});

test("is supported only with a document, a window and an origin", () => {
  expect(iframe.supported(resolveEnvironment())).toBe(true);
  expect(iframe.supported(resolveEnvironment({ document: undefined }))).toBe(false);
  expect(iframe.supported(resolveEnvironment({ window: { location: { origin: "null" } } as unknown as Window }))).toBe(false);
});

test("inserts one hidden iframe pointing at the stream with the page's origin and a frame id", () => {
  const { transport } = setup();
  transport.open();
  expect(frames()).toHaveLength(1);
  const frame = frames()[0]!;
  const url = new URL(frame.src);
  expect(url.origin).toBe(serverOrigin);
  expect(url.searchParams.get("transport")).toBe("iframe");
  expect(url.searchParams.get("sid")).toBe("s1");
  expect(url.searchParams.get("origin")).toBe(window.location.origin);
  expect(url.searchParams.get("f")).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
  expect(frame.style.display).toBe("none");
  transport.close();
});

test("waits for the page's load event before inserting the iframe", () => {
  const page = Object.assign(new EventTarget(), { location: window.location });
  const loadingDocument = {
    readyState: "loading",
    createElement: document.createElement.bind(document),
    body: document.body,
  } as unknown as Document;
  const { transport } = setup({ window: page as unknown as Window, document: loadingDocument });
  transport.open();
  expect(frames()).toHaveLength(0);
  page.dispatchEvent(new Event("load"));
  expect(frames()).toHaveLength(1);
  transport.close();
});

describe("accepts a message only from its frame, the server's origin and in the agreed shape", () => {
  test.each([
    ["another origin", { origin: "http://evil.test" }],
    ["another window", { source: window }],
    ["no source", { source: null }],
  ])("ignores %s", (_, overrides) => {
    const { transport, packets } = setup();
    transport.open();
    const frame = frames()[0]!;
    const id = new URL(frame.src).searchParams.get("f");
    deliver(frame, ["cometa", id, "4spoofed"], overrides);
    expect(packets).toEqual([]);
    transport.close();
  });

  test.each([
    ["a string", "4hello"],
    ["another frame id", ["cometa", "other", "4hello"]],
    ["another tag", ["x", "ID", "4hello"]],
    ["non-string data", ["cometa", "ID", 4]],
  ])("ignores %s", (_, data) => {
    const { transport, packets } = setup();
    transport.open();
    const frame = frames()[0]!;
    const id = new URL(frame.src).searchParams.get("f")!;
    deliver(frame, JSON.parse(JSON.stringify(data).replace('"ID"', JSON.stringify(id))));
    expect(packets).toEqual([]);
    transport.close();
  });

  test("delivers a well-formed message", () => {
    const { transport, packets } = setup();
    transport.open();
    const frame = frames()[0]!;
    const id = new URL(frame.src).searchParams.get("f");
    deliver(frame, ["cometa", id, "4hello </script>"]);
    expect(packets).toEqual([{ type: "message", data: "hello </script>" }]);
    transport.close();
  });
});

test("a malformed packet from the frame is a ProtocolError and a close", () => {
  const { transport, errors } = setup();
  const closed = vi.fn();
  transport.on("close", closed);
  transport.open();
  const frame = frames()[0]!;
  deliver(frame, ["cometa", new URL(frame.src).searchParams.get("f"), "9nope"]);
  expect(errors.map((error) => error.name)).toEqual(["ProtocolError"]);
  expect(closed).toHaveBeenCalledOnce();
  expect(frames()).toHaveLength(0);
});

const frameIdOf = (frame: HTMLIFrameElement) => new URL(frame.src).searchParams.get("f");

test("is open only once the document's bootstrap says so", () => {
  const { transport } = setup();
  const opened = vi.fn();
  transport.on("open", opened);
  transport.open();
  expect(opened).not.toHaveBeenCalled();
  const frame = frames()[0]!;
  deliver(frame, ["cometa", frameIdOf(frame), 1]);
  expect(opened).toHaveBeenCalledOnce();
  transport.close();
});

test("reopens a new frame on the document's end marker, after its last packet", () => {
  const { transport, packets } = setup();
  transport.open();
  const first = frames()[0]!;
  deliver(first, ["cometa", frameIdOf(first), 1]);
  deliver(first, ["cometa", frameIdOf(first), "4one"]);
  deliver(first, ["cometa", frameIdOf(first), 0]);
  expect(frames()).toHaveLength(1);
  const second = frames()[0]!;
  expect(second).not.toBe(first);
  expect(frameIdOf(second)).not.toBe(frameIdOf(first));
  // the old frame's load event, after its end marker, changes nothing
  first.dispatchEvent(new Event("load"));
  expect(frames()).toEqual([second]);
  expect(packets.map((packet) => packet.data)).toEqual(["one"]);
  transport.close();
});

test("on the end marker the next frame is in the page before the ended one is removed (its navigation starts first)", () => {
  const { transport } = setup();
  transport.open();
  const first = frames()[0]!;
  deliver(first, ["cometa", frameIdOf(first), 1]);
  const changes: string[] = [];
  const observer = new MutationObserver(() => {});
  observer.observe(document.body, { childList: true });
  deliver(first, ["cometa", frameIdOf(first), 0]);
  for (const record of observer.takeRecords()) {
    for (const node of Array.from(record.addedNodes)) changes.push(node === first ? "added first" : "added next");
    for (const node of Array.from(record.removedNodes)) changes.push(node === first ? "removed first" : "removed next");
  }
  observer.disconnect();
  expect(changes).toEqual(["added next", "removed first"]);
  transport.close();
  expect(frames()).toHaveLength(0);
});

test("a document that loads without its bootstrap is refused once its messages had their moment", () => {
  vi.useFakeTimers();
  try {
    const { transport, errors } = setup();
    transport.open();
    frames()[0]!.dispatchEvent(new Event("load"));
    expect(errors).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(errors.map((error) => error.message)).toEqual(["iframe document refused, or not a cometa stream"]);
    expect(frames()).toHaveLength(0);
  } finally {
    vi.useRealTimers();
  }
});

test("a short document whose messages trail its load event is read whole, then the stream reopens", () => {
  vi.useFakeTimers();
  try {
    const { transport, packets, errors } = setup();
    transport.open();
    const first = frames()[0]!;
    // WebKit and Firefox: a document that came whole fires load before its queued postMessages
    first.dispatchEvent(new Event("load"));
    deliver(first, ["cometa", frameIdOf(first), 1]);
    deliver(first, ["cometa", frameIdOf(first), "4one"]);
    deliver(first, ["cometa", frameIdOf(first), 0]);
    expect(frames()).toHaveLength(1);
    expect(frames()[0]).not.toBe(first);
    vi.runAllTimers();
    expect(errors).toEqual([]);
    expect(packets.map((packet) => packet.data)).toEqual(["one"]);
    expect(frames()).toHaveLength(1);
    transport.close();
  } finally {
    vi.useRealTimers();
  }
});

test("a load before the bootstrap, then the bootstrap: the stream is kept, not reopened", () => {
  vi.useFakeTimers();
  try {
    const { transport, packets, errors } = setup();
    transport.open();
    const frame = frames()[0]!;
    frame.dispatchEvent(new Event("load"));
    deliver(frame, ["cometa", frameIdOf(frame), 1]);
    vi.runAllTimers();
    expect(frames()).toEqual([frame]);
    deliver(frame, ["cometa", frameIdOf(frame), "4still streaming"]);
    expect(packets.map((packet) => packet.data)).toEqual(["still streaming"]);
    expect(errors).toEqual([]);
    transport.close();
  } finally {
    vi.useRealTimers();
  }
});

test("a cut document (load without an end marker) waits for stragglers, then reopens; three empty ones fail", () => {
  vi.useFakeTimers();
  try {
    const { transport, packets, errors } = setup();
    transport.open();
    let frame = frames()[0]!;
    deliver(frame, ["cometa", frameIdOf(frame), 1]);
    frame.dispatchEvent(new Event("load"));
    // a straggler posted before the cut still counts
    deliver(frame, ["cometa", frameIdOf(frame), "4late but ours"]);
    vi.runAllTimers();
    expect(packets.map((packet) => packet.data)).toEqual(["late but ours"]);
    for (let i = 0; i < 3; i++) {
      frame = frames()[0]!;
      deliver(frame, ["cometa", frameIdOf(frame), 1]);
      frame.dispatchEvent(new Event("load"));
      vi.runAllTimers();
    }
    expect(errors.map((error) => error.message)).toEqual(["iframe stream ended 3 times without data"]);
    expect(frames()).toHaveLength(0);
  } finally {
    vi.useRealTimers();
  }
});

test("close removes the iframe and the message listener", () => {
  const removed = vi.spyOn(window, "removeEventListener");
  const { transport, packets } = setup();
  transport.open();
  const frame = frames()[0]!;
  const id = new URL(frame.src).searchParams.get("f");
  transport.close();
  expect(frames()).toHaveLength(0);
  expect(removed.mock.calls.some(([event]) => event === "message")).toBe(true);
  deliver(frame, ["cometa", id, "4late"]);
  expect(packets).toEqual([]);
  removed.mockRestore();
});
