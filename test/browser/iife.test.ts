/**
 * The minified IIFEs as a `<script src>` user meets them: one global, the documented API, and
 * errors that say what they are; the long-polling + WebSocket build against a stock server.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  describeEngines,
  type EngineUnderTest,
  type PageServer,
  startEngine,
  startPageServer,
  type TestPage,
  useEngine,
} from "./support/browser.js";
import { helperPage, pageHelpersScript } from "./support/page-helpers.js";

const errorClasses = [
  "CometaError",
  "TransportError",
  "ServerError",
  "ProtocolError",
  "HandshakeError",
  "HeartbeatError",
  "UpgradeError",
  "UsageError",
  "IncomingTooLargeError",
  "EncodingError",
];

/**
 * Loads `src` with a script tag into a blank page: the globals it added, the keys of
 * `Cometa` (sorted) and the names in `Cometa.transports`.
 */
function loadGlobals(page: TestPage, src: string) {
  return page.evaluate(async (src) => {
    const before = new Set(Object.getOwnPropertyNames(window));
    const script = document.createElement("script");
    script.src = src;
    await new Promise((resolve, reject) => {
      script.onload = resolve;
      script.onerror = reject;
      document.head.append(script);
    });
    // Playwright's Firefox driver defines __pw_* helpers in the page when it first needs them
    const added = Object.getOwnPropertyNames(window).filter((name) => !before.has(name) && !name.startsWith("__pw_"));
    const api = (window as unknown as { Cometa: Record<string, unknown> }).Cometa;
    return { added, exports: Object.keys(api).sort(), transports: (api.transports as { name: string }[]).map((t) => t.name) };
  }, src);
}

describeEngines("the minified IIFE in a page", (browserName) => {
  const browser = useEngine(browserName);
  let pages: PageServer;

  beforeAll(async () => {
    pages = await startPageServer();
    pages.file("/helpers.js", pageHelpersScript);
    pages.page("/index.html", helperPage());
    pages.page("/blank.html", "<!doctype html><html><head><meta charset=utf-8></head><body></body></html>");
  });
  afterAll(() => pages?.close());

  test("adds exactly one global, Cometa, with the documented exports", async () => {
    const page = await browser.open(pages.url("/blank.html"));
    const result = await loadGlobals(page, "/dist/cometa.min.js");
    expect(result.added).toEqual(["Cometa"]);
    expect(result.exports).toEqual(
      expect.arrayContaining(["Socket", "BaseSocket", "polling", "websocket", "sse", "xhrStreaming", "iframe", "jsonp", "shortPolling", "transports", ...errorClasses]),
    );
    expect(result.transports).toEqual(["polling", "websocket", "sse", "xhr-streaming", "iframe", "jsonp", "short-polling"]);
  });

  test("error classes keep their names (error.name) in the minified build", async () => {
    const page = await browser.open(pages.url("/index.html"));
    const names = await page.evaluate((classes) => {
      const api = (window as unknown as { Cometa: Record<string, new (...args: unknown[]) => Error> }).Cometa;
      const made = classes.map((name) => new api[name]!("message", "polling").name);
      let thrown = "";
      try {
        new (api.Socket as unknown as new (url: string, options: unknown) => unknown)("http://example.test", { transports: ["carrier-pigeon"] });
      } catch (error) {
        thrown = (error as Error).name;
      }
      return { made, thrown };
    }, errorClasses);
    expect(names).toEqual({ made: errorClasses, thrown: "UsageError" });
  });

  test("a refused connection is reported with the error's class name, then one close", async () => {
    const page = await browser.open(pages.url("/index.html"), { allow: [/ERR_CONNECTION_REFUSED/] });
    const events = await page.evaluate(async () => {
      // port 9 (discard) on loopback: nothing listens there, the connection is refused
      const session = cometaTest.open("http://127.0.0.1:9", { transports: ["polling"] });
      await session.event("close");
      return session.events;
    });
    expect(events.map(([event]) => event)).toEqual(["error", "close"]);
    expect(events[0]![1]).toMatchObject({ name: "TransportError", kind: "TransportError", transport: "polling" });
    expect(events[1]).toEqual(["close", "transport error", expect.objectContaining({ unsent: 0 })]);
  });
});

describeEngines("the long-polling + WebSocket IIFE in a page", (browserName) => {
  const browser = useEngine(browserName);
  let pages: PageServer;
  let engine: EngineUnderTest;

  beforeAll(async () => {
    pages = await startPageServer();
    pages.file("/helpers.js", pageHelpersScript);
    pages.page("/index.html", helperPage("cometa core", "", "/dist/cometa.core.min.js"));
    pages.page("/blank.html", "<!doctype html><html><head><meta charset=utf-8></head><body></body></html>");
    // stock engine.io: these two transports need nothing else
    engine = await startEngine({ pageOrigin: pages.origin, extended: false, host: "localhost" });
  });
  afterAll(async () => {
    await engine?.close();
    await pages?.close();
  });

  test("adds exactly one global, Cometa, with the socket, the two transports and the errors", async () => {
    const page = await browser.open(pages.url("/blank.html"));
    const result = await loadGlobals(page, "/dist/cometa.core.min.js");
    expect(result.added).toEqual(["Cometa"]);
    expect(result.exports).toEqual(
      ["BareSocket", "Socket", "polling", "protocol", "transports", "websocket", ...errorClasses].sort(),
    );
    expect(result.transports).toEqual(["polling", "websocket"]);
  });

  test("opens on long-polling, upgrades to WebSocket, and echoes text and binary in order across the upgrade", async () => {
    const page = await browser.open(pages.url("/index.html"));
    const result = await page.evaluate(async (url) => {
      const session = cometaTest.open(url, { withCredentials: true });
      const first = session.socket.transport.name;
      // written before the handshake, while upgrading and after, both ways through the swap
      session.socket.send("before open");
      await session.event("open");
      session.socket.send(new Uint8Array([1, 2, 3]));
      await session.event("upgrading");
      session.socket.send("during the upgrade");
      await session.event("upgrade");
      session.socket.send("after the upgrade");
      const echoed = await session.messagesPlain(4);
      return { first, now: session.socket.transport.name, echoed, events: session.events.map(([name]) => name) };
    }, engine.url);
    expect(result.first).toBe("polling");
    expect(result.now).toBe("websocket");
    expect(result.echoed).toEqual([
      "before open",
      { kind: "ArrayBuffer", bytes: [1, 2, 3] },
      "during the upgrade",
      "after the upgrade",
    ]);
    expect(result.events).toEqual(["open", "upgrading", "upgrade"]);
  });

  test("a transport this build lacks is refused by name with a UsageError", async () => {
    const page = await browser.open(pages.url("/index.html"));
    const thrown = await page.evaluate((url) => {
      try {
        cometaTest.open(url, { transports: ["sse"] });
        return undefined;
      } catch (error) {
        return cometaTest.plainError(error);
      }
    }, engine.url);
    expect(thrown).toMatchObject({ name: "UsageError", kind: "UsageError", message: 'unknown transport "sse"' });
  });
});
