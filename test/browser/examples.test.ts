/**
 * The examples in Chromium, as users run them: the chat in two windows (two browser contexts),
 * the script-tag page and the bundled ES module app. Any console error fails (support/browser).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "vitest";
import { chromiumArgs, chromiumPath, describeBrowser, repoRoot, useBrowser } from "./support/browser.js";
// @ts-expect-error: plain .mjs examples without types
import { startChatServer } from "../../examples/chat/server.mjs";
// @ts-expect-error: plain .mjs examples without types
import { startScriptTagServer } from "../../examples/script-tag/server.mjs";
// @ts-expect-error: plain .mjs examples without types
import { startBundlerServer } from "../../examples/bundler/server.mjs";

interface Running {
  url: string;
  close(): Promise<void>;
}

const viewport = { width: 980, height: 620 };

/** The chat's transport select, and the name the server (and so the user list) knows it by. */
const forced: [choice: string, serverName: string][] = [
  ["sse", "sse"],
  ["websocket", "websocket"],
  ["xhr-streaming", "xhr-streaming"],
  ["iframe", "iframe"],
  ["jsonp", "jsonp"],
  ["short-polling", "short-polling"],
  ["polling", "polling"],
];

describeBrowser("examples in Chromium", () => {
  const browser = useBrowser();

  describeBrowser("chat", () => {
    let chat: Running;
    // Window B lives in a second browser context: no state shared with window A.
    let second: { context: BrowserContext; dir: string; problems: string[] };

    beforeAll(async () => {
      const dir = mkdtempSync(join(tmpdir(), "cometa-chat-b-"));
      const context = await chromium.launchPersistentContext(dir, {
        executablePath: chromiumPath,
        headless: true,
        args: [...chromiumArgs],
        viewport,
      });
      second = { context, dir, problems: [] };
    });
    afterAll(async () => {
      await second?.context.close();
      if (second) rmSync(second.dir, { recursive: true, force: true });
    });
    // A fresh room for every test.
    beforeEach(async () => {
      chat = await startChatServer({ port: 0 });
    });
    afterEach(async () => {
      // The windows leave before the server goes, as users close them: a page still open when
      // its server is gone would keep reattaching its session (for the resume window), and
      // report each refused try.
      for (const page of windows.splice(0)) await page.close();
      await chat?.close();
      const problems = second.problems.splice(0);
      expect(problems, "console errors or exceptions in window B").toEqual([]);
    });

    /** Window B, with the same rule as the harness's pages: any console error or exception fails. */
    async function openSecond(url: string): Promise<Page> {
      const page = await second.context.newPage();
      page.on("console", (message) => {
        if (message.type() === "error") second.problems.push(`console.error: ${message.text()}`);
      });
      page.on("pageerror", (error) => second.problems.push(`uncaught: ${error.stack ?? String(error)}`));
      await page.goto(url, { waitUntil: "domcontentloaded" });
      return page;
    }

    /** The pages of the test running, closed before its server. */
    const windows: Page[] = [];

    /** Windows A (the harness's context) and B (the second context), both joined. */
    async function twoWindows(): Promise<[Page, Page]> {
      const a = await browser.open(chat.url);
      windows.push(a);
      await a.setViewportSize(viewport);
      const b = await openSecond(chat.url);
      windows.push(b);
      // A step that hangs fails with its locator, well within the test's timeout.
      for (const page of [a, b]) page.setDefaultTimeout(8000);
      await joinAs(a, "Ada");
      await joinAs(b, "Grace");
      await a.locator("#messages li.event", { hasText: "Grace joined." }).waitFor();
      return [a, b];
    }

    async function joinAs(page: Page, name: string) {
      await page.locator("#state", { hasText: /^open$/ }).waitFor();
      await page.fill("#name", name);
      await page.press("#name", "Enter");
      await page.locator("#say").waitFor({ state: "visible" });
    }

    async function say(page: Page, text: string) {
      await page.fill("#text", text);
      await page.press("#text", "Enter");
    }

    /** Picks a transport in the select and waits until the window is open on it again. */
    async function force(page: Page, choice: string) {
      await page.selectOption("#choose", choice);
      await page.locator("#transport", { hasText: new RegExp(`^${choice}$`) }).waitFor();
      await page.locator("#state", { hasText: /^open$/ }).waitFor();
    }

    const message = (page: Page, from: string, text: string) =>
      page.locator("#messages li.message", { has: page.locator(".from", { hasText: from }) }).filter({ hasText: text });

    const userRow = (page: Page, name: string, transport: string) =>
      page.locator("#users li", { has: page.locator(".name", { hasText: new RegExp(`^${name}$`) }) }).filter({
        has: page.locator(".via", { hasText: new RegExp(`^${transport}$`) }),
      });

    test("A sends, B sees it live, as text; leaving is announced; screenshots of both windows", async () => {
      const [a, b] = await twoWindows();
      await expect.poll(() => a.locator("#users li").count()).toBe(2);

      // auto: long-polling, then the upgrade to WebSocket, shown in the header and in the list
      await a.locator("#transport", { hasText: /^websocket$/ }).waitFor();
      await userRow(b, "Ada", "websocket").waitFor();
      await force(b, "sse");
      await userRow(a, "Grace", "sse").waitFor();

      await say(a, "Hi Grace! Is the server pushing to you too?");
      await message(b, "Ada", "Hi Grace!").waitFor();
      await say(b, "It is: over Server-Sent Events here, WebSocket on your side.");
      await message(a, "Grace", "Server-Sent Events").waitFor();
      // Markup in a message is text on the other side.
      await say(a, "Then <b>this</b> should stay plain text <img src=x onerror=alert(1)>");
      const seen = message(b, "Ada", "plain text");
      await seen.waitFor();
      expect(await seen.locator(".text").textContent()).toBe("Then <b>this</b> should stay plain text <img src=x onerror=alert(1)>");
      expect(await b.locator("#messages b, #messages img").count()).toBe(0);
      await say(b, "It does. Comet, without the hacks showing.");
      await message(a, "Grace", "Comet, without").waitFor();

      // test-results/ on every run; the README's copies in docs/ with UPDATE_SCREENSHOTS=1
      const shots = process.env.UPDATE_SCREENSHOTS ? join(repoRoot, "docs") : join(repoRoot, "test-results");
      await a.screenshot({ path: join(shots, "chat-a.png") });
      await b.screenshot({ path: join(shots, "chat-b.png") });

      await b.close(); // pagehide: the page closes its session
      await a.locator("#messages li.event", { hasText: "Grace left." }).waitFor();
      await expect.poll(() => a.locator("#users li").count()).toBe(1);
    });

    test("every transport in the select carries the conversation, and switching is no leave", async () => {
      const [a, b] = await twoWindows();
      for (const [choice, serverName] of forced) {
        await force(b, choice);
        await userRow(a, "Grace", serverName).waitFor();
        await say(b, `now on ${choice}`);
        await message(a, "Grace", `now on ${choice}`).waitFor();
        await say(a, `got it on ${choice}`);
        await message(b, "Ada", `got it on ${choice}`).waitFor();
      }
      await force(a, "websocket");
      await userRow(b, "Ada", "websocket").waitFor();
      await say(a, "back on websocket");
      await message(b, "Ada", "back on websocket").waitFor();
      // The name moved to each new session with its token: nobody left or joined meanwhile.
      expect(await a.locator("#messages li.event").allTextContents()).toEqual(["You joined as Ada.", "Grace joined."]);
      expect(await b.locator("#messages li.event").allTextContents()).toEqual(["You joined as Grace."]);
      await b.close();
    });
  });

  /** Sends a line from the page's form and waits for its echo. */
  async function echoRoundTrip(page: Page, text: string) {
    await page.locator("#transport", { hasText: /^websocket$/ }).waitFor();
    await page.fill("#text", text);
    await page.press("#text", "Enter");
    await page.locator("#log li", { hasText: `echo: ${text}` }).waitFor();
  }

  describeBrowser("script-tag", () => {
    let server: Running;
    beforeAll(async () => {
      server = await startScriptTagServer({ port: 0 });
    });
    afterAll(() => server?.close());

    test("the IIFE from a <script> tag echoes", async () => {
      const page = await browser.open(server.url);
      await echoRoundTrip(page, "hello from a script tag");
    });
  });

  describeBrowser("bundler", () => {
    let server: Running;
    beforeAll(async () => {
      await promisify(execFile)(process.execPath, [join(repoRoot, "examples/bundler/build.mjs")], { cwd: repoRoot });
      server = await startBundlerServer({ port: 0 });
    });
    afterAll(() => server?.close());

    test("the esbuild bundle keeps only the transports it imports, and echoes", async () => {
      const bundle = readFileSync(join(repoRoot, "examples/bundler/dist/main.js"), "utf8");
      for (const dropped of ["xhr-streaming", "short-polling", "text/event-stream", "postMessage"]) {
        expect(bundle).not.toContain(dropped);
      }
      const page = await browser.open(server.url);
      await echoRoundTrip(page, "hello from a bundle");
    });
  });
});
