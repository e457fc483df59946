// @vitest-environment node
/**
 * Heartbeat values from the open packet: absurd ones refused at the handshake, huge ones waited
 * out without a timer longer than setTimeout takes (2^31-1 ms; longer fires at once).
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { resolveEnvironment } from "../../src/env.js";
import { HandshakeError, HeartbeatError } from "../../src/errors.js";
import { createHeartbeat } from "../../src/heartbeat.js";
import { parseOpenData } from "../../src/protocol.js";
import { BareSocket } from "../../src/socket.js";
import { record } from "../support/events.js";
import { fakeDefinition } from "./support/fake-transport.js";

const maxTimer = 2 ** 31 - 1;

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

/** An environment whose timers are the fake ones, with every delay asked for recorded. */
function countingEnv() {
  const delays: number[] = [];
  const env = resolveEnvironment({
    now: () => Date.now(),
    setTimeout: (callback: () => void, delay: number) => {
      delays.push(delay);
      return setTimeout(callback, delay);
    },
    clearTimeout: (handle: unknown) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  });
  return { env, delays };
}

describe("open packet heartbeat fields", () => {
  const open = (fields: Record<string, unknown>) =>
    JSON.stringify({ sid: "s", upgrades: [], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1e6, ...fields });

  test.each([
    ["pingInterval", -1],
    ["pingInterval", 0],
    ["pingInterval", 1.5],
    ["pingInterval", "25000"],
    ["pingTimeout", 20000.25],
    ["pingTimeout", null],
  ])("%s %j is refused with a HandshakeError", (field, value) => {
    expect(() => parseOpenData(open({ [field]: value }))).toThrow(HandshakeError);
  });

  test("non-finite values (1e400 is Infinity once parsed) are refused", () => {
    expect(() => parseOpenData('{"sid":"s","upgrades":[],"pingInterval":1e400,"pingTimeout":1}')).toThrow(HandshakeError);
  });

  test("large whole values are valid: the heartbeat waits them out", () => {
    expect(parseOpenData(open({ pingInterval: 3e9, pingTimeout: 3e9 }))).toMatchObject({ pingInterval: 3e9, pingTimeout: 3e9 });
  });
});

describe("createHeartbeat with a period longer than a timer can wait", () => {
  test("no timer is asked for more than 2^31-1 ms, and it does not fire early", () => {
    const { env, delays } = countingEnv();
    const onExpired = vi.fn();
    const period = 3e9 + 20000;
    createHeartbeat(env, period, onExpired).beat();
    // an overflowing timer would fire every millisecond here, re-arming each time
    vi.advanceTimersByTime(1000);
    expect(delays).toHaveLength(1);
    expect(Math.max(...delays)).toBeLessThanOrEqual(maxTimer);
    expect(onExpired).not.toHaveBeenCalled();
  });

  test("the deadline still comes, at exactly the period", () => {
    const { env, delays } = countingEnv();
    const onExpired = vi.fn();
    const period = 3e9 + 20000;
    const heartbeat = createHeartbeat(env, period, onExpired);
    heartbeat.beat();
    vi.advanceTimersByTime(1000);
    expect(delays).toHaveLength(1);
    vi.advanceTimersByTime(period - 1001);
    expect(onExpired).not.toHaveBeenCalled();
    expect(heartbeat.expired()).toBe(false);
    vi.advanceTimersByTime(1);
    expect(onExpired).toHaveBeenCalledTimes(1);
    // waited out in two timers, each within what setTimeout takes
    expect(delays.length).toBeLessThanOrEqual(3);
    expect(Math.max(...delays)).toBeLessThanOrEqual(maxTimer);
  });
});

test("BareSocket: pingInterval 3e9 from the server arms no overflowing timer; a dead link closes at the deadline", () => {
  const { env, delays } = countingEnv();
  const fake = fakeDefinition("fake", { autoDrain: true });
  const socket = new BareSocket("http://localhost:3000", { transports: [fake.definition], env });
  const events = record(socket, ["error", "close"]);
  fake.last.receiveOpen({ pingInterval: 3e9, pingTimeout: 20000 });
  expect(socket.state).toBe("open");
  const armed = delays.length;
  vi.advanceTimersByTime(60_000);
  expect(delays.length).toBe(armed);
  expect(socket.state).toBe("open");
  vi.advanceTimersByTime(3e9 + 20000 - 60_000);
  expect(socket.state).toBe("closed");
  expect(events.map(([name]) => name)).toEqual(["error", "close"]);
  expect(events[0]![1]).toBeInstanceOf(HeartbeatError);
  expect(events[1]![1]).toBe("ping timeout");
});
