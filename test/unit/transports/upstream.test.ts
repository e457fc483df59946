// @vitest-environment node
// (no DOM needed here; jsdom is for the files that use XHR, location or its realm)
import { describe, expect, test, vi } from "vitest";
import { resolveEnvironment } from "../../../src/env.js";
import { TransportError } from "../../../src/errors.js";
import { encodePayload, type Packet } from "../../../src/protocol.js";
import { Lifecycle } from "../../../src/transports/lifecycle.js";
import { createHttpWriter, postText, splitBatches, timestamp } from "../../../src/transports/upstream.js";
import { makeContext } from "../support/context.js";
import { record, turns } from "../support/events.js";

const message = (data: string | Uint8Array): Packet => ({ type: "message", data });
const utf8 = (text: string) => new TextEncoder().encode(text).length;
const texts = (batches: Packet[][]) => batches.map((batch) => batch.map((packet) => packet.data));

describe("splitBatches", () => {
  test("everything fits: one batch", () => {
    const packets = [message("a"), message("b"), { type: "pong" } as Packet];
    expect(splitBatches(packets, 1e6)).toEqual([packets]);
  });

  test("separators count: 3 × '4aa' is 3+1+3+1+3 = 11 bytes", () => {
    const packets = [message("aa"), message("bb"), message("cc")];
    expect(texts(splitBatches(packets, 11))).toEqual([["aa", "bb", "cc"]]);
    expect(texts(splitBatches(packets, 10))).toEqual([["aa", "bb"], ["cc"]]);
    expect(texts(splitBatches(packets, 7))).toEqual([["aa", "bb"], ["cc"]]);
    expect(texts(splitBatches(packets, 6))).toEqual([["aa"], ["bb"], ["cc"]]);
  });

  test("sizes are UTF-8 bytes", () => {
    // "4é" is 3 bytes, so two are 3+1+3 = 7
    expect(texts(splitBatches([message("é"), message("é")], 7))).toHaveLength(1);
    expect(texts(splitBatches([message("é"), message("é")], 6))).toHaveLength(2);
  });

  test("binary counts as its base64 text", () => {
    // "bAQID" is 5 bytes
    const packets = [message(new Uint8Array([1, 2, 3])), message(new Uint8Array([4, 5, 6]))];
    expect(splitBatches(packets, 11)).toHaveLength(1);
    expect(splitBatches(packets, 10)).toHaveLength(2);
  });

  test("a packet larger than maxPayload travels alone, in its place", () => {
    const big = message("x".repeat(50));
    const batches = splitBatches([message("a"), message("b"), big, message("c"), message("d")], 10);
    expect(batches.map((batch) => batch.map((packet) => (packet === big ? "BIG" : packet.data)))).toEqual([
      ["a", "b"],
      ["BIG"],
      ["c", "d"],
    ]);
  });

  test("order is kept and nothing is lost or duplicated, every batch within the limit", () => {
    const packets = Array.from({ length: 200 }, (_, i) => message("m".repeat(i % 17) + i));
    for (const limit of [8, 20, 33, 100, 1000]) {
      const batches = splitBatches(packets, limit);
      expect(batches.flat()).toEqual(packets);
      for (const batch of batches) {
        if (batch.length > 1) expect(utf8(encodePayload(batch))).toBeLessThanOrEqual(limit);
        expect(batch.length).toBeGreaterThan(0);
      }
      // greedy: each batch could not have taken the next packet
      for (let i = 0; i + 1 < batches.length; i++) {
        expect(utf8(encodePayload([...batches[i]!, batches[i + 1]![0]!]))).toBeGreaterThan(limit);
      }
    }
  });

  test("no packets: no batches", () => {
    expect(splitBatches([], 10)).toEqual([]);
  });
});

