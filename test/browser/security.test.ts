/**
 * What only a real browser can show: the forever-frame's postMessage channel accepts nothing
 * but its own frame from the server's origin, and pages from an origin outside `allowedOrigins`
 * cannot open a session with any transport (a typed error and one close in the page, 403 on
 * the server, no session created).
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { type Browser, type Page, chromium, firefox } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import {
  chromiumArgs,
  chromiumPath,
  describeEngines,
  type EngineName,
  type EngineUnderTest,
  firefoxPath,
  type PageServer,
  startEngine,
  startPageServer,
  useEngine,
} from "./support/browser.js";
import { helperPage, pageHelpersScript } from "./support/page-helpers.js";

/** A page that posts `packet` to its parent as if it were frame `f`, then says it is done. */
const forgePage = `<!doctype html><meta charset="utf-8"><script>
  var q = new URLSearchParams(location.search);
  parent.postMessage(["cometa", q.get("f"), q.get("packet")], "*");
  parent.postMessage(["forge-done", q.get("tag")], "*");
</script>`;

function serveForgePage(req: IncomingMessage, res: ServerResponse): void {
  if (!req.url?.startsWith("/forge.html")) return;
  res.writeHead(200, { "Content-Type": "text/html; charset=utf-8", "X-Content-Type-Options": "nosniff" });
  res.end(forgePage);
}

const transports = ["polling", "short-polling", "jsonp", "xhr-streaming", "iframe", "sse", "websocket"] as const;

/**
 * What a refused page may log: the refused requests themselves, as Chromium words them, then
 * as Firefox does (as page errors): CORS refusals, a refused WebSocket or EventSource, and a
 * JSONP script whose 403 answer (JSON, nosniff) is not run.
 */
const refusedRequestLogs = [
  /status of 403/,
  /CORS policy/,
  /WebSocket connection to .* failed/,
  /net::ERR_FAILED/,
  /^uncaught: Cross-Origin Request Blocked: .* Status code: 403\./,
  /^uncaught: Firefox can’t establish a connection to the server at (ws|http):\/\/localhost:\d+\/engine\.io\//,
  /^uncaught: The resource from “http:\/\/localhost:\d+\/engine\.io\/\?[^”]*j=\d+[^”]*” was blocked due to MIME type \(“application\/json”\) mismatch/,
];

