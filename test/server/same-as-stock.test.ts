/**
 * cometa/server answers a client of engine.io's own transports exactly as stock engine.io does:
 * the same requests, sent as a raw client of the protocol would, to both servers side by side,
 * give the same status and body (sids aside).
 */
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type EngineKind, type ServerSetup, type TestServer, startServer } from "../support/server.js";
import { httpRequest, post, sidOf } from "./support/http-client.js";

const KINDS: readonly EngineKind[] = ["stock", "cometa"];

/** Runs `scenario` against a stock engine.io and a cometa/server, and returns both outcomes. */
async function sideBySide<T>(scenario: (server: TestServer) => Promise<T>, setup: ServerSetup = {}) {
  const [stock, cometa] = await Promise.all(KINDS.map(async (engine) => scenario(await startServer({ ...setup, engine }))));
  return { stock, cometa };
}

/** Resolves once the server has handled the request whose URL contains `marker`. */
function handled(server: TestServer, marker: string): Promise<void> {
  return new Promise((resolve) => {
    const onRequest = (req: IncomingMessage): void => {
      if (!req.url?.includes(marker)) return;
      server.http.off("request", onRequest);
      // engine.io handles it synchronously (no middleware): one turn later it is held
      setImmediate(resolve);
    };
    server.http.on("request", onRequest);
  });
}

const withoutSid = (body: string) => body.replace(/"sid":"[^"]+"/, '"sid":"SID"');

/** The upgrade handshake of engine.io's protocol on a polling session: probe, then `5`. */
async function upgradeToWebSocket(server: TestServer, sid: string): Promise<WebSocket> {
  const ws = new WebSocket(server.endpoint(`transport=websocket&sid=${sid}`).replace("http:", "ws:"));
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  const probe = new Promise<string>((resolve) => ws.once("message", (data) => resolve(String(data))));
  ws.send("2probe");
  expect(await probe).toBe("3probe");
  const upgraded = new Promise((resolve) => server.sessions[0]!.once("upgrade", resolve));
  ws.send("5");
  await upgraded;
  return ws;
}

/** What a WebSocket client sees of an upgrade request: the HTTP status, then how it ends. */
function webSocketOutcome(url: string): Promise<{ status: number; body?: string; close?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    let status = 0;
    ws.on("upgrade", (res) => (status = res.statusCode ?? 0));
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on("error", () => {});
    ws.on("close", (code) => resolve({ status, close: code }));
  });
}

describe("cometa/server and stock engine.io, side by side", () => {
  it("handshake: the same open packet (sid aside) with the same transports", async () => {
    const { stock, cometa } = await sideBySide(
      async (server) => {
        const res = await httpRequest(server.endpoint("transport=polling"));
        return { status: res.status, type: res.headers["content-type"], body: withoutSid(res.body) };
      },
      { transports: ["polling", "websocket"] },
    );
    expect(stock.body).toMatch(/^0\{"sid":"SID","upgrades":\["websocket"\]/);
    expect(cometa).toEqual(stock);
  });

  it("an unknown sid, an unknown transport, a POST handshake, protocol v5: the same refusals", async () => {
    const requests = [
      () => ["GET", "transport=polling&sid=nope"],
      () => ["GET", "transport=carrier-pigeon"],
      () => ["POST", "transport=polling"],
      () => ["GET", "transport=polling"],
    ] as const;
    const { stock, cometa } = await sideBySide(async (server) =>
      Promise.all(
        requests.map(async (make, i) => {
          const [method, query] = make();
          const url = i === 3 ? server.endpoint(query).replace("EIO=4", "EIO=5") : server.endpoint(query);
          const res = method === "POST" ? await post(url, "4x") : await httpRequest(url);
          return { status: res.status, type: res.headers["content-type"], body: res.body };
        }),
      ),
    );
    expect(stock.map((r) => JSON.parse(r.body).code)).toEqual([1, 0, 2, 5]);
    expect(cometa).toEqual(stock);
  });

  it("a WebSocket for an unknown sid: the same refusal", async () => {
    const { stock, cometa } = await sideBySide((server) =>
      webSocketOutcome(server.endpoint("transport=websocket&sid=nope").replace("http:", "ws:")),
    );
    expect(stock).toEqual({ status: 400, body: "Session ID unknown" });
    expect(cometa).toEqual(stock);
  });

  it("a second WebSocket with the sid of a session already upgraded: accepted, then closed", async () => {
    const { stock, cometa } = await sideBySide(async (server) => {
      const sid = sidOf((await httpRequest(server.endpoint("transport=polling"))).body);
      const first = await upgradeToWebSocket(server, sid);
      const second = await webSocketOutcome(server.endpoint(`transport=websocket&sid=${sid}`).replace("http:", "ws:"));
      const stillOpen = first.readyState === WebSocket.OPEN && server.sessions[0]!.readyState === "open";
      first.terminate();
      return { second, stillOpen };
    });
    expect(stock).toEqual({ second: { status: 101, close: 1005 }, stillOpen: true });
    expect(cometa).toEqual(stock);
  });

  it("a close packet POSTed while the GET is held: the GET gets a noop, the POST ok", async () => {
    const { stock, cometa } = await sideBySide(async (server) => {
      const sid = sidOf((await httpRequest(server.endpoint("transport=polling"))).body);
      const closed = new Promise<string>((resolve) => server.sessions[0]!.once("close", resolve));
      const held = handled(server, "t=held");
      const poll = httpRequest(server.endpoint(`transport=polling&sid=${sid}&t=held`));
      await held;
      const answer = await post(server.endpoint(`transport=polling&sid=${sid}`), "1");
      const polled = await poll;
      return { get: [polled.status, polled.body], post: [answer.status, answer.body], reason: await closed };
    });
    expect(stock).toEqual({ get: [200, "6"], post: [200, "ok"], reason: "transport close" });
    expect(cometa).toEqual(stock);
  });

  it("after the close, the session's requests get the same refusal", async () => {
    const { stock, cometa } = await sideBySide(async (server) => {
      const sid = sidOf((await httpRequest(server.endpoint("transport=polling"))).body);
      await post(server.endpoint(`transport=polling&sid=${sid}`), "1");
      const poll = await httpRequest(server.endpoint(`transport=polling&sid=${sid}`));
      return [poll.status, poll.body];
    });
    expect(stock).toEqual([400, JSON.stringify({ code: 1, message: "Session ID unknown" })]);
    expect(cometa).toEqual(stock);
  });
});
