/**
 * The browser harness: Debian Chromium driven by playwright-core, a static page server on one
 * loopback origin and an engine.io server (stock or cometa/server) on another, so every test
 * is cross-origin. Shared with the examples' browser tests: keep this API stable.
 *
 * @example
 * import { describeBrowser, startEngine, startPageServer, useBrowser } from "./support/browser.js";
 *
 * describeBrowser("my page", () => {
 *   const browser = useBrowser();                     // one Chromium per file; checks every page
 *   let pages: PageServer; let engine: EngineUnderTest;
 *   beforeAll(async () => {
 *     pages = await startPageServer();                // serves /dist/ (dist/) on http://127.0.0.1:PORT
 *     engine = await startEngine({ pageOrigin: pages.origin });
 *   });
 *   afterAll(async () => { await engine?.close(); await pages?.close(); });
 *   test("echo", async () => {
 *     const page = await browser.open(pages.page("/echo.html", html));
 *     expect(await page.evaluate(() => 1 + 1)).toBe(2);
 *   });                                               // afterEach fails on console errors etc.
 * });
 *
 * Every engine (Chromium, Firefox ESR, WebKitGTK), one small interface:
 *
 *   describeEngines("my page", (name) => {           // one block per engine installed here
 *     const browser = useEngine(name);               // launched once per block
 *     test("echo", async () => {
 *       const page = await browser.open(url);        // TestPage: evaluate, waitFor, url, problems, close
 *       expect(await page.evaluate((n) => n + 1, 1)).toBe(2);
 *     });
 *   });
 *
 * API (stable): describeBrowser(name, body); useBrowser() -> { context, open(url, options?),
 * newPage(options?) }; allowConsoleErrors(page, ...patterns); pageProblems(page);
 * checkPage(page); startPageServer(options?) -> { origin, url(path), page(path, html),
 * file(path, body, type?), requests, close() }; startEngine(options) -> TestServer plus
 * { session(id), received, refusals, requests, responses }; idOf(socket); scriptTagPage();
 * constants repoRoot, distDir, chromiumPath, chromiumAvailable, chromiumArgs.
 * In-page helpers for driving sockets: ./page-helpers.ts.
 *
 * Every page opened with `open()` fails the test (in afterEach, or in `checkPage()`) on any
 * console error, uncaught exception or unhandled rejection in the page or its frames, unless
 * allowed by a pattern (`open(url, { allow: [/403/] })` or `allowConsoleErrors(page, /…/)`).
 */
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Socket as EngineSocket } from "engine.io";
import { chromium, firefox, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import type { ServerOptions as CometaServerOptions } from "../../../src/server/index.js";
import { type ServerSetup, startServer, type TestServer } from "../../support/server.js";
import { WebKitSession, webkitAvailable, withProblemRecorder } from "./webkit.js";

/** The repository root and its build output (`COMETA_DIST_DIR` serves another copy of it). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
export const distDir = process.env.COMETA_DIST_DIR || join(repoRoot, "dist");

/** Where Debian puts Chromium (`CHROMIUM_PATH` overrides it); never downloaded. */
export const chromiumPath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
/** True when the browser tests can run here. */
export const chromiumAvailable = existsSync(chromiumPath);

/** Flags that work as root in a container (see /work/shared/notes/toolchain.md). */
export const chromiumArgs: readonly string[] = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];

const skipMessage = "browser tests skipped: Chromium not found; install it with: apt-get update && apt-get install -y chromium";

/**
 * `describe` for browser tests. Without Chromium: under CI (`process.env.CI`) a failing test
 * says so; elsewhere the block is skipped and one message goes to stderr (once per run).
 */
export function describeBrowser(name: string, body: () => void): void {
  if (!chromiumAvailable && process.env.CI) {
    // CI installs Chromium (.ci/run): its absence there is a broken machine, not a skip
    describe(name, () => {
      test(`Chromium is installed at ${chromiumPath}`, () => {
        throw new Error(`CI is set and ${chromiumPath} is missing; install it with: apt-get update && apt-get install -y chromium`);
      });
    });
    return;
  }
  if (!chromiumAvailable) printSkipOnce(skipMessage, "chromium");
  describe.skipIf(!chromiumAvailable)(name, body);
}

