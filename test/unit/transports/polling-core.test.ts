// @vitest-environment node
/**
 * The polling transports' downstream part on a fake GET: one poll at a time, the poll delay,
 * gateway errors polled through (and traced), the pause before an upgrade.
 */
import { describe, expect, test, vi } from "vitest";
import { resolveEnvironment } from "../../../src/env.js";
import { type CometaError, TransportError } from "../../../src/errors.js";
import type { Trace } from "../../../src/trace.js";
import type { HttpCallback } from "../../../src/transports/http.js";
import { createPollingTransport, getText } from "../../../src/transports/polling-core.js";
import { record } from "../../support/events.js";
import { makeContext } from "../support/context.js";

function setup({ sid = "s1", pollDelay = 0 }: { sid?: string; pollDelay?: number } = {}) {
  const trace = vi.fn<Trace>();
  const timers: (() => void)[] = [];
  const env = resolveEnvironment({
    XMLHttpRequest: undefined,
    fetch: vi.fn() as unknown as typeof fetch,
    setTimeout: (callback) => timers.push(callback),
    clearTimeout: (handle) => void (timers[(handle as number) - 1] = () => {}),
  });
  const context = { ...makeContext(env, {}, sid ? { sid } : {}), trace };
  const gets: { answer: HttpCallback; aborted: boolean }[] = [];
  const transport = createPollingTransport(context, {
    name: "polling",
    _wireName: "polling",
    get: (_context, answer) => {
      const get = { answer, aborted: false };
      gets.push(get);
      return () => (get.aborted = true);
    },
    _pollDelay: () => pollDelay,
  });
  const events = record(transport, ["open", "packet", "drain", "error", "close"]);
  const answer = (body: string, error?: CometaError) => gets[gets.length - 1]!.answer(error, body);
  return { transport, gets, events, names: () => events.map(([name]) => name), answer, trace, timers };
}

const gateway = (status: number) => new TransportError(`polling request failed with HTTP ${status}`, "polling", status);

describe("createPollingTransport", () => {
  test("one GET at a time: the next only once the last is answered", () => {
    const { transport, gets, answer, events } = setup();
    transport.open();
    expect(gets).toHaveLength(1);
    answer("4a\x1e4b");
    expect(gets).toHaveLength(2);
    expect(events).toEqual([["open"], ["packet", { type: "message", data: "a" }], ["packet", { type: "message", data: "b" }]]);
  });

  test("a listener that throws: the payload's other packets still delivered, the next poll made, the error rethrown on a timer", () => {
    const { transport, gets, answer, events, timers } = setup();
    const failure = new Error("application bug");
    transport.on("packet", (packet) => {
      if (packet.data === "a") throw failure;
    });
    transport.open();
    answer("4a\x1e4b\x1e4c");
    expect(events).toEqual([
      ["open"],
      ["packet", { type: "message", data: "a" }],
      ["packet", { type: "message", data: "b" }],
      ["packet", { type: "message", data: "c" }],
    ]);
    expect(gets).toHaveLength(2);
    expect(transport.state).toBe("open");
    expect(timers).toHaveLength(1);
    expect(timers[0]!).toThrow(failure);
  });

  test("the poll delay (short polling) waits on a timer between answer and poll; the first poll does not", () => {
    const { transport, gets, answer, timers } = setup({ pollDelay: 1000 });
    transport.open();
    expect(gets).toHaveLength(1);
    answer("6");
    expect(gets).toHaveLength(1);
    timers[0]!();
    expect(gets).toHaveLength(2);
  });

  test("gateway errors on a session's poll are polled through three times, each traced; the fourth fails", () => {
    const { transport, gets, answer, trace, names } = setup();
    transport.open();
    for (const [attempt, status] of [502, 503, 504].entries()) {
      answer("", gateway(status));
      expect(trace).toHaveBeenLastCalledWith("poll", "gateway error: polling again", { transport: "polling", status, attempt: attempt + 1 });
    }
    expect(gets).toHaveLength(4);
    answer("", gateway(502));
    expect(gets).toHaveLength(4);
    expect(names()).toEqual(["error", "close"]);
    expect(trace).toHaveBeenLastCalledWith("transport", "failed", { transport: "polling", reason: "polling request failed with HTTP 502" });
  });

  test("an answer in between starts the count again", () => {
    const { transport, gets, answer, names } = setup();
    transport.open();
    for (let i = 0; i < 3; i++) answer("", gateway(504));
    answer("6");
    for (let i = 0; i < 3; i++) answer("", gateway(504));
    expect(gets).toHaveLength(8);
    expect(names()).toEqual(["open", "packet"]);
  });

  test("a gateway error on the handshake (no sid yet) fails at once", () => {
    const { transport, answer, names, trace } = setup({ sid: "" });
    transport.open();
    answer("", gateway(502));
    expect(names()).toEqual(["error", "close"]);
    expect(trace).not.toHaveBeenCalledWith("poll", expect.anything(), expect.anything());
  });

  test("pause waits for the GET in flight, starts no new one, and resume polls again", async () => {
    const { transport, gets, answer, trace } = setup();
    transport.open();
    answer("6");
    let paused = false;
    const pausing = transport.pause!().then(() => (paused = true));
    await Promise.resolve();
    expect(paused).toBe(false);
    expect(trace).toHaveBeenCalledWith("upgrade", "pausing", { transport: "polling", get: true, post: false });
    answer("4during the pause");
    await pausing;
    expect(transport.state).toBe("paused");
    expect(gets).toHaveLength(2);
    transport.resume!();
    expect(gets).toHaveLength(3);
  });

  test("pause drops a short poll waiting for its timer: nothing is in flight", async () => {
    const { transport, answer, timers, gets } = setup({ pollDelay: 1000 });
    transport.open();
    answer("6");
    await transport.pause!();
    expect(transport.state).toBe("paused");
    timers[0]!();
    expect(gets).toHaveLength(1);
  });

  test("the server's close packet: the rest of the payload is dropped, no new poll, closed", () => {
    const { transport, gets, answer, events } = setup();
    transport.open();
    answer("4a\x1e1\x1e4b");
    expect(events).toEqual([["open"], ["packet", { type: "message", data: "a" }], ["packet", { type: "close" }], ["close"]]);
    expect(gets).toHaveLength(1);
  });

  test("close() aborts the GET", () => {
    const { transport, gets } = setup();
    transport.open();
    transport.close();
    expect(gets[0]!.aborted).toBe(true);
  });
});

test("a request timeout fails the transport, traced with the timeout as the reason", () => {
  const trace = vi.fn<Trace>();
  const timers: (() => void)[] = [];
  const fetch = vi.fn(() => new Promise<Response>(() => {}));
  const env = resolveEnvironment({
    XMLHttpRequest: undefined,
    fetch: fetch as unknown as typeof globalThis.fetch,
    setTimeout: (callback) => timers.push(callback),
    clearTimeout: () => {},
  });
  const context = { ...makeContext(env, { requestTimeout: 5000 }, { sid: "s1" }), trace };
  const transport = createPollingTransport(context, { name: "polling", get: getText("polling") });
  const events = record(transport, ["error", "close"]);
  transport.open();
  expect(fetch).toHaveBeenCalledOnce();
  timers[0]!();
  expect(events.map(([name]) => name)).toEqual(["error", "close"]);
  expect(trace).toHaveBeenCalledWith("transport", "failed", { transport: "polling", reason: "polling GET timed out after 5000 ms" });
});
