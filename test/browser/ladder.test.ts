/**
 * The default ladder, as a page gets it with no `transports` option: `new Cometa.Socket(url,
 * { withCredentials: true })` starts on long-polling and upgrades to the best transport the
 * server offers, without losing a message on the way.
 */
import { afterEach, beforeAll, afterAll, expect, test } from "vitest";
import { describeEngines, type EngineUnderTest, type PageServer, startEngine, startPageServer, useEngine } from "./support/browser.js";
import { helperPage, pageHelpersScript } from "./support/page-helpers.js";
import type { TransportName } from "../../src/server/index.js";

const ladder: { server: TransportName[]; expected: string }[] = [
  { server: ["polling", "websocket", "sse", "xhr-streaming", "iframe", "short-polling"], expected: "websocket" },
  { server: ["polling", "sse", "xhr-streaming", "iframe", "short-polling"], expected: "sse" },
  { server: ["polling", "xhr-streaming", "iframe", "short-polling"], expected: "xhr-streaming" },
  { server: ["polling", "iframe", "short-polling"], expected: "iframe" },
];

describeEngines("the default ladder", (browserName) => {
  const browser = useEngine(browserName);
  let pages: PageServer;
  let engine: EngineUnderTest | undefined;

  beforeAll(async () => {
    pages = await startPageServer();
    pages.file("/helpers.js", pageHelpersScript);
    pages.page("/index.html", helperPage());
  });
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
  });
  afterAll(() => pages?.close());

  for (const host of ["127.0.0.1", "localhost"] as const)
  for (const { server, expected } of ladder) {
    const site = host === "localhost" ? "cross-site" : "same-site";
    test(`${site}: server offers [${server.join(", ")}]: polling, then upgrade to ${expected}`, async () => {
      engine = await startEngine({ pageOrigin: pages.origin, transports: server, host });
      const page = await browser.open(pages.url("/index.html"));
      const result = await page.evaluate(async (url) => {
        const session = cometaTest.open(url, { withCredentials: true });
        const first = session.socket.transport.name;
        await session.event("open");
        // written while the upgrade runs: each must arrive exactly once, in order
        for (let i = 0; i < 50; i++) session.socket.send(`during ${i}`);
        // the upgrade, or its failure (reported at once rather than as a timeout)
        await session.until(
          () => session.events.find(([event]) => event === "upgrade" || event === "upgradeError"),
          "upgrade or upgradeError",
        );
        const upgrade = session.events.find(([event]) => event === "upgrade" || event === "upgradeError");
        for (let i = 0; i < 50; i++) session.socket.send(`after ${i}`);
        const echoed = await session.messagesPlain(100);
        return { first, upgrade, now: session.socket.transport.name, id: session.socket.id!, echoed, events: session.events };
      }, engine.url);
      const expectedMessages = [
        ...Array.from({ length: 50 }, (_, i) => `during ${i}`),
        ...Array.from({ length: 50 }, (_, i) => `after ${i}`),
      ];
      expect(result.first).toBe("polling");
      expect(result.upgrade, "the upgrade event").toEqual(["upgrade", expected]);
      expect(result.now).toBe(expected);
      expect(result.events.map(([event, arg]) => (typeof arg === "string" ? `${event} ${arg}` : event))).toEqual([
        "open",
        `upgrading ${expected}`,
        `upgrade ${expected}`,
      ]);
      expect(result.echoed).toEqual(expectedMessages);
      expect(engine.received.get(result.id)).toEqual(expectedMessages);
      expect(engine.session(result.id)?.transport.name).toBe(expected);
      // only the advertised upgrades were tried: nothing the server lacks was probed
      expect(engine.refusals).toEqual([]);
    });
  }

  for (const host of ["127.0.0.1", "localhost"] as const) {
    const site = host === "localhost" ? "cross-site" : "same-site";
    test(`${site}: three sessions of one page upgrade to iframe at once, each exactly once`, async () => {
      engine = await startEngine({ pageOrigin: pages.origin, transports: ["polling", "iframe"], host });
      const page = await browser.open(pages.url("/index.html"));
      const results = await page.evaluate(
        async (url) =>
          Promise.all(
            [0, 1, 2].map(async (n) => {
              const session = cometaTest.open(url, { withCredentials: true });
              await session.event("open");
              for (let i = 0; i < 20; i++) session.socket.send(`${n}: ${i}`);
              await session.until(
                () => session.events.find(([event]) => event === "upgrade" || event === "upgradeError"),
                "upgrade or upgradeError",
              );
              const echoed = await session.messagesPlain(20);
              return { events: session.events, now: session.socket.transport.name, echoed };
            }),
          ),
        engine.url,
      );
      // Measured, now and then with three probes at once (each session holding a poll and a
      // frame, past the six connections a browser opens to one host): on Firefox and WebKitGTK
      // one upgrade goes unanswered until probeTimeout, or its pause does not end within it, or it
      // is answered 400 (code 3, a request overlapping the session's own). That session stays
      // on polling and loses nothing.
      const sometimesFails: RegExp | undefined =
        browserName === "chromium" ? undefined : /no probe answer within 10000 ms|HTTP 400\): Bad request \(code 3\)/;
      let refused = 0;
      results.forEach(({ events, now, echoed }, n) => {
        expect(echoed).toEqual(Array.from({ length: 20 }, (_, i) => `${n}: ${i}`));
        if (sometimesFails && events.some(([event]) => event === "upgradeError")) {
          refused++;
          // the probe may have been answered (`upgrading`) before the pause ran out of time
          const answered = events.some(([event]) => event === "upgrading");
          expect(events, `session ${n}`).toEqual([
            ["open"],
            ...(answered ? [["upgrading", "iframe"]] : []),
            ["upgradeError", expect.objectContaining({ kind: "UpgradeError", transport: "iframe", message: expect.stringMatching(sometimesFails) })],
          ]);
          expect(now).toBe("polling");
          return;
        }
        expect(events, `session ${n}`).toEqual([["open"], ["upgrading", "iframe"], ["upgrade", "iframe"]]);
        expect(now).toBe("iframe");
      });
      // a refusal only ever beside an upgrade given up, and only code 3
      const refusedCodes = [...new Set(engine.refusals.map(({ code }) => code))];
      expect(refusedCodes, "requests the server refused").toEqual(refused && refusedCodes.length ? [3] : []);
    });
  }
});

