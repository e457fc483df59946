// @vitest-environment node
import { describe, expect, test } from "vitest";
import { UsageError } from "../../src/errors.js";
import { BoundedSendQueue, SendQueue } from "../../src/send-queue.js";

const bounded = (maxMessages: number, maxBytes: number) => new BoundedSendQueue({ maxMessages, maxBytes });

describe("order and flight", () => {
  test("take hands out what waits, in order, once; nothing more until the write is sent", () => {
    const queue = new SendQueue();
    queue.add("a");
    queue.control({ type: "pong" });
    queue.add(new Uint8Array([1, 2]));
    expect(queue.take()).toEqual([{ type: "message", data: "a" }, { type: "pong" }, { type: "message", data: new Uint8Array([1, 2]) }]);
    expect(queue.busy).toBe(true);
    queue.add("b");
    expect(queue.take()).toEqual([]);
    expect(queue.waiting).toBe(1);
    queue.sent();
    expect(queue.busy).toBe(false);
    expect(queue.take()).toEqual([{ type: "message", data: "b" }]);
  });

  test("sent runs the callbacks of what reached the network, in order, once", () => {
    const queue = new SendQueue();
    const calls: string[] = [];
    queue.add("a", () => calls.push("a"));
    queue.add("b", () => calls.push("b"));
    queue.take();
    queue.add("c", () => calls.push("c"));
    expect(queue.sent()).toEqual([
      { type: "message", data: "a" },
      { type: "message", data: "b" },
    ]);
    expect(queue.sent()).toEqual([]);
    expect(calls).toEqual(["a", "b"]);
  });

  test("release: the write in flight goes back in front of what waits, control packets are dropped", () => {
    const queue = new SendQueue();
    queue.add("a");
    queue.control({ type: "pong" });
    queue.take();
    queue.add("b");
    queue.control({ type: "close" });
    // nothing was refused: nothing leaves the queue
    expect(queue.release()).toEqual([]);
    // still held, for the next session
    expect(queue.take()).toEqual([
      { type: "message", data: "a" },
      { type: "message", data: "b" },
    ]);
  });

  test("clear empties the queue and hands back the messages, oldest first", () => {
    const queue = bounded(2, Infinity);
    queue.add("a");
    queue.take();
    queue.add("b");
    expect(queue.clear()).toEqual(["a", "b"]);
    expect(queue.take()).toEqual([]);
    expect(queue.fits(0)).toBe(true);
  });
});

describe("bounds", () => {
  test("maxMessages counts every message held, in flight included; control packets do not count", () => {
    const queue = bounded(2, Infinity);
    queue.add("a");
    queue.take();
    queue.add("b");
    queue.control({ type: "pong" });
    expect(queue.fits(queue.measure("c"))).toBe(false);
    queue.sent();
    expect(queue.fits(queue.measure("c"))).toBe(true);
  });

  test("maxBytes counts strings as UTF-8, binary and Blobs by their size", () => {
    const queue = bounded(Infinity, 10);
    expect(queue.measure("é€")).toBe(5);
    expect(queue.measure(new Uint16Array(2))).toBe(4);
    expect(queue.measure(new Blob(["abc"]))).toBe(3);
    queue.add("é€");
    queue.add(new Uint16Array(2));
    expect(queue.fits(1)).toBe(true);
    expect(queue.fits(2)).toBe(false);
    queue.take();
    queue.sent();
    expect(queue.fits(10)).toBe(true);
  });

  test("the fit check does not grow with what is held", () => {
    const queue = bounded(Infinity, 1e9);
    for (let i = 0; i < 20_000; i++) queue.add("x".repeat(10));
    const started = performance.now();
    for (let i = 0; i < 20_000; i++) queue.fits(10);
    // 20,000 checks over 20,000 held messages: a loop over them would be 4e8 steps
    expect(performance.now() - started).toBeLessThan(200);
  });

  test("what is not a message is refused before it is measured", () => {
    expect(() => bounded(1, 1).measure(5 as unknown as string)).toThrow(UsageError);
  });
});

describe("what is not a message", () => {
  test.each([
    ["a number", 1],
    ["an object", {}],
    ["null", null],
  ])("%s throws UsageError", (_, data) => {
    expect(() => new SendQueue().add(data as unknown as string)).toThrow(UsageError);
  });

  test("a string containing U+001E throws UsageError", () => {
    expect(() => new SendQueue().add("a\u001eb")).toThrow(/U\+001E/);
  });

  test("a callback that is not a function throws UsageError", () => {
    expect(() => new SendQueue().add("a", "x" as unknown as () => void)).toThrow(UsageError);
  });
});

