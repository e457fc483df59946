/**
 * Each transport forced alone, in real Chromium, against cometa/server on another origin with
 * credentials: the page loads the minified IIFE with a plain `<script src>`, as users do.
 */
import type { Socket as EngineSocket } from "engine.io";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  describeEngines,
  type EngineUnderTest,
  type PageServer,
  startEngine,
  startPageServer,
  type TestPage,
  useEngine,
} from "./support/browser.js";
import { helperPage, pageHelpersScript } from "./support/page-helpers.js";

const transports = ["polling", "short-polling", "jsonp", "xhr-streaming", "iframe", "sse", "websocket"] as const;

/** What the server calls each client transport (jsonp is stock polling with `j=`). */
const wireName: Record<(typeof transports)[number], string> = {
  polling: "polling",
  "short-polling": "short-polling",
  jsonp: "polling",
  "xhr-streaming": "xhr-streaming",
  iframe: "iframe",
  sse: "sse",
  websocket: "websocket",
};

/** Text that breaks naive script, HTML, JSON, form and line framing. */
const texts = [
  "</script>",
  "<!--",
  "<script>",
  "<!--<script>",
  "</script><script>alert(1)</script>",
  "-->",
  "]]></body></html>",
  "\u2028",
  "\u2029",
  "line\u2028separator\u2029paragraph",
  `"double" 'single' \`back\``,
  "back\\slash \\ \\\\ \\u2028 \\x3c",
  "\\n and \\\\n (backslash n, as JSONP forms escape it)",
  "\r\n",
  "line\nfeed\rreturn\ttab",
  "\u0000nul \u0001 \u001f \u007f",
  "héllo wörld ✓ 日本語 😀 𝄞",
  "d=1&x=%0A%25+plus",
  "",
  "6",
  "1",
  "x".repeat(20_000),
];

/**
 * A poll that crossed the close: the page re-polls as a poll returns, and the close packet's
 * POST (on another connection) can reach the server first, so that GET is answered 400 for a
 * session that just ended. The transport takes it as part of the close (no error, one forced
 * close); only the browser's own console line remains: a failed resource, or for JSONP the
 * JSON error refused as a script (Chromium) or blocked for its MIME type (Firefox).
 */
const pollCrossingClose = (name: string): RegExp[] =>
  ["polling", "short-polling", "jsonp"].includes(name)
    ? [
        /Failed to load resource: the server responded with a status of 400/,
        /Refused to execute script from .* because its MIME type \('application\/json'\) is not executable/,
        /blocked due to MIME type \(“application\/json”\) mismatch \(X-Content-Type-Options: nosniff\)/,
      ]
    : [];

/** Every byte value, then some more. */
const bytes = [...Array.from({ length: 256 }, (_, i) => i), 0, 255, 10, 13, 0x1e];

/** The iframes and engine.io script tags still in the page (a closed socket leaves none). */
function leftovers(page: TestPage): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll("iframe, script")]
      .filter((element) => element.tagName === "IFRAME" || (element as HTMLScriptElement).src.includes("/engine.io/"))
      .map((element) => element.outerHTML),
  );
}

