// @vitest-environment node
/**
 * The streaming transports' downstream part on a fake stream: packets as they come, the
 * reopen after every end, the count of streams that end empty, and the traces a user behind a
 * strange proxy reads.
 */
import { describe, expect, test, vi } from "vitest";
import { resolveEnvironment } from "../../../src/env.js";
import { IncomingTooLargeError, ProtocolError, TransportError } from "../../../src/errors.js";
import type { Trace } from "../../../src/trace.js";
import { type StreamHandlers, createStreamingTransport, parseLineFrame } from "../../../src/transports/stream-core.js";
import { record } from "../../support/events.js";
import { makeContext } from "../support/context.js";

/** A transport over a fake ConnectStream: each open is a handle the test drives. */
function setup(session: { sid?: string } = { sid: "s1" }, options = {}) {
  let now = 0;
  const trace = vi.fn<Trace>();
  const env = resolveEnvironment({ XMLHttpRequest: undefined, fetch: vi.fn() as unknown as typeof fetch, now: () => now });
  const context = { ...makeContext(env, options, session), trace };
  const streams: { handlers: StreamHandlers; aborted: boolean }[] = [];
  const transport = createStreamingTransport(context, "sse", (_context, handlers) => {
    const stream = { handlers, aborted: false };
    streams.push(stream);
    return () => (stream.aborted = true);
  });
  const events = record(transport, ["open", "packet", "error", "close"]);
  const names = () => events.map(([name]) => name);
  return { transport, streams, events, names, trace, advance: (ms: number) => (now += ms), last: () => streams[streams.length - 1]!.handlers };
}

