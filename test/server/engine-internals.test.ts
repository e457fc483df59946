/**
 * Fails loudly when an engine.io release changes an internal cometa/server relies on (see
 * src/server/engine-internals.ts for the list). Each test names the internal it pins.
 */
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { Server as StockServer, Transport as StockTransport, type Socket as EngineSocket } from "engine.io";
import type { Packet } from "engine.io-parser";
import { describe, expect, it } from "vitest";
import {
  CUT_POLL_MESSAGE,
  SUPPORTED_ENGINE_IO,
  installedEngineVersion,
  isSupportedEngineVersion,
  missingEngineInternals,
} from "../../src/server/engine-internals.js";
import { Server as CometaServer } from "../../src/server/index.js";
import { httpRequest } from "./support/http-client.js";
import { startServer } from "../support/server.js";

/** A stock engine.io Server (or a subclass under test) on a loopback port: its endpoint. */
async function listen(engine: StockServer): Promise<string> {
  return (await startServer({ engine })).endpoint("");
}

/** The smallest transport engine.io accepts, recording what the socket sends it. */
class RecordingTransport extends StockTransport {
  readonly sent: Packet[] = [];
  constructor() {
    super({ _query: { EIO: "4" } });
    this.writable = true;
  }
  get name(): string {
    return "recording";
  }
  send(packets: Packet[]): void {
    this.sent.push(...packets);
  }
  doClose(fn?: () => void): void {
    fn?.();
    this.onClose();
  }
  receive(packet: Packet): void {
    this.onPacket(packet);
  }
}

describe(`engine.io internals (written against ${SUPPORTED_ENGINE_IO})`, () => {
  it("has every internal cometa/server checks for", () => {
    expect(missingEngineInternals()).toEqual([]);
  });

  it(`is engine.io ${SUPPORTED_ENGINE_IO} (re-verify engine-internals.ts before widening)`, () => {
    expect(isSupportedEngineVersion(installedEngineVersion())).toBe(true);
    expect(["6.6.0", "6.6.12"].every(isSupportedEngineVersion)).toBe(true);
    expect(["6.7.0", "7.6.0", "6.66.0", "6.6"].some(isSupportedEngineVersion)).toBe(false);
  });

  it("SUPPORTED_ENGINE_IO is the one source of the range: package.json's peer dependency says the same", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      peerDependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(SUPPORTED_ENGINE_IO).toMatch(/^\d+\.\d+\.x$/);
    const [major, minor] = SUPPORTED_ENGINE_IO.split(".");
    expect(pkg.peerDependencies["engine.io"]).toBe(`~${major}.${minor}.0`);
    // and the release the tests run against is one of them
    expect(pkg.devDependencies["engine.io"]).toMatch(new RegExp(`^~${major}\\.${minor}\\.\\d+$`));
  });

  it("Server#verify(req, upgrade = true) skips TRANSPORT_MISMATCH; upgrade = false does not", () => {
    const engine = new StockServer({ transports: ["polling", "sse" as "polling"] });
    (engine as unknown as { clients: Record<string, unknown> }).clients.abc = { transport: { name: "polling" }, protocol: 4 };
    const verify = (upgrade: boolean) =>
      new Promise<unknown[]>((resolve) => {
        const req = { _query: { EIO: "4", transport: "sse", sid: "abc" }, headers: {}, method: "GET" };
        (engine as unknown as { verify(r: unknown, u: boolean, cb: (...a: unknown[]) => void): void }).verify(req, upgrade, (...args) => resolve(args));
      });
    return Promise.all([verify(true), verify(false)]).then(([asUpgrade, plain]) => {
      expect(asUpgrade).toEqual([]);
      expect(plain[0]).toBe(3);
      expect((plain[1] as { name: string }).name).toBe("TRANSPORT_MISMATCH");
    });
  });

  it("Server#prepare(req) fills req._query and keeps an existing one", () => {
    const engine = new StockServer();
    const prepare = (req: object) => (engine as unknown as { prepare(r: object): void }).prepare(req);
    const req: { url: string; _query?: Record<string, string> } = { url: "/engine.io/?EIO=4&transport=sse&sid=x" };
    prepare(req);
    expect(req._query).toEqual({ EIO: "4", transport: "sse", sid: "x" });
    const kept = { url: "/?a=1", _query: { b: "2" } };
    prepare(kept);
    expect(kept._query).toEqual({ b: "2" });
  });

  it("handshake builds its transport with createTransport, and upgrades() feeds the open packet", async () => {
    const built: string[] = [];
    class Probe extends StockServer {
      protected override createTransport(name: "polling", req: Parameters<StockServer["handleRequest"]>[0]) {
        built.push(name);
        return super.createTransport(name, req);
      }
      override upgrades(): string[] {
        return ["websocket", "sse"];
      }
    }
    const url = await listen(new Probe({ transports: ["polling", "websocket", "sse" as "polling"] }));
    const open = JSON.parse((await httpRequest(`${url}transport=polling`)).body.slice(1)) as { upgrades: string[] };
    expect(built).toEqual(["polling"]);
    // Socket#getAvailableUpgrades: server.upgrades(name) filtered by the transports option.
    expect(open.upgrades).toEqual(["websocket", "sse"]);
  });

  it("Socket#_maybeUpgrade: probe answered on the candidate, noop to a held poll, `5` swaps", async () => {
    const engine = new StockServer();
    const url = await listen(engine);
    const connected = new Promise<EngineSocket>((resolve) => engine.once("connection", resolve));
    const sid = JSON.parse((await httpRequest(`${url}transport=polling`)).body.slice(1)).sid as string;
    const socket = await connected;
    const candidate = new RecordingTransport();
    socket._maybeUpgrade(candidate);
    expect((socket as unknown as { upgrading: boolean }).upgrading).toBe(true);

    const held = httpRequest(`${url}transport=polling&sid=${sid}`);
    candidate.receive({ type: "ping", data: "probe" });
    expect(candidate.sent).toEqual([{ type: "pong", data: "probe" }]);
    // The noop every 100 ms to a transport named "polling" ends the held poll.
    expect((await held).body).toBe("6");

    socket.send("buffered");
    const upgraded = new Promise((resolve) => socket.once("upgrade", resolve));
    candidate.receive({ type: "upgrade" });
    expect(await upgraded).toBe(candidate);
    expect(socket.transport).toBe(candidate);
    expect((socket as unknown as { upgraded: boolean }).upgraded).toBe(true);
    // The socket flushed its buffer to the new transport, which it drives via writable/send.
    expect(candidate.sent.slice(1).map((p) => p.data)).toEqual(["buffered"]);
    // The old polling transport was discarded and closed.
    expect((await httpRequest(`${url}transport=polling&sid=${sid}`)).status).toBe(400);
  });

  it("Transport: constructor reads _query.EIO, close() runs doClose once, discard() sets discarded", () => {
    const transport = new RecordingTransport();
    expect(transport.protocol).toBe(4);
    let closes = 0;
    transport.on("close", () => closes++);
    transport.discard();
    expect((transport as unknown as { discarded: boolean }).discarded).toBe(true);
    transport.close();
    transport.close();
    expect(closes).toBe(1);
    expect(transport.readyState).toBe("closed");
  });

  it("handshake forwards the transport's `headers` event to the server's `headers`/`initial_headers`", async () => {
    const engine = new StockServer();
    const url = await listen(engine);
    const events: string[] = [];
    engine.on("initial_headers", () => events.push("initial_headers"));
    engine.on("headers", (headers: Record<string, string>) => {
      events.push("headers");
      headers["X-Seen"] = "1";
    });
    const response = await httpRequest(`${url}transport=polling`);
    expect(events).toEqual(["initial_headers", "headers"]);
    expect(response.headers["x-seen"]).toBe("1");
  });
});

