// @vitest-environment node
/** The reattach loop alone, on fake transports and fake timers. */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { resolveEnvironment } from "../../src/env.js";
import { ServerError, TransportError } from "../../src/errors.js";
import { firstRetryDelay, maxRetryDelay, type ReattachHost, startReattach } from "../../src/reattach.js";
import type { TransportDefinition } from "../../src/transport.js";
import { makeContext } from "./support/context.js";
import { fakeDefinition } from "./support/fake-transport.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function setup(overrides: Partial<ReattachHost> = {}) {
  const env = resolveEnvironment();
  const context = makeContext(env, {}, { sid: "sid-1" });
  const polling = fakeDefinition("polling", { pausable: true });
  const journal: string[] = [];
  const created: number[] = [];
  const host: ReattachHost = {
    env,
    timeout: 1000,
    window: 10000,
    next: () => polling.definition,
    create: (definition: TransportDefinition) => {
      created.push(env.now());
      return definition.create(context);
    },
    resumed: (transport, acked) => journal.push(`resumed ${transport.name} ${acked}`),
    failed: (message) => journal.push(`failed: ${message}`),
    ...overrides,
  };
  const started = env.now();
  const reattacher = startReattach(host);
  return { polling, journal, created, reattacher, started };
}

describe("startReattach", () => {
  test("the first packet 6a<M> resumes on that transport; other packets before it are ignored", () => {
    const { polling, journal } = setup();
    const transport = polling.last;
    expect(transport.openCalls).toBe(1);
    transport.accept();
    transport.receive({ type: "noop" });
    transport.receive({ type: "noop", data: "s1" });
    expect(journal).toEqual([]);
    transport.receive({ type: "noop", data: "a4" });
    expect(journal).toEqual(["resumed polling 4"]);
    expect(transport.closeCalls).toBe(0);
    // nothing is left armed
    expect(vi.getTimerCount()).toBe(0);
  });

  test("failed attempts are spaced by a backoff from 100 ms doubling to 2 s", () => {
    const { polling, created, started } = setup({ window: 60000 });
    for (let i = 0; i < 7; i++) {
      polling.last.fail(new TransportError("refused", "polling"));
      vi.advanceTimersToNextTimer();
    }
    const gaps = created.map((at, i) => at - (i === 0 ? started : created[i - 1]!));
    expect(firstRetryDelay).toBe(100);
    expect(maxRetryDelay).toBe(2000);
    expect(gaps).toEqual([0, 100, 200, 400, 800, 1600, 2000, 2000]);
    expect(polling.instances.slice(0, -1).every((transport) => transport.state === "closed")).toBe(true);
  });

  test("an attempt with no answer is closed after `timeout`, then the next one is made", () => {
    const { polling, journal } = setup();
    const first = polling.last;
    first.accept();
    vi.advanceTimersByTime(999);
    expect(first.closeCalls).toBe(0);
    vi.advanceTimersByTime(1);
    expect(first.closeCalls).toBe(1);
    vi.advanceTimersByTime(100);
    expect(polling.instances).toHaveLength(2);
    expect(journal).toEqual([]);
  });

  test("the window from the break bounds everything: the last attempt is cut at it, then it fails", () => {
    const { polling, journal, started } = setup({ window: 2500, timeout: 1000 });
    const env = resolveEnvironment();
    // attempts that hang: 0-1000, wait 100, 1100-2100, wait 200, 2300-2500 (cut at the window)
    vi.advanceTimersByTime(2499);
    expect(polling.instances).toHaveLength(3);
    expect(journal).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(journal).toEqual(["failed: resume window passed after 2500 ms"]);
    expect(env.now() - started).toBe(2500);
    expect(polling.last.state).toBe("closed");
    expect(vi.getTimerCount()).toBe(0);
  });

  test("a failure whose backoff would end past the window tries once more at its end, never fails before it", () => {
    const { polling, journal, started } = setup({ window: 150 });
    const env = resolveEnvironment();
    polling.last.fail(new TransportError("refused", "polling"));
    vi.advanceTimersByTime(100);
    expect(polling.instances).toHaveLength(2);
    // the next wait (200 ms) would end past the window: the last try is at its end instead
    polling.last.fail(new TransportError("refused", "polling"));
    vi.advanceTimersByTime(49);
    expect(polling.instances).toHaveLength(2);
    expect(journal).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(polling.instances).toHaveLength(3);
    polling.last.fail(new TransportError("refused", "polling"));
    expect(journal).toEqual(["failed: resume window passed after 150 ms"]);
    expect(env.now() - started).toBe(150);
    expect(vi.getTimerCount()).toBe(0);
  });

  test("the server does not know the session (400, code 1): it fails at once", () => {
    const { polling, journal } = setup();
    polling.last.fail(new ServerError(1, "Session ID unknown", 400, "polling"));
    expect(journal).toEqual(["failed: session unknown to the server"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  test("a WebSocket whose handshake was answered 400 (it cannot read the code): it fails at once", () => {
    const { polling, journal } = setup();
    polling.last.fail(new TransportError("websocket connection failed", "websocket", 400));
    expect(journal).toEqual(["failed: session unknown to the server"]);
  });

  test("other refusals and failures are tried again", () => {
    const { polling, journal } = setup();
    polling.last.fail(new TransportError("bad gateway", "polling", 502));
    expect(journal).toEqual([]);
    expect(vi.getTimerCount()).toBe(1);
  });

  test("cancel closes the transport being tried, or stops the wait", () => {
    const { polling, reattacher } = setup();
    reattacher.cancel();
    expect(polling.last.state).toBe("closed");
    expect(vi.getTimerCount()).toBe(0);
    const again = setup();
    again.polling.last.fail(new TransportError("refused", "polling"));
    again.reattacher.cancel();
    vi.advanceTimersByTime(10000);
    expect(again.polling.instances).toHaveLength(1);
    expect(again.journal).toEqual([]);
  });
});
