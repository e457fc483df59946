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

describe("what a resumable session builds on (src/resume.ts holds the unacknowledged)", () => {
  const messages = (packets: { type: string; data?: unknown }[]) => packets.map((packet) => packet.data);

  test("take(maxBytes): no message once maxBytes are taken; control packets go regardless; one larger goes alone", () => {
    const queue = new SendQueue();
    queue.add("aaaa");
    queue.add("bbbb");
    queue.add("cccc");
    expect(messages(queue.take(8))).toEqual(["aaaa", "bbbb"]);
    queue.sent();
    queue.control({ type: "pong" });
    queue.add("dddd");
    // nothing left of the bound: the control packet before the next message still goes
    expect(queue.take(0)).toEqual([]);
    expect(queue.take(4)).toEqual([{ type: "message", data: "cccc" }, { type: "pong" }]);
    queue.sent();
    queue.add("x".repeat(20));
    expect(messages(queue.take(8))).toEqual(["dddd", "x".repeat(20)]);
    queue.sent();
    queue.add("y");
    // unbounded, as a session that is not resumable takes
    expect(messages(queue.take())).toEqual(["y"]);
  });

  test("with hold set, a write that is over goes to it, and leaves only by done: then its callbacks run", () => {
    const queue = bounded(10, Infinity);
    const calls: string[] = [];
    const held: unknown[] = [];
    queue.hold = (entries) => held.push(...entries);
    for (const data of ["a", "b"]) queue.add(data, () => calls.push(data));
    queue.control({ type: "pong" });
    expect(queue.take()).toHaveLength(3);
    expect(queue.sent()).toEqual([{ type: "message", data: "a" }, { type: "message", data: "b" }, { type: "pong" }]);
    expect(calls).toEqual([]);
    expect(queue.busy).toBe(false);
    expect(queue.fits(0)).toBe(true);
    queue.done(held.slice(0, 1) as never);
    expect(calls).toEqual(["a"]);
    queue.hold = undefined;
    queue.add("c", () => calls.push("c"));
    queue.take();
    queue.sent();
    expect(calls).toEqual(["a", "c"]);
  });

  test("requeue: the messages given go first, then those of the write in flight, then what waits", () => {
    const queue = bounded(10, Infinity);
    let held: never[] = [];
    queue.hold = (entries) => (held = entries as never[]);
    queue.add("a");
    queue.add("b");
    queue.take();
    queue.sent();
    queue.add("c");
    queue.take();
    queue.control({ type: "pong" });
    queue.add("d");
    queue.requeue(held);
    expect(queue.busy).toBe(false);
    expect(queue.take()).toEqual([
      { type: "message", data: "a" },
      { type: "message", data: "b" },
      { type: "message", data: "c" },
      { type: "pong" },
      { type: "message", data: "d" },
    ]);
    queue.requeue([]);
    expect(queue.clear()).toEqual(["a", "b", "c", "d"]);
    expect(queue.fits(0)).toBe(true);
  });
});
