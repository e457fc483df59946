/**
 * Resumable sessions in real browsers against cometa/server, messages flowing both ways all
 * along: Chromium taken offline for seconds (DevTools network emulation, through Playwright's
 * `setOffline`); and in every engine, WebSockets killed at the fault proxy just after each
 * upgrade, and a chaos run of cuts, resets and black holes on the forever-frame and on JSONP.
 * Each asserts the same: no `close`, one server session, every message exactly once and in
 * order on both sides, and no answer without CORS headers.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket as EngineSocket } from "engine.io";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { type FaultProxy, startFaultProxy } from "../network/support/fault-proxy.js";
import { faultSummary, startChaos } from "../network/support/chaos.js";
import { measure, printMeasurements } from "../network/support/scenario.js";
import { deliveryReport, exactly, runSeed, seededRandom } from "../support/delivery.js";
import { within } from "../support/events.js";
import {
  allowConsoleErrors,
  describeBrowser,
  describeEngines,
  type EngineUnderTest,
  idOf,
  type PageServer,
  scriptTagPage,
  startEngine,
  startPageServer,
  useBrowser,
  useEngine,
} from "./support/browser.js";

/** The IIFE's global, in the page. */
declare const Cometa: typeof import("../../src/index.js");

/** What the page keeps of its socket's life. */
interface PageState {
  socket: InstanceType<typeof Cometa.Socket>;
  messages: string[];
  events: string[];
  closes: string[];
  sent: number;
  /** The server's heartbeats received. */
  pings: number;
}
const state = () => (globalThis as unknown as { state: PageState }).state;

const seed = runSeed();
const heartbeat = { pingInterval: 300, pingTimeout: 200 };
const portOf = (url: string) => Number(new URL(url).port);
const isWebSocket = (head: string) => head.includes("transport=websocket");
/** What the browsers log, on their own, for requests a fault or a refusal ended. */
const networkNoise = [
  // Firefox
  /Cross-Origin Request Blocked/,
  /NetworkError/,
  /can.t establish a connection to the server at/,
  /The connection to .* was interrupted/,
  /Loading failed for the <script> with source/,
  /blocked due to MIME type/,
  // Chromium
  /Failed to load resource/,
  /net::ERR_/,
  /WebSocket connection to .* failed/,
  // a JSONP request refused while the session reattaches gets engine.io's JSON error as a script
  /Refused to execute script from .* because its MIME type \('application\/json'\) is not executable/,
  // Chromium says this of a cross-origin XHR whose connection a fault ended before an answer;
  // that the server itself never answered without the header is checked on its side
  /has been blocked by CORS policy: No 'Access-Control-Allow-Origin' header is present/,
];

/** A page as the helpers drive it: Playwright's own (Chromium, for its DevTools) or any engine's. */
interface DrivenPage {
  evaluate<R, A>(fn: (arg: A) => R, arg: A): Promise<Awaited<R>>;
  waitFor<A>(fn: (arg: A) => unknown, arg: A, timeout: number): Promise<void>;
}

/** What the page's socket did, read in the page. */
const pageState = (page: DrivenPage) =>
  page.evaluate(() => {
    const s = (globalThis as unknown as { state: PageState }).state;
    return {
      state: s.socket.state,
      transport: s.socket.transport.name,
      resumable: s.socket.resumable,
      messages: s.messages,
      sent: s.sent,
      pings: s.pings,
      events: s.events,
      closes: s.closes,
    };
  }, undefined);

/** CHAOS_TRACE=1: both sides' trace lines in a failure's message. */
const tracing = Boolean(process.env.CHAOS_TRACE);

/**
 * One line per request as it arrives and as it is answered: method, the resumption and JSONP
 * parameters, then status, the callback called and the server's messages (`s N`) it carries.
 */
