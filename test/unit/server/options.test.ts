// @vitest-environment node
/** cometa/server's options: defaults, validation, and what each one becomes. */
import { describe, expect, it } from "vitest";
import {
  CLOSE_TIMEOUT,
  DEFAULT_DISCARDED_RECYCLE_BYTES,
  DEFAULT_KEEP_ALIVE_INTERVAL,
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_RECYCLE_BYTES,
  DEFAULT_RESUME_MAX_BYTES,
  DEFAULT_RESUME_WINDOW,
  type ServerOptions,
  resolveOptions,
} from "../../../src/server/options.js";

const PAGE = "https://app.example";

describe("defaults", () => {
  it("serves engine.io's transports and the extension's, iframe only with allowedOrigins", () => {
    const plain = resolveOptions({});
    expect(plain.engine.transports).toEqual(["polling", "websocket", "sse", "xhr-streaming", "short-polling"]);
    expect([...plain.enabled]).toEqual(["sse", "xhr-streaming", "short-polling"]);
    expect(plain.isAllowedOrigin).toBeUndefined();
    const withOrigins = resolveOptions({ allowedOrigins: [PAGE] });
    expect(withOrigins.engine.transports).toEqual(["polling", "websocket", "sse", "xhr-streaming", "iframe", "short-polling"]);
    expect([...withOrigins.enabled]).toEqual(["sse", "xhr-streaming", "iframe", "short-polling"]);
  });

  it("has the documented values", () => {
    const resolved = resolveOptions({});
    expect(resolved).toMatchObject({
      // each stream's own: DEFAULT_RECYCLE_BYTES or DEFAULT_DISCARDED_RECYCLE_BYTES
      recycleBytes: undefined,
      paddingBytes: undefined,
      keepAliveInterval: 15_000,
      maxBufferedBytes: 16 * 1024 * 1024,
      path: undefined,
    });
    expect([DEFAULT_RECYCLE_BYTES, DEFAULT_DISCARDED_RECYCLE_BYTES, DEFAULT_KEEP_ALIVE_INTERVAL, DEFAULT_MAX_BUFFERED_BYTES, CLOSE_TIMEOUT]).toEqual([
      1_048_576, 4_194_304, 15_000, 16_777_216, 30_000,
    ]);
  });

  it("hands engine.io its own options unchanged, and none of the extension's", () => {
    const allowRequest: ServerOptions["allowRequest"] = (_req, callback) => callback(null, true);
    const { engine } = resolveOptions({
      pingInterval: 1000,
      pingTimeout: 2000,
      maxHttpBufferSize: 5,
      cors: { origin: PAGE },
      allowRequest,
      allowedOrigins: [PAGE],
      recycleBytes: 10,
      paddingBytes: 0,
      keepAliveInterval: 0,
      maxBufferedBytes: 100,
      path: "/socket.io/",
    });
    expect(engine).toEqual({
      pingInterval: 1000,
      pingTimeout: 2000,
      maxHttpBufferSize: 5,
      cors: { origin: PAGE },
      allowRequest,
      transports: ["polling", "websocket", "sse", "xhr-streaming", "iframe", "short-polling"],
    });
  });
});

