/**
 * The ES module build as a bundler user gets it: an app that does `import { Socket } from
 * "cometa"` is bundled by esbuild (resolving the package's `exports` to dist/cometa.mjs), then
 * runs in the page.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, expect, test } from "vitest";
import { describeEngines, type EngineUnderTest, type PageServer, repoRoot, startEngine, startPageServer, useEngine } from "./support/browser.js";

const app = `
import { Socket, TransportError, CometaError } from "cometa";

export function echo(url, texts) {
  return new Promise((resolve, reject) => {
    const socket = new Socket(url, { withCredentials: true });
    const received = [];
    let upgrade;
    socket.on("upgrade", (name) => {
      upgrade = name;
      for (const text of texts) socket.send(text);
    });
    socket.on("message", (data) => {
      received.push(data);
      if (received.length === texts.length) {
        socket.close();
        resolve({ received, upgrade, transport: socket.transport.name });
      }
    });
    socket.on("close", (reason, { error }) => reject(new Error("closed early: " + reason + " " + (error && error.message))));
  });
}

export const errorsShareTheirBase = new TransportError("x", "polling") instanceof CometaError;
window.cometaApp = { echo, errorsShareTheirBase };
window.dispatchEvent(new Event("cometa-app-ready"));
`;

describeEngines("the ES module build through a bundler", (browserName) => {
  const browser = useEngine(browserName);
  let pages: PageServer;
  let engine: EngineUnderTest;
  let workDir: string;
  let inputs: string[] = [];

  beforeAll(async () => {
    // a throwaway project whose node_modules/cometa is this repository, as after `npm install cometa`
    workDir = mkdtempSync(join(tmpdir(), "cometa-esm-"));
    mkdirSync(join(workDir, "node_modules"));
    symlinkSync(repoRoot, join(workDir, "node_modules", "cometa"), "dir");
    writeFileSync(join(workDir, "app.js"), app);
    const result = await build({
      entryPoints: [join(workDir, "app.js")],
      absWorkingDir: workDir,
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2020",
      minify: true,
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    inputs = Object.keys(result.metafile!.inputs).map((input) => relative(repoRoot, join(workDir, input)));
    pages = await startPageServer();
    pages.file("/app.js", Buffer.from(result.outputFiles[0]!.contents));
    pages.page(
      "/index.html",
      `<!doctype html><html><head><meta charset="utf-8"><script type="module" src="/app.js"></script></head><body></body></html>`,
    );
    engine = await startEngine({ pageOrigin: pages.origin });
  });
  afterAll(async () => {
    await engine?.close();
    await pages?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  test('`import { Socket } from "cometa"` resolves to dist/cometa.mjs, not to the sources', () => {
    expect(inputs).toContain("dist/cometa.mjs");
    expect(inputs.filter((input) => input.startsWith("src/"))).toEqual([]);
  });

  test("the bundled app connects, upgrades and echoes", async () => {
    const page = await browser.open(pages.url("/index.html"));
    await page.waitFor(() => "cometaApp" in window, undefined, 5000);
    const texts = ["from a bundle", "</script>", "日本語 😀"];
    const result = await page.evaluate(
      ([url, texts]) => (window as unknown as { cometaApp: { echo(url: string, texts: string[]): Promise<unknown> } }).cometaApp.echo(url, texts),
      [engine.url, texts] as const,
    );
    expect(result).toEqual({ received: texts, upgrade: "websocket", transport: "websocket" });
    expect(await page.evaluate(() => (window as unknown as { cometaApp: { errorsShareTheirBase: boolean } }).cometaApp.errorsShareTheirBase)).toBe(true);
  });
});