function traceRequests(http: { prependListener(event: "request", listener: (req: IncomingMessage, res: ServerResponse) => void): unknown }): string[] {
  const lines: string[] = [];
  let count = 0;
  http.prependListener("request", (req, res) => {
    const id = ++count;
    const query = new URL(req.url ?? "", "http://127.0.0.1").searchParams;
    const what = ["transport", "j", "ack", "reattach"].filter((name) => query.has(name)).map((name) => `${name}=${query.get(name)}`);
    lines.push(`${Date.now()} server #${id} ${req.method} ${what.join(" ")}`);
    const body: string[] = [];
    const keep = (chunk: unknown) => {
      if (typeof chunk === "string" || Buffer.isBuffer(chunk)) body.push(String(chunk));
    };
    const write = res.write as (...args: unknown[]) => boolean;
    const end = res.end as (...args: unknown[]) => ServerResponse;
    res.write = ((chunk: unknown, ...rest: unknown[]) => (keep(chunk), write.call(res, chunk, ...rest))) as typeof res.write;
    res.end = ((chunk: unknown, ...rest: unknown[]) => (keep(chunk), end.call(res, chunk, ...rest))) as typeof res.end;
    res.on("close", () => {
      const text = body.join("");
      const numbers = [...text.matchAll(/s (\d+)/g)].map((match) => match[1]);
      const callback = /^___eio\[(\d+)\]/.exec(text);
      const carried = numbers.length > 0 ? ` s ${numbers[0]}..${numbers.at(-1)} (${numbers.length})` : "";
      const controls = [...text.matchAll(/6[as]\d+/g)].map((match) => match[0]).join(",");
      const answer = res.writableFinished ? `${res.statusCode}${callback ? ` ___eio[${callback[1]}]` : ""}${carried} ${controls}` : "cut";
      lines.push(`${Date.now()} server #${id} -> ${answer}${!numbers.length && text.length < 60 ? ` ${JSON.stringify(text)}` : ""}`);
    });
  });
  return lines;
}

const resumes = (events: string[]) => events.filter((event) => event.startsWith("resumed "));

/**
 * The servers, pages and checks of one describe block: `openPage` opens the test page (with its
 * problems checked after each test by the block's browser session).
 */