describeEngines("security in a real browser", (browserName) => {
  const browser = useEngine(browserName);
  let pages: PageServer;
  let evil: PageServer;
  let engine: EngineUnderTest;

  beforeAll(async () => {
    pages = await startPageServer();
    evil = await startPageServer();
    for (const server of [pages, evil]) {
      server.file("/helpers.js", pageHelpersScript);
      server.page("/index.html", helperPage());
      server.page("/forge.html", forgePage);
      server.page("/no-referrer.html", helperPage("no referrer", "").replace("<head>", '<head><meta name="referrer" content="no-referrer">'));
    }
    engine = await startEngine({ pageOrigin: pages.origin, host: "localhost" });
    engine.http.on("request", serveForgePage);
  });
  afterAll(async () => {
    await engine?.close();
    await evil?.close();
    await pages?.close();
  });

  test("the iframe channel ignores messages from the page itself, from another frame of the server's origin and from another origin", async () => {
    const page = await browser.open(pages.url("/index.html"));
    const forgeries = [
      { tag: "same origin as the server, another window", src: `${engine.url}/forge.html` },
      { tag: "another origin", src: evil.url("/forge.html") },
    ];
    const result = await page.evaluate(
      async ([url, forgeries]) => {
        const session = cometaTest.open(url, { transports: ["iframe"], withCredentials: true });
        await session.event("open");
        session.socket.send("genuine 1");
        await session.messagesPlain(1);
        const frame = document.querySelector("iframe")!;
        const frameId = new URL(frame.src).searchParams.get("f")!;
        const done = new Set<string>();
        let allDone: () => void = () => {};
        const markers = new Promise<void>((resolve, reject) => {
          allDone = resolve;
          setTimeout(() => reject(new Error(`forgers' markers: only ${[...done]}`)), 5000);
        });
        window.addEventListener("message", (event) => {
          if (Array.isArray(event.data) && event.data[0] === "forge-done") done.add(event.data[1]);
          if (done.size === forgeries.length + 1) allDone();
        });
        // the page itself, then two frames, each posting a well-formed packet for this frame id
        window.postMessage(["cometa", frameId, "4forged by the page"], "*");
        window.postMessage(["forge-done", "the page"], "*");
        for (const { tag, src } of forgeries) {
          const forger = document.createElement("iframe");
          const query = new URLSearchParams({ f: frameId, tag, packet: `4forged: ${tag}` });
          forger.src = `${src}?${query}`;
          document.body.append(forger);
        }
        // each source's marker follows its forgery: once all are here, the forgeries were dispatched
        await markers;
        session.socket.send("genuine 2");
        const messages = await session.messagesPlain(2);
        return { frameId, messages, done: [...done].sort(), events: session.events };
      },
      [engine.url, forgeries] as const,
    );
    expect(result.frameId).toMatch(/^[A-Za-z0-9_-]{1,32}$/);
    expect(result.done).toEqual([...forgeries.map(({ tag }) => tag), "the page"].sort());
    expect(result.messages).toEqual(["genuine 1", "genuine 2"]);
    expect(result.events).toEqual([["open"]]);
  });

  describe("a page from an origin outside allowedOrigins", () => {
    for (const name of transports) {
      test(`${name}: cannot open a session (typed error, one close; 403 on the server)`, async () => {
        const page = await browser.open(evil.url("/index.html"), { allow: refusedRequestLogs });
        const refusalsBefore = engine.refusals.length;
        const sessionsBefore = engine.sessions.length;
        const result = await page.evaluate(
          async ([url, name]) => {
            const session = cometaTest.open(url, { transports: [name], withCredentials: true });
            await session.event("close");
            return {
              events: session.events,
              leftovers: document.querySelectorAll("iframe, script[src*='/engine.io/']").length,
            };
          },
          [engine.url, name] as const,
        );
        const closes = result.events.filter(([event]) => event === "close");
        expect(closes).toHaveLength(1);
        expect(closes[0]![1]).toBe("transport error");
        expect(result.events.map(([event]) => event)).toEqual(["error", "close"]);
        const error = result.events[0]![1] as { kind?: string; transport?: string };
        expect(["TransportError", "ServerError"]).toContain(error.kind);
        expect(error.transport).toBe(name);
        expect(result.leftovers).toBe(0);
        expect(engine.sessions.length).toBe(sessionsBefore);
        const refusals = engine.refusals.slice(refusalsBefore);
        expect(refusals.length).toBeGreaterThan(0);
        expect(refusals.every((refusal) => refusal.code === 4)).toBe(true);
      });
    }

    test("iframe: naming the allowed origin in the query does not help (Referer disagrees: 403, nothing posted)", async () => {
      const page = await browser.open(evil.url("/index.html"), { allow: refusedRequestLogs });
      const refusalsBefore = engine.refusals.length;
      const result = await page.evaluate(
        async ([url, allowed]) => {
          const posted: unknown[] = [];
          window.addEventListener("message", (event) => posted.push(event.data));
          const frame = document.createElement("iframe");
          frame.src = `${url}/engine.io/?EIO=4&transport=iframe&f=spoof&origin=${encodeURIComponent(allowed)}`;
          const loaded = new Promise((resolve) => frame.addEventListener("load", resolve, { once: true }));
          document.body.append(frame);
          await loaded;
          return posted;
        },
        [engine.url, pages.origin] as const,
      );
      expect(result).toEqual([]);
      expect(engine.refusals.slice(refusalsBefore)).toEqual([expect.objectContaining({ code: 4 })]);
    });

    test("iframe: a page that sends no Referer cannot claim the allowed origin either", async () => {
      const page = await browser.open(evil.url("/no-referrer.html"), { allow: refusedRequestLogs });
      const refusalsBefore = engine.refusals.length;
      await page.evaluate(
        async ([url, allowed]) => {
          const frame = document.createElement("iframe");
          frame.src = `${url}/engine.io/?EIO=4&transport=iframe&f=spoof&origin=${encodeURIComponent(allowed)}`;
          const loaded = new Promise((resolve) => frame.addEventListener("load", resolve, { once: true }));
          document.body.append(frame);
          await loaded;
        },
        [engine.url, pages.origin] as const,
      );
      expect(engine.refusals.slice(refusalsBefore)).toEqual([expect.objectContaining({ code: 4 })]);
    });
  });

});

