/**
 * Hostile networks, in Chromium: a real nginx that does not forward Upgrade headers in front of
 * the server (scenario 1), and a network cut through the fault-injecting proxy with
 * ReconnectingSocket: with resumption off it opens a new session, with it (the default) the
 * same session resumes. Page, proxy and server are three origins on loopback.
 */
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, test } from "vitest";
import { findNginx, type Nginx, proxyConfigs, startNginx } from "../network/support/nginx.js";
import { type FaultProxy, startFaultProxy } from "../network/support/fault-proxy.js";
import {
  allowConsoleErrors,
  describeBrowser,
  type EngineUnderTest,
  type PageServer,
  scriptTagPage,
  startEngine,
  startPageServer,
  useBrowser,
} from "./support/browser.js";

/** The IIFE's global, in the page. */
declare const Cometa: typeof import("../../src/index.js");

const portOf = (url: string) => Number(new URL(url).port);

describeBrowser("hostile networks", () => {
  const browser = useBrowser();
  let pages: PageServer;
  let engine: EngineUnderTest | undefined;
  let nginx: Nginx | undefined;
  let proxy: FaultProxy | undefined;

  beforeAll(async () => {
    pages = await startPageServer();
    pages.page("/index.html", scriptTagPage());
  });
  afterEach(async () => {
    await nginx?.stop();
    await proxy?.close();
    await engine?.close();
    nginx = proxy = engine = undefined;
  });
  afterAll(() => pages?.close());

  test.skipIf(!findNginx() && !process.env.CI)(
    "behind an nginx that drops Upgrade headers, the ladder lands on sse and the session works",
    async () => {
      engine = await startEngine({ pageOrigin: pages.origin });
      nginx = await startNginx(portOf(engine.url), proxyConfigs.noUpgradeHeaders);
      const page = await browser.open(pages.url("/index.html"));
      // the browser reports the refused WebSocket handshake itself
      allowConsoleErrors(page, /WebSocket connection to .* failed/);
      const result = await page.evaluate(async (url) => {
        const socket = new Cometa.Socket(url, { withCredentials: true, probeTimeout: 3000 });
        const failed: string[] = [];
        socket.on("upgradeError", (error) => failed.push(error.transport));
        const upgraded = await new Promise<string>((resolve) => socket.on("upgrade", resolve));
        const echo = new Promise((resolve) => socket.on("message", resolve));
        socket.send("through the proxy");
        const echoed = await echo;
        socket.close();
        return { upgraded, failed, echoed };
      }, nginx.url);
      expect(result.failed).toEqual(["websocket"]);
      expect(result.upgraded).toBe("sse");
      expect(result.echoed).toBe("through the proxy");
    },
  );

  /** Opens a ReconnectingSocket through the proxy in the page and records what it reports. */
  async function openThroughProxy(page: Page, url: string, resume: boolean) {
    await page.evaluate(
      async ({ url, resume }) => {
        const socket = new Cometa.ReconnectingSocket(url, {
          withCredentials: true,
          resume,
          reconnect: { initialDelay: 50, maxDelay: 200, jitter: 0 },
        });
        const state = { socket, messages: [] as string[], events: [] as string[], ids: [] as (string | undefined)[] };
        (globalThis as unknown as { state: typeof state }).state = state;
        socket.on("message", (data) => state.messages.push(data as string));
        socket.on("open", () => state.ids.push(socket.socket && socket.socket.id));
        for (const event of ["disconnect", "reconnecting", "reconnect", "resuming", "resumed"] as const) {
          socket.on(event, () => state.events.push(event));
        }
        await new Promise((resolve) => socket.on("upgrade", resolve));
      },
      { url, resume },
    );
  }

  interface PageState {
    messages: string[];
    events: string[];
    ids: (string | undefined)[];
    socket: { send(text: string): void; close(): void; socket?: { id?: string; resumable: boolean } };
  }

  /** Writes 20 messages while the network is down, brings it back, and returns what the page saw once all 20 came back. */
  async function writeWhileDown(page: Page, down: string) {
    await page.waitForFunction(
      (event) => (globalThis as unknown as { state: { events: string[] } }).state.events.includes(event),
      down,
    );
    await page.evaluate(() => {
      const { state } = globalThis as unknown as { state: { socket: { send(text: string): void } } };
      for (let i = 0; i < 20; i++) state.socket.send(`offline ${i}`);
    });
    proxy!.accept();
    await page.waitForFunction(() => (globalThis as unknown as { state: { messages: string[] } }).state.messages.length >= 20);
    return page.evaluate(() => {
      const { state } = globalThis as unknown as { state: PageState };
      const current = state.socket.socket;
      const seen = { messages: [...state.messages], events: [...state.events], ids: [...state.ids], id: current && current.id, resumable: !!(current && current.resumable) };
      state.socket.close();
      return seen;
    });
  }

  test("a network cut without resumption: ReconnectingSocket opens a new session and delivers what was written meanwhile, in order", async () => {
    engine = await startEngine({ pageOrigin: pages.origin });
    proxy = await startFaultProxy(portOf(engine.url));
    const page = await browser.open(pages.url("/index.html"));
    // the cut connections and the refused reconnection attempts show up as network errors
    allowConsoleErrors(page, /Failed to load resource|net::ERR_|WebSocket connection to .* failed/);
    await openThroughProxy(page, `http://127.0.0.1:${proxy.port}`, false);

    proxy.refuse();
    proxy.cut();
    const { messages, events, ids, id, resumable } = await writeWhileDown(page, "disconnect");
    expect(resumable).toBe(false);
    expect(messages).toEqual(Array.from({ length: 20 }, (_, i) => `offline ${i}`));
    expect(events[0]).toBe("disconnect");
    expect(events).toContain("reconnect");
    expect(events).not.toContain("resuming");
    // a second session, not the first one resumed
    expect(ids).toHaveLength(2);
    expect(ids[0]).toMatch(/./);
    expect(ids[1]).not.toBe(ids[0]);
    expect(id).toBe(ids[1]);
  });

  test("a network cut with resumption: the session resumes, no disconnect, same session id, what was written meanwhile arrives once, in order", async () => {
    engine = await startEngine({ pageOrigin: pages.origin });
    proxy = await startFaultProxy(portOf(engine.url));
    const page = await browser.open(pages.url("/index.html"));
    // the cut connections and the refused reattaches show up as network errors
    allowConsoleErrors(page, /Failed to load resource|net::ERR_|WebSocket connection to .* failed/);
    await openThroughProxy(page, `http://127.0.0.1:${proxy.port}`, true);

    proxy.refuse();
    proxy.cut();
    const { messages, events, ids, id, resumable } = await writeWhileDown(page, "resuming");
    expect(resumable).toBe(true);
    expect(messages).toEqual(Array.from({ length: 20 }, (_, i) => `offline ${i}`));
    expect(events).toEqual(["resuming", "resumed"]);
    expect(id).toMatch(/./);
    expect(ids).toEqual([id]);
    // the server's side: one session, which took each message once, in order
    expect([...engine.received.keys()]).toEqual([id]);
    expect(engine.received.get(id!)).toEqual(Array.from({ length: 20 }, (_, i) => `offline ${i}`));
  });
});
