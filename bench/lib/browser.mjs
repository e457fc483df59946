/**
 * Chromium (Debian's, through playwright-core; it never downloads a browser): each plan runs in
 * a fresh browser context on a page served by the bench server, same origin as engine.io, with
 * the page cross-origin isolated so performance.now() has 5 µs resolution instead of 100 µs.
 */
import { withTimeout } from "./util.mjs";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export async function launchBrowser() {
  const { chromium } = await import("playwright-core");
  // launch() gives every run a fresh temporary profile of its own
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-renderer-backgrounding",
      "--disable-background-timer-throttling",
      // window.gc() between measurements, as the Node runs get global.gc()
      "--js-flags=--expose-gc",
    ],
  });
  return {
    browser,
    version: browser.version(),
    /** A page in a context of its own (no shared storage, cache or connections). */
    async newPage() {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.once("close", () => context.close().catch(() => {}));
      return page;
    },
    async close() {
      await browser.close().catch(() => {});
    },
  };
}

/** What the page reports about its clock: isolation, and the smallest step performance.now() takes. */
export async function probeClock(browser, origin) {
  const page = await browser.newPage();
  try {
    await page.goto(`${origin}/bench/page.html?lib=cometa`, { waitUntil: "load" });
    return await page.evaluate(() => {
      let step = Infinity;
      let last = performance.now();
      for (let i = 0; i < 200000 && step > 0.001; i++) {
        const t = performance.now();
        if (t !== last) {
          step = Math.min(step, t - last);
          last = t;
        }
      }
      return { crossOriginIsolated: self.crossOriginIsolated, resolutionMs: step };
    });
  } finally {
    await page.close();
  }
}

/** Runs one plan on a fresh page of its own; the page is closed whatever happens. */
export async function runInBrowser(browser, origin, lib, plan, timeoutMs) {
  const page = await browser.newPage();
  const consoleErrors = [];
  page.on("pageerror", (error) => consoleErrors.push(String(error)));
  try {
    await page.goto(`${origin}/bench/page.html?lib=${lib}`, { waitUntil: "load", timeout: 15000 });
    await page.waitForFunction(() => window.benchReady === true, undefined, { timeout: 15000 });
    const result = await withTimeout(
      page.evaluate((p) => window.benchRun(p), plan),
      timeoutMs,
      `browser ${lib} ${plan.spec.transport ?? "default"}`,
    );
    if (consoleErrors.length) result.errors.push(...consoleErrors.map((e) => `page: ${e}`));
    return result;
  } finally {
    await page.close().catch(() => {});
  }
}

/** Screenshots `html` (a self-contained page) at its #chart element. */
export async function screenshot(browser, html, file) {
  const page = await browser.newPage();
  try {
    await page.setViewportSize({ width: 1200, height: 800 });
    await page.setContent(html, { waitUntil: "load" });
    await page.locator("#chart").screenshot({ path: file });
  } finally {
    await page.close();
  }
}