describe("Blobs", () => {
  test("a Blob holds back what follows until it is read, then goes as bytes; unsent keeps the Blob", async () => {
    const queue = new SendQueue();
    let flushed = 0;
    queue.flush = () => flushed++;
    const blob = new Blob([new Uint8Array([7, 8])]);
    queue.add("before");
    queue.add(blob);
    queue.add("after");
    expect(queue.take()).toEqual([{ type: "message", data: "before" }]);
    queue.sent();
    expect(queue.take()).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(flushed).toBe(1);
    const [bytes, after] = queue.take();
    expect(new Uint8Array(bytes!.data as ArrayBuffer)).toEqual(new Uint8Array([7, 8]));
    expect(after).toEqual({ type: "message", data: "after" });
    expect(queue.clear()).toEqual([blob, "after"]);
  });

  test("a Blob that cannot be read: take throws UsageError with the cause, and the Blob stays unsent", async () => {
    const queue = new SendQueue();
    const cause = new Error("gone");
    const blob = new Blob(["x"]);
    blob.arrayBuffer = () => Promise.reject(cause);
    queue.add(blob);
    await new Promise((resolve) => setTimeout(resolve, 0));
    let thrown: unknown;
    try {
      queue.take();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as UsageError).cause).toBe(cause);
    expect(queue.clear()).toEqual([blob]);
  });

  test("release takes an unreadable Blob out of the queue and hands it back; what follows goes to the next session", async () => {
    const queue = bounded(3, Infinity);
    const blob = new Blob(["x"]);
    blob.arrayBuffer = () => Promise.reject(new Error("gone"));
    queue.add("ok");
    queue.add(blob);
    queue.add("ok2");
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(queue.take()).toEqual([{ type: "message", data: "ok" }]);
    queue.sent();
    expect(() => queue.take()).toThrow(UsageError);
    expect(queue.release()).toEqual([blob]);
    expect(queue.take()).toEqual([{ type: "message", data: "ok2" }]);
    queue.sent();
    // the Blob no longer counts against the bounds
    expect(queue.fits(0)).toBe(true);
    queue.add("a");
    queue.add("b");
    queue.add("c");
    expect(queue.fits(0)).toBe(false);
  });
});

describe("messages refused as too large", () => {
  test("refuseTooLarge: the messages in flight over maxPayload leave with release, the rest stays in order", () => {
    const queue = bounded(10, Infinity);
    const big = "x".repeat(11);
    queue.add("ok");
    queue.add(big);
    queue.add("ok2");
    queue.take();
    queue.refuseTooLarge(10);
    expect(queue.release()).toEqual([big]);
    expect(queue.take()).toEqual([
      { type: "message", data: "ok" },
      { type: "message", data: "ok2" },
    ]);
  });

  test("refuseTooLarge with no message over the announced limit refuses the whole write, not what waits", () => {
    const queue = new SendQueue();
    queue.add("a");
    queue.take();
    queue.add("b");
    queue.refuseTooLarge(10);
    expect(queue.release()).toEqual(["a"]);
    expect(queue.take()).toEqual([{ type: "message", data: "b" }]);
  });

  test("clear hands back refused messages with the rest, in order", () => {
    const queue = new SendQueue();
    queue.add("a");
    queue.add("bbbbbbbbbbbb");
    queue.take();
    queue.refuseTooLarge(10);
    expect(queue.clear()).toEqual(["a", "bbbbbbbbbbbb"]);
  });
});

