// @vitest-environment node
/**
 * BareReconnectingSocket against a fake session factory: the test decides when each session
 * opens, sends and dies, and fake timers stand in for the backoff.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { Emitter } from "../../src/emitter.js";
import { BufferOverflowError, type CometaError, HeartbeatError, ResumeError, ServerError, TransportError, UsageError } from "../../src/errors.js";
import type { ReconnectingSocketOptions, SocketOptions } from "../../src/options.js";
import type { Packet } from "../../src/protocol.js";
import { backoffDelay, BareReconnectingSocket, type Session } from "../../src/reconnect.js";
import type { SendQueue } from "../../src/send-queue.js";
import type { CloseReason, SocketEvents, SocketState, TransportInfo } from "../../src/socket.js";
import type { TraceTopic } from "../../src/trace.js";
import { type FakeTransport, fakeDefinition } from "./support/fake-transport.js";

/** A session the test drives. Its network takes what the queue holds when `flush` is asked. */
class FakeSession implements Session {
  readonly events = new Emitter<SocketEvents>();
  state: SocketState = "opening";
  readonly transport: TransportInfo = { name: "fake", state: "open", writable: true };
  /** What reached the network, in order. */
  readonly wire: Packet[] = [];
  /** While true, a write stays in flight until deliver(). */
  hold = false;
  /** The heartbeat deadline passed (a throttled timer did not fire). */
  expired = false;
  closeCalls = 0;

  constructor(
    readonly options: SocketOptions,
    readonly queue: SendQueue,
  ) {
    queue.flush = () => this.flush();
  }

  on: Session["on"] = (event, listener) => this.events.on(event, listener);

  hasPingExpired(): boolean {
    if (this.state !== "open" || !this.expired) return false;
    this.lose("ping timeout", new HeartbeatError("no ping within 45000 ms"));
    return true;
  }

  close(): void {
    this.closeCalls++;
    if (this.state === "opening") return this.lose("forced close");
    this.state = "closing";
  }

  // ---- test controls ----

  open(): void {
    this.state = "open";
    this.events.emit("open");
    this.flush();
  }

  flush(): void {
    if (this.state !== "open" && this.state !== "closing") return;
    const packets = this.queue.take();
    if (packets.length === 0) return;
    this.wire.push(...packets);
    if (!this.hold) this.queue.sent();
  }

  deliver(): void {
    this.queue.sent();
    this.flush();
  }

  lose(reason: CloseReason, error?: CometaError): void {
    if (error) this.events.emit("error", error);
    this.state = "closed";
    this.queue.flush = () => {};
    this.events.emit("close", reason, { error, unsent: this.queue.release() });
  }

  get sentMessages(): unknown[] {
    return this.wire.filter((packet) => packet.type === "message").map((packet) => packet.data);
  }
}

const url = "http://localhost:3000";

function setup(options: ReconnectingSocketOptions = {}) {
  const sessions: FakeSession[] = [];
  const lines: [TraceTopic, string, Readonly<Record<string, unknown>> | undefined][] = [];
  const socket = new BareReconnectingSocket<FakeSession>(
    url,
    { trace: (topic, message, detail) => lines.push([topic, message, detail]), ...options },
    [],
    (sessionOptions, queue) => {
      const session = new FakeSession(sessionOptions, queue);
      sessions.push(session);
      return session;
    },
  );
  const events: unknown[][] = [];
  for (const name of ["open", "disconnect", "reconnecting", "reconnect", "reconnectFailed", "error", "close"] as const) {
    socket.on(name, (...args: unknown[]) => events.push([name, ...args]));
  }
  const last = () => sessions[sessions.length - 1]!;
  return { socket, sessions, last, events, lines, names: () => events.map((event) => event[0]) };
}

/** A random source that returns `values` in turn. */
function randoms(...values: number[]) {
  let index = 0;
  return () => values[index++ % values.length]!;
}

