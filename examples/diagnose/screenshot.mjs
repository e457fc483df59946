// The README's picture of the page (docs/diagnose.png), taken in Chromium with playwright-core:
//
//   node examples/diagnose/screenshot.mjs [page URL] [file]
//
// Without a URL it starts the example and shoots it as it is; the README's was taken behind an
// nginx that does not forward Upgrade headers (test/network/support/nginx.ts, noUpgradeHeaders),
// so that it shows a failure. CHROMIUM_PATH: the browser (default /usr/bin/chromium).
import { chromium } from "playwright-core";
import { startDiagnoseServer } from "./server.mjs";

const [given, file = "docs/diagnose.png"] = process.argv.slice(2);
const server = given ? undefined : await startDiagnoseServer({ port: 0 });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1180, height: 800 }, deviceScaleFactor: 1 });
  await page.goto(`${given || server.url}?run&timeout=3000`);
  await page.waitForFunction(() => window.report, null, { timeout: 60_000 });
  // the websocket row's trace open: the failure and why, as a user sees it after one click
  await page.locator('tr[data-transport="websocket"] details').evaluate((details) => (details.open = true));
  await page.screenshot({ path: file, fullPage: true });
  // the report shown, for the README beside the picture
  console.log(await page.evaluate(() => window.report));
} finally {
  await browser.close();
  await server?.close();
}