describe("a held poll cut before it is answered", () => {
  /** Handshakes, holds a GET, cuts it from the client side; resolves once the server saw it. */
  async function cutHeldPoll(engine: StockServer) {
    const url = await listen(engine);
    const sessions: EngineSocket[] = [];
    engine.on("connection", (socket: EngineSocket) => sessions.push(socket));
    const sid = (JSON.parse((await httpRequest(`${url}transport=polling`)).body.slice(1)) as { sid: string }).sid;
    const session = sessions[0]!;
    const closed: string[] = [];
    session.on("close", (reason: string) => closed.push(reason));
    const held = request(`${url}transport=polling&sid=${sid}`);
    held.on("error", () => {});
    held.end();
    const transport = session.transport as unknown as { req: unknown };
    while (!transport.req) await new Promise((resolve) => setImmediate(resolve));
    held.destroy();
    while (transport.req) await new Promise((resolve) => setImmediate(resolve));
    // one more turn for a close the cut may cause
    await new Promise((resolve) => setImmediate(resolve));
    return { url, sid, session, closed };
  }

  it(`stock engine.io closes the session ("${CUT_POLL_MESSAGE}")`, async () => {
    const { closed } = await cutHeldPoll(new StockServer());
    expect(closed).toEqual(["transport error"]);
  });

  it("cometa/server keeps it: what the server sends meanwhile comes with the next poll", async () => {
    const { url, sid, session, closed } = await cutHeldPoll(new CometaServer({}) as unknown as StockServer);
    expect(closed).toEqual([]);
    session.send("kept for the next poll");
    expect((await httpRequest(`${url}transport=polling&sid=${sid}`)).body).toBe("4kept for the next poll");
  });
});