describeEngines("each transport alone, cross-origin with credentials", (browserName) => {
  const browser = useEngine(browserName);
  let pages: PageServer;
  let engine: EngineUnderTest;

  beforeAll(async () => {
    pages = await startPageServer();
    pages.file("/helpers.js", pageHelpersScript);
    pages.page("/index.html", helperPage());
    engine = await startEngine({ pageOrigin: pages.origin, host: "localhost" });
  });
  afterAll(async () => {
    await engine?.close();
    await pages?.close();
  });

  const serverSocket = (id: string): EngineSocket => {
    const socket = engine.session(id);
    if (!socket) throw new Error(`no server session ${id}`);
    return socket;
  };

  for (const name of transports) {
    describe(name, () => {
      const options = { transports: [name], withCredentials: true };

      test("connects on this transport and nothing else", async () => {
        const page = await browser.open(pages.url("/index.html"));
        const result = await page.evaluate(
          async ([url, options]) => {
            const session = cometaTest.open(url, options);
            await session.event("open");
            return { id: session.socket.id, transport: session.socket.transport.name, state: session.socket.state };
          },
          [engine.url, options] as const,
        );
        expect(result).toMatchObject({ transport: name, state: "open" });
        expect(serverSocket(result.id!).transport.name).toBe(wireName[name]);
        expect(new URL(await page.url()).origin).not.toBe(new URL(engine.url).origin);
      });

      test("echoes unicode and script-breaking text, in order, both ways", async () => {
        const page = await browser.open(pages.url("/index.html"));
        const result = await page.evaluate(
          async ([url, options, texts]) => {
            const session = cometaTest.open(url, options);
            await session.event("open");
            for (const text of texts) session.socket.send(text);
            return { id: session.socket.id!, echoed: await session.messagesPlain(texts.length), transport: session.socket.transport.name };
          },
          [engine.url, options, texts] as const,
        );
        expect(result.transport).toBe(name);
        // stock engine.io's parser hands the server `undefined` for the empty message ("4")
        expect(engine.received.get(result.id)!.map((data) => data ?? "")).toEqual(texts);
        expect(result.echoed).toEqual(texts);
      });

      test("sends ArrayBuffer and Blob, receives binary as ArrayBuffer and as Blob", async () => {
        const page = await browser.open(pages.url("/index.html"));
        const result = await page.evaluate(
          async ([url, options, bytes]) => {
            const run = async (binaryType: string) => {
              const session = cometaTest.open(url, { ...options, binaryType });
              await session.event("open");
              session.socket.send(new Uint8Array(bytes).buffer);
              session.socket.send(new Blob([new Uint8Array(bytes.slice(0, 100)), new Uint8Array(bytes.slice(100))]));
              session.socket.send(new Uint8Array(bytes).subarray(3, 9));
              session.socket.send("after the binary");
              return { id: session.socket.id!, echoed: await session.messagesPlain(4) };
            };
            const [arraybuffer, blob] = await Promise.all([run("arraybuffer"), run("blob")]);
            return { arraybuffer, blob };
          },
          [engine.url, options, bytes] as const,
        );
        const slice = bytes.slice(3, 9);
        expect(result.arraybuffer.echoed).toEqual([
          { kind: "ArrayBuffer", bytes },
          { kind: "ArrayBuffer", bytes },
          { kind: "ArrayBuffer", bytes: slice },
          "after the binary",
        ]);
        expect(result.blob.echoed).toEqual([
          { kind: "Blob", bytes },
          { kind: "Blob", bytes },
          { kind: "Blob", bytes: slice },
          "after the binary",
        ]);
        for (const { id } of [result.arraybuffer, result.blob]) {
          const received = engine.received.get(id)!;
          expect(received.slice(0, 3).map((data) => [...(data as Buffer)])).toEqual([bytes, bytes, slice]);
          expect(received[3]).toBe("after the binary");
        }
      });

      test("1,000 messages arrive in order at the server and back", async () => {
        const page = await browser.open(pages.url("/index.html"));
        const result = await page.evaluate(
          async ([url, options]) => {
            const session = cometaTest.open(url, options);
            await session.event("open");
            for (let i = 0; i < 1000; i++) session.socket.send(`message ${i}`);
            const echoed = await session.messagesPlain(1000, 20_000);
            return { id: session.socket.id!, echoed, transport: session.socket.transport.name };
          },
          [engine.url, options] as const,
        );
        const expected = Array.from({ length: 1000 }, (_, i) => `message ${i}`);
        expect(result.transport).toBe(name);
        expect(engine.received.get(result.id)).toEqual(expected);
        expect(result.echoed).toEqual(expected);
      });

      test("close() from the page: one forced close, the server sees the session end", async () => {
        const page = await browser.open(pages.url("/index.html"), { allow: pollCrossingClose(name) });
        const id = await page.evaluate(
          async ([url, options]) => {
            const session = cometaTest.open(url, options);
            await session.event("open");
            // a round trip first, so the session is fully up on both ends
            session.socket.send("before close");
            await session.messagesPlain(1);
            return session.socket.id!;
          },
          [engine.url, options] as const,
        );
        const socket = serverSocket(id);
        const serverClosed = new Promise<string>((resolve) => socket.once("close", (reason: string) => resolve(reason)));
        const events = await page.evaluate(async () => {
          const session = cometaTest.sessions[0]!;
          session.socket.send("last words");
          session.socket.close();
          await session.event("close");
          return session.events;
        });
        expect(await leftovers(page), "iframes and script tags left in the page").toEqual([]);
        expect(events.filter(([event]) => event === "close")).toEqual([["close", "forced close", { unsent: 0 }]]);
        expect(events.filter(([event]) => event === "error")).toEqual([]);
        expect(await serverClosed).toBe("transport close");
        expect(engine.received.get(id)).toEqual(["before close", "last words"]);
      });

      test("close from the server: one transport close in the page", async () => {
        const page = await browser.open(pages.url("/index.html"));
        const id = await page.evaluate(
          async ([url, options]) => {
            const session = cometaTest.open(url, options);
            await session.event("open");
            // echoed and acknowledged (the POST answered), so nothing is in flight at the close
            let handed = false;
            session.socket.send("hello", () => (handed = true));
            await session.messagesPlain(1);
            await session.until(() => handed, "the send callback");
            return session.socket.id!;
          },
          [engine.url, options] as const,
        );
        serverSocket(id).close();
        const result = await page.evaluate(async () => {
          const session = cometaTest.sessions[0]!;
          await session.event("close");
          return { events: session.events, state: session.socket.state };
        });
        expect(result.state).toBe("closed");
        expect(await leftovers(page), "iframes and script tags left in the page").toEqual([]);
        expect(result.events.filter(([event]) => event === "close")).toEqual([["close", "transport close", { unsent: 0 }]]);
        expect(result.events.filter(([event]) => event === "error")).toEqual([]);
      });
    });
  }
});