/**
 * Loopback origins are potentially trustworthy, so browsers send them Fetch Metadata. Names
 * under `.test` mapped to 127.0.0.1 are plain HTTP origins like any other: no Sec-Fetch-*.
 */
/**
 * Host names under `.test` resolved to 127.0.0.1: a Chromium switch, a Firefox preference;
 * WebKitGTK has neither (its MiniBrowser resolves through the system), so it is not here.
 */
function launchMapped(engine: EngineName): Promise<Browser> {
  if (engine === "firefox") {
    return firefox.launch({
      channel: "moz-firefox",
      executablePath: firefoxPath,
      headless: true,
      firefoxUserPrefs: { "network.dns.localDomains": "app.test,evil.test,cometa.test" },
    });
  }
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: [...chromiumArgs, "--host-resolver-rules=MAP *.test 127.0.0.1"] });
}

describeEngines("security over plain HTTP (names mapped to loopback: no Fetch Metadata)", (browserName) => {
  let plainBrowser: Browser;
  let page: Page;
  let site: PageServer;
  let plainEngine: EngineUnderTest;
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  const host = (url: string, name: string) => url.replace("//127.0.0.1:", `//${name}.test:`);

  beforeAll(async () => {
    plainBrowser = await launchMapped(browserName);
    site = await startPageServer();
    site.file("/helpers.js", pageHelpersScript);
    site.page("/index.html", helperPage());
    plainEngine = await startEngine({ pageOrigin: host(site.origin, "app") });
    plainEngine.http.prependListener("request", (req: IncomingMessage) => seen.push({ url: req.url ?? "", headers: req.headers }));
  });
  afterAll(async () => {
    await plainBrowser?.close();
    await plainEngine?.close();
    await site?.close();
  });
  afterEach(async () => {
    await page?.close();
  });

  test("a cross-site no-referrer script cannot read a JSONP handshake (refused with 403)", async () => {
    page = await plainBrowser.newPage();
    await page.goto(host(site.url("/index.html"), "evil"));
    const refusalsBefore = plainEngine.refusals.length;
    const sessionsBefore = plainEngine.sessions.length;
    const src = `${host(plainEngine.url, "cometa")}/engine.io/?EIO=4&transport=polling&j=0`;
    const result = await page.evaluate(async (src) => {
      const called: unknown[] = [];
      (window as unknown as { ___eio: ((payload: unknown) => void)[] }).___eio = [(payload) => called.push(payload)];
      const script = document.createElement("script");
      script.referrerPolicy = "no-referrer";
      script.src = src;
      const outcome = await new Promise<string>((resolve) => {
        script.onload = () => resolve("load");
        script.onerror = () => resolve("error");
        document.head.append(script);
      });
      return { outcome, called };
    }, src);
    const request = seen.find(({ url }) => url.includes("transport=polling&j=0"));
    // what makes the attack possible: nothing in the request says which page made it
    expect(request?.headers.origin).toBeUndefined();
    expect(request?.headers.referer).toBeUndefined();
    expect(request?.headers["sec-fetch-site"]).toBeUndefined();
    expect(result).toEqual({ outcome: "error", called: [] });
    expect(plainEngine.refusals.slice(refusalsBefore)).toEqual([expect.objectContaining({ code: 4 })]);
    expect(plainEngine.sessions.length).toBe(sessionsBefore);
  });

  for (const name of ["jsonp", "iframe"] as const) {
    test(`the allowed page still connects with ${name} (its Referer is the proof)`, async () => {
      page = await plainBrowser.newPage();
      await page.goto(host(site.url("/index.html"), "app"));
      const messages = await page.evaluate(
        async ([url, name]) => {
          const session = cometaTest.open(url, { transports: [name], withCredentials: true });
          await session.event("open");
          session.socket.send("over plain HTTP");
          const messages = await session.messagesPlain(1);
          session.socket.close();
          return messages;
        },
        [host(plainEngine.url, "cometa"), name] as const,
      );
      expect(messages).toEqual(["over plain HTTP"]);
    });
  }
}, ["chromium", "firefox"]);
