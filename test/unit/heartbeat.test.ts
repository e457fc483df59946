// @vitest-environment node
// (no DOM needed here; jsdom is for the files that use XHR, location or its realm)
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { resolveEnvironment } from "../../src/env.js";
import { HeartbeatError } from "../../src/errors.js";
import { createHeartbeat } from "../../src/heartbeat.js";
import { BareSocket } from "../../src/socket.js";
import { closed, record } from "../support/events.js";
import { fakeDefinition } from "./support/fake-transport.js";

/** The wall clock the code sees: fake time plus whatever jumps the test adds (a sleeping laptop). */
let skew = 0;
const now = () => Date.now() + skew;

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
  skew = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

describe("createHeartbeat", () => {
  const env = () => resolveEnvironment({ now });

  test("expires at exactly the period after the beat", () => {
    const onExpired = vi.fn();
    const heartbeat = createHeartbeat(env(), 150, onExpired);
    heartbeat.beat();
    vi.advanceTimersByTime(149);
    expect(onExpired).not.toHaveBeenCalled();
    expect(heartbeat.expired()).toBe(false);
    vi.advanceTimersByTime(1);
    expect(onExpired).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(onExpired).toHaveBeenCalledTimes(1);
  });

  test("a beat moves the deadline", () => {
    const onExpired = vi.fn();
    const heartbeat = createHeartbeat(env(), 150, onExpired);
    heartbeat.beat();
    vi.advanceTimersByTime(100);
    heartbeat.beat();
    vi.advanceTimersByTime(149);
    expect(onExpired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onExpired).toHaveBeenCalledTimes(1);
  });

  test("many beats keep one timer armed", () => {
    const heartbeat = createHeartbeat(env(), 150, vi.fn());
    heartbeat.beat();
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(10);
      heartbeat.beat();
    }
    expect(vi.getTimerCount()).toBe(1);
  });

  test("the wall clock wins when the timer is late", () => {
    const onExpired = vi.fn();
    const heartbeat = createHeartbeat(env(), 150, onExpired);
    heartbeat.beat();
    skew = 151; // the clock moved on, the throttled timer has not fired
    expect(heartbeat.expired()).toBe(true);
    expect(onExpired).not.toHaveBeenCalled();
    // and when the late timer does fire, it expires at once instead of re-arming
    vi.advanceTimersByTime(1);
    vi.runOnlyPendingTimers();
    expect(onExpired).toHaveBeenCalledTimes(1);
  });

  test("stop() disarms it", () => {
    const onExpired = vi.fn();
    const heartbeat = createHeartbeat(env(), 150, onExpired);
    heartbeat.beat();
    heartbeat.stop();
    skew = 1000;
    vi.advanceTimersByTime(1000);
    expect(onExpired).not.toHaveBeenCalled();
    expect(heartbeat.expired()).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("BareSocket heartbeat", () => {
  const open = (pingInterval = 100, pingTimeout = 50) => {
    const fake = fakeDefinition("fake", { autoDrain: true });
    const socket = new BareSocket("http://localhost:3000", { transports: [fake.definition], env: { now } });
    fake.last.receiveOpen({ pingInterval, pingTimeout });
    expect(socket.state).toBe("open");
    return { socket, transport: fake.last };
  };

  test("closes with ping timeout at pingInterval + pingTimeout", async () => {
    const { socket, transport } = open();
    const events = record(socket, ["error", "close"]);
    vi.advanceTimersByTime(149);
    expect(socket.state).toBe("open");
    vi.advanceTimersByTime(1);
    expect(socket.state).toBe("closed");
    expect(events.map((event) => event[0])).toEqual(["error", "close"]);
    expect(events[0]![1]).toBeInstanceOf(HeartbeatError);
    expect(events[1]![1]).toBe("ping timeout");
    expect(transport.state).toBe("closed");
  });

  test("a ping resets the deadline and is answered with a pong", async () => {
    const { socket, transport } = open();
    const pings = vi.fn();
    socket.on("ping", pings);
    vi.advanceTimersByTime(100);
    transport.receive({ type: "ping" });
    expect(pings).toHaveBeenCalledTimes(1);
    expect(transport.wire).toEqual(["pong"]);
    vi.advanceTimersByTime(149);
    expect(socket.state).toBe("open");
    vi.advanceTimersByTime(1);
    expect(socket.state).toBe("closed");
  });

  test("send() on an expired link closes with ping timeout and reports the message unsent", async () => {
    const { socket, transport } = open();
    const done = closed(socket);
    const errors: unknown[] = [];
    socket.on("error", (error) => errors.push(error));
    const callback = vi.fn();
    skew = 151; // timers throttled: nothing fired, but the deadline has passed
    expect(socket.state).toBe("open");
    socket.send("late", callback);
    const { reason, details } = await done;
    expect(reason).toBe("ping timeout");
    expect(details.error).toBeInstanceOf(HeartbeatError);
    expect(details.unsent).toEqual(["late"]);
    expect(errors).toHaveLength(1);
    expect(transport.sent).toEqual([]);
    expect(callback).not.toHaveBeenCalled();
  });

  test("send() just before the deadline still sends", () => {
    const { socket, transport } = open();
    skew = 149;
    socket.send("in time");
    expect(socket.state).toBe("open");
    expect(transport.wire).toEqual(["message:in time"]);
  });
});
