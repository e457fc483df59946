// @vitest-environment node
// (no DOM needed here; jsdom is for the files that use XHR, location or its realm)
import { describe, expect, test, vi } from "vitest";
import { Emitter } from "../../src/emitter.js";

type Events = { a: [value: number]; b: [x: string, y: string]; c: [] };

describe("Emitter", () => {
  test("on() calls listeners in order with the arguments, and returns an unbind", () => {
    const emitter = new Emitter<Events>();
    const calls: unknown[] = [];
    const off = emitter.on("b", (x, y) => calls.push(["first", x, y]));
    emitter.on("b", (x, y) => calls.push(["second", x, y]));
    emitter.emit("b", "x", "y");
    off();
    emitter.emit("b", "p", "q");
    expect(calls).toEqual([
      ["first", "x", "y"],
      ["second", "x", "y"],
      ["second", "p", "q"],
    ]);
    expect(emitter.listenerCount("b")).toBe(1);
  });

  test("emit with no listeners does nothing, even for error-like events", () => {
    const emitter = new Emitter<{ error: [Error] }>();
    expect(() => emitter.emit("error", new Error("x"))).not.toThrow();
  });

  test("the same function added twice is called twice; its unbinds remove one each", () => {
    const emitter = new Emitter<Events>();
    const listener = vi.fn();
    const off1 = emitter.on("c", listener);
    emitter.on("c", listener);
    emitter.emit("c");
    expect(listener).toHaveBeenCalledTimes(2);
    off1();
    emitter.emit("c");
    expect(listener).toHaveBeenCalledTimes(3);
  });

  test("calling an unbind twice does not remove another registration", () => {
    const emitter = new Emitter<Events>();
    const listener = vi.fn();
    const off = emitter.on("c", listener);
    emitter.on("c", listener);
    off();
    off();
    expect(emitter.listenerCount("c")).toBe(1);
  });

  describe("once", () => {
    test("fires once, with the arguments", () => {
      const emitter = new Emitter<Events>();
      const listener = vi.fn();
      emitter.once("a", listener);
      emitter.emit("a", 1);
      emitter.emit("a", 2);
      expect(listener).toHaveBeenCalledTimes(1);
      expect(listener).toHaveBeenCalledWith(1);
      expect(emitter.listenerCount("a")).toBe(0);
    });

    test("its unbind works before it fires", () => {
      const emitter = new Emitter<Events>();
      const listener = vi.fn();
      const off = emitter.once("a", listener);
      off();
      emitter.emit("a", 1);
      expect(listener).not.toHaveBeenCalled();
    });

    test("a re-entrant emit from inside the listener does not call it again", () => {
      const emitter = new Emitter<Events>();
      const listener = vi.fn((value: number) => {
        if (value === 1) emitter.emit("a", 2);
      });
      emitter.once("a", listener);
      emitter.emit("a", 1);
      expect(listener).toHaveBeenCalledTimes(1);
    });

    test("off(event, listener) with the function given to once removes it", () => {
      // Node's EventEmitter and component-emitter (engine.io-client's) both allow this
      const emitter = new Emitter<Events>();
      const listener = vi.fn();
      emitter.once("a", listener);
      emitter.off("a", listener);
      emitter.emit("a", 1);
      expect(listener).not.toHaveBeenCalled();
    });
  });

  describe("off", () => {
    test("off(event, listener) removes that listener only", () => {
      const emitter = new Emitter<Events>();
      const keep = vi.fn();
      const drop = vi.fn();
      emitter.on("a", keep);
      emitter.on("a", drop);
      expect(emitter.off("a", drop)).toBe(emitter);
      emitter.emit("a", 1);
      expect(keep).toHaveBeenCalledTimes(1);
      expect(drop).not.toHaveBeenCalled();
    });

    test("off(event, unknown) is harmless", () => {
      const emitter = new Emitter<Events>();
      const keep = vi.fn();
      emitter.on("a", keep);
      emitter.off("a", vi.fn());
      emitter.off("b", vi.fn());
      emitter.emit("a", 1);
      expect(keep).toHaveBeenCalledTimes(1);
    });

    test("off(event) removes every listener of that event only", () => {
      const emitter = new Emitter<Events>();
      const a1 = vi.fn();
      const a2 = vi.fn();
      const c = vi.fn();
      emitter.on("a", a1);
      emitter.on("a", a2);
      emitter.on("c", c);
      emitter.off("a");
      emitter.emit("a", 1);
      emitter.emit("c");
      expect(a1).not.toHaveBeenCalled();
      expect(a2).not.toHaveBeenCalled();
      expect(c).toHaveBeenCalledTimes(1);
      expect(emitter.listenerCount("a")).toBe(0);
    });

    test("off() removes everything", () => {
      const emitter = new Emitter<Events>();
      const a = vi.fn();
      const c = vi.fn();
      emitter.on("a", a);
      emitter.once("c", c);
      emitter.off();
      emitter.emit("a", 1);
      emitter.emit("c");
      expect(a).not.toHaveBeenCalled();
      expect(c).not.toHaveBeenCalled();
      expect(emitter.listenerCount("a") + emitter.listenerCount("c")).toBe(0);
    });

    test("an unbind from before off() stays harmless after new listeners are added", () => {
      const emitter = new Emitter<Events>();
      const stale = emitter.on("c", vi.fn());
      emitter.off();
      const fresh = vi.fn();
      emitter.on("c", fresh);
      stale();
      emitter.emit("c");
      expect(fresh).toHaveBeenCalledTimes(1);
    });
  });

  describe("removal during emit", () => {
    test("a listener that removes itself does not make the next one skip", () => {
      const emitter = new Emitter<Events>();
      const calls: string[] = [];
      const off = emitter.on("c", () => {
        calls.push("self-removing");
        off();
      });
      emitter.on("c", () => calls.push("neighbour"));
      emitter.emit("c");
      emitter.emit("c");
      expect(calls).toEqual(["self-removing", "neighbour", "neighbour"]);
    });

    test("two once listeners in a row both fire", () => {
      const emitter = new Emitter<Events>();
      const first = vi.fn();
      const second = vi.fn();
      emitter.once("c", first);
      emitter.once("c", second);
      emitter.emit("c");
      expect(first).toHaveBeenCalledTimes(1);
      expect(second).toHaveBeenCalledTimes(1);
    });

    test("a listener removed by an earlier one during emit is not called on later emits", () => {
      const emitter = new Emitter<Events>();
      const victim = vi.fn();
      emitter.on("c", () => emitter.off("c", victim));
      emitter.on("c", victim);
      emitter.emit("c");
      emitter.emit("c");
      // the current emit works on a snapshot, like Node's EventEmitter
      expect(victim).toHaveBeenCalledTimes(1);
    });

    test("a listener added during emit runs from the next emit on", () => {
      const emitter = new Emitter<Events>();
      const late = vi.fn();
      emitter.once("c", () => emitter.on("c", late));
      emitter.emit("c");
      expect(late).not.toHaveBeenCalled();
      emitter.emit("c");
      expect(late).toHaveBeenCalledTimes(1);
    });

    test("off() during emit stops nothing of the current emit but everything after", () => {
      const emitter = new Emitter<Events>();
      const other = vi.fn();
      emitter.on("c", () => emitter.off());
      emitter.on("c", other);
      emitter.emit("c");
      emitter.emit("c");
      expect(other).toHaveBeenCalledTimes(1);
    });
  });
});
