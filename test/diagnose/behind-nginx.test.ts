/**
 * examples/diagnose in Chromium, behind a real nginx configured as the proxies users meet: the
 * page (dist/diagnose.min.js) must say which transport failed and why, in its table and in the
 * report, and where the default ladder ended. Page and engine.io server are one origin, the
 * proxy's, as when the example is deployed behind it.
 */
import type { Page } from "playwright-core";
import { afterEach, expect, test } from "vitest";
import { startDiagnoseServer } from "../../examples/diagnose/server.mjs";
import type { Diagnosis } from "../../src/diagnose.js";
import { describeBrowser, useBrowser } from "../browser/support/browser.js";
import { findNginx, type Nginx, proxyConfigs, startNginx } from "../network/support/nginx.js";

type DiagnoseServer = Awaited<ReturnType<typeof startDiagnoseServer>>;

/** What Chromium logs on its own for the failures under test; the page itself logs nothing. */
const networkNoise = [
  // a WebSocket handshake the proxy answered with 400
  /WebSocket connection to .* failed/,
  /Failed to load resource: the server responded with a status of 400/,
  // a JSONP poll in flight as its session closes is answered with engine.io's JSON error
  /Refused to execute script from .* because its MIME type \('application\/json'\) is not executable/,
];

const withNginx = test.skipIf(!findNginx() && !process.env.CI);

describeBrowser("examples/diagnose behind nginx", () => {
  const browser = useBrowser();
  let server: DiagnoseServer | undefined;
  let nginx: Nginx | undefined;

  afterEach(async () => {
    await nginx?.stop();
    await server?.close();
    nginx = server = undefined;
  });

  /** The example behind nginx configured with `location`; the page run with these timeouts. */
  async function run(location: string, timeout: number, echoTimeout: number): Promise<{ page: Page; diagnosis: Diagnosis; report: string }> {
    let proxyOrigin = "";
    server = await startDiagnoseServer({ port: 0, origins: (origin: string) => origin === proxyOrigin });
    nginx = await startNginx(server.port, location);
    proxyOrigin = nginx.url;
    const page = await browser.open(`${nginx.url}/?run&timeout=${timeout}&echoTimeout=${echoTimeout}`, { allow: networkNoise });
    await page.waitForFunction(() => (window as unknown as { report?: string }).report, null, { timeout: 25_000 });
    const { diagnosis, report } = await page.evaluate(() => {
      const { diagnosis, report } = window as unknown as { diagnosis: Diagnosis; report: string };
      return { diagnosis, report };
    });
    return { page, diagnosis, report };
  }

  const attempt = (diagnosis: Diagnosis, name: string) => diagnosis.attempts.find((entry) => entry.name === name)!;
  /** The report's line for `name` and the lines under it, up to the next transport's. */
  const section = (report: string, name: string) => {
    const lines = report.split("\n");
    const start = lines.findIndex((line) => line.startsWith(`${name} `));
    const end = lines.findIndex((line, index) => index > start && /^\S/.test(line));
    return lines.slice(start, end < 0 ? undefined : end).join("\n");
  };

  withNginx("a proxy that drops Upgrade headers: websocket fails with its error, the ladder ends on sse", async () => {
    const { page, diagnosis, report } = await run(proxyConfigs.noUpgradeHeaders, 3000, 2500);
    const websocket = attempt(diagnosis, "websocket");
    expect(websocket.opened).toBe(false);
    expect(websocket.error?.name).toBe("TransportError");
    expect(section(report, "websocket")).toMatch(/^websocket +FAILED {2}TransportError: /);
    expect(section(report, "websocket")).toContain(websocket.error!.message);
    // and the trace line where the transport said why
    expect(section(report, "websocket")).toMatch(/\[transport\] [^\n]*failed[^\n]*websocket connection failed/);
    for (const name of ["polling", "sse", "xhr-streaming", "iframe", "jsonp", "short-polling"]) {
      expect([name, attempt(diagnosis, name).echo]).toEqual([name, "echoed"]);
    }
    expect(diagnosis.ladder).toBe("sse");
    expect(report).toContain("Ladder:      ended on sse\n");
    expect(attempt(diagnosis, "ladder").upgradeErrors.map((error) => error.message)).toEqual([expect.stringMatching(/^upgrade to websocket failed: /)]);
    expect(section(report, "ladder")).toMatch(/UpgradeError: upgrade to websocket failed: /);
    // the table says the same
    const row = await page.locator('tr[data-transport="websocket"]').innerText();
    expect(row).toContain(`TransportError: ${websocket.error!.message}`);
  });

  withNginx("a proxy that buffers and compresses streams: the streams time out with HandshakeError, the ladder ends on polling", async () => {
    const { diagnosis, report } = await run(proxyConfigs.gzipStreams, 1500, 2500);
    for (const name of ["sse", "xhr-streaming", "iframe"]) {
      const streamed = attempt(diagnosis, name);
      expect([name, streamed.opened, streamed.error?.name]).toEqual([name, false, "HandshakeError"]);
      expect(section(report, name)).toMatch(new RegExp(`^${name} +FAILED {2}HandshakeError: no handshake within 1500 ms`));
    }
    expect(attempt(diagnosis, "websocket").error?.name).toBe("TransportError");
    expect(diagnosis.ladder).toBe("polling");
    expect(report).toContain("Ladder:      ended on polling\n");
  });

  withNginx("the recommended proxy: every transport opens and echoes, the ladder ends on websocket, no session is left open", async () => {
    const { diagnosis, report } = await run(proxyConfigs.recommended, 3000, 2500);
    expect(diagnosis.attempts.filter((entry) => entry.echo !== "echoed").map((entry) => entry.name)).toEqual([]);
    expect(diagnosis.ladder).toBe("websocket");
    expect(report).toMatch(/^Working: {5}polling, websocket, sse, xhr-streaming, iframe, jsonp, short-polling$/m);
    // every session the diagnosis opened was closed by it
    await expect.poll(() => server!.engine.clientsCount).toBe(0);
  });
});
