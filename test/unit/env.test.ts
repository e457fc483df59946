// The unit project's jsdom realm plays the browser: its globals are the defaults under test.
import { afterEach, describe, expect, test, vi } from "vitest";
import { resolveEnvironment } from "../../src/env.js";
import { FakeWebSocket } from "./support/fake-websocket.js";

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("defaults from globalThis", () => {
  test("the realm's globals, sessionStorage as storage", () => {
    const env = resolveEnvironment();
    expect(env.XMLHttpRequest).toBe(globalThis.XMLHttpRequest);
    expect(env.WebSocket).toBe(globalThis.WebSocket);
    expect(env.document).toBe(globalThis.document);
    expect(env.window).toBe(globalThis.window);
    expect(env.storage).toBe(globalThis.sessionStorage);
    // jsdom has no EventSource: the environment says so instead of inventing one
    expect(env.EventSource).toBeUndefined();
  });

  test("fetch is bound to globalThis, so a detached call still reaches the window", async () => {
    const receivers: unknown[] = [];
    vi.stubGlobal("fetch", function (this: unknown) {
      receivers.push(this);
      return Promise.resolve(new Response("ok"));
    });
    const { fetch } = resolveEnvironment();
    await fetch!("http://localhost/");
    expect(receivers).toEqual([globalThis]);
  });

  test("no fetch function, no fetch", () => {
    vi.stubGlobal("fetch", "not a function");
    expect(resolveEnvironment().fetch).toBeUndefined();
  });

  test("a sessionStorage that throws on access (sandboxed iframe) leaves storage unset", () => {
    const own = Object.getOwnPropertyDescriptor(globalThis, "sessionStorage");
    Object.defineProperty(globalThis, "sessionStorage", {
      configurable: true,
      get() {
        throw new DOMException("The document is sandboxed", "SecurityError");
      },
    });
    try {
      expect(resolveEnvironment().storage).toBeUndefined();
    } finally {
      if (own) Object.defineProperty(globalThis, "sessionStorage", own);
      else delete (globalThis as { sessionStorage?: unknown }).sessionStorage;
    }
  });

  test("timers go through the realm's setTimeout/clearTimeout", () => {
    const env = resolveEnvironment();
    // installed after the environment was made: the timers look the globals up when called
    vi.useFakeTimers();
    const fired: string[] = [];
    env.setTimeout(() => fired.push("kept"), 100);
    const cancelled = env.setTimeout(() => fired.push("cancelled"), 100);
    env.clearTimeout(cancelled);
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(["kept"]);
  });

  test("now and random are the wall clock and Math.random", () => {
    vi.spyOn(Date, "now").mockReturnValue(1_234);
    vi.spyOn(Math, "random").mockReturnValue(0.25);
    const env = resolveEnvironment();
    expect(env.now()).toBe(1_234);
    expect(env.random()).toBe(0.25);
  });
});

describe("overrides", () => {
  test("take precedence over the globals, the rest stays", () => {
    const storage = { getItem: () => null, setItem: () => {} };
    const env = resolveEnvironment({ WebSocket: FakeWebSocket, storage });
    expect(env.WebSocket).toBe(FakeWebSocket);
    expect(env.storage).toBe(storage);
    expect(env.XMLHttpRequest).toBe(globalThis.XMLHttpRequest);
  });

  test("an explicit undefined removes a global, as for an older browser", () => {
    const env = resolveEnvironment({ WebSocket: undefined, XMLHttpRequest: undefined, document: undefined });
    expect(env.WebSocket).toBeUndefined();
    expect(env.XMLHttpRequest).toBeUndefined();
    expect(env.document).toBeUndefined();
    expect("WebSocket" in env).toBe(true);
    expect(env.fetch).toBeTypeOf("function");
  });

  test("each call builds its own object: overrides never leak into the next environment", () => {
    const first = resolveEnvironment({ WebSocket: FakeWebSocket });
    const second = resolveEnvironment();
    expect(first).not.toBe(second);
    expect(second.WebSocket).toBe(globalThis.WebSocket);
  });
});

describe("read when an environment is made, not at import", () => {
  test("a global installed after the module was imported is seen", () => {
    class LaterEventSource {}
    vi.stubGlobal("EventSource", LaterEventSource);
    expect(resolveEnvironment().EventSource).toBe(LaterEventSource);
  });

  test("a global replaced after the environment was made does not change it", () => {
    const env = resolveEnvironment();
    const before = env.WebSocket;
    vi.stubGlobal("WebSocket", FakeWebSocket);
    expect(env.WebSocket).toBe(before);
    expect(resolveEnvironment().WebSocket).toBe(FakeWebSocket);
  });
});
