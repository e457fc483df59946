// @vitest-environment node
// (no DOM needed here; jsdom is for the files that use XHR, location or its realm)
import { describe, expect, test, vi } from "vitest";
import { resolveEnvironment } from "../../../src/env.js";
import { type CometaError, TransportError } from "../../../src/errors.js";
import type { Packet } from "../../../src/protocol.js";
import { createHttpWriter, postText, splitPayloads, timestamp } from "../../../src/transports/upstream.js";
import { makeContext } from "../support/context.js";
import { turns } from "../../support/events.js";

const message = (data: string | Uint8Array): Packet => ({ type: "message", data });
const utf8 = (text: string) => new TextEncoder().encode(text).length;
/** The packets of a payload, as their encoded texts. */
const parts = (payloads: string[]) => payloads.map((payload) => payload.split("\x1e"));

describe("splitPayloads", () => {
  test("everything fits: one payload, packets joined with the record separator \\x1e", () => {
    const packets: Packet[] = [message("hello"), { type: "ping" }, message(new Uint8Array([1, 2, 3])), { type: "close" }];
    expect(splitPayloads(packets, 1e6)).toEqual(["4hello\x1e2\x1ebAQID\x1e1"]);
    expect(splitPayloads([message("a")], 1e6)).toEqual(["4a"]);
  });

  test("separators count: 3 × '4aa' is 3+1+3+1+3 = 11 bytes", () => {
    const packets = [message("aa"), message("bb"), message("cc")];
    expect(splitPayloads(packets, 11)).toEqual(["4aa\x1e4bb\x1e4cc"]);
    expect(splitPayloads(packets, 10)).toEqual(["4aa\x1e4bb", "4cc"]);
    expect(splitPayloads(packets, 7)).toEqual(["4aa\x1e4bb", "4cc"]);
    expect(splitPayloads(packets, 6)).toEqual(["4aa", "4bb", "4cc"]);
  });

  test("sizes are UTF-8 bytes, counted exactly once the 3-bytes-per-character bound does not fit", () => {
    // "4é" is 3 bytes, so two are 3+1+3 = 7; "4😀" is 5, so two are 11
    expect(splitPayloads([message("é"), message("é")], 7)).toEqual(["4é\x1e4é"]);
    expect(splitPayloads([message("é"), message("é")], 6)).toEqual(["4é", "4é"]);
    expect(splitPayloads([message("😀"), message("😀")], 11)).toHaveLength(1);
    expect(splitPayloads([message("😀"), message("😀")], 10)).toHaveLength(2);
    // a lone surrogate goes out as U+FFFD, 3 bytes
    expect(splitPayloads([message("\ud800"), message("\ud800")], 9)).toHaveLength(1);
    expect(splitPayloads([message("\ud800"), message("\ud800")], 8)).toHaveLength(2);
  });

  test("binary counts as its base64 text", () => {
    // "bAQID" is 5 bytes
    const packets = [message(new Uint8Array([1, 2, 3])), message(new Uint8Array([4, 5, 6]))];
    expect(splitPayloads(packets, 11)).toEqual(["bAQID\x1ebBAUG"]);
    expect(splitPayloads(packets, 10)).toEqual(["bAQID", "bBAUG"]);
  });

  test("a packet larger than maxPayload travels alone, in its place", () => {
    const big = "x".repeat(50);
    expect(splitPayloads([message("a"), message("b"), message(big), message("c"), message("d")], 10)).toEqual([
      "4a\x1e4b",
      "4" + big,
      "4c\x1e4d",
    ]);
  });

  test("order is kept and nothing is lost or duplicated, every payload within the limit", () => {
    const packets = Array.from({ length: 200 }, (_, i) => message("mé".repeat(i % 17) + i));
    const texts = packets.map((packet) => "4" + packet.data);
    for (const limit of [8, 20, 33, 100, 1000, 5000, 1e6]) {
      const payloads = splitPayloads(packets, limit);
      expect(parts(payloads).flat()).toEqual(texts);
      for (const payload of payloads) {
        if (payload.includes("\x1e")) expect(utf8(payload)).toBeLessThanOrEqual(limit);
      }
      // greedy: each payload could not have taken the next packet
      for (let i = 0; i + 1 < payloads.length; i++) {
        expect(utf8(payloads[i] + "\x1e" + parts(payloads)[i + 1]![0])).toBeGreaterThan(limit);
      }
    }
  });

  test("a body with its own sizes: overhead, separator and per-packet bytes are its", () => {
    const body = { packet: (text: string) => 2 * text.length, _separator: 5, _overhead: 4, _perChar: 5 };
    // 4 + 2×3 + 5 + 2×3 = 21
    expect(splitPayloads([message("aa"), message("bb")], 21, body)).toEqual(["4aa\x1e4bb"]);
    expect(splitPayloads([message("aa"), message("bb")], 20, body)).toEqual(["4aa", "4bb"]);
  });

  test("no packets: no payloads", () => {
    expect(splitPayloads([], 10)).toEqual([]);
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
    const reports: unknown[][] = [];
    let settled: (() => void) | undefined;
    const report = {
      sent: () => (reports.push(["sent"]), settled?.()),
      end: (error?: CometaError) => (reports.push(["end", error]), settled?.()),
    };
    const writer = createHttpWriter(context, report, postText("polling"));
    const next = () => new Promise<void>((resolve) => (settled = resolve));
    return { writer, calls, reports, context, next };
  }

  test("POSTs batches one at a time, in order, then reports sent", async () => {
    const { writer, calls, reports, next } = setup(10);
    const done = next();
    writer.send([message("aa"), message("bb"), message("cc"), message("dd")]);
    expect(writer.busy).toBe(true);
    expect(calls).toHaveLength(1); // the second waits for the first's answer
    await done;
    expect(calls.map((call) => call.init.body)).toEqual(["4aa\x1e4bb", "4cc\x1e4dd"]);
    expect(calls.every((call) => call.init.method === "POST")).toBe(true);
    const first = new URL(calls[0]!.url);
    expect(first.searchParams.get("sid")).toBe("s");
    expect(first.searchParams.get("transport")).toBe("polling");
    expect(first.searchParams.has("t")).toBe(true);
    expect(calls[0]!.init.headers).toMatchObject({ "Content-Type": "text/plain;charset=UTF-8" });
    expect(writer.busy).toBe(false);
    expect(reports).toEqual([["sent"]]);
  });

  test("a failed POST stops the rest and ends with its error; nothing sent", async () => {
    let n = 0;
    const { writer, calls, reports, next } = setup(4, async () =>
      n++ === 0 ? new Response("nope", { status: 500 }) : new Response("ok"),
    );
    const done = next();
    writer.send([message("aa"), message("bb")]);
    await done;
    await turns();
    expect(calls).toHaveLength(1);
    expect(reports.map(([name]) => name)).toEqual(["end"]);
    expect(reports[0]![1]).toBeInstanceOf(TransportError);
    expect(writer.busy).toBe(false);
  });

  test("stop() cancels the POST in flight and what follows", async () => {
    let release!: (response: Response) => void;
    const { writer, calls, reports } = setup(4, () => new Promise((resolve) => (release = resolve)));
    writer.send([message("aa"), message("bb")]);
    writer.stop();
    expect(writer.busy).toBe(false);
    expect((calls[0]!.init.signal as AbortSignal).aborted).toBe(true);
    release(new Response("ok"));
    await turns();
    expect(calls).toHaveLength(1);
    expect(reports).toEqual([]);
  });

  test("the maxPayload read is the session's at send time", async () => {
    const { writer, calls, context, next } = setup(1e6);
    context.session.maxPayload = 3;
    const done = next();
    writer.send([message("aa"), message("bb")]);
    await done;
    expect(calls).toHaveLength(2);
  });

  test("nothing to send: sent at once, no request", () => {
    const { writer, calls, reports } = setup();
    writer.send([]);
    expect(reports).toEqual([["sent"]]);
    expect(calls).toHaveLength(0);
    expect(writer.busy).toBe(false);
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
