// @vitest-environment node
/** The counts of the server's messages on a resumable session: dedup, gaps, when to acknowledge. */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { resolveEnvironment } from "../../src/env.js";
import { ackDelay, createCounts } from "../../src/resume.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function counts(maxBytes = 1000) {
  const due = vi.fn();
  const resumption = createCounts(resolveEnvironment(), { window: 60000, maxBytes }, due);
  return { resumption, due };
}

describe("received messages", () => {
  test("each message counts once; after 6s<S> those at or below the count are duplicates", () => {
    const { resumption } = counts();
    expect([resumption.receive("a"), resumption.receive("b"), resumption.receive("c")]).toEqual([true, true, true]);
    expect(resumption.received).toBe(3);
    expect(resumption.next(2)).toBe(true);
    // 2 and 3 again, then 4
    expect([resumption.receive("b"), resumption.receive("c"), resumption.receive("d")]).toEqual([false, false, true]);
    expect(resumption.received).toBe(4);
  });

  test("6s<S> past the count + 1 is a gap", () => {
    const { resumption } = counts();
    resumption.receive("a");
    expect(resumption.next(2)).toBe(true);
    expect(resumption.next(3)).toBe(false);
  });

  test("restart: after a switch the server sends from the message after the count", () => {
    const { resumption } = counts();
    resumption.receive("a");
    resumption.receive("b");
    resumption.next(1);
    resumption.receive("a");
    // the transport broke before "b" came again; the new one sends 3 next
    resumption.restart();
    expect(resumption.receive("c")).toBe(true);
    expect(resumption.received).toBe(3);
  });
});

describe("acknowledgements", () => {
  test(`due ${ackDelay} ms after a message when no one told the count; the prefix carries 6a<N> once`, () => {
    const { resumption, due } = counts();
    resumption.receive("a");
    resumption.receive("b");
    vi.advanceTimersByTime(ackDelay - 1);
    expect(due).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(due).toHaveBeenCalledTimes(1);
    expect(resumption.prefix(0)).toEqual([{ type: "noop", data: "a2" }]);
    expect(resumption.prefix(0)).toEqual([]);
  });

  test("a GET that carried the count (tell) cancels the pending acknowledgement", () => {
    const { resumption, due } = counts();
    resumption.receive("a");
    expect(resumption.tell()).toBe(1);
    vi.advanceTimersByTime(ackDelay * 5);
    expect(due).not.toHaveBeenCalled();
    expect(resumption.prefix(0)).toEqual([]);
  });

  test("at once when a quarter of the server's maxBytes came unacknowledged", () => {
    const { resumption, due } = counts(100);
    resumption.receive("x".repeat(20));
    expect(due).not.toHaveBeenCalled();
    resumption.receive(new Uint8Array(5).buffer);
    expect(due).toHaveBeenCalledTimes(1);
    expect(resumption.prefix(0)).toEqual([{ type: "noop", data: "a2" }]);
    // told: the bytes count again from zero
    resumption.receive("x".repeat(24));
    expect(due).toHaveBeenCalledTimes(1);
  });

  test("a write carrying messages says the number of its first: 6s<S>, after any 6a<N>", () => {
    const { resumption } = counts();
    expect(resumption.prefix(7)).toEqual([{ type: "noop", data: "s7" }]);
    resumption.receive("a");
    expect(resumption.prefix(8)).toEqual([
      { type: "noop", data: "a1" },
      { type: "noop", data: "s8" },
    ]);
  });

  test("ack() tells the count as 6a<N> even when nothing is due (before 5 on an upgrade)", () => {
    const { resumption } = counts();
    expect(resumption.ack()).toEqual({ type: "noop", data: "a0" });
    resumption.receive("a");
    expect(resumption.ack()).toEqual({ type: "noop", data: "a1" });
    expect(resumption.prefix(0)).toEqual([]);
  });

  test("stop cancels the pending acknowledgement", () => {
    const { resumption, due } = counts();
    resumption.receive("a");
    resumption.stop();
    vi.advanceTimersByTime(ackDelay * 2);
    expect(due).not.toHaveBeenCalled();
  });
});
