// @vitest-environment node
/**
 * The resumption piece on its own, behind a fake host: the offer and its check, the counts of
 * the server's messages (dedup, gaps, when to acknowledge) and what a write starts with. The
 * reattach and the client's unacknowledged messages are in test/unit/resume-session.test.ts,
 * end to end on a socket.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { UsageError } from "../../src/errors.js";
import { resolveSocketOptions } from "../../src/options.js";
import { defaultOpenData } from "./support/fake-transport.js";
import { ackDelay, type ResumeHost, resumption } from "../../src/resume.js";
import { SendQueue } from "../../src/send-queue.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A resumable session's side, granted `maxBytes` by the server; `flush` is the session asked to write. */
function granted(serverMaxBytes = 1000, transportName = "websocket") {
  const flush = vi.fn();
  const fail = vi.fn();
  const queue = new SendQueue();
  // the session sets it, so that what the queue asks reaches it
  queue.flush = flush;
  const settings = resolveSocketOptions("http://localhost:3000", { transports: [{ name: "fake", supported: () => true, create: () => ({}) as never }] }, []);
  // by default on a WebSocket, whose drain is not the server's acknowledgement
  let transport = { name: transportName };
  /** The session goes on over a new transport of that name (an upgrade). */
  const switchTo = (name: string) => void (transport = { name });
  const host = { settings, queue, fail, transport: () => transport } as unknown as ResumeHost;
  const session = resumption(true).start(host, { ...defaultOpenData, resume: { window: 60000, maxBytes: serverMaxBytes } } as never)!;
  const received = (...messages: (string | ArrayBuffer)[]) => messages.map((data) => session.receive(data));
  const nextWrite = () => session.take().map((packet) => `${packet.type}:${packet.data ?? ""}`);
  return { session, queue, flush, fail, received, nextWrite, switchTo };
}

describe("the offer", () => {
  test("resume=1 in the handshake; maxBytes checked; no session when the open packet has no terms", () => {
    expect(resumption(undefined).query).toEqual({ resume: "1" });
    expect(() => resumption({ maxBytes: 0 })).toThrow(UsageError);
    expect(() => resumption({ maxBytes: -1 })).toThrow(UsageError);
    expect(resumption({}).start({} as ResumeHost, defaultOpenData)).toBeUndefined();
  });
});

describe("received messages", () => {
  test("each message counts once; after 6s<S> those at or below the count are duplicates", () => {
    const { session, received } = granted();
    expect(received("a", "b", "c")).toEqual([true, true, true]);
    session.control("s2");
    // 2 and 3 again, then 4
    expect(received("b", "c", "d")).toEqual([false, false, true]);
    expect(session.query(true)).toEqual({ ack: "4" });
  });

  test("6s<S> past the count + 1 is a gap: the session fails with a protocol error", () => {
    const { session, received, fail } = granted();
    received("a");
    session.control("s2");
    expect(fail).not.toHaveBeenCalled();
    session.control("s3");
    expect(fail).toHaveBeenCalledWith(expect.objectContaining({ name: "ProtocolError" }), "parse error");
  });

  test("noops that carry no control (keep-alives, poll tokens) change nothing", () => {
    const { session, fail, flush } = granted();
    session.control(undefined);
    session.control("kabc");
    session.control("a-1");
    expect([fail, flush].map((spy) => spy.mock.calls.length)).toEqual([0, 0]);
  });
});

describe("acknowledgements", () => {
  test(`due ${ackDelay} ms after a message when no one told the count; the next write carries 6a<N> once`, () => {
    const { received, flush, nextWrite } = granted();
    received("a", "b");
    vi.advanceTimersByTime(ackDelay - 1);
    expect(flush).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(flush).toHaveBeenCalledTimes(1);
    expect(nextWrite()).toEqual(["noop:a2"]);
    expect(nextWrite()).toEqual([]);
  });

  test("a GET that carried the count cancels the pending acknowledgement; one not receiving says nothing", () => {
    const { session, received, flush, nextWrite } = granted();
    received("a");
    expect(session.query(false)).toEqual({ ack: undefined });
    expect(session.query(true)).toEqual({ ack: "1" });
    vi.advanceTimersByTime(ackDelay * 5);
    expect(flush).not.toHaveBeenCalled();
    expect(nextWrite()).toEqual([]);
  });

  test("at once when a quarter of the server's maxBytes came unacknowledged", () => {
    const { received, flush, nextWrite } = granted(100);
    received("x".repeat(20));
    expect(flush).not.toHaveBeenCalled();
    received(new Uint8Array(5).buffer);
    expect(flush).toHaveBeenCalledTimes(1);
    expect(nextWrite()).toEqual(["noop:a2"]);
    // told: the bytes count again from zero
    received("x".repeat(24));
    expect(flush).toHaveBeenCalledTimes(1);
  });

  test("an HTTP write carrying messages says the number of its first, 6s<S>, after 6a<N> when the count grew", () => {
    const { queue, received, nextWrite } = granted(1000, "polling");
    queue.add("one");
    expect(nextWrite()).toEqual(["noop:s1", "message:one"]);
    queue.sent();
    received("a");
    queue.add("two");
    expect(nextWrite()).toEqual(["noop:a1", "noop:s2", "message:two"]);
    queue.sent();
    queue.add("three");
    expect(nextWrite()).toEqual(["noop:s3", "message:three"]);
  });

  test("on WebSocket: 6s<S> on each transport's first write with messages, 6a<N> only once due", () => {
    const { queue, received, nextWrite, flush, switchTo } = granted();
    queue.add("one");
    expect(nextWrite()).toEqual(["noop:s1", "message:one"]);
    queue.sent();
    // a message came: its acknowledgement is not due yet, and is no frame of its own
    received("a");
    queue.add("two");
    expect(nextWrite()).toEqual(["message:two"]);
    queue.sent();
    vi.advanceTimersByTime(ackDelay);
    expect(flush).toHaveBeenCalledTimes(1);
    queue.add("three");
    expect(nextWrite()).toEqual(["noop:a1", "message:three"]);
    queue.sent();
    // a new transport (an upgrade, a resume) is numbered from its first write again
    switchTo("websocket");
    queue.add("four");
    expect(nextWrite()).toEqual(["noop:s4", "message:four"]);
  });

  test("before an upgrade's 5: 6a<N> even when nothing is due", () => {
    const { session, received, nextWrite } = granted();
    expect(session.before()).toEqual([{ type: "noop", data: "a0" }]);
    received("a");
    expect(session.before()).toEqual([{ type: "noop", data: "a1" }]);
    expect(nextWrite()).toEqual([]);
  });

  test("stop cancels the pending acknowledgement", () => {
    const { session, received, flush } = granted();
    received("a");
    session.stop();
    vi.advanceTimersByTime(ackDelay * 2);
    expect(flush).not.toHaveBeenCalled();
  });
});