describe("createHttpWriter", () => {
  function setup(maxPayload = 1e6, answer: () => Promise<Response> = async () => new Response("ok")) {
    const calls: { url: string; init: RequestInit }[] = [];
    const fetch = vi.fn((url: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(url), init: init! });
      return answer();
    }) as unknown as typeof globalThis.fetch;
    const env = resolveEnvironment({ XMLHttpRequest: undefined, fetch });
    const context = makeContext(env, {}, { sid: "s", maxPayload });
    const lifecycle = new Lifecycle(() => writer.abort());
    lifecycle.state = "open";
    lifecycle.writable = true;
    const afterDrain = vi.fn();
    const writer = createHttpWriter(context, lifecycle, postText("polling"), afterDrain);
    const log = record(lifecycle, ["drain", "error", "close"]);
    const events = { names: () => log.map(([name]) => name), log };
    const next = (event: string) => new Promise<void>((resolve) => lifecycle.once(event as "drain", () => resolve()));
    return { writer, lifecycle, calls, events, context, afterDrain, next };
  }

  test("POSTs batches one at a time, in order, then drains", async () => {
    const { writer, lifecycle, calls, events, afterDrain, next } = setup(10);
    const drained = next("drain");
    writer.send([message("aa"), message("bb"), message("cc"), message("dd")]);
    expect(writer.busy).toBe(true);
    expect(lifecycle.writable).toBe(false);
    expect(calls).toHaveLength(1); // the second waits for the first's answer
    await drained;
    expect(calls.map((call) => call.init.body)).toEqual(["4aa\x1e4bb", "4cc\x1e4dd"]);
    expect(calls.every((call) => call.init.method === "POST")).toBe(true);
    const first = new URL(calls[0]!.url);
    expect(first.searchParams.get("sid")).toBe("s");
    expect(first.searchParams.get("transport")).toBe("polling");
    expect(first.searchParams.has("t")).toBe(true);
    expect(calls[0]!.init.headers).toMatchObject({ "Content-Type": "text/plain;charset=UTF-8" });
    expect(writer.busy).toBe(false);
    expect(lifecycle.writable).toBe(true);
    expect(afterDrain).toHaveBeenCalledTimes(1);
    expect(events.names()).toEqual(["drain"]);
  });

  test("a failed POST stops the rest and fails the transport; no drain", async () => {
    let n = 0;
    const { writer, calls, events, next } = setup(4, async () =>
      n++ === 0 ? new Response("nope", { status: 500 }) : new Response("ok"),
    );
    const closed = next("close");
    writer.send([message("aa"), message("bb")]);
    await closed;
    await turns();
    expect(calls).toHaveLength(1);
    expect(events.names()).toEqual(["error", "close"]);
    expect(events.log[0]![1]).toBeInstanceOf(TransportError);
    expect(writer.busy).toBe(false);
  });

  test("abort() cancels the POST in flight and what follows", async () => {
    let release!: (response: Response) => void;
    const { writer, calls, events } = setup(4, () => new Promise((resolve) => (release = resolve)));
    writer.send([message("aa"), message("bb")]);
    writer.abort();
    expect(writer.busy).toBe(false);
    expect((calls[0]!.init.signal as AbortSignal).aborted).toBe(true);
    release(new Response("ok"));
    await turns();
    expect(calls).toHaveLength(1);
    expect(events.names()).toEqual([]);
  });

  test("the maxPayload read is the session's at send time", async () => {
    const { writer, calls, context, next } = setup(1e6);
    context.session.maxPayload = 3;
    const drained = next("drain");
    writer.send([message("aa"), message("bb")]);
    await drained;
    expect(calls).toHaveLength(2);
  });

  test("a close packet sent marks the writer closing", () => {
    const { writer } = setup();
    writer.send([message("aa")]);
    expect(writer.closing).toBe(false);
    writer.send([{ type: "close" }]);
    expect(writer.closing).toBe(true);
  });

  test("the server's close packet ends the transport once the POST in flight is answered, even refused", async () => {
    const { writer, events, next } = setup(1e6, async () => new Response("nope", { status: 400 }));
    const closed = next("close");
    writer.send([message("aa")]);
    writer.serverClosed();
    expect(writer.closing).toBe(true);
    expect(events.names()).toEqual([]);
    await closed;
    expect(events.names()).toEqual(["close"]);
  });

  test("the server's close packet with nothing in flight ends the transport at once", () => {
    const { writer, events } = setup();
    writer.serverClosed();
    expect(events.names()).toEqual(["close"]);
  });
});

describe("timestamp", () => {
  test("adds a t parameter unless timestampRequests is off, keeping extra", () => {
    const env = resolveEnvironment({ now: () => 1000, random: () => 0.5 });
    expect(timestamp(makeContext(env), { j: "1" })).toEqual({ j: "1", t: (1000 * 1000 + 500).toString(36) });
    expect(timestamp(makeContext(env, { timestampRequests: false }), { j: "1" })).toEqual({ j: "1" });
    expect(timestamp(makeContext(env, { timestampRequests: false }))).toBeUndefined();
  });

  test("differs between two requests in the same millisecond", () => {
    let r = 0;
    const env = resolveEnvironment({ now: () => 1000, random: () => (r++ % 10) / 10 });
    const context = makeContext(env);
    expect(timestamp(context)!.t).not.toBe(timestamp(context)!.t);
  });
});