describe("unacknowledged messages (resumable sessions)", () => {
  const messages = (packets: { type: string; data?: unknown }[]) => packets.map((packet) => packet.data);

  test("take numbers messages from 1 across writes and says the first; control packets get no number", () => {
    const queue = new SendQueue();
    queue.control({ type: "pong" });
    expect(queue.take()).toEqual([{ type: "pong" }]);
    expect(queue.first).toBe(0);
    queue.sent(false);
    queue.add("a");
    queue.add("b");
    queue.take();
    expect(queue.first).toBe(1);
    queue.sent(false);
    queue.add("c");
    queue.take();
    expect(queue.first).toBe(3);
  });

  test("a write not confirmed stays until acked; ack trims in order and runs the callbacks then", () => {
    const queue = bounded(10, Infinity);
    const calls: string[] = [];
    for (const data of ["a", "b", "c"]) queue.add(data, () => calls.push(data));
    queue.take();
    queue.sent(false);
    expect(calls).toEqual([]);
    expect(queue.fits(0)).toBe(true);
    queue.ack(2);
    expect(calls).toEqual(["a", "b"]);
    // a smaller or equal count changes nothing
    queue.ack(1);
    queue.ack(2);
    expect(calls).toEqual(["a", "b"]);
    queue.ack(3);
    expect(calls).toEqual(["a", "b", "c"]);
    expect(queue.clear()).toEqual([]);
  });

  test("an ack that comes before the write's drain applies at the drain", () => {
    const queue = new SendQueue();
    const calls: string[] = [];
    queue.add("a", () => calls.push("a"));
    queue.take();
    queue.ack(1);
    expect(calls).toEqual([]);
    queue.sent(false);
    expect(calls).toEqual(["a"]);
  });

  test("a confirmed write acks its messages and those before it, not those still waiting", () => {
    const queue = new SendQueue();
    const calls: string[] = [];
    queue.add("a", () => calls.push("a"));
    queue.take();
    queue.sent(false);
    queue.add("b", () => calls.push("b"));
    queue.add("c", () => calls.push("c"));
    // flow control lets one through
    queue.take(2);
    expect(queue.clear()).toEqual(["a", "b", "c"]);
    const again = new SendQueue();
    again.add("a", () => calls.push("A"));
    again.take();
    again.sent(false);
    again.add("b", () => calls.push("B"));
    again.take();
    again.sent(true);
    expect(calls).toEqual(["A", "B"]);
  });

  test("flow control: no message is taken once maxBytes are unacknowledged, counting the write", () => {
    const queue = new SendQueue();
    queue.add("aaaa");
    queue.add("bbbb");
    queue.add("cccc");
    expect(messages(queue.take(8))).toEqual(["aaaa", "bbbb"]);
    queue.sent(false);
    queue.control({ type: "pong" });
    queue.add("dddd");
    expect(queue.take(8)).toEqual([]);
    queue.ack(1);
    // the control packet behind "cccc" goes with it; "dddd" would pass the bound
    expect(queue.take(8)).toEqual([{ type: "message", data: "cccc" }, { type: "pong" }]);
    queue.sent(false);
    queue.ack(3);
    expect(messages(queue.take(8))).toEqual(["dddd"]);
    queue.sent(false);
    queue.ack(4);
    // a message larger than the bound goes alone when nothing is unacknowledged
    queue.add("x".repeat(20));
    queue.add("y");
    expect(messages(queue.take(8))).toEqual(["x".repeat(20)]);
    queue.sent(false);
    expect(queue.take(8)).toEqual([]);
    // unbounded, as a session that is not resumable takes
    expect(messages(queue.take())).toEqual(["y"]);
  });

  test("requeue: what the new transport's count does not cover goes first, with its numbers, in flight included", () => {
    const queue = new SendQueue();
    const calls: string[] = [];
    for (const data of ["a", "b", "c"]) queue.add(data, () => calls.push(data));
    queue.take();
    queue.sent(false);
    queue.add("d", () => calls.push("d"));
    queue.take();
    queue.add("e");
    queue.requeue(1);
    expect(calls).toEqual(["a"]);
    expect(messages(queue.take())).toEqual(["b", "c", "d", "e"]);
    expect(queue.first).toBe(2);
    queue.sent(true);
    expect(calls).toEqual(["a", "b", "c", "d"]);
    queue.add("f");
    queue.take();
    expect(queue.first).toBe(6);
  });

  test("release and clear hand back unacked, then in flight, then waiting; numbering starts again", () => {
    const queue = bounded(10, Infinity);
    queue.add("a");
    queue.take();
    queue.sent(false);
    queue.add("b");
    queue.take();
    queue.add("c");
    expect(queue.release()).toEqual([]);
    expect(messages(queue.take())).toEqual(["a", "b", "c"]);
    expect(queue.first).toBe(1);
    queue.sent(false);
    queue.add("d");
    expect(queue.clear()).toEqual(["a", "b", "c", "d"]);
    expect(queue.fits(0)).toBe(true);
  });
});