function offlineWindow(onLine: boolean) {
  return Object.assign(new EventTarget(), { navigator: { onLine } }) as unknown as Window & { navigator: { onLine: boolean } };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("backoff", () => {
  test("each attempt waits its jittered delay, never above maxDelay, then opens the next session", () => {
    const reconnect = { initialDelay: 100, factor: 2, maxDelay: 1000, jitter: 0.5 };
    const { sessions, last, events } = setup({ reconnect, env: { random: randoms(0, 1, 0.5, 1, 1) } });
    last().open();
    const expected = [50, 300, 400, 1000, 1000];
    for (const [index, delay] of expected.entries()) {
      last().lose("transport error", new TransportError("reset", "fake"));
      expect(events.at(-1)).toEqual(["reconnecting", index + 1, delay]);
      const made = sessions.length;
      vi.advanceTimersByTime(delay - 1);
      expect(sessions).toHaveLength(made);
      vi.advanceTimersByTime(1);
      expect(sessions).toHaveLength(made + 1);
    }
    // the same numbers as the policy function, which is what the README states
    const policy = { maxAttempts: Infinity, ...reconnect };
    expect(expected).toEqual([0, 1, 0.5, 1, 1].map((random, i) => backoffDelay(policy, i + 1, () => random)));
  });

  test("attempts count from the last open: a session that opens resets them, and reconnect says how many it took", () => {
    const { last, events, socket } = setup({ reconnect: { initialDelay: 10, jitter: 0 } });
    last().open();
    last().lose("transport close");
    vi.advanceTimersByTime(10);
    expect(socket.state).toBe("reconnecting");
    last().lose("transport error", new TransportError("refused", "fake"));
    expect(events.at(-1)).toEqual(["reconnecting", 2, 20]);
    vi.advanceTimersByTime(20);
    last().open();
    expect(socket.state).toBe("open");
    expect(events.filter(([name]) => name === "reconnect")).toEqual([["reconnect", 2]]);
    last().lose("transport close");
    expect(events.at(-1)).toEqual(["reconnecting", 1, 10]);
  });

  test("a first session that never opens is retried, and its first open is no reconnection", () => {
    const { last, names, socket } = setup({ reconnect: { initialDelay: 10, jitter: 0 } });
    expect(socket.state).toBe("opening");
    last().lose("transport error", new TransportError("refused", "fake"));
    expect(socket.state).toBe("reconnecting");
    vi.advanceTimersByTime(10);
    last().open();
    expect(names()).toEqual(["error", "reconnecting", "open"]);
  });

  test("after maxAttempts: reconnectFailed, then close with what was never sent", () => {
    const { socket, last, names, events, lines } = setup({ reconnect: { initialDelay: 10, jitter: 0, maxAttempts: 1 } });
    socket.send("kept");
    last().lose("transport error", new TransportError("refused", "fake"));
    vi.advanceTimersByTime(10);
    last().lose("transport error", new TransportError("refused", "fake"));
    expect(names()).toEqual(["error", "reconnecting", "error", "reconnectFailed", "close"]);
    expect(events.at(-1)!.slice(1, 2)).toEqual(["reconnect failed"]);
    expect((events.at(-1)![2] as { unsent: unknown[] }).unsent).toEqual(["kept"]);
    expect(socket.state).toBe("closed");
    expect(lines.filter(([topic]) => topic === "reconnect")).toEqual([
      ["reconnect", "retrying", expect.objectContaining({ reason: "transport error", attempt: 1, delay: 10, offline: false })],
      ["reconnect", "gave up", { attempts: 1, reason: "transport error" }],
    ]);
  });
});

describe("Session ID unknown", () => {
  test("a lost session id opens a fresh session at once, without backoff", () => {
    const { sessions, last, events, lines } = setup({ reconnect: { initialDelay: 5000, jitter: 0 } });
    last().open();
    last().lose("transport error", new ServerError(1, "Session ID unknown", 400, "polling"));
    expect(events.at(-1)).toEqual(["reconnecting", 1, 0]);
    vi.advanceTimersByTime(0);
    expect(sessions).toHaveLength(2);
    expect(lines.at(-1)).toEqual([
      "reconnect",
      "session ID unknown: at once",
      expect.objectContaining({ attempt: 1, delay: 0, reason: "transport error" }),
    ]);
  });

  test("a session that could not resume (window passed, or unknown to the server) is followed at once", () => {
    const { sessions, last, events } = setup({ reconnect: { initialDelay: 5000, jitter: 0 } });
    last().open();
    last().lose("transport error", new ResumeError("resume window passed after 60000 ms"));
    expect(events.at(-1)).toEqual(["reconnecting", 1, 0]);
    vi.advanceTimersByTime(0);
    expect(sessions).toHaveLength(2);
  });

  test("other refusals back off as usual", () => {
    const { sessions, last, events } = setup({ reconnect: { initialDelay: 5000, jitter: 0 } });
    last().lose("transport error", new ServerError(3, "Bad request", 400, "polling"));
    expect(events.at(-1)).toEqual(["reconnecting", 1, 5000]);
    vi.advanceTimersByTime(4999);
    expect(sessions).toHaveLength(1);
  });
});

describe("online and offline", () => {
  test("while offline no timer runs; the online event opens the next session at once", () => {
    const window = offlineWindow(false);
    const { sessions, last, lines } = setup({ env: { window }, reconnect: { initialDelay: 100, jitter: 0 } });
    last().open();
    last().lose("transport close");
    vi.advanceTimersByTime(60_000);
    expect(sessions).toHaveLength(1);
    expect(lines.at(-1)!.slice(0, 2)).toEqual(["reconnect", "offline: waiting"]);
    expect(lines.at(-1)![2]).toMatchObject({ reason: "transport close", offline: true });
    window.navigator.onLine = true;
    window.dispatchEvent(new Event("online"));
    expect(sessions).toHaveLength(2);
  });

  test("online while a retry is scheduled retries now and cancels the timer", () => {
    const window = offlineWindow(true);
    const { sessions, last } = setup({ env: { window }, reconnect: { initialDelay: 10_000, jitter: 0 } });
    last().lose("transport close");
    window.dispatchEvent(new Event("online"));
    expect(sessions).toHaveLength(2);
    vi.advanceTimersByTime(10_000);
    expect(sessions).toHaveLength(2);
  });

  test("close() removes the window listeners", () => {
    const window = offlineWindow(true);
    const { socket, sessions, last } = setup({ env: { window }, reconnect: { initialDelay: 10_000, jitter: 0 } });
    last().lose("transport close");
    socket.close();
    window.dispatchEvent(new Event("online"));
    expect(sessions).toHaveLength(1);
  });
});

describe("wake check", () => {
  test("focus after a throttled heartbeat: the session is checked on the clock, lost, and a retry follows", () => {
    const window = offlineWindow(true);
    const { socket, last, names, lines } = setup({ env: { window }, reconnect: { initialDelay: 100, jitter: 0 } });
    last().open();
    last().expired = true;
    window.dispatchEvent(new Event("focus"));
    expect(names()).toEqual(["open", "error", "disconnect", "reconnecting"]);
    expect(socket.state).toBe("reconnecting");
    expect(lines).toContainEqual(["reconnect", "retrying", expect.objectContaining({ reason: "ping timeout", attempt: 1, delay: 100 })]);
    expect(lines.find(([, message]) => message === "woke up")![2]).toEqual({ event: "focus" });
  });

  test("a live session is left alone", () => {
    const window = offlineWindow(true);
    const { socket, last, sessions } = setup({ env: { window } });
    last().open();
    window.dispatchEvent(new Event("pageshow"));
    expect(socket.state).toBe("open");
    expect(sessions).toHaveLength(1);
  });

  test("send checks the heartbeat first: a dead session keeps the message for the next one", () => {
    const { socket, last, sessions } = setup({ reconnect: { initialDelay: 10, jitter: 0 } });
    last().open();
    last().expired = true;
    socket.send("after the lid opened");
    expect(sessions[0]!.sentMessages).toEqual([]);
    vi.advanceTimersByTime(10);
    last().open();
    expect(last().sentMessages).toEqual(["after the lid opened"]);
  });
});

describe("one send queue across sessions", () => {
  test("what a lost session had in flight goes first on the next, in order, and each callback fires once", () => {
    const { socket, sessions, last } = setup({ reconnect: { initialDelay: 10, jitter: 0 } });
    const sent: string[] = [];
    last().open();
    last().hold = true;
    socket.send("a", () => sent.push("a"));
    socket.send("b", () => sent.push("b"));
    expect(last().sentMessages).toEqual(["a"]);
    last().lose("transport error", new TransportError("reset", "fake"));
    socket.send("c", () => sent.push("c"));
    vi.advanceTimersByTime(10);
    last().open();
    expect(sessions[1]!.sentMessages).toEqual(["a", "b", "c"]);
    expect(sent).toEqual(["a", "b", "c"]);
  });

  test("every session gets the same queue", () => {
    const { last, sessions } = setup({ reconnect: { initialDelay: 10, jitter: 0 } });
    last().lose("transport close");
    vi.advanceTimersByTime(10);
    expect(sessions[1]!.queue).toBe(sessions[0]!.queue);
  });

  test("a message past maxMessages is refused with a BufferOverflowError carrying it; the rest go in order", () => {
    const { socket, last, events } = setup({ buffer: { maxMessages: 2 } });
    socket.send("one").send("two").send("three");
    const errors = events.filter(([name]) => name === "error").map(([, error]) => error as BufferOverflowError);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(BufferOverflowError);
    expect(errors[0]!.messages).toEqual(["three"]);
    last().open();
    expect(last().sentMessages).toEqual(["one", "two"]);
    // sent messages leave the count: there is room again
    socket.send("four");
    expect(last().sentMessages).toEqual(["one", "two", "four"]);
  });

  test("maxBytes counts UTF-8 bytes, and what is in flight counts until it reaches the network", () => {
    const { socket, last, events } = setup({ buffer: { maxBytes: 6 } });
    last().open();
    last().hold = true;
    socket.send("é"); // 2 bytes, now in flight
    socket.send("abcd"); // 4: 6 in all
    socket.send("x");
    expect(events.filter(([name]) => name === "error").map(([, error]) => (error as BufferOverflowError).messages)).toEqual([["x"]]);
    last().deliver();
    last().deliver();
    socket.send("x");
    expect(last().sentMessages).toEqual(["é", "abcd", "x"]);
  });

  test("not a message: UsageError, whatever the state", () => {
    const { socket, last } = setup();
    expect(() => socket.send(1 as unknown as string)).toThrow(UsageError);
    last().open();
    expect(() => socket.send({} as unknown as string)).toThrow(UsageError);
  });
});

describe("close", () => {
  test("close() while open: closing while the session ends, then closed with nothing unsent", () => {
    const { socket, last, events } = setup();
    last().open();
    socket.close();
    expect(socket.state).toBe("closing");
    expect(last().closeCalls).toBe(1);
    expect(() => socket.send("late")).toThrow(UsageError);
    last().lose("forced close");
    expect(socket.state).toBe("closed");
    expect(events.at(-1)).toEqual(["close", "forced close", { error: undefined, unsent: [] }]);
  });

  test("close() between sessions ends at once with what was kept", () => {
    const { socket, last, sessions, events } = setup({ reconnect: { initialDelay: 10, jitter: 0 } });
    last().lose("transport close");
    socket.send("kept");
    socket.close();
    expect(socket.state).toBe("closed");
    expect(events.at(-1)).toEqual(["close", "forced close", { error: undefined, unsent: ["kept"] }]);
    vi.advanceTimersByTime(1000);
    expect(sessions).toHaveLength(1);
  });

  test("the session's transport is the socket's; none between sessions", () => {
    const { socket, last } = setup();
    expect(socket.transport).toBe(last().transport);
    last().lose("transport close");
    expect(socket.transport).toBeUndefined();
    expect(socket.socket).toBeUndefined();
  });
});

describe("options", () => {
  test.each([
    ["negative initialDelay", { reconnect: { initialDelay: -1 } }],
    ["jitter above 1", { reconnect: { jitter: 1.5 } }],
    ["string maxMessages", { buffer: { maxMessages: "5" as unknown as number } }],
  ])("%s throws UsageError before any session", (_, options) => {
    const made: unknown[] = [];
    expect(() => new BareReconnectingSocket(url, options, [], () => made.push(1) as never)).toThrow(UsageError);
    expect(made).toEqual([]);
  });
});

describe("backoffDelay", () => {
  const options = { initialDelay: 100, maxDelay: 1000, factor: 2, jitter: 0.5, maxAttempts: Infinity };
  test("grows exponentially up to the cap", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay({ ...options, jitter: 0 }, n, () => 0.5))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
  test("spreads by the jitter fraction either way", () => {
    expect(backoffDelay(options, 3, () => 0)).toBe(200);
    expect(backoffDelay(options, 3, () => 0.5)).toBe(400);
    expect(backoffDelay(options, 3, () => 1)).toBe(600);
  });
  test("never exceeds maxDelay: at the cap the jitter spreads below it", () => {
    const capped = { ...options, initialDelay: 500, maxDelay: 200 };
    const draws = [0, 0.25, 0.5, 0.75, 0.999, 1];
    const delays = draws.map((draw) => backoffDelay(capped, 1, () => draw));
    expect(Math.max(...delays)).toBe(200);
    expect(delays).toEqual([100, 125, 150, 175, 200, 200]);
    // an attempt whose upper spread would cross the cap is cut there, its lower spread kept
    expect(backoffDelay(options, 4, () => 0)).toBe(400);
    expect(backoffDelay(options, 4, () => 1)).toBe(1000);
  });
});

describe("a message that can never be sent (BareSocket sessions on a fake transport)", () => {
  function onFake(options: ReconnectingSocketOptions = {}) {
    const fake = fakeDefinition("fake");
    const socket = new BareReconnectingSocket(url, { transports: [fake.definition], reconnect: { initialDelay: 10, jitter: 0 }, ...options });
    const events: unknown[][] = [];
    for (const name of ["open", "disconnect", "reconnecting", "reconnect", "error", "close"] as const) {
      socket.on(name, (...args: unknown[]) => events.push([name, ...args]));
    }
    /** Every message that reached the network, over every session. */
    const delivered = () =>
      fake.instances.flatMap((transport) => transport.sent.flat()).filter((packet) => packet.type === "message").map((packet) => packet.data);
    return { socket, fake, events, delivered, names: () => events.map((event) => event[0]) };
  }

  /** Opens the session, and lets the writes that follow drain: returns when the queue is idle. */
  function openAndDrain(transport: FakeTransport) {
    transport.receiveOpen();
    while (transport.busy) transport.drain();
  }

  test("an unreadable Blob between two messages: both messages go, the Blob is handed back once, one reconnection", async () => {
    const { socket, fake, events, delivered, names } = onFake();
    const cause = new Error("gone");
    const blob = new Blob(["x"]);
    blob.arrayBuffer = () => Promise.reject(cause);
    socket.send("ok").send(blob).send("ok2");
    await vi.advanceTimersByTimeAsync(0);
    openAndDrain(fake.last);
    expect(names()).toEqual(["open", "error", "disconnect", "reconnecting"]);
    expect(events[1]![1]).toBeInstanceOf(UsageError);
    expect((events[2]![2] as { unsent: unknown[] }).unsent).toEqual([blob]);
    vi.advanceTimersByTime(10);
    openAndDrain(fake.last);
    expect(delivered()).toEqual(["ok", "ok2"]);
    // no loop: the second session stays open (a reconnection would come every 10 ms; the
    // heartbeat allows 45 s)
    vi.advanceTimersByTime(30_000);
    expect(fake.instances).toHaveLength(2);
    expect(socket.state).toBe("open");
    expect(names()).toEqual(["open", "error", "disconnect", "reconnecting", "reconnect", "open"]);
  });

  test("a message refused with HTTP 413: handed back in disconnect's unsent, the others go in order, one reconnection", () => {
    const { socket, fake, events, delivered, names } = onFake();
    const big = "x".repeat(200);
    socket.send("ok").send(big).send("ok2");
    fake.last.receiveOpen({ maxPayload: 100 });
    expect(fake.last.sent).toHaveLength(1);
    fake.last.fail(new TransportError("fake request failed with HTTP 413", "fake", 413));
    expect(names()).toEqual(["open", "error", "disconnect", "reconnecting"]);
    expect((events[2]![2] as { unsent: unknown[] }).unsent).toEqual([big]);
    vi.advanceTimersByTime(10);
    fake.last.receiveOpen({ maxPayload: 100 });
    while (fake.last.busy) fake.last.drain();
    expect(fake.last.sent.flat().map((packet) => packet.data)).toEqual(["ok", "ok2"]);
    vi.advanceTimersByTime(30_000);
    expect(fake.instances).toHaveLength(2);
    expect(socket.state).toBe("open");
    expect(delivered()).toEqual(["ok", big, "ok2", "ok", "ok2"]);
  });

  test("a JSONP message over maxPayload (refused before it is sent) is handed back the same way", () => {
    const { socket, fake, events } = onFake();
    const big = "x".repeat(200);
    socket.send(big).send("ok2");
    fake.last.receiveOpen({ maxPayload: 100 });
    fake.last.fail(new TransportError("jsonp: a message of 202 encoded bytes is over the server's maxPayload", "jsonp"));
    expect((events.find((event) => event[0] === "disconnect")![2] as { unsent: unknown[] }).unsent).toEqual([big]);
    vi.advanceTimersByTime(10);
    fake.last.receiveOpen({ maxPayload: 100 });
    expect(fake.last.sent.flat().map((packet) => packet.data)).toEqual(["ok2"]);
  });

  test("a transport failure that is not a refusal keeps every message for the next session", () => {
    const { socket, fake, events } = onFake();
    socket.send("a").send("x".repeat(200));
    fake.last.receiveOpen({ maxPayload: 100 });
    fake.last.fail(new TransportError("fake request failed with HTTP 500", "fake", 500));
    expect((events.find((event) => event[0] === "disconnect")![2] as { unsent: unknown[] }).unsent).toEqual([]);
    vi.advanceTimersByTime(10);
    fake.last.receiveOpen({ maxPayload: 100 });
    expect(fake.last.sent.flat().map((packet) => packet.data)).toEqual(["a", "x".repeat(200)]);
  });

  test("close() while the refused session ends: the final close holds the refused message first", () => {
    const { socket, fake, events } = onFake();
    socket.send("big".repeat(50)).send("after");
    fake.last.receiveOpen({ maxPayload: 100 });
    socket.close();
    fake.last.fail(new TransportError("fake request failed with HTTP 413", "fake", 413));
    expect(events.at(-1)!.slice(0, 2)).toEqual(["close", "transport error"]);
    expect((events.at(-1)![2] as { unsent: unknown[] }).unsent).toEqual(["big".repeat(50), "after"]);
  });
});