describeEngines("every transport over time: heartbeats, recycled streams, page load", (browserName) => {
  const browser = useEngine(browserName);
  let pages: PageServer;
  let engine: EngineUnderTest;
  let sameSite: EngineUnderTest;
  let slow: EngineUnderTest;

  const fastOptions = (host: "localhost" | "127.0.0.1") => ({
    pageOrigin: pages.origin,
    host,
    server: { pingInterval: 200, pingTimeout: 2000, recycleBytes: 4096 },
    // echoes; "burst A B" answers messages A to B-1, each written in its own tick (batch)
    onConnection: (socket: EngineSocket) =>
      socket.on("message", (data: unknown) => {
        const burst = typeof data === "string" ? /^burst (\d+) (\d+)$/.exec(data) : null;
        if (!burst) return void socket.send(data as string);
        const end = Number(burst[2]);
        const next = (i: number) => {
          if (i === end || socket.readyState !== "open") return;
          socket.send(`burst ${i} ${"·".repeat(i % 80)}`);
          setImmediate(() => next(i + 1));
        };
        next(Number(burst[1]));
      }),
  });

  beforeAll(async () => {
    pages = await startPageServer();
    pages.file("/helpers.js", pageHelpersScript);
    pages.page("/index.html", helperPage());
    // fast heartbeats and streams recycled every few KB; cross-site, and same-site for iframe
    engine = await startEngine(fastOptions("localhost"));
    sameSite = await startEngine(fastOptions("127.0.0.1"));
    // the default heartbeat: a held poll stays held for 25 s
    slow = await startEngine({ pageOrigin: pages.origin, host: "localhost" });
  });
  afterAll(async () => {
    await engine?.close();
    await sameSite?.close();
    await slow?.close();
    await pages?.close();
  });

  test("heartbeats keep every transport's session open (4 pings each, then an echo)", async () => {
    const page = await browser.open(pages.url("/index.html"));
    const result = await page.evaluate(
      async ([url, transports]) =>
        Promise.all(
          transports.map(async (name) => {
            const session = cometaTest.open(url, { transports: [name], withCredentials: true });
            await session.event("open");
            await session.until(() => session.pings >= 4, `4 pings on ${name}`);
            session.socket.send(`still here on ${name}`);
            const [echo] = await session.messagesPlain(1);
            return { name, echo, state: session.socket.state, events: session.events.map(([event]) => event) };
          }),
        ),
      [engine.url, transports] as const,
    );
    for (const { name, echo, state, events } of result) {
      expect({ name, echo, state, events }).toEqual({ name, echo: `still here on ${name}`, state: "open", events: ["open"] });
    }
  });

  const recycled = [
    ["xhr-streaming", "cross-site"],
    ["sse", "cross-site"],
    ["iframe", "same-site"],
    // the forever-frame is then an out-of-process frame: its load event and its last
    // postMessages reach the page through different channels
    ["iframe", "cross-site"],
  ] as const;
  for (const [name, site] of recycled) {
    test(`${name}, ${site}: a stream recycled every 4 KB loses, repeats and reorders nothing (3 sessions, 15 bursts of 40 messages each)`, async () => {
      const server = site === "cross-site" ? engine : sameSite;
      const page = await browser.open(pages.url("/index.html"));
      // three sessions at once, so a race at the end of a response has many chances to show
      const results = await page.evaluate(
        async ([url, name]) =>
          Promise.all(
            [0, 1, 2].map(async () => {
              const session = cometaTest.open(url, { transports: [name], withCredentials: true });
              await session.event("open");
              // 15 rounds of 40 messages (about 5 KB each): every round crosses a recycle
              let rounds = 0;
              for (; rounds < 15 && session.socket.state === "open"; rounds++) {
                session.socket.send(`burst ${rounds * 40} ${rounds * 40 + 40}`);
                await session.until(() => session.messages.length >= rounds * 40 + 40 || session.socket.state === "closed", `round ${rounds}`, 5000);
              }
              const echoed = await session.messagesPlain(session.messages.length);
              const events = session.events.map(([event, detail]) => (event === "error" ? `error: ${(detail as { message: string }).message}` : event));
              return { id: session.socket.id!, echoed, events };
            }),
          ),
        [server.url, name] as const,
      );
      const expected = Array.from({ length: 600 }, (_, i) => `burst ${i} ${"·".repeat(i % 80)}`);
      for (const result of results) {
        // every reopened frame is read whole, on every engine: WebKit and Firefox can fire a
        // short document's load event before its messages, which the transport waits out
        expect(result.echoed).toHaveLength(600);
        expect(result.events).toEqual(["open"]);
        const streams = server.requests.filter(
          (request) => request.method === "GET" && request.url.includes(`transport=${name}`) && request.url.includes(result.id),
        );
        // about 75 KB down in 4 KB responses: reopened at least once a round
        expect(streams.length).toBeGreaterThanOrEqual(15);
      }
    });
  }

  for (const name of transports) {
    test(`${name}: a session opened while the page loads does not hold back its load event`, async () => {
      const url = pages.page(
        `/opened-while-loading-${name}.html`,
        `<!doctype html><html><head><meta charset="utf-8">
<script src="/dist/cometa.min.js"></script><script src="/helpers.js"></script>
<script>
  window.loaded = false;
  window.addEventListener("load", function () { window.loaded = true; });
  window.early = cometaTest.open(${JSON.stringify(slow.url)}, { transports: [${JSON.stringify(name)}], withCredentials: true });
</script></head><body><p>loading</p></body></html>`,
      );
      const page = await browser.open(url);
      const result = await page.evaluate(async () => {
        const scope = window as unknown as { early: (typeof cometaTest.sessions)[number]; loaded: boolean };
        const session = scope.early;
        await session.event("open");
        session.socket.send("echo");
        const [echo] = await session.messagesPlain(1);
        // the session is up and idle, its poll held for the 25 s ping interval: a request that
        // delays the load event would hold it that long
        const loaded = await new Promise<boolean>((resolve) => {
          if (scope.loaded) return resolve(true);
          window.addEventListener("load", () => resolve(true));
          setTimeout(() => resolve(scope.loaded), 3000);
        });
        return { loaded, echo, transport: session.socket.transport.name };
      });
      expect(result).toEqual({ loaded: true, echo: "echo", transport: name });
    });
  }
});