describeEngines("starting on JSONP or short polling, then upgrading", (browserName) => {
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

  const pairs = [
    ["jsonp", "websocket"],
    ["jsonp", "sse"],
    ["jsonp", "xhr-streaming"],
    ["short-polling", "websocket"],
    ["short-polling", "sse"],
  ] as const;
  for (const [first, then] of pairs) {
    test(`transports: ["${first}", "${then}"] opens on ${first}, upgrades to ${then}, loses nothing`, async () => {
      const page = await browser.open(pages.url("/index.html"));
      const result = await page.evaluate(
        async ([url, first, then]) => {
          const session = cometaTest.open(url, { transports: [first, then], withCredentials: true });
          await session.event("open");
          const opened = session.socket.transport.name;
          for (let i = 0; i < 20; i++) session.socket.send(`during ${i}`);
          await session.until(
            () => session.events.find(([event]) => event === "upgrade" || event === "upgradeError"),
            "upgrade or upgradeError",
          );
          for (let i = 0; i < 20; i++) session.socket.send(`after ${i}`);
          const echoed = await session.messagesPlain(40);
          return { opened, now: session.socket.transport.name, echoed, events: session.events, id: session.socket.id! };
        },
        [engine.url, first, then] as const,
      );
      const expected = [...Array.from({ length: 20 }, (_, i) => `during ${i}`), ...Array.from({ length: 20 }, (_, i) => `after ${i}`)];
      expect(result.opened).toBe(first);
      expect(result.events).toEqual([["open"], ["upgrading", then], ["upgrade", then]]);
      expect(result.now).toBe(then);
      expect(result.echoed).toEqual(expected);
      expect(engine.received.get(result.id)).toEqual(expected);
    });
  }

  test("rememberUpgrade: the next session in the tab starts on the transport the last one upgraded to", async () => {
    const page = await browser.open(pages.url("/index.html"));
    const result = await page.evaluate(async (url) => {
      const options = { withCredentials: true, rememberUpgrade: true };
      const first = cometaTest.open(url, options);
      await first.event("upgrade");
      first.socket.close();
      await first.event("close");
      const second = cometaTest.open(url, options);
      const startedOn = second.socket.transport.name;
      await second.event("open");
      second.socket.send("remembered");
      const echoed = await second.messagesPlain(1);
      return { upgradedTo: first.socket.transport.name, startedOn, echoed, events: second.events.map(([event]) => event) };
    }, engine.url);
    expect(result).toEqual({ upgradedTo: "websocket", startedOn: "websocket", echoed: ["remembered"], events: ["open"] });
  });
});
