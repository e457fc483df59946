// @vitest-environment node
import { describe, expect, test, vi } from "vitest";
import { TransportError } from "../../../src/errors.js";
import { Lifecycle } from "../../../src/transports/lifecycle.js";
import { record } from "../support/events.js";

describe("Lifecycle", () => {
  const setup = () => {
    const release = vi.fn();
    const lifecycle = new Lifecycle(release);
    const events = record(lifecycle, ["open", "packet", "drain", "error", "close"]);
    return { lifecycle, release, events };
  };

  test("opening → open, once", () => {
    const { lifecycle, events } = setup();
    expect(lifecycle.state).toBe("opening");
    lifecycle.opened();
    lifecycle.opened();
    expect(lifecycle.state).toBe("open");
    expect(events).toEqual([["open"]]);
  });

  test("fail: released before listeners run, then error, then close; once", () => {
    const { lifecycle, release, events } = setup();
    const error = new TransportError("x", "t");
    lifecycle.on("error", () => {
      expect(release).toHaveBeenCalledTimes(1);
      expect(lifecycle.state).toBe("closed");
      expect(lifecycle.writable).toBe(false);
    });
    lifecycle.fail(error);
    lifecycle.fail(new TransportError("y", "t"));
    lifecycle.finish();
    expect(events).toEqual([["error", error], ["close"]]);
    expect(release).toHaveBeenCalledTimes(1);
  });

  test("finish: close without error, once", () => {
    const { lifecycle, release, events } = setup();
    lifecycle.finish();
    lifecycle.finish();
    lifecycle.fail(new TransportError("late", "t"));
    expect(events).toEqual([["close"]]);
    expect(release).toHaveBeenCalledTimes(1);
  });

  test("nothing is emitted after close", () => {
    const { lifecycle, events } = setup();
    lifecycle.opened();
    lifecycle.finish();
    lifecycle.receive({ type: "message", data: "late" });
    lifecycle.drained();
    lifecycle.opened();
    expect(events).toEqual([["open"], ["close"]]);
    expect(lifecycle.writable).toBe(false);
  });

  test("drained makes it writable again", () => {
    const { lifecycle, events } = setup();
    lifecycle.opened();
    lifecycle.writable = false;
    lifecycle.receive({ type: "ping" });
    lifecycle.drained();
    expect(lifecycle.writable).toBe(true);
    expect(events).toEqual([["open"], ["packet", { type: "ping" }], ["drain"]]);
  });
});