describe("createStreamingTransport", () => {
  test("opened, then each packet decoded and emitted in order", () => {
    const { transport, last, events } = setup();
    transport.open();
    last().opened();
    last().payload("4hello");
    last().payload("bAQID");
    expect(transport.state).toBe("open");
    expect(events[1]).toEqual(["packet", { type: "message", data: "hello" }]);
    expect(new Uint8Array((events[2]![1] as { data: ArrayBuffer }).data)).toEqual(new Uint8Array([1, 2, 3]));
  });

  test("a frame of several packets joined by U+001E: each one emitted, in order", () => {
    const { transport, last, events } = setup();
    transport.open();
    last().payload("4a\x1ebAQID\x1e2\x1e4");
    expect(events.map(([name, value]) => [name, (value as { type?: string })?.type])).toEqual([
      ["open", undefined],
      ["packet", "message"],
      ["packet", "message"],
      ["packet", "ping"],
      ["packet", "message"],
    ]);
    expect(events[1]![1]).toEqual({ type: "message", data: "a" });
    expect(new Uint8Array((events[2]![1] as { data: ArrayBuffer }).data)).toEqual(new Uint8Array([1, 2, 3]));
  });

  test("a close packet inside a frame ends the transport: what follows it is not emitted", () => {
    const { transport, last, names } = setup();
    transport.open();
    last().payload("4a\x1e1\x1e4b");
    expect(names()).toEqual(["open", "packet", "packet", "close"]);
  });

  test("a frame with one malformed packet among good ones: the parse error and close, nothing of it emitted", () => {
    const { transport, last, names, events } = setup();
    transport.open();
    last().payload("4a\x1e9nope");
    expect(names()).toEqual(["error", "close"]);
    expect(events[0]![1]).toBeInstanceOf(ProtocolError);
  });

  test("maxIncomingBytes bounds a whole frame, separators included", () => {
    const { transport, last, events } = setup({ sid: "s1" }, { maxIncomingBytes: 5 });
    transport.open();
    last().payload("4a\x1e4b");
    last().payload("4a\x1e4bc");
    expect(events.map(([name]) => name)).toEqual(["open", "packet", "packet", "error", "close"]);
    expect(events[3]![1]).toBeInstanceOf(IncomingTooLargeError);
  });

  test("a stream that ends after carrying packets reopens at once, traced with what it carried", () => {
    const { transport, streams, last, trace, advance, names } = setup();
    transport.open();
    last().payload("4a");
    advance(20);
    last().ended();
    expect(streams).toHaveLength(2);
    expect(trace).toHaveBeenCalledWith("stream", "ended", { transport: "sse", carried: true, ms: 20, empty: 0 });
    last().ended(true);
    expect(trace).toHaveBeenLastCalledWith("stream", "cut", { transport: "sse", carried: false, ms: 0, empty: 1 });
    expect(names()).toEqual(["open", "packet"]);
  });

  test("three streams in a row ending early and empty: a TransportError, no fourth", () => {
    const { transport, streams, last, names, events, trace } = setup();
    transport.open();
    last().ended();
    last().ended();
    expect(streams).toHaveLength(3);
    last().ended();
    expect(streams).toHaveLength(3);
    expect(names()).toEqual(["error", "close"]);
    expect(events[0]![1]).toBeInstanceOf(TransportError);
    expect((events[0]![1] as Error).message).toBe("sse stream ended 3 times without data");
    expect(trace).toHaveBeenCalledWith("stream", "ended", { transport: "sse", carried: false, ms: 0, empty: 3 });
    expect(trace).toHaveBeenLastCalledWith("transport", "failed", { transport: "sse", reason: "sse stream ended 3 times without data" });
  });

  test("a stream that lived a second is a working one, however empty: an idle session behind a proxy reopens for ever", () => {
    const { transport, streams, last, advance, names } = setup();
    transport.open();
    for (let i = 0; i < 10; i++) {
      advance(1000);
      last().ended();
    }
    expect(streams).toHaveLength(11);
    expect(names()).toEqual([]);
  });

  test("a stream that ends before the handshake fails: there is no sid to reopen with", () => {
    const { transport, last, events } = setup({});
    transport.open();
    last().payload("4x");
    last().ended();
    expect((events[2]![1] as Error).message).toBe("sse stream ended before the handshake");
  });

  test("the server's close packet ends the transport; nothing is reopened", () => {
    const { transport, streams, last, names } = setup();
    transport.open();
    last().payload("1");
    expect(names()).toEqual(["open", "packet", "close"]);
    expect(streams[0]!.aborted).toBe(true);
    expect(streams).toHaveLength(1);
  });

  test("a packet longer than maxIncomingBytes: IncomingTooLargeError and close", () => {
    const { transport, last, events } = setup({ sid: "s1" }, { maxIncomingBytes: 5 });
    transport.open();
    last().payload("4abcd");
    last().payload("4abcde");
    expect(events.map(([name]) => name)).toEqual(["open", "packet", "error", "close"]);
    expect(events[2]![1]).toBeInstanceOf(IncomingTooLargeError);
  });

  test("a packet that is not engine.io's: the parse error and close", () => {
    const { transport, last, names } = setup();
    transport.open();
    last().payload("9nope");
    expect(names()).toEqual(["error", "close"]);
  });

  test("close() aborts the stream; late events are ignored", () => {
    const { transport, streams, last, names } = setup();
    transport.open();
    const handlers = last();
    transport.close();
    expect(streams[0]!.aborted).toBe(true);
    handlers.payload("4late");
    handlers.ended();
    expect(names()).toEqual(["close"]);
    expect(streams).toHaveLength(1);
  });
});

describe("parseLineFrame", () => {
  test("the payload a frame carries, plain or a JSON string, or a ProtocolError naming the frame", () => {
    expect(parseLineFrame('"4a"')).toBe("4a");
    expect(parseLineFrame("4a")).toBe("4a");
    expect(() => parseLineFrame('"4a')).toThrow(ProtocolError);
    expect(() => parseLineFrame("")).toThrow(ProtocolError);
    expect(() => parseLineFrame("<!doctype html>")).toThrow(ProtocolError);
    expect(() => parseLineFrame('"[1]')).toThrow(/frame is neither a payload nor a JSON string: "\[1\]/);
  });
});