describe("each option", () => {
  it("transports: exactly the names given, in order, to engine.io; the extension's among them enabled", () => {
    const resolved = resolveOptions({ transports: ["short-polling", "sse", "polling"] });
    expect(resolved.engine.transports).toEqual(["short-polling", "sse", "polling"]);
    expect([...resolved.enabled]).toEqual(["short-polling", "sse"]);
    expect([...resolveOptions({ transports: ["websocket", "webtransport"] }).enabled]).toEqual([]);
  });

  it("allowedOrigins: exact origins, or a function whose true alone allows", () => {
    const exact = resolveOptions({ allowedOrigins: [PAGE, "http://localhost:8080"] }).isAllowedOrigin!;
    expect([exact(PAGE), exact("http://localhost:8080"), exact("https://evil.example")]).toEqual([true, true, false]);
    const predicate = resolveOptions({ allowedOrigins: (origin) => origin.endsWith(".example") }).isAllowedOrigin!;
    expect([predicate(PAGE), predicate("https://other.test")]).toEqual([true, false]);
    const truthy = resolveOptions({ allowedOrigins: (() => 1) as unknown as (origin: string) => boolean }).isAllowedOrigin!;
    expect(truthy(PAGE)).toBe(false);
  });

  it("recycleBytes, paddingBytes, keepAliveInterval, maxBufferedBytes: integers kept as given", () => {
    expect(resolveOptions({ recycleBytes: 1 }).recycleBytes).toBe(1);
    expect(resolveOptions({ paddingBytes: 0 }).paddingBytes).toBe(0);
    expect(resolveOptions({ paddingBytes: 4096 }).paddingBytes).toBe(4096);
    expect(resolveOptions({ keepAliveInterval: 0 }).keepAliveInterval).toBe(0);
    expect(resolveOptions({ maxBufferedBytes: 1 }).maxBufferedBytes).toBe(1);
    expect(resolveOptions({ maxBufferedBytes: Infinity }).maxBufferedBytes).toBe(Infinity);
  });

  it("path: kept for attach(), not given to engine.io's constructor", () => {
    const resolved = resolveOptions({ path: "/socket.io/" });
    expect(resolved.path).toBe("/socket.io/");
    expect("path" in resolved.engine).toBe(false);
  });
});

describe("validation", () => {
  it.each([
    [{ transports: ["polling", "carrier-pigeon"] }, /unknown transport "carrier-pigeon"/],
    [{ transports: ["iframe"] }, /the iframe transport needs allowedOrigins/],
    [{ allowedOrigins: ["*"] }, /allowedOrigins does not accept "\*"/],
    [{ allowedOrigins: ["https://app.example/"] }, /allowedOrigins entry "https:\/\/app.example\/" is not an origin/],
    [{ allowedOrigins: ["app.example"] }, /is not an origin/],
    [{ allowedOrigins: "https://app.example" }, /allowedOrigins must be an array of origins or a function/],
    [{ path: "socket.io" }, /path must be a string starting with "\/", got "socket.io"/],
    [{ path: 5 }, /path must be a string starting with "\/"/],
    [{ recycleBytes: 0 }, /recycleBytes must be an integer >= 1, got 0/],
    [{ recycleBytes: 1.5 }, /recycleBytes must be an integer >= 1, got 1.5/],
    [{ paddingBytes: -1 }, /paddingBytes must be an integer >= 0, got -1/],
    [{ keepAliveInterval: -1 }, /keepAliveInterval must be an integer >= 0, got -1/],
    [{ keepAliveInterval: Number.NaN }, /keepAliveInterval must be an integer >= 0, got NaN/],
    [{ maxBufferedBytes: 0 }, /maxBufferedBytes must be an integer >= 1, got 0/],
    [{ maxBufferedBytes: -Infinity }, /maxBufferedBytes must be an integer >= 1, got -Infinity/],
  ])("refuses %j", (options, message) => {
    expect(() => resolveOptions(options as unknown as ServerOptions)).toThrow(TypeError);
    expect(() => resolveOptions(options as unknown as ServerOptions)).toThrow(message);
  });

  it("every message names cometa/server", () => {
    expect(() => resolveOptions({ recycleBytes: 0 })).toThrow(/^cometa\/server: /);
  });
});

describe("resume", () => {
  it("is on by default, with a 60 s window and 16 MiB of unacknowledged messages (as maxBufferedBytes)", () => {
    expect(resolveOptions({}).resume).toEqual({ window: 60_000, maxBytes: 16_777_216 });
    expect([DEFAULT_RESUME_WINDOW, DEFAULT_RESUME_MAX_BYTES]).toEqual([60_000, 16_777_216]);
  });

  it("takes each field alone, the other keeping its default; false turns it off", () => {
    expect(resolveOptions({ resume: { window: 5000 } }).resume).toEqual({ window: 5000, maxBytes: 16_777_216 });
    expect(resolveOptions({ resume: { maxBytes: 10 } }).resume).toEqual({ window: 60_000, maxBytes: 10 });
    expect(resolveOptions({ resume: {} }).resume).toEqual({ window: 60_000, maxBytes: 16_777_216 });
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