describeEngines("polling and JSONP against a stock engine.io server", (browserName) => {
  const browser = useEngine(browserName);
  let pages: PageServer;
  let stock: EngineUnderTest;
  let extended: EngineUnderTest;

  beforeAll(async () => {
    pages = await startPageServer();
    pages.file("/helpers.js", pageHelpersScript);
    pages.page("/index.html", helperPage());
    stock = await startEngine({ pageOrigin: pages.origin, extended: false, host: "localhost" });
    extended = await startEngine({ pageOrigin: pages.origin, host: "localhost" });
  });
  afterAll(async () => {
    await stock?.close();
    await extended?.close();
    await pages?.close();
  });

  for (const name of ["polling", "jsonp"] as const) {
    test(`${name}: echoes script-breaking text and binary through a stock server`, async () => {
      const page = await browser.open(pages.url("/index.html"));
      const result = await page.evaluate(
        async ([url, name, texts, bytes]) => {
          const session = cometaTest.open(url, { transports: [name], withCredentials: true });
          await session.event("open");
          for (const text of texts) session.socket.send(text);
          session.socket.send(new Blob([new Uint8Array(bytes)]));
          const echoed = await session.messagesPlain(texts.length + 1);
          session.socket.close();
          await session.event("close");
          return { echoed, id: session.socket.id!, events: session.events.map(([event, arg]) => [event, typeof arg === "string" ? arg : null]) };
        },
        [stock.url, name, texts, bytes] as const,
      );
      expect(result.echoed).toEqual([...texts, { kind: "ArrayBuffer", bytes }]);
      expect(result.events).toEqual([["open", null], ["close", "forced close"]]);
      expect(stock.received.get(result.id)!.slice(0, texts.length).map((data) => data ?? "")).toEqual(texts);
    });
  }

  test("JSONP scripts: cometa/server labels them text/javascript with nosniff (stock: text/plain, no nosniff)", async () => {
    const page = await browser.open(pages.url("/index.html"));
    // what each server answered to the first JSONP GET, as the browser received it
    const types: Record<string, { type: unknown; nosniff: unknown }> = {};
    const listeners = [stock, extended].map((server) => {
      const listener = (req: IncomingMessage, res: ServerResponse) => {
        if (req.method !== "GET" || !new URL(req.url ?? "/", "http://x").searchParams.has("j")) return;
        res.once("finish", () => {
          types[new URL(server.url).origin] ??= { type: res.getHeader("content-type"), nosniff: res.getHeader("x-content-type-options") };
        });
      };
      server.http.prependListener("request", listener);
      return () => server.http.off("request", listener);
    });
    try {
      await page.evaluate(
        async (urls) => {
          for (const url of urls) {
            const session = cometaTest.open(url, { transports: ["jsonp"] });
            await session.event("open");
            session.socket.close();
            await session.event("close");
          }
        },
        [stock.url, extended.url],
      );
    } finally {
      for (const off of listeners) off();
    }
    expect(types[new URL(extended.url).origin]).toEqual({ type: "text/javascript; charset=utf-8", nosniff: "nosniff" });
    expect(types[new URL(stock.url).origin]?.nosniff).toBeUndefined();
  });

});