function resumeSuite(title: string, openPage: (url: string) => Promise<DrivenPage>) {
  let pages: PageServer;
  let engine: EngineUnderTest | undefined;
  let proxy: FaultProxy | undefined;
  /** Answers to the page's cross-origin requests that went without Access-Control-Allow-Origin. */
  let withoutCors: string[] = [];
  /** The server session's events: detached, reattached, upgrade, close. */
  let serverLog: string[] = [];
  /** With CHAOS_TRACE=1: the server's requests and the session's events, one line each. */
  let serverTrace: string[] = [];

  beforeAll(async () => {
    pages = await startPageServer();
    pages.page("/index.html", scriptTagPage());
  });
  afterEach(async () => {
    await proxy?.close();
    await engine?.close();
    proxy = engine = undefined;
  });
  afterAll(async () => {
    await pages?.close();
    printMeasurements(`${title} (CHAOS_SEED=${seed}):`);
  });

  /** cometa/server with a short heartbeat and a 20 s resume window, no echo; through the fault proxy when `proxied`. */
  async function serve(proxied: boolean) {
    engine = await startEngine({
      pageOrigin: pages.origin,
      server: { ...heartbeat, resume: { window: 20_000 } },
      onConnection: () => {},
    });
    // the server's side of the CORS noise: every answer it finished carries the header
    withoutCors = [];
    engine.http.prependListener("request", (req: IncomingMessage, res: ServerResponse) => {
      if (!req.headers.origin) return;
      res.on("finish", () => {
        if (!res.getHeader("access-control-allow-origin")) withoutCors.push(`${req.method} ${res.statusCode} ${req.url}`);
      });
    });
    serverTrace = tracing ? traceRequests(engine.http) : [];
    if (proxied) proxy = await startFaultProxy(portOf(engine.url));
    return { engine, proxy, url: proxy ? proxy.url : engine.url };
  }

  /** Opens a socket in a new page and records its life on `state`. */
  async function open(url: string, options: Record<string, unknown>): Promise<{ page: DrivenPage; session: EngineSocket }> {
    const page = await openPage(pages.url("/index.html"));
    const id = await page.evaluate(
      async ([url, options, tracing]) => {
        const traced: string[] = [];
        (globalThis as unknown as { traced: string[] }).traced = traced;
        const trace = tracing
          ? (topic: string, text: string, data?: unknown) => void traced.push(`${Date.now()} page ${topic}: ${text} ${data ? JSON.stringify(data) : ""}`)
          : undefined;
        const socket = new Cometa.Socket(url, { withCredentials: true, trace, ...options });
        const state: PageState = { socket, messages: [], events: [], closes: [], sent: 0, pings: 0 };
        (globalThis as unknown as { state: PageState }).state = state;
        socket.on("message", (data) => state.messages.push(data as string));
        socket.on("ping", () => state.pings++);
        socket.on("resuming", (error) => state.events.push(`resuming ${error.name}`));
        socket.on("resumed", (transport) => state.events.push(`resumed ${transport}`));
        socket.on("upgrade", (transport) => state.events.push(`upgrade ${transport}`));
        socket.on("upgradeError", (error) => state.events.push(`upgradeError ${error.transport}`));
        socket.on("close", (reason, details) =>
          state.closes.push(`${reason}: ${details.error ? `${details.error.name}: ${details.error.message}` : "-"} (${details.unsent.length} unsent)`),
        );
        await new Promise<void>((resolve) => socket.once("open", () => resolve()));
        return socket.id!;
      },
      [url, options, tracing] as const,
    );
    const session = engine!.session(id);
    if (!session) throw new Error(`no server session ${id}`);
    serverLog = [];
    session.on("detached", (reason: string) => serverLog.push(`detached: ${reason}`));
    session.on("reattached", (transport: string) => serverLog.push(`reattached: ${transport}`));
    session.on("upgrade", (transport: { name: string }) => serverLog.push(`upgrade: ${transport.name}`));
    if (tracing) {
      const line = (text: string) => serverTrace.push(`${Date.now()} server session ${text}`);
      session.on("detached", (reason: string) => line(`detached: ${reason}`));
      session.on("reattached", (transport: string) => line(`reattached: ${transport}`));
      session.on("close", (reason: string, description: unknown) => line(`close: ${reason} ${String(description)}`));
    }
    session.on("close", (reason: string, description: unknown) =>
      serverLog.push(`close: ${reason}${description instanceof Error ? ` (${description.name}: ${description.message})` : ""}`),
    );
    return { page, session };
  }

  /** What the page's socket and the server's session went through, for failure messages. */
  async function status(page: DrivenPage): Promise<string> {
    const s = await pageState(page);
    const page_ = { ...s, messages: s.messages.length, events: s.events.slice(-12) };
    const received = engine ? [...engine.received.values()].map((list) => list.length) : [];
    return `page ${JSON.stringify(page_)}; server received ${JSON.stringify(received)}, session ${JSON.stringify(serverLog.slice(-12))}${await traces(page)}`;
  }

  /** With CHAOS_TRACE=1: the last lines of the page's trace and of the server's requests, merged in time. */
  async function traces(page: DrivenPage): Promise<string> {
    if (!tracing) return "";
    const pageTrace = await page.evaluate(() => (globalThis as unknown as { traced?: string[] }).traced ?? [], undefined);
    const lines = [...serverTrace, ...pageTrace].sort((a, b) => Number(a.split(" ", 1)[0]) - Number(b.split(" ", 1)[0]));
    return `\ntrace (ms, side, what):\n${lines.slice(-150).join("\n")}`;
  }

  /** Resolves once `fn(arg)` holds in the page; fails after `timeout` ms with both sides' status. */
  async function waitInPage<A>(page: DrivenPage, fn: (arg: A) => unknown, arg: A, timeout: number, what: string): Promise<void> {
    try {
      await page.waitFor(fn, arg, timeout);
    } catch {
      throw new Error(`${what} (not within ${timeout} ms): ${await status(page)}`);
    }
  }

  /**
   * `count` messages each way, spread over `duration` ms: the page sends `c i`, the server `s i`.
   * `check()` waits for the last one each way (bounded), then checks the whole run.
   */
  async function flow(page: DrivenPage, session: EngineSocket, count: number, duration: number, replay: string) {
    const up = Array.from({ length: count }, (_, i) => `c ${i}`);
    const down = Array.from({ length: count }, (_, i) => `s ${i}`);
    await page.evaluate(
      ([count, duration]) => {
        const startedAt = Date.now();
        const timer = setInterval(() => {
          const s = (globalThis as unknown as { state: PageState }).state;
          const due = Math.min(count, Math.ceil(((Date.now() - startedAt) / duration) * count));
          // a closed socket takes no more (its close is what the test reports)
          if (s.socket.state === "closed") return clearInterval(timer);
          while (s.sent < due) s.socket.send(`c ${s.sent++}`);
          if (s.sent >= count) clearInterval(timer);
        }, 20);
      },
      [count, duration] as const,
    );
    const startedAt = Date.now();
    let sent = 0;
    const serverSending = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(count, Math.ceil(((Date.now() - startedAt) / duration) * count));
        while (sent < due && session.readyState === "open") session.send(down[sent++]!);
        if (session.readyState !== "open") sent = count;
        if (sent < count) return;
        clearInterval(timer);
        resolve();
      }, 20);
    });
    return {
      /** Waits for the last message each way, then for two more heartbeats (late copies), and checks. */
      async check(extraMs = 30_000) {
        await serverSending;
        const upstream = () => engine!.received.get(idOf(session)) ?? [];
        // the last message, or a close
        await waitInPage(
          page,
          (last) => {
            const s = (globalThis as unknown as { state: PageState }).state;
            return s.messages.includes(last) || s.closes.length > 0;
          },
          down.at(-1)!,
          extraMs,
          `the page did not get the last message (${replay})`,
        );
        if ((await pageState(page)).closes.length > 0) throw new Error(`the page's socket closed (${replay}): ${await status(page)}`);
        await within(
          (async () => {
            while (!upstream().includes(up.at(-1)!)) await new Promise((resolve) => setTimeout(resolve, 20));
          })(),
          extraMs,
          "the server did not get the last message",
        ).catch(async (error: Error) => {
          throw new Error(`${error.message} (${replay}): ${await status(page)}`);
        });
        // two heartbeats more (the session may still be resuming from the last fault), for late copies
        const { pings } = await pageState(page);
        await waitInPage(
          page,
          (pings) => {
            const s = (globalThis as unknown as { state: PageState }).state;
            return s.pings >= pings + 2 || s.closes.length > 0;
          },
          pings,
          10_000,
          `no heartbeat after everything arrived (${replay})`,
        );
        const result = await pageState(page);
        const trace = await traces(page);
        expect(result.closes, `the page's socket closed (${replay})${trace}`).toEqual([]);
        expect(deliveryReport(up, upstream()), `page to server (${replay})${trace}`).toEqual(exactly(count));
        expect(deliveryReport(down, result.messages), `server to page (${replay})${trace}`).toEqual(exactly(count));
        expect(engine!.sessions, `sessions (${replay})`).toHaveLength(1);
        expect(serverLog.filter((event) => event.startsWith("close")), `the server closed the session (${replay})`).toEqual([]);
        expect(withoutCors, `answers without CORS headers (${replay})`).toEqual([]);
        expect(result.resumable).toBe(true);
        return result;
      },
    };
  }

  return { serve, open, flow, waitInPage };
}

