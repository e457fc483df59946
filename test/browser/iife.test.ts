/**
 * The minified IIFE as a `<script src>` user meets it: one global, the documented API, and
 * errors that say what they are.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { describeBrowser, type PageServer, startPageServer, useBrowser } from "./support/browser.js";
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
];

describeBrowser("the minified IIFE in a page", () => {
  const browser = useBrowser();
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
    const result = await page.evaluate(async () => {
      const before = new Set(Object.getOwnPropertyNames(window));
      const script = document.createElement("script");
      script.src = "/dist/cometa.min.js";
      await new Promise((resolve, reject) => {
        script.onload = resolve;
        script.onerror = reject;
        document.head.append(script);
      });
      const added = Object.getOwnPropertyNames(window).filter((name) => !before.has(name));
      const api = (window as unknown as { Cometa: Record<string, unknown> }).Cometa;
      return { added, exports: Object.keys(api).sort(), transports: (api.transports as { name: string }[]).map((t) => t.name) };
    });
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
