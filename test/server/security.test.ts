/** Refusals on the wire: cross-site requests, iframe parameters, JSONP index, headers. */
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { Server } from "../../src/server/index.js";
import { IframeParser, SseParser, XhrStreamingParser } from "./support/framing.js";
import { PacketStream, httpRequest, post, sidOf } from "./support/http-client.js";
import { type TestServer, startServer } from "../support/server.js";
import { once } from "../support/events.js";
import { PAGE_HEADERS, PAGE_ORIGIN } from "./support/transports.js";

let server: TestServer | undefined;

const FORBIDDEN = { code: 4, message: "Forbidden" };
const EVIL = "https://evil.example";
const IFRAME_QUERY = `origin=${encodeURIComponent(PAGE_ORIGIN)}&f=frame_1`;

function expectForbidden(response: { status: number; headers: Record<string, unknown>; body: string }): void {
  expect(response.status).toBe(403);
  expect(response.headers["content-type"]).toBe("application/json");
  expect(response.headers["x-content-type-options"]).toBe("nosniff");
  expect(JSON.parse(response.body)).toEqual(FORBIDDEN);
}

describe("options", () => {
  it('throws on allowedOrigins "*" and on iframe without allowedOrigins', () => {
    expect(() => new Server({ allowedOrigins: ["*"] })).toThrow(/"\*"/);
    expect(() => new Server({ transports: ["polling", "iframe"] })).toThrow(/iframe transport needs allowedOrigins/);
    expect(() => new Server({ transports: ["polling", "carrier-pigeon" as "polling"] })).toThrow(/unknown transport/);
    expect(() => new Server({ recycleBytes: 0 })).toThrow(/recycleBytes/);
  });

  it("leaves iframe out by default when no allowedOrigins is set", async () => {
    server = await startServer();
    const open = JSON.parse((await httpRequest(server.endpoint("transport=polling"))).body.slice(1)) as { upgrades: string[] };
    expect(open.upgrades).toEqual(["websocket", "sse", "xhr-streaming"]);
    const refused = await httpRequest(server.endpoint(`transport=iframe&${IFRAME_QUERY}`));
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toEqual({ code: 0, message: "Transport unknown" });
  });
});