describeBrowser("resumable sessions in Chromium, offline", () => {
  const browser = useBrowser();
  const suite = resumeSuite("resumable sessions in Chromium, offline", async (url) => {
    const page = await browser.open(url);
    allowConsoleErrors(page, ...networkNoise);
    return {
      evaluate: ((fn: (arg: unknown) => unknown, arg: unknown) => page.evaluate(fn, arg)) as DrivenPage["evaluate"],
      waitFor: async (fn, arg, timeout) => void (await page.waitForFunction(fn as (arg: unknown) => unknown, arg as unknown, { timeout, polling: 50 })),
    };
  });
  afterEach(() => browser.context.setOffline(false));

  test("offline for 3 seconds mid-stream: the session resumes, nothing is lost or doubled", { timeout: 60_000 }, async () => {
    const { url } = await suite.serve(false);
    const { page, session } = await suite.open(url, {});
    const hasEvent = (prefix: string) => (globalThis as unknown as { state: PageState }).state.events.some((event) => event.startsWith(prefix));
    await suite.waitInPage(page, hasEvent, "upgrade ", 10_000, "no upgrade");
    const run = await suite.flow(page, session, 1000, 6000, "offline");
    // mid-stream, the browser loses the network
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const offlineAt = Date.now();
    await browser.context.setOffline(true);
    await suite.waitInPage(page, hasEvent, "resuming", 5000, "no resuming while offline");
    const detected = Date.now() - offlineAt;
    await new Promise((resolve) => setTimeout(resolve, 3000 - detected));
    const onlineAt = Date.now();
    await browser.context.setOffline(false);
    await suite.waitInPage(page, hasEvent, "resumed", 10_000, "no resumed once online");
    const back = Date.now() - onlineAt;
    const result = await run.check();
    measure("offline 3 s", "break detected after going offline", detected);
    measure("offline 3 s", "resumed after going online", back);
    measure("offline 3 s", "events", result.events.join(", "), "");
  });
});