/** Prints the skip message once per vitest run, however many files ask (workers included). */
function printSkipOnce(message: string, key: string): void {
  const marker = join(tmpdir(), `cometa-browser-skip-${key}-${process.ppid}`);
  try {
    closeSync(openSync(marker, "wx"));
  } catch {
    return;
  }
  process.stderr.write(`${message}\n`);
}

export interface OpenOptions {
  /** Console errors matching one of these do not fail the test (e.g. an expected 403). */
  allow?: RegExp[];
  /** What `goto` waits for. Default `domcontentloaded` (a forever-frame holds `load` back). */
  waitUntil?: "load" | "domcontentloaded" | "commit";
}

interface PageRecord {
  page: Page;
  problems: string[];
  allow: RegExp[];
}

export interface BrowserSession {
  /** The file's browser context (fresh profile; cookies shared between the file's pages). */
  readonly context: BrowserContext;
  /** Opens `url` in a new page whose errors fail the test; closed after the test. */
  open(url: string, options?: OpenOptions): Promise<Page>;
  /** A new blank page with the same checks (for pages built with `setContent` or `goto` later). */
  newPage(options?: OpenOptions): Promise<Page>;
}

const records = new WeakMap<Page, PageRecord>();

/**
 * Allowed on every page: Chromium fetches /favicon.ico on its own and logs a 404 for it as a
 * console error; that is the server's business, not the page's.
 */
const defaultAllowed: readonly RegExp[] = [/^console\.error: Failed to load resource: .*\/favicon\.ico\b/];

/** Lets console errors matching `patterns` through for this page (expected 403s, CORS refusals). */
export function allowConsoleErrors(page: Page, ...patterns: RegExp[]): void {
  const record = records.get(page);
  if (!record) throw new Error("allowConsoleErrors: not a page opened by useBrowser()");
  record.allow.push(...patterns);
}

/** The page's console errors, uncaught exceptions and unhandled rejections so far, minus the allowed. */
export function pageProblems(page: Page): string[] {
  const record = records.get(page);
  if (!record) throw new Error("pageProblems: not a page opened by useBrowser()");
  return record.problems.filter((problem) => !record.allow.some((pattern) => pattern.test(problem)));
}

/** Fails now if the page reported a problem (afterEach does this for every page anyway). */
export function checkPage(page: Page): void {
  expect(pageProblems(page), "errors in the page").toEqual([]);
}

/**
 * Launches Chromium once for the calling test file (beforeAll / afterAll) and checks every
 * page opened through the returned session after each test (afterEach), then closes it.
 */