describe("cross-site requests (allowedOrigins set)", () => {
  const handshakes: [string, string][] = [
    ["polling", "transport=polling"],
    ["jsonp", "transport=polling&j=0"],
    ["sse", "transport=sse"],
    ["xhr-streaming", "transport=xhr-streaming"],
    ["iframe", `transport=iframe&${IFRAME_QUERY}`],
    ["short-polling", "transport=short-polling"],
  ];

  it.each(handshakes)("refuses a %s handshake from another origin with 403", async (_, query) => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    let errors = 0;
    server.engine.on("connection_error", () => errors++);
    expectForbidden(await httpRequest(server.endpoint(query), { headers: { Origin: EVIL } }));
    expectForbidden(await httpRequest(server.endpoint(query), { headers: { "Sec-Fetch-Site": "cross-site", Referer: `${EVIL}/` } }));
    expectForbidden(await httpRequest(server.endpoint(query), { headers: { Referer: `${EVIL}/page` } }));
    expect(errors).toBe(3);
    expect(server.engine.clientsCount).toBe(0);
  });

  it("refuses session requests (POST, reopen GET) from another origin, lets the allowed page in", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const sid = sidOf((await httpRequest(server.endpoint("transport=polling"), { headers: { Origin: PAGE_ORIGIN } })).body);
    expectForbidden(await post(server.endpoint(`transport=polling&sid=${sid}`), "4x", { Origin: EVIL }));
    expectForbidden(await httpRequest(server.endpoint(`transport=sse&sid=${sid}`), { headers: { Origin: EVIL } }));
    expect((await post(server.endpoint(`transport=polling&sid=${sid}`), "4x", { Origin: PAGE_ORIGIN })).body).toBe("ok");
    const sameOrigin = await post(server.endpoint(`transport=polling&sid=${sid}`), "4y", {
      Origin: "https://server.example",
      "Sec-Fetch-Site": "same-origin",
    });
    expect(sameOrigin.body).toBe("ok");
  });

  it("lets non-browser clients (no Origin, Sec-Fetch-Site or Referer) and allowed pages in", async () => {
    server = await startServer({ allowedOrigins: (origin) => origin === PAGE_ORIGIN });
    expect((await httpRequest(server.endpoint("transport=polling"))).status).toBe(200);
    expect((await httpRequest(server.endpoint("transport=polling"), { headers: { Origin: PAGE_ORIGIN } })).status).toBe(200);
    const crossSite = { "Sec-Fetch-Site": "cross-site", Referer: `${PAGE_ORIGIN}/chat` };
    expect((await httpRequest(server.endpoint("transport=polling"), { headers: crossSite })).status).toBe(200);
  });

  it("refuses a WebSocket from another origin with 403", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server!.port}/engine.io/?EIO=4&transport=websocket`, { origin: EVIL });
      ws.on("unexpected-response", (_, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => reject(new Error("opened")));
      ws.on("error", () => {});
    });
    expect(status).toBe(403);
    const opened = await new Promise<boolean>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server!.port}/engine.io/?EIO=4&transport=websocket`, { origin: PAGE_ORIGIN });
      ws.on("open", () => {
        ws.close();
        resolve(true);
      });
      ws.on("error", () => resolve(false));
    });
    expect(opened).toBe(true);
  });

  it("refuses a WebSocket upgrade request naming a cometa transport", async () => {
    server = await startServer();
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server!.port}/engine.io/?EIO=4&transport=sse`);
      ws.on("unexpected-response", (_, res) => resolve(res.statusCode ?? 0));
      ws.on("error", () => resolve(-1));
    });
    expect(status).toBe(400);
  });
});

describe("iframe", () => {
  const iframe = (query: string, headers: Record<string, string> = {}) =>
    httpRequest(server!.endpoint(`transport=iframe&${query}`), { headers });

  it("posts to the exact origin given, never to *", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const stream = new PacketStream(server.endpoint(`transport=iframe&${IFRAME_QUERY}`), new IframeParser(), {
      Referer: `${PAGE_ORIGIN}/app`,
      "Sec-Fetch-Site": "cross-site",
    });
    await stream.packet(0);
    const parser = stream.parser as IframeParser;
    expect(parser.origin).toBe(PAGE_ORIGIN);
    expect(parser.frameId).toBe("frame_1");
    expect(stream.raw).not.toContain('"*"');
    expect(stream.raw.indexOf("<!--")).toBeGreaterThan(0);
    expect(stream.raw.length).toBeGreaterThan(1024);
  });

  it("refuses an origin outside allowedOrigins, or one the Referer/Origin contradicts", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN, "https://other.example"] });
    expectForbidden(await iframe(`origin=${encodeURIComponent(EVIL)}&f=a`));
    expectForbidden(await iframe(`origin=${encodeURIComponent(`${PAGE_ORIGIN}/`)}&f=a`));
    expectForbidden(await iframe("f=a"));
    expectForbidden(await iframe(`${IFRAME_QUERY}`, { Referer: "https://other.example/page" }));
    expectForbidden(await iframe(`${IFRAME_QUERY}`, { Origin: "https://other.example" }));
    expect(server.engine.clientsCount).toBe(0);
  });

  it.each(["", "a b", "<script>", "x".repeat(33), "é"])("refuses frame id %j with 400", async (f) => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const response = await iframe(`origin=${encodeURIComponent(PAGE_ORIGIN)}&f=${encodeURIComponent(f)}`, { ...PAGE_HEADERS });
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ code: 3, message: "Bad request" });
    expect(server.engine.clientsCount).toBe(0);
  });

  it("checks the parameters of a reopen GET too", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const stream = new PacketStream(server.endpoint(`transport=iframe&${IFRAME_QUERY}`), new IframeParser(), { ...PAGE_HEADERS });
    const sid = sidOf(await stream.packet(0));
    expectForbidden(await iframe(`sid=${sid}&origin=${encodeURIComponent(EVIL)}&f=a`, { ...PAGE_HEADERS }));
    expect((await iframe(`sid=${sid}&origin=${encodeURIComponent(PAGE_ORIGIN)}&f=bad!`, { ...PAGE_HEADERS })).status).toBe(400);
  });

  it("refuses a request naming the allowed origin without the browser saying so (no Referer): handshake, reopen, POST", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    expectForbidden(await iframe(IFRAME_QUERY));
    expect(server.engine.clientsCount).toBe(0);
    const stream = new PacketStream(server.endpoint(`transport=iframe&${IFRAME_QUERY}`), new IframeParser(), { ...PAGE_HEADERS });
    const sid = sidOf(await stream.packet(0));
    expectForbidden(await iframe(`sid=${sid}&${IFRAME_QUERY}`));
    expectForbidden(await post(server.endpoint(`transport=iframe&sid=${sid}`), "4x"));
    expect((await post(server.endpoint(`transport=iframe&sid=${sid}`), "4x", { Origin: PAGE_ORIGIN })).body).toBe("ok");
  });

  it("takes the page's word in any of the forms browsers give it", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const forms: Record<string, string>[] = [
      { Referer: `${PAGE_ORIGIN}/chat?room=1` },
      { Referer: `${PAGE_ORIGIN}/`, "Sec-Fetch-Site": "cross-site" },
      { "Sec-Fetch-Site": "same-origin" },
    ];
    for (const headers of forms) {
      const stream = new PacketStream(server.endpoint(`transport=iframe&${IFRAME_QUERY}`), new IframeParser(), headers);
      expect(sidOf(await stream.packet(0))).toMatch(/./);
    }
  });
});

describe("jsonp with allowedOrigins: browsers only, with the page's word on every request", () => {
  const jsonpSid = (body: string) => sidOf(JSON.parse(body.slice("___eio[0](".length, -2)) as string);

  it("refuses a handshake that says nothing about its page (a no-referrer script over plain HTTP)", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    let refusals = 0;
    server.engine.on("connection_error", ({ code }: { code: number }) => code === 4 && refusals++);
    const response = await httpRequest(server.endpoint("transport=polling&j=0"));
    expectForbidden(response);
    expect(response.body).not.toContain("___eio");
    expect(refusals).toBe(1);
    expect(server.engine.clientsCount).toBe(0);
  });

  it("lets the allowed page in, by Origin, Referer or Sec-Fetch-Site same-origin / none", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const forms: Record<string, string>[] = [
      { Referer: `${PAGE_ORIGIN}/chat` },
      { Origin: PAGE_ORIGIN },
      { "Sec-Fetch-Site": "same-origin" },
      { "Sec-Fetch-Site": "none" },
    ];
    for (const headers of forms) {
      const response = await httpRequest(server.endpoint("transport=polling&j=0"), { headers });
      expect(response.status).toBe(200);
      expect(response.body).toMatch(/^___eio\[0\]\("0\{/);
    }
  });

  it("refuses every later request of the session that says nothing: polls (with or without j) and POSTs", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const connection = server.nextConnection();
    const handshake = await httpRequest(server.endpoint("transport=polling&j=0"), { headers: { ...PAGE_HEADERS } });
    const sid = jsonpSid(handshake.body);
    const socket = await connection;
    const form = { "Content-Type": "application/x-www-form-urlencoded" };
    expectForbidden(await httpRequest(server.endpoint(`transport=polling&j=0&sid=${sid}`)));
    expectForbidden(await httpRequest(server.endpoint(`transport=polling&sid=${sid}`)));
    expectForbidden(await post(server.endpoint(`transport=polling&j=0&sid=${sid}`), "d=4x", form));
    expectForbidden(await post(server.endpoint(`transport=polling&sid=${sid}`), "4x"));
    socket.send("for the page");
    const poll = await httpRequest(server.endpoint(`transport=polling&j=0&sid=${sid}`), { headers: { ...PAGE_HEADERS } });
    expect(poll.body).toBe('___eio[0]("4for the page");');
    const message = once(socket, "message");
    expect((await post(server.endpoint(`transport=polling&j=0&sid=${sid}`), "d=4y", { ...form, Origin: PAGE_ORIGIN })).body).toBe("ok");
    expect(await message).toEqual(["y"]);
  });

  it("still lets non-browser clients use plain polling, and JSONP when no allowedOrigins is set", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    expect((await httpRequest(server.endpoint("transport=polling"))).status).toBe(200);
    await server.close();
    server = await startServer();
    expect((await httpRequest(server.endpoint("transport=polling&j=0"))).status).toBe(200);
  });
});

describe("jsonp", () => {
  it.each(["1abc", "", "-1", "1e3", "0x1"])("refuses a callback index %j", async (j) => {
    server = await startServer();
    const response = await httpRequest(server.endpoint(`transport=polling&j=${encodeURIComponent(j)}`));
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ code: 3, message: "Bad request" });
  });

  it("keeps working with a digits-only index, labelled as JavaScript", async () => {
    server = await startServer();
    const connection = server.nextConnection();
    const handshake = await httpRequest(server.endpoint("transport=polling&j=3"));
    expect(handshake.body).toMatch(/^___eio\[3\]\("0\{.*"\);$/);
    expect(handshake.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(handshake.headers["x-content-type-options"]).toBe("nosniff");
    const sid = JSON.parse(JSON.parse(handshake.body.slice("___eio[3](".length, -2)).slice(1)).sid as string;
    const socket = await connection;
    const message = new Promise((resolve) => socket.once("message", resolve));
    const form = await post(server.endpoint(`transport=polling&j=3&sid=${sid}`), `d=${encodeURIComponent("4from jsonp")}`, {
      "Content-Type": "application/x-www-form-urlencoded",
    });
    expect(form.body).toBe("ok");
    expect(await message).toBe("from jsonp");
  });
});

describe("headers", () => {
  it("adds nosniff to stock polling and error responses too", async () => {
    server = await startServer();
    const polling = await httpRequest(server.endpoint("transport=polling"));
    expect(polling.headers["x-content-type-options"]).toBe("nosniff");
    const unknown = await httpRequest(server.endpoint("transport=polling&sid=nope"));
    expect(unknown.status).toBe(400);
    expect(unknown.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("lets engine.io's headers hooks see cometa responses (handshake and upgrade candidate)", async () => {
    server = await startServer({ cookie: { name: "io" } });
    const seen: string[] = [];
    server.engine.on("headers", (headers: Record<string, string>, req: { _query: { transport: string } }) => {
      headers["X-Hooked"] = req._query.transport;
      seen.push(req._query.transport);
    });
    const stream = new PacketStream(server.endpoint("transport=xhr-streaming"), new XhrStreamingParser());
    await stream.opened;
    expect(stream.headers["x-hooked"]).toBe("xhr-streaming");
    expect(String(stream.headers["set-cookie"])).toMatch(/^io=/);
    const sid = sidOf((await httpRequest(server.endpoint("transport=polling"))).body);
    const candidate = new PacketStream(server.endpoint(`transport=sse&sid=${sid}`), new SseParser());
    await candidate.opened;
    expect(candidate.headers["x-hooked"]).toBe("sse");
    expect(seen).toContain("sse");
  });
});
