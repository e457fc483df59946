// @vitest-environment node
/** cometa/server's `resume` option: its default, `false`, its fields and their validation. */
import { describe, expect, it } from "vitest";
import { DEFAULT_RESUME_MAX_BYTES, DEFAULT_RESUME_WINDOW, type ServerOptions, resolveOptions } from "../../../src/server/options.js";

describe("resume", () => {
  it("is on by default, with a 60 s window and 1 MB of unacknowledged messages", () => {
    expect(resolveOptions({}).resume).toEqual({ window: 60_000, maxBytes: 1_000_000 });
    expect([DEFAULT_RESUME_WINDOW, DEFAULT_RESUME_MAX_BYTES]).toEqual([60_000, 1_000_000]);
  });

  it("takes each field alone, the other keeping its default; false turns it off", () => {
    expect(resolveOptions({ resume: { window: 5000 } }).resume).toEqual({ window: 5000, maxBytes: 1_000_000 });
    expect(resolveOptions({ resume: { maxBytes: 10 } }).resume).toEqual({ window: 60_000, maxBytes: 10 });
    expect(resolveOptions({ resume: {} }).resume).toEqual({ window: 60_000, maxBytes: 1_000_000 });
    expect(resolveOptions({ resume: false }).resume).toBeUndefined();
  });

  it("is not handed to engine.io's constructor", () => {
    expect(resolveOptions({ resume: { window: 1 } }).engine).not.toHaveProperty("resume");
  });

  it.each([
    [{ window: 0 }, /resume\.window must be an integer >= 1/],
    [{ window: 1.5 }, /resume\.window/],
    [{ maxBytes: -1 }, /resume\.maxBytes must be an integer >= 1/],
    [{ maxBytes: Infinity }, /resume\.maxBytes/],
  ])("refuses %j", (resume, message) => {
    expect(() => resolveOptions({ resume })).toThrow(message);
  });

  it("refuses anything but false or an object", () => {
    for (const resume of [true, 1, "yes", null]) {
      expect(() => resolveOptions({ resume } as unknown as ServerOptions)).toThrow(/cometa\/server: resume must be false or an object/);
    }
  });
});