export function useBrowser(): BrowserSession {
  let context: BrowserContext | undefined;
  let userDataDir: string | undefined;
  let opened: PageRecord[] = [];

  beforeAll(async () => {
    userDataDir = mkdtempSync(join(tmpdir(), "cometa-chromium-"));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      headless: true,
      args: [...chromiumArgs],
      // the wrapper script of Debian's package prints noise on stderr; not a page problem
    });
  });

  afterAll(async () => {
    await context?.close();
    context = undefined;
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  afterEach(async () => {
    const pages = opened;
    opened = [];
    const problems = pages.flatMap((record) =>
      record.problems.filter((problem) => !record.allow.some((pattern) => pattern.test(problem))),
    );
    await Promise.all(pages.map((record) => record.page.close().catch(() => undefined)));
    expect(problems, "console errors, uncaught exceptions or unhandled rejections in the page").toEqual([]);
  });

  const newPage = async (options: OpenOptions = {}): Promise<Page> => {
    if (!context) throw new Error("useBrowser(): the browser is not running (call open() inside a test)");
    const page = await context.newPage();
    const record: PageRecord = { page, problems: [], allow: [...defaultAllowed, ...(options.allow ?? [])] };
    records.set(page, record);
    opened.push(record);
    page.on("console", (message) => {
      if (message.type() !== "error") return;
      const { url, lineNumber } = message.location();
      record.problems.push(`console.error: ${message.text()}${url ? ` (${url}:${lineNumber})` : ""}`);
    });
    page.on("pageerror", (error) => record.problems.push(`uncaught: ${error.stack ?? String(error)}`));
    page.on("crash", () => record.problems.push("the page crashed"));
    // Chromium reports most unhandled rejections as pageerror; this catches every one of them
    await page.addInitScript(() => {
      window.addEventListener("unhandledrejection", (event) => {
        const reason = event.reason as { stack?: string } | undefined;
        console.error(`unhandled rejection: ${reason?.stack ?? String(event.reason)}`);
      });
    });
    return page;
  };

  return {
    get context() {
      if (!context) throw new Error("useBrowser(): the browser is not running");
      return context;
    },
    newPage,
    async open(url, options = {}) {
      const page = await newPage(options);
      await page.goto(url, { waitUntil: options.waitUntil ?? "domcontentloaded" });
      return page;
    },
  };
}

/** The browser engines the suite runs on. */
export type EngineName = "chromium" | "firefox" | "webkit";

/** Debian's Firefox ESR (`FIREFOX_PATH` overrides it), driven over WebDriver BiDi. */
export const firefoxPath = process.env.FIREFOX_PATH || "/usr/bin/firefox-esr";

/** Each engine's installation check and its Debian packages (what .ci/run installs). */
export const engineSetup: Record<EngineName, { available: boolean; packages: string }> = {
  chromium: { available: chromiumAvailable, packages: "chromium" },
  firefox: { available: existsSync(firefoxPath), packages: "firefox-esr" },
  webkit: { available: webkitAvailable, packages: "webkit2gtk-driver xvfb" },
};

/** The engines to run on: all three, or those named in `COMETA_ENGINES` (comma-separated). */
export const engineNames: readonly EngineName[] = (
  process.env.COMETA_ENGINES ? process.env.COMETA_ENGINES.split(",").map((name) => name.trim()) : ["chromium", "firefox", "webkit"]
).filter((name): name is EngineName => name in engineSetup);

/**
 * One `describe` block per engine, named `name [engine]`. A missing engine fails under CI
 * and is skipped (with one message) elsewhere, as `describeBrowser` does for Chromium.
 */
export function describeEngines(name: string, body: (engine: EngineName) => void, only: readonly EngineName[] = engineNames): void {
  for (const engine of engineNames.filter((engine) => only.includes(engine))) {
    const { available, packages } = engineSetup[engine];
    if (!available && process.env.CI) {
      describe(`${name} [${engine}]`, () => {
        test(`${engine} is installed`, () => {
          throw new Error(`CI is set and ${engine} is missing; install it with: apt-get install -y ${packages}`);
        });
      });
      continue;
    }
    if (!available) printSkipOnce(`${engine} tests skipped: not installed; install it with: apt-get install -y ${packages}`, engine);
    describe.skipIf(!available)(`${name} [${engine}]`, () => body(engine));
  }
}

/** A page in any engine: what the tests do with it. */
export interface TestPage {
  readonly engine: EngineName;
  /** The page's current URL. */
  url(): Promise<string>;
  /** Runs `fn(arg)` in the page and resolves with its (awaited) value, made plain. */
  evaluate<R>(fn: () => R): Promise<Awaited<R>>;
  evaluate<R, A>(fn: (arg: A) => R, arg: A): Promise<Awaited<R>>;
  /** Resolves once `fn(arg)` is truthy in the page (polled); rejects after `timeout` ms. */
  waitFor<A>(fn: (arg: A) => unknown, arg: A, timeout?: number): Promise<void>;
  /** Lets problems matching `patterns` through (expected 403s, refused connections). */
  allow(...patterns: RegExp[]): void;
  /** The page's (and its frames') console errors, uncaught exceptions and unhandled rejections, minus the allowed. */
  problems(): Promise<string[]>;
  close(): Promise<void>;
}

export interface EngineSession {
  readonly engine: EngineName;
  /** Opens `url` in a new page (tab) whose problems fail the test; closed after the test. */
  open(url: string, options?: OpenOptions): Promise<TestPage>;
}

/** What every page of an engine may report without failing (Chromium's own favicon fetch). */
const engineAllowed: Record<EngineName, readonly RegExp[]> = {
  chromium: defaultAllowed,
  firefox: defaultAllowed,
  webkit: [],
};

interface Driven {
  open(url: string, waitUntil: OpenOptions["waitUntil"]): Promise<Omit<TestPage, "allow" | "problems" | "engine"> & { rawProblems(): Promise<string[]> }>;
  close(): Promise<void>;
}

async function launchPlaywright(engine: "chromium" | "firefox"): Promise<Driven> {
  let browser: Browser | undefined;
  let userDataDir: string | undefined;
  let context: BrowserContext;
  if (engine === "chromium") {
    userDataDir = mkdtempSync(join(tmpdir(), "cometa-chromium-"));
    context = await chromium.launchPersistentContext(userDataDir, { executablePath: chromiumPath, headless: true, args: [...chromiumArgs] });
  } else {
    browser = await firefox.launch({ channel: "moz-firefox", executablePath: firefoxPath, headless: true });
    context = await browser.newContext();
  }
  return {
    async open(url, waitUntil) {
      const page = await context.newPage();
      const problems: string[] = [];
      watchPage(page, problems);
      await page.addInitScript(reportRejections);
      await page.goto(url, { waitUntil: waitUntil ?? "domcontentloaded" });
      return {
        url: async () => page.url(),
        evaluate: ((fn: (arg: unknown) => unknown, arg?: unknown) => page.evaluate(fn, arg)) as TestPage["evaluate"],
        waitFor: async (fn, arg, timeout = 10_000) =>
          void (await page.waitForFunction(fn as (arg: unknown) => unknown, arg as unknown, { timeout, polling: 50 })),
        rawProblems: async () => [...problems],
        close: () => page.close().catch(() => undefined),
      };
    },
    async close() {
      await context.close();
      await browser?.close();
      if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

async function launchWebKit(): Promise<Driven> {
  const session = await WebKitSession.launch();
  return {
    async open(url) {
      const handle = await session.openWindow(url);
      return {
        url: () => session.url(handle),
        evaluate: ((fn: (arg: unknown) => unknown, arg?: unknown) => session.evaluate(handle, String(fn), arg)) as TestPage["evaluate"],
        async waitFor(fn, arg, timeout = 10_000) {
          const deadline = Date.now() + timeout;
          while (!(await session.evaluate(handle, String(fn), arg))) {
            if (Date.now() > deadline) throw new Error(`waitFor: timed out after ${timeout} ms: ${String(fn)}`);
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        },
        rawProblems: () => session.problems(handle),
        close: () => session.closeWindow(handle).catch(() => undefined),
      };
    },
    close: () => session.close(),
  };
}

/**
 * Launches `engine` once for the enclosing block (beforeAll / afterAll); after each test,
 * fails on any problem in the pages opened during it, then closes them.
 */
export function useEngine(engine: EngineName): EngineSession {
  let driven: Driven | undefined;
  let opened: TestPage[] = [];

  beforeAll(async () => {
    driven = engine === "webkit" ? await launchWebKit() : await launchPlaywright(engine);
  }, 60_000);
  afterAll(async () => {
    await driven?.close();
    driven = undefined;
  });
  afterEach(async () => {
    const pages = opened;
    opened = [];
    const problems = (await Promise.all(pages.map((page) => page.problems()))).flat();
    await Promise.all(pages.map((page) => page.close()));
    expect(problems, "console errors, uncaught exceptions or unhandled rejections in the page").toEqual([]);
  });

  return {
    engine,
    async open(url, options = {}) {
      if (!driven) throw new Error(`useEngine(${engine}): the browser is not running (call open() inside a test)`);
      const page = await driven.open(url, options.waitUntil);
      const allow = [...engineAllowed[engine], ...(options.allow ?? [])];
      const testPage: TestPage = {
        engine,
        url: page.url,
        evaluate: page.evaluate,
        waitFor: page.waitFor,
        close: page.close,
        allow: (...patterns) => void allow.push(...patterns),
        problems: async () => (await page.rawProblems()).filter((problem) => !allow.some((pattern) => pattern.test(problem))),
      };
      opened.push(testPage);
      return testPage;
    },
  };
}

/** Reports what a Playwright page says is wrong into `problems`. */
function watchPage(page: Page, problems: string[]): void {
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const { url, lineNumber } = message.location();
    problems.push(`console.error: ${message.text()}${url ? ` (${url}:${lineNumber})` : ""}`);
  });
  page.on("pageerror", (error) => problems.push(`uncaught: ${error.stack ?? String(error)}`));
  page.on("crash", () => problems.push("the page crashed"));
}

/** Chromium reports most unhandled rejections as pageerror; this reports every one of them. */
function reportRejections(): void {
  window.addEventListener("unhandledrejection", (event) => {
    const reason = event.reason as { stack?: string } | undefined;
    console.error(`unhandled rejection: ${reason?.stack ?? String(event.reason)}`);
  });
}

/**
 * Every HTML page served carries the problem recorder first: WebKitGTK's driver reports no
 * console or errors, so its pages keep them on `window` (the other engines ignore it).
 */
function recorded(type: string, body: string | Buffer): string | Buffer {
  return type.startsWith("text/html") ? withProblemRecorder(String(body)) : body;
}

/** Content types of what the page server sends (every response is nosniff). */
const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

export interface PageServerOptions {
  /** URL prefix -> directory. Default `{ "/dist/": <repo>/dist }`; given mounts are added to it. */
  mounts?: Record<string, string>;
}

export interface PageServer {
  /** `http://127.0.0.1:PORT`, this server's origin (what engine servers must allow). */
  readonly origin: string;
  /** `origin + path`. */
  url(path: string): string;
  /** Serves `html` at `path` (from memory) and returns its URL. */
  page(path: string, html: string): string;
  /** Serves `body` at `path` with a content type from its extension (or `type`); returns its URL. */
  file(path: string, body: string | Buffer, type?: string): string;
  /** Paths requested so far, in order (query included). */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * A static server on an ephemeral port of 127.0.0.1: in-memory pages and files first, then
 * the mounted directories. `/favicon.ico` is a 204 so no page logs a 404 for it.
 */
export async function startPageServer(options: PageServerOptions = {}): Promise<PageServer> {
  const memory = new Map<string, { body: string | Buffer; type: string }>();
  const mounts = Object.entries({ "/dist/": distDir, ...options.mounts }).sort((a, b) => b[0].length - a[0].length);
  const requests: string[] = [];

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer) => {
    res.writeHead(status, {
      "Content-Type": type,
      "Content-Length": Buffer.byteLength(body),
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    });
    res.end(body);
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    requests.push(req.url ?? "");
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    if (path === "/favicon.ico") {
      res.writeHead(204).end();
      return;
    }
    const stored = memory.get(path);
    if (stored) return send(res, 200, stored.type, recorded(stored.type, stored.body));
    for (const [prefix, dir] of mounts) {
      if (!path.startsWith(prefix)) continue;
      const file = normalize(join(dir, path.slice(prefix.length)));
      if (!file.startsWith(normalize(dir) + sep) && file !== normalize(dir)) break;
      let target = file;
      if (existsSync(target) && statSync(target).isDirectory()) target = join(target, "index.html");
      if (!existsSync(target)) break;
      const type = contentTypes[extname(target)] ?? "application/octet-stream";
      return send(res, 200, type, recorded(type, readFileSync(target)));
    }
    send(res, 404, "text/plain; charset=utf-8", "not found");
  };

  const http = createServer(handle);
  await new Promise<void>((done) => http.listen(0, "127.0.0.1", done));
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const url = (path: string) => origin + path;
  return {
    origin,
    url,
    requests,
    page(path, html) {
      memory.set(path, { body: html, type: contentTypes[".html"]! });
      return url(path);
    },
    file(path, body, type) {
      memory.set(path, { body, type: type ?? contentTypes[extname(path)] ?? "application/octet-stream" });
      return url(path);
    },
    close: () =>
      new Promise<void>((done) => {
        http.closeAllConnections();
        http.close(() => done());
      }),
  };
}

export interface EngineOptions {
  /** The page origin allowed by CORS (with credentials) and by cometa/server's `allowedOrigins`. */
  pageOrigin: string;
  /** Use cometa/server (default) or a stock engine.io server. */
  extended?: boolean;
  /** The server's transports (engine.io's option, with cometa/server's names). */
  transports?: CometaServerOptions["transports"];
  /** More cometa/server options (recycleBytes, paddingBytes, ...). */
  server?: Omit<CometaServerOptions, "transports" | "allowedOrigins">;
  /**
   * The host name in `url`. `"127.0.0.1"` (default): another port of the page server's host,
   * cross-origin but same-site. `"localhost"`: cross-site too (the iframe becomes an
   * out-of-process frame, cookies become third-party). The server listens on 127.0.0.1 either way.
   */
  host?: "127.0.0.1" | "localhost";
  /** What each new server-side socket does; the default echoes every message back. */
  onConnection?: (socket: EngineSocket) => void;
}

export interface EngineUnderTest extends TestServer {
  /** The server side of session `id` (engine.io's typings keep `Socket.id` private). */
  session(id: string): EngineSocket | undefined;
  /** Messages each session received, by session id, in arrival order (Buffers for binary). */
  received: Map<string, unknown[]>;
  /** engine.io `connection_error`s (refusals), in order: `{ code, message, url }`. */
  refusals: { code: number; message: string; url: string }[];
  /** HTTP requests as they arrived (WebSocket upgrades as method `UPGRADE`), in order. */
  requests: { method: string; url: string }[];
  /** HTTP statuses the server answered, in order of completion, with the request URL. */
  responses: { status: number; method: string; url: string }[];
}

/**
 * An engine.io server on an ephemeral port of 127.0.0.1 (so another origin than the page
 * server's): cometa/server with `allowedOrigins: [pageOrigin]`, or stock; CORS for the page
 * with credentials either way. Records what sessions received and every refusal.
 */
export async function startEngine(options: EngineOptions): Promise<EngineUnderTest> {
  const received = new Map<string, unknown[]>();
  const onConnection =
    options.onConnection ??
    ((socket: EngineSocket) => socket.on("message", (data: unknown) => socket.send(data as string)));
  const cors = { origin: options.pageOrigin, credentials: true };
  // engine.io options (pingInterval, cookie, ...) go to `server`; they reach engine.io too
  const transports = options.transports ? { transports: options.transports } : {};
  const server = await startServer(
    options.extended === false
      ? ({ engine: "stock", cors, ...options.server, ...transports } as ServerSetup)
      : { cors, allowedOrigins: [options.pageOrigin], ...options.server, ...transports },
    (socket) => {
      const log: unknown[] = [];
      received.set(idOf(socket), log);
      socket.on("message", (data: unknown) => log.push(data));
      onConnection(socket);
    },
  );
  const refusals: EngineUnderTest["refusals"] = [];
  server.engine.on("connection_error", (error: { code: number; message: string; req: IncomingMessage }) =>
    refusals.push({ code: error.code, message: error.message, url: error.req.url ?? "" }),
  );
  const responses: EngineUnderTest["responses"] = [];
  const requests: EngineUnderTest["requests"] = [];
  server.http.prependListener("request", (req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "" });
    res.on("finish", () => responses.push({ status: res.statusCode, method: req.method ?? "", url: req.url ?? "" }));
  });
  server.http.prependListener("upgrade", (req: IncomingMessage, socket: import("node:stream").Duplex) => {
    requests.push({ method: "UPGRADE", url: req.url ?? "" });
    // a refused WebSocket is answered on the raw socket: read the status line it writes
    const write = socket.write.bind(socket) as (chunk: unknown, ...rest: unknown[]) => boolean;
    let seen = false;
    (socket as unknown as { write: typeof write }).write = (chunk: unknown, ...rest: unknown[]) => {
      if (!seen) {
        seen = true;
        const status = /^HTTP\/1\.1 (\d{3})/.exec(String(chunk))?.[1];
        if (status) responses.push({ status: Number(status), method: "UPGRADE", url: req.url ?? "" });
      }
      return write(chunk, ...rest);
    };
  });
  if (options.host === "localhost") server.url = server.url.replace("//127.0.0.1:", "//localhost:");
  const session = (id: string) => server.sessions.find((socket) => idOf(socket) === id);
  return Object.assign(server, { session, received, refusals, requests, responses });
}

/** A server-side session's id. */
export function idOf(socket: EngineSocket): string {
  return (socket as unknown as { id: string }).id;
}

/** The page shell most tests use: the minified IIFE through a plain `<script src>`. */
export function scriptTagPage(title = "cometa", body = ""): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>
<script src="/dist/cometa.min.js"></script></head><body>${body}</body></html>`;
}
