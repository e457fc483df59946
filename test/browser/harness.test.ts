/**
 * The harness itself: every kind of page problem is caught (so a test cannot pass over an
 * error it did not look for), and pages are cross-origin to the engine server.
 */
import { afterAll, beforeAll, expect, test } from "vitest";
import { describeEngines, type EngineUnderTest, type PageServer, startEngine, startPageServer, useEngine } from "./support/browser.js";

describeEngines("the browser harness", (name) => {
  const browser = useEngine(name);
  let pages: PageServer;
  let other: PageServer;
  let engine: EngineUnderTest;

  beforeAll(async () => {
    pages = await startPageServer();
    other = await startPageServer();
    pages.page("/blank.html", "<!doctype html><html><head><meta charset=utf-8></head><body></body></html>");
    other.page("/throws.html", "<!doctype html><meta charset=utf-8><script>throw new Error('thrown in a cross-origin frame')</script>");
    engine = await startEngine({ pageOrigin: pages.origin });
  });
  afterAll(async () => {
    await engine?.close();
    await other?.close();
    await pages?.close();
  });

  test("catches console errors, uncaught exceptions and unhandled rejections, in frames too", async () => {
    const page = await browser.open(pages.url("/blank.html"));
    await page.evaluate(async (frameUrl) => {
      console.error("a console error");
      setTimeout(() => {
        throw new Error("an uncaught exception");
      });
      void Promise.reject(new Error("an unhandled rejection"));
      const frame = document.createElement("iframe");
      frame.src = frameUrl;
      await new Promise((resolve) => {
        frame.onload = resolve;
        document.body.append(frame);
      });
      await new Promise((resolve) => setTimeout(resolve, 0));
    }, other.url("/throws.html"));
    // the frame's exception is reported asynchronously (another renderer): wait for it
    await expect.poll(async () => (await page.problems()).join("\n"), { timeout: 5000 }).toContain("thrown in a cross-origin frame");
    const problems = (await page.problems()).join("\n");
    expect(problems).toContain("console.error: a console error");
    expect(problems).toContain("an uncaught exception");
    expect(problems).toContain("an unhandled rejection");
    page.allow(/./s);
    expect(await page.problems()).toEqual([]);
  });

  test("the page server and the engine server are different origins on loopback ports", () => {
    const page = new URL(pages.origin);
    const server = new URL(engine.url);
    expect(page.origin).not.toBe(server.origin);
    expect(page.hostname).toBe("127.0.0.1");
    expect(Number(page.port)).toBeGreaterThan(0);
    expect(Number(server.port)).toBeGreaterThan(0);
  });
});