describeEngines("resumable sessions through the fault proxy", (browserName) => {
  const browser = useEngine(browserName);
  const suite = resumeSuite(`resumable sessions through the fault proxy [${browserName}]`, async (url) => {
    const page = await browser.open(url);
    page.allow(...networkNoise);
    return { evaluate: (fn, arg) => page.evaluate(fn, arg), waitFor: (fn, arg, timeout) => page.waitFor(fn, arg, timeout) };
  });

  test("WebSockets killed at the proxy right after each upgrade: resumed on polling, then upgraded to another transport; websocket not probed after its second break", { timeout: 60_000 }, async () => {
    const { url, proxy } = await suite.serve(true);
    // a WebSocket connection dies once 3 KB went through: past the upgrade, a little way into the stream
    let websockets = 0;
    proxy!.when(
      (head) => {
        if (!isWebSocket(head)) return false;
        websockets++;
        return true;
      },
      { dropAfter: 3000 },
    );
    const { page, session } = await suite.open(url, {});
    const run = await suite.flow(page, session, 1000, 6000, `websocket killed, ${browserName}`);
    const result = await run.check();
    const upgrades = result.events.filter((event) => event.startsWith("upgrade "));
    // the WebSocket was upgraded to, and broke, twice; never probed a third time
    expect(upgrades.slice(0, 2)).toEqual(["upgrade websocket", "upgrade websocket"]);
    expect(websockets).toBe(2);
    expect(resumes(result.events).length).toBeGreaterThanOrEqual(2);
    expect(["sse", "xhr-streaming", "iframe"]).toContain(result.transport);
    measure(`websocket killed after upgrade, ${browserName}`, "events", result.events.join(", "), "");
    measure(`websocket killed after upgrade, ${browserName}`, "ended on", result.transport, "");
  });

  for (const [index, name] of (["iframe", "jsonp"] as const).entries()) {
    test(`${name} forced, 8 s of cuts, resets and black holes: 1,000 messages each way exactly once, in order`, { timeout: 75_000 }, async () => {
      const caseSeed = seed + index;
      const { url, proxy } = await suite.serve(true);
      const { page, session } = await suite.open(url, { transports: [name] });
      const run = await suite.flow(page, session, 1000, 7000, `CHAOS_SEED=${seed}, ${name}, ${browserName}`);
      const chaos = startChaos(proxy!, seededRandom(caseSeed), { duration: 8000 });
      await chaos.done;
      const result = await run.check();
      expect(resumes(result.events).length).toBeGreaterThan(0);
      measure(`${name} chaos, ${browserName}`, "faults", faultSummary(chaos), "");
      measure(`${name} chaos, ${browserName}`, "resumes", resumes(result.events).length, "");
      measure(`${name} chaos, ${browserName}`, "ended on", result.transport, "");
    });
  }
});
