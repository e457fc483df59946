/**
 * Resumable sessions on cometa/server (docs/wire.md, "Resumable sessions"), driven by hand over
 * raw polling requests and WebSocket frames: negotiation, numbering and de-duplication, acks,
 * replay after a cut poll and on an upgrade, detach and reattach, the window and the bound.
 */
import { Socket as ClientSocket } from "engine.io-client";
import { request } from "node:http";
import type { Socket as EngineSocket } from "engine.io";
import { describe, expect, it, vi } from "vitest";
import { ResumeBufferFullError, ResumeWindowError } from "../../src/server/index.js";
import { SseParser } from "./support/framing.js";
import { PacketStream, httpRequest, post, splitPayload } from "./support/http-client.js";
import { WsPeer, messagesIn, openSession } from "./support/resume-peer.js";
import { startIoServer, startServer } from "../support/server.js";
import { collect, once } from "../support/events.js";

const BAD_REQUEST = { code: 3, message: "Bad request" };
const UNKNOWN_SID = { code: 1, message: "Session ID unknown" };

describe("negotiation", () => {
  it("grants the terms in the open packet to a handshake that offers resumption", async () => {
    const server = await startServer();
    const session = await openSession(server);
    expect(session.open.resume).toEqual({ window: 60000, maxBytes: 16777216 });
    const custom = await startServer({ resume: { window: 5000, maxBytes: 4096 } });
    expect((await openSession(custom)).open.resume).toEqual({ window: 5000, maxBytes: 4096 });
    // over a WebSocket handshake too (the open packet leaves inside engine.io's constructor)
    const peer = new WsPeer(server.endpoint("transport=websocket&resume=1").replace(/^http/, "ws"));
    const [open] = await peer.take(1);
    expect(JSON.parse(open!.slice(1)).resume).toEqual({ window: 60000, maxBytes: 16777216 });
  });

  it("grants nothing without the offer, nor with resume: false", async () => {
    const server = await startServer();
    const plain = await openSession(server, "");
    expect(Object.keys(plain.open).sort()).toEqual(["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
    const off = await startServer({ resume: false });
    const offered = await openSession(off);
    expect(offered.open.resume).toBeUndefined();
  });

  it("a stock engine.io-client sees stock engine.io: no terms, no controls, a broken WebSocket closes", async () => {
    const server = await startServer();
    server.engine.on("connection", (socket) => socket.on("message", (data: unknown) => socket.send(data as string)));
    const connection = server.nextConnection();
    const client = new ClientSocket(`http://127.0.0.1:${server.port}`);
    const packets: { type: string; data?: unknown }[] = [];
    client.on("packet", (packet) => packets.push(packet));
    const opened = once(client, "open");
    const socket = await connection;
    await opened;
    await Promise.all([once(client, "upgrade"), once(socket, "upgrade")]);
    const echoed = collect<string>(client);
    for (const text of ["a", "b", "c"]) client.send(text);
    await echoed.until(3);
    expect(echoed.received).toEqual(["a", "b", "c"]);
    expect(JSON.parse(packets[0]!.data as string)).not.toHaveProperty("resume");
    // only the probe's answer and engine.io's own data-less noops, no ack
    expect(packets.filter((p) => p.type === "noop" && p.data !== undefined)).toEqual([]);
    const events: string[] = [];
    socket.on("detached", () => events.push("detached"));
    const closed = once<[string]>(socket, "close");
    (socket.transport as unknown as { socket: { terminate(): void } }).socket.terminate();
    expect((await closed)[0]).toBe("transport close");
    expect(events).toEqual([]);
    client.close();
  });
});

describe("numbering and acknowledgements", () => {
  it("delivers a replayed POST's messages once (6s markers), and ends the session on a gap", async () => {
    const server = await startServer();
    const session = await openSession(server);
    const received = collect<string>(session.socket);
    expect((await session.send("6s1", "4a", "4b")).body).toBe("ok");
    // the same POST again (its answer was lost), with one more message
    expect((await session.send("6s1", "4a", "4b", "4c")).body).toBe("ok");
    expect(received.received).toEqual(["a", "b", "c"]);
    const closed = once<[string, Error]>(session.socket, "close");
    await session.send("6s9", "4x");
    const [reason, error] = await closed;
    expect(reason).toBe("parse error");
    expect(error.message).toMatch(/message 9 arrived after message 3/);
    expect(received.received).toEqual(["a", "b", "c"]);
  });

  it("an ack drops what it covers: a GET with an older ack gets only what is not acknowledged", async () => {
    const server = await startServer();
    const session = await openSession(server);
    for (const text of ["m1", "m2", "m3"]) session.socket.send(text);
    expect(messagesIn(await session.poll("&ack=0"))).toEqual(["m1", "m2", "m3"]);
    await session.send("6a2");
    // this poll's ack covers less than the POST did: m1 and m2 stay dropped, m3 comes again
    expect(messagesIn(await session.poll("&ack=0"))).toEqual(["m3"]);
    expect(messagesIn(await session.poll("&ack=1"))).toEqual(["m3"]);
  });

  it("a cut poll loses nothing: the next GET's ack=N gets back what N does not cover, then what follows", async () => {
    const server = await startServer();
    const session = await openSession(server);
    session.socket.send("m1");
    session.socket.send("m2");
    await session.poll("&ack=0"); // answered, and lost on the way
    session.socket.send("m3");
    expect(messagesIn(await session.poll("&ack=0"))).toEqual(["m1", "m2", "m3"]);
    // this one covers everything: nothing comes twice
    const held = session.poll("&ack=3");
    session.socket.send("m4");
    expect(messagesIn(await held)).toEqual(["m4"]);
  });

  it("an upgrade with 6a<N> before 5 replays on the WebSocket what N does not cover; the server acks WebSocket messages", async () => {
    const server = await startServer();
    const session = await openSession(server);
    for (const text of ["m1", "m2", "m3"]) session.socket.send(text);
    expect(messagesIn(await session.poll("&ack=0"))).toEqual(["m1", "m2", "m3"]);
    const peer = await session.upgrade(1);
    expect(await peer.take(2)).toEqual(["4m2", "4m3"]);
    session.socket.send("m4");
    expect(await peer.take(1)).toEqual(["4m4"]);
    const received = collect<string>(session.socket);
    peer.send("6s1", "4c1", "4c2");
    // one ack for the turn that delivered both
    expect(await peer.take(1)).toEqual(["6a2"]);
    expect(received.received).toEqual(["c1", "c2"]);
    peer.send("6s2", "4c2", "4c3");
    expect(await peer.take(1)).toEqual(["6a3"]);
    expect(received.received).toEqual(["c1", "c2", "c3"]);
  });
});

describe("acknowledgements on WebSocket", () => {
  it("an exchange gets one 6a<N> for many messages, within 10 ms; 64 KiB unacknowledged are acknowledged in the same turn", async () => {
    const server = await startServer();
    const session = await openSession(server);
    session.socket.on("message", (data: string) => session.socket.send(data));
    const peer = await session.upgrade(0);
    // only the acknowledgement's timer is faked: the sockets run as they do
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      peer.send("6s1", "4c1");
      expect(await peer.take(1)).toEqual(["4c1"]);
      peer.send("4c2");
      expect(await peer.take(1)).toEqual(["4c2"]);
      vi.advanceTimersByTime(9);
      peer.send("4c3");
      expect(await peer.take(1)).toEqual(["4c3"]);
      vi.advanceTimersByTime(1);
      expect(await peer.take(1)).toEqual(["6a3"]);
      const large = "x".repeat(65536);
      peer.send(`4${large}`);
      expect(await peer.take(2)).toEqual([`4${large}`, "6a4"]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("JSONP", () => {
  it("acknowledges the messages of a JSONP POST with 6a<N>, as on WebSocket: the page cannot read the POST's answer", async () => {
    const server = await startServer();
    const connection = server.nextConnection();
    const script = (body: string) => JSON.parse(/^___eio\[0\]\((.*)\);$/s.exec(body)![1]!) as string;
    const handshake = await httpRequest(server.endpoint("transport=polling&resume=1&j=0"));
    const open = JSON.parse(script(handshake.body).slice(1)) as { sid: string; resume?: unknown };
    expect(open.resume).toBeDefined();
    const socket = await connection;
    const received = collect<string>(socket);
    const url = (q: string) => server.endpoint(`transport=polling&j=0&sid=${encodeURIComponent(open.sid)}${q}`);
    const form = "d=" + encodeURIComponent("6s1\x1e4a\x1e4b");
    expect((await post(url(""), form, { "Content-Type": "application/x-www-form-urlencoded" })).body).toBe("ok");
    expect(received.received).toEqual(["a", "b"]);
    expect(splitPayload(script((await httpRequest(url("&ack=0"))).body))).toEqual(["6a2"]);
    // with a poll held, the ack goes out at once
    const held = httpRequest(url("&ack=0"));
    await new Promise((resolve) => socket.transport.once("ready", resolve));
    expect((await post(url(""), "d=" + encodeURIComponent("6s3\x1e4c"), { "Content-Type": "application/x-www-form-urlencoded" })).body).toBe("ok");
    expect(splitPayload(script((await held).body))).toEqual(["6a3"]);
    // that answer lost on the way: the next answer that carries something opens with it again
    socket.send("s1");
    expect(splitPayload(script((await httpRequest(url("&ack=0"))).body))).toEqual(["6a3", "4s1"]);
  });

  it("every answer to a JSONP request closes its connection: a script sent on a kept-alive connection that died silently could not be aborted", async () => {
    const server = await startServer();
    // asked to keep them, as browsers do
    const keep = { Connection: "keep-alive" };
    const jsonp = await httpRequest(server.endpoint("transport=polling&resume=1&j=0"), { headers: keep });
    const { sid } = JSON.parse((JSON.parse(/^___eio\[0\]\((.*)\);$/s.exec(jsonp.body)![1]!) as string).slice(1)) as { sid: string };
    const form = { ...keep, "Content-Type": "application/x-www-form-urlencoded" };
    const posted = await post(server.endpoint(`transport=polling&j=0&sid=${sid}`), "d=" + encodeURIComponent("6s1\x1e4a"), form);
    const refused = await httpRequest(server.endpoint(`transport=polling&j=7&sid=${sid}&ack=0`), { headers: keep });
    expect([jsonp, posted, refused].map((response) => [response.status, response.headers.connection])).toEqual([
      [200, "close"],
      [200, "close"],
      [400, "close"],
    ]);
    // long-polling keeps its connections
    const polling = await httpRequest(server.endpoint("transport=polling&resume=1"), { headers: keep });
    expect(polling.headers.connection).toBe("keep-alive");
  });

  it("a request of a JSONP transport the client gave up (a script cannot be aborted; a reset connection's GET is sent again) is refused and changes nothing", async () => {
    const server = await startServer();
    const connection = server.nextConnection();
    /** The callback a JSONP answer calls, and its packets. */
    const answer = (body: string) => {
      const [, index, payload] = /^___eio\[(\d+)\]\((.*)\);$/s.exec(body)!;
      return { index: Number(index), packets: splitPayload(JSON.parse(payload!) as string) };
    };
    const handshake = await httpRequest(server.endpoint("transport=polling&resume=1&j=0"));
    const { sid } = JSON.parse(answer(handshake.body).packets[0]!.slice(1)) as { sid: string };
    const socket = await connection;
    const events: string[] = [];
    socket.on("close", (reason: string, description: unknown) => events.push(`close: ${reason} ${String(description)}`));
    const received = collect<string>(socket);
    const url = (j: number, q: string) => server.endpoint(`transport=polling&j=${j}&sid=${encodeURIComponent(sid)}${q}`);
    const form = (...packets: string[]) => "d=" + encodeURIComponent(packets.join("\x1e"));
    const formHeaders = { "Content-Type": "application/x-www-form-urlencoded" };
    // as it arrived, so an answer where a refusal was due shows as it is
    const refused = { status: 400, body: JSON.stringify(BAD_REQUEST) };
    const asIs = (response: { status: number; body: string }) => ({ status: response.status, body: response.body });

    socket.send("s1");
    socket.send("s2");
    expect(answer((await httpRequest(url(0, "&ack=0"))).body)).toEqual({ index: 0, packets: ["4s1", "4s2"] });
    // the page's transport (callback 0) broke: it reattaches on a new one (callback 1)
    expect(answer((await httpRequest(url(1, "&reattach=2"))).body)).toEqual({ index: 1, packets: ["6a0"] });
    socket.send("s3");
    expect(answer((await httpRequest(url(1, "&ack=2"))).body)).toEqual({ index: 1, packets: ["4s3"] });

    // the old transport's poll arrives again: answered, it would carry s3 again under callback 1,
    // which the page would count as its message 4
    expect(asIs(await httpRequest(url(0, "&ack=2")))).toEqual(refused);
    // beside the poll held: no overlap, the session goes on
    const held = httpRequest(url(1, "&ack=3"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(asIs(await httpRequest(url(0, "&ack=0")))).toEqual(refused);
    // the old transport's POST too: its messages come again on the transport in use
    expect(asIs(await post(url(0, ""), form("6s1", "4c1"), formHeaders))).toEqual(refused);
    expect(received.received).toEqual([]);
    socket.send("s4");
    expect(answer((await held).body)).toEqual({ index: 1, packets: ["4s4"] });
    expect((await post(url(1, ""), form("6s1", "4c1"), formHeaders)).body).toBe("ok");
    expect(received.received).toEqual(["c1"]);
    expect(events).toEqual([]);
    expect(socket.readyState).toBe("open");
  });
});

/** A POST whose connection drops mid-body: engine.io's "data request connection closed prematurely". */
async function abortedPost(url: string): Promise<void> {
  await new Promise<void>((resolve) => {
    const req = request(url, { method: "POST", agent: false, headers: { "Content-Type": "text/plain;charset=UTF-8", "Content-Length": "100" } });
    req.on("error", () => resolve());
    req.write("4par", () => setImmediate(() => req.destroy()));
    req.on("close", () => resolve());
  });
}

const refusalOf = (response: { status: number; body: string }) => ({ status: response.status, body: JSON.parse(response.body) as unknown });

describe("detach and reattach", () => {
  /**
   * A resumable session upgraded to WebSocket: the client sent c1 to c3 (acked by the server),
   * the server s1 and s2, of which the client acked s1.
   */
  async function onWebSocket(options: Parameters<typeof startServer>[0] = {}) {
    const server = await startServer(options);
    const session = await openSession(server);
    const peer = await session.upgrade(0);
    const received = collect<string>(session.socket);
    peer.send("6s1", "4c1", "4c2");
    expect(await peer.take(1)).toEqual(["6a2"]);
    session.socket.send("s1");
    session.socket.send("s2");
    expect(await peer.take(2)).toEqual(["4s1", "4s2"]);
    peer.send("6a1", "4c3");
    expect(await peer.take(1)).toEqual(["6a3"]);
    expect(received.received).toEqual(["c1", "c2", "c3"]);
    return { server, session, peer, received };
  }

  function recordEvents(socket: { on(name: string, listener: (...args: unknown[]) => void): unknown }): unknown[][] {
    const events: unknown[][] = [];
    for (const name of ["close", "detached", "reattached"]) socket.on(name, (...args: unknown[]) => events.push([name, ...args]));
    return events;
  }

  it("a broken WebSocket detaches, no close; a reattach on polling gets 6a<M>, what was not acked, what was written meanwhile; upgrades again", async () => {
    const { session, peer, received } = await onWebSocket();
    const events = recordEvents(session.socket);
    const detached = once(session.socket, "detached");
    peer.ws.terminate();
    await detached;
    expect(events).toEqual([["detached", "transport close", undefined]]);
    session.socket.send("s3");
    session.socket.send("s4");
    expect(await session.poll("&reattach=1")).toEqual(["6a3", "4s2", "4s3", "4s4"]);
    expect(events).toEqual([["detached", "transport close", undefined], ["reattached", "polling"]]);
    expect(session.socket.transport.name).toBe("polling");
    // the client resends from c4 on; a replayed c3 is dropped
    expect((await session.send("6s3", "4c3", "4c4")).body).toBe("ok");
    expect(received.received).toEqual(["c1", "c2", "c3", "c4"]);
    const held = session.poll("&ack=4");
    session.socket.send("s5");
    expect(await held).toEqual(["4s5"]);
    // upgrades are probed again
    const again = await session.upgrade(5);
    session.socket.send("s6");
    expect(await again.take(1)).toEqual(["4s6"]);
    again.send("6s5", "4c5");
    expect(await again.take(1)).toEqual(["6a5"]);
    expect(received.received).toEqual(["c1", "c2", "c3", "c4", "c5"]);
    expect(events.filter(([name]) => name === "close")).toEqual([]);
  });

  it("refusals of a detached session's requests and of bad reattaches carry the CORS headers engine.io's own refusals carry", async () => {
    const page = "http://page.test";
    const { session, peer } = await onWebSocket({ cors: { origin: page, credentials: true } });
    const detached = once(session.socket, "detached");
    peer.ws.terminate();
    await detached;
    const fromPage = { Origin: page };
    const refusedPost = await post(session.url("transport=polling"), "6s4\x1e4c4", fromPage);
    const refusedReattach = await httpRequest(session.url("transport=polling&reattach=99"), { headers: fromPage });
    for (const refused of [refusedPost, refusedReattach]) {
      expect(refusalOf(refused)).toEqual({ status: 400, body: BAD_REQUEST });
      expect(refused.headers["access-control-allow-origin"]).toBe(page);
      expect(refused.headers["access-control-allow-credentials"]).toBe("true");
    }
  });

  it("a WebSocket message over maxHttpBufferSize ends the session, no detach: every reattach would bring it again", async () => {
    const { session, peer } = await onWebSocket({ maxHttpBufferSize: 1000 });
    const events = recordEvents(session.socket);
    const closed = once<[string, Error]>(session.socket, "close");
    peer.send("6s4", "4" + "x".repeat(2000));
    const [reason, error] = await closed;
    expect([reason, error.message]).toEqual(["transport error", expect.stringMatching(/Max payload size exceeded/)]);
    expect(events.map(([name]) => name)).toEqual(["close"]);
  });

  it("a POST over maxHttpBufferSize (413) ends a resumable session at once, as its client ends it on that answer", async () => {
    const server = await startServer({ maxHttpBufferSize: 1000 });
    const session = await openSession(server);
    const events = recordEvents(session.socket);
    const closed = once<[string, Error]>(session.socket, "close");
    expect((await session.send("6s1", "4" + "x".repeat(2000))).status).toBe(413);
    const [reason, error] = await closed;
    expect([reason, error.message]).toEqual(["transport error", expect.stringMatching(/413/)]);
    expect(events.map(([name]) => name)).toEqual(["close"]);
  });

  it("the server's close() on a WebSocket sends 1 first (engine.io's does not), so the client tells it from a break", async () => {
    const { session, peer } = await onWebSocket();
    const events = recordEvents(session.socket);
    const closed = once<[string]>(session.socket, "close");
    session.socket.send("s3");
    session.socket.close();
    expect(await peer.take(2)).toEqual(["4s3", "1"]);
    expect((await closed)[0]).toBe("forced close");
    expect(events.map(([name]) => name)).toEqual(["close"]);
  });

  it("the server's close() (engine.io's Server.close, which discards) sends 1 on a WebSocket too, so its clients close instead of reattaching", async () => {
    const { server, session, peer } = await onWebSocket();
    const events = recordEvents(session.socket);
    const closed = once<[string]>(session.socket, "close");
    server.engine.close();
    expect(await peer.take(1)).toEqual(["1"]);
    expect((await closed)[0]).toBe("forced close");
    expect(events.map(([name]) => name)).toEqual(["close"]);
  });

  it("a session opened on a WebSocket detaches on its break and reattaches on polling", async () => {
    const server = await startServer();
    const connection = server.nextConnection();
    const peer = new WsPeer(server.endpoint("transport=websocket&resume=1").replace(/^http/, "ws"));
    const sid = (JSON.parse((await peer.take(1))[0]!.slice(1)) as { sid: string }).sid;
    const socket = await connection;
    socket.send("s1");
    expect(await peer.take(1)).toEqual(["4s1"]);
    const received = collect<string>(socket);
    peer.send("6s1", "4c1");
    expect(await peer.take(1)).toEqual(["6a1"]);
    const detached = once(socket, "detached");
    peer.ws.terminate();
    await detached;
    const answer = await httpRequest(server.endpoint(`transport=polling&sid=${sid}&reattach=0`));
    expect(splitPayload(answer.body)).toEqual(["6a1", "4s1"]);
    expect(received.received).toEqual(["c1"]);
  });

  it("the client's close packet on its WebSocket, then the close: the session ends, no detach", async () => {
    const { session, peer } = await onWebSocket();
    const events = recordEvents(session.socket);
    const closed = once<[string]>(session.socket, "close");
    peer.send("1");
    peer.ws.close();
    expect((await closed)[0]).toBe("transport close");
    expect(events.map(([name]) => name)).toEqual(["close"]);
  });

  it("the client's close packet, then a write on its WebSocket fails before the close is seen: the session ends, no detach", async () => {
    const { session, peer } = await onWebSocket();
    const events = recordEvents(session.socket);
    const closePacket = new Promise<void>((resolve) => {
      session.socket.on("packet", (packet: { type: string }) => packet.type === "close" && resolve());
    });
    const closed = once<[string]>(session.socket, "close");
    peer.send("1");
    await closePacket;
    // what engine.io's WebSocket transport does when a send's callback has an error: the
    // client closed its end while the server was writing (a broadcast, an acknowledgement)
    (session.socket.transport as unknown as { onError(message: string): void }).onError("write error");
    expect((await closed)[0]).toBe("transport error");
    expect(events.map(([name]) => name)).toEqual(["close"]);
  });

  it("a late 6a<N> and 5 on an upgrade candidate given up at a reattach put nothing back: no message comes twice", async () => {
    const server = await startServer();
    const session = await openSession(server);
    session.socket.send("m1");
    expect(messagesIn(await session.poll("&ack=0"))).toEqual(["m1"]);
    const upgrading = once<[{ socket: { on(event: "message", listener: (data: unknown) => void): void } }]>(session.socket, "upgrading");
    const peer = new WsPeer(session.wsUrl("transport=websocket"));
    await peer.opened;
    peer.send("2probe");
    expect(await peer.take(1)).toEqual(["3probe"]);
    const [candidate] = await upgrading;
    // the client reads nothing more from it (not the server's close either), as a stalled link
    (peer.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    session.socket.send("m2");
    // the client gives the candidate up and reattaches on polling: m2 comes, and is acknowledged
    expect(messagesIn(await session.reattachPoll(1))).toEqual(["m2"]);
    // then the candidate's frames, late, from a client that no longer listens to it
    const arrived = new Promise<void>((resolve) => candidate.socket.on("message", (data) => String(data) === "5" && resolve()));
    peer.send("6a0", "5");
    await arrived;
    session.socket.send("m3");
    expect(messagesIn(await session.poll("&ack=2"))).toEqual(["m3"]);
  });

  it("a second poll beside the client's ends the session as without resumption (whoever sent it could reattach too)", async () => {
    const server = await startServer();
    const session = await openSession(server);
    const events = recordEvents(session.socket);
    const ready = once(session.socket.transport, "ready");
    const held = session.poll();
    await ready;
    const closed = once<[string, Error]>(session.socket, "close");
    expect((await httpRequest(session.url("transport=polling"))).status).toBe(400);
    const [reason, error] = await closed;
    expect([reason, error.message]).toEqual(["transport error", "overlap from client"]);
    expect(events.map(([name]) => name)).toEqual(["close"]);
    await held;
  });

  it("close() on a detached session, or the server's close, ends it at once", async () => {
    const server = await startServer();
    const sessions = [await openSession(server), await openSession(server)];
    for (const session of sessions) {
      const detached = once(session.socket, "detached");
      await abortedPost(session.url("transport=polling"));
      await detached;
    }
    const closedByApp = once<[string]>(sessions[0]!.socket, "close");
    sessions[0]!.socket.close();
    expect((await closedByApp)[0]).toBe("forced close");
    const closedByServer = once<[string]>(sessions[1]!.socket, "close");
    server.engine.close();
    expect((await closedByServer)[0]).toBe("forced close");
    expect(server.engine.clientsCount).toBe(0);
  });

  it("a reattach on a WebSocket gets the same", async () => {
    const { session, peer } = await onWebSocket();
    const detached = once(session.socket, "detached");
    peer.ws.terminate();
    await detached;
    session.socket.send("s3");
    const reattached = once(session.socket, "reattached");
    const again = new WsPeer(session.wsUrl("transport=websocket&reattach=1"));
    expect(await again.take(3)).toEqual(["6a3", "4s2", "4s3"]);
    expect(await reattached).toEqual(["websocket"]);
    session.socket.send("s4");
    expect(await again.take(1)).toEqual(["4s4"]);
  });

  it("a reattach while attached drops the current transport", async () => {
    const server = await startServer();
    const session = await openSession(server);
    session.socket.send("s1");
    session.socket.send("s2");
    await session.poll("&ack=0");
    // a poll held: the client then gives polling up
    const ready = once(session.socket.transport, "ready");
    const held = session.poll("&ack=2");
    await ready;
    const peer = new WsPeer(session.wsUrl("transport=websocket&reattach=2"));
    expect(await peer.take(1)).toEqual(["6a0"]);
    // the held poll is released with a noop, not a close packet
    expect(await held).toEqual(["6"]);
    expect(session.socket.transport.name).toBe("websocket");
    expect((await httpRequest(session.url("transport=polling"))).status).toBe(400);
    session.socket.send("s3");
    expect(await peer.take(1)).toEqual(["4s3"]);
  });

  it("a broken poll's POST detaches; the session's other requests are refused with code 3 until a reattach", async () => {
    const server = await startServer();
    const session = await openSession(server);
    const detached = once<[string, Error]>(session.socket, "detached");
    await abortedPost(session.url("transport=polling"));
    const [reason, error] = await detached;
    expect(reason).toBe("transport error");
    expect(error.message).toBe("data request connection closed prematurely");
    expect(refusalOf(await httpRequest(session.url("transport=polling")))).toEqual({ status: 400, body: BAD_REQUEST });
    expect(refusalOf(await post(session.url("transport=polling"), "4x"))).toEqual({ status: 400, body: BAD_REQUEST });
    const upgrade = new WsPeer(session.wsUrl("transport=websocket"));
    expect(await upgrade.status).toBe(400);
    // a count the server never sent
    expect(refusalOf(await httpRequest(session.url("transport=polling&reattach=1")))).toEqual({ status: 400, body: BAD_REQUEST });
    expect(refusalOf(await httpRequest(server.endpoint("transport=polling&sid=nope&reattach=0")))).toEqual({ status: 400, body: UNKNOWN_SID });
    expect(session.socket.readyState).toBe("open");
    expect(await session.poll("&reattach=0")).toEqual(["6a0"]);
  });

  it("a session that did not negotiate resumption closes on a break, and refuses a reattach with code 3", async () => {
    const server = await startServer();
    const session = await openSession(server, "");
    expect(refusalOf(await httpRequest(session.url("transport=polling&reattach=0")))).toEqual({ status: 400, body: BAD_REQUEST });
    const closed = once<[string]>(session.socket, "close");
    await abortedPost(session.url("transport=polling"));
    expect((await closed)[0]).toBe("transport error");
  });

  it("past the window the session closes with the break's reason and a ResumeWindowError listing what was never acked, in order", async () => {
    const { session, peer } = await onWebSocket({ resume: { window: 50 } });
    const detached = once(session.socket, "detached");
    peer.ws.terminate();
    await detached;
    session.socket.send("s3");
    const [reason, error] = await once<[string, ResumeWindowError]>(session.socket, "close");
    expect(reason).toBe("transport close");
    expect(error).toBeInstanceOf(ResumeWindowError);
    expect(error.undelivered).toEqual(["s2", "s3"]);
    expect(error.message).toMatch(/50 ms/);
    expect(refusalOf(await httpRequest(session.url("transport=polling&reattach=1")))).toEqual({ status: 400, body: UNKNOWN_SID });
  });

  it("past maxBytes unacknowledged the session closes with resume buffer full and a ResumeBufferFullError", async () => {
    const server = await startServer({ resume: { maxBytes: 10 } });
    const session = await openSession(server);
    session.socket.send("aaaaaa");
    expect(messagesIn(await session.poll("&ack=0"))).toEqual(["aaaaaa"]);
    session.socket.send("é"); // 2 bytes: 8 in all, within the bound
    expect(messagesIn(await session.poll("&ack=0"))).toEqual(["aaaaaa", "é"]);
    session.socket.send("bbb");
    const closed = once<[string, ResumeBufferFullError]>(session.socket, "close");
    await session.poll("&ack=0");
    const [reason, error] = await closed;
    expect(reason).toBe("resume buffer full");
    expect(error).toBeInstanceOf(ResumeBufferFullError);
    expect(error.undelivered).toEqual(["aaaaaa", "é", "bbb"]);
    expect(error.heldBytes).toBe(11);
  });

  it("an ack keeps a session under maxBytes", async () => {
    const server = await startServer({ resume: { maxBytes: 10 } });
    const session = await openSession(server);
    for (let i = 0; i < 5; i++) {
      session.socket.send("aaaaaa");
      expect(messagesIn(await session.poll(`&ack=${i}`))).toEqual(["aaaaaa"]);
    }
    expect(session.socket.readyState).toBe("open");
  });
});

describe("streams", () => {
  it("a reattach on sse, then recycled responses: each reopen's ack=N gets what N does not cover, once, in order", async () => {
    const server = await startServer({ recycleBytes: 200, paddingBytes: 0 });
    const session = await openSession(server);
    const sse = (query: string) => new PacketStream(session.url(`transport=sse&${query}`), new SseParser());
    const first = sse("reattach=0");
    expect(await first.packet(0)).toBe("6a0");
    const sent = Array.from({ length: 12 }, (_, i) => `${i}`.padEnd(60, "."));
    for (const text of sent) session.socket.send(text);
    const got: string[] = [];
    let stream = first;
    let controls = 1;
    for (;;) {
      // a response ends once it carried recycleBytes; the last one stays open
      await Promise.race([stream.ended, stream.waitFor(controls + sent.length - got.length)]);
      got.push(...messagesIn(stream.packets));
      if (got.length >= sent.length) break;
      stream = sse(`ack=${got.length}`);
      controls = 0;
    }
    expect(got).toEqual(sent);
    // a response cut on the way: what it carried comes again
    const carried = stream.packets.length;
    session.socket.send("late");
    expect(await stream.packet(carried)).toBe("4late");
    stream.destroy();
    await stream.ended;
    const reopened = sse(`ack=${sent.length}`);
    expect(await reopened.packet(0)).toBe("4late");
  });

  it("an upgrade to sse with 6a<N> before 5 replays on the stream what N does not cover", async () => {
    const server = await startServer({ nodeId: "node-a" });
    const session = await openSession(server);
    expect(session.sid).toMatch(/^node-a\./);
    for (const text of ["m1", "m2", "m3"]) session.socket.send(text);
    expect(messagesIn(await session.poll("&ack=0"))).toEqual(["m1", "m2", "m3"]);
    const candidate = session.url("transport=sse");
    const stream = new PacketStream(candidate, new SseParser());
    await stream.opened;
    await post(candidate, "2probe");
    expect(await stream.packet(0)).toBe("3probe");
    const upgraded = once(session.socket, "upgrade");
    await post(candidate, "6a1\x1e5");
    await upgraded;
    expect((await stream.waitFor(3)).slice(1)).toEqual(["4m2", "4m3"]);
    const received = collect<string>(session.socket);
    expect((await post(candidate, "6s1\x1e4c1")).body).toBe("ok");
    expect(received.received).toEqual(["c1"]);
  });

  it("a reattach on short-polling: 6a<M> first, then what was not acked; its next polls carry the token and an ack", async () => {
    const server = await startServer();
    const session = await openSession(server);
    session.socket.send("m1");
    session.socket.send("m2");
    await session.poll("&ack=0"); // lost
    const first = splitPayload((await httpRequest(session.url("transport=short-polling&reattach=1"))).body);
    expect(first[0]).toMatch(/^6k/);
    expect(first.slice(1)).toEqual(["6a0", "4m2"]);
    expect(session.socket.transport.name).toBe("short-polling");
    session.socket.send("m3");
    const next = splitPayload((await httpRequest(session.url(`transport=short-polling&k=${first[0]!.slice(2)}&ack=2`))).body);
    expect(next.slice(1)).toEqual(["4m3"]);
  });

  it("send callbacks of what a dropped stream held run with the reattach's first answer, and later ones with theirs", async () => {
    const server = await startServer({ recycleBytes: 150, paddingBytes: 0 });
    const session = await openSession(server);
    const stream = new PacketStream(session.url("transport=sse&reattach=0"), new SseParser());
    expect(await stream.packet(0)).toBe("6a0");
    const called: string[] = [];
    const sent = Array.from({ length: 6 }, (_, i) => `${i}`.padEnd(60, "."));
    for (const text of sent) session.socket.send(text, {}, () => called.push(text));
    await stream.ended;
    const carried = messagesIn(stream.packets);
    expect(carried.length).toBeLessThan(sent.length);
    // the client moves to polling instead of reopening the stream
    expect(messagesIn(await session.poll(`&reattach=${carried.length}`))).toEqual(sent.slice(carried.length));
    expect(called).toEqual(sent);
    session.socket.send("late", {}, () => called.push("late"));
    expect(await session.poll(`&ack=${sent.length}`)).toEqual(["4late"]);
    expect(called).toEqual([...sent, "late"]);
  });
});

describe("heartbeat", () => {
  it("a ping timeout detaches; no ping is written while detached; after a reattach the heartbeat runs again", async () => {
    const server = await startServer({ pingInterval: 30, pingTimeout: 30 });
    const session = await openSession(server);
    const [reason] = await once<[string]>(session.socket, "detached");
    expect(reason).toBe("ping timeout");
    // several heartbeat periods with the session detached (nothing to await: nothing happens)
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(session.socket.readyState).toBe("open");
    // the one ping written before the break, and no other
    expect(await session.poll("&reattach=0")).toEqual(["6a0", "2"]);
    await session.send("3");
    expect(await session.poll("&ack=0")).toEqual(["2"]);
    await session.send("3");
    // unanswered, the restarted heartbeat detaches again
    expect((await once<[string]>(session.socket, "detached"))[0]).toBe("ping timeout");
  });

  it("a session detached between pings writes none until it is reattached", async () => {
    const server = await startServer({ pingInterval: 30, pingTimeout: 1000 });
    const session = await openSession(server);
    const detached = once(session.socket, "detached");
    await abortedPost(session.url("transport=polling"));
    await detached;
    // past several ping intervals (nothing to await: nothing happens)
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(await session.poll("&reattach=0")).toEqual(["6a0"]);
    expect(await session.poll("&ack=0")).toEqual(["2"]);
  });
});

describe("socket.io 4.8 on a resumable session", () => {
  it("sees no disconnect across a detach and a reattach", async () => {
    const server = await startIoServer("cometa");
    const engine = server.io.engine as unknown as { once(event: "connection", listener: (socket: EngineSocket) => void): void };
    const connection = new Promise<EngineSocket>((resolve) => engine.once("connection", resolve));
    const events: string[] = [];
    const hello = new Promise<string>((resolve) =>
      server.io.on("connection", (socket) => {
        socket.on("disconnect", (reason) => events.push(`disconnect ${reason}`));
        socket.on("hello", (who: string) => resolve(who));
      }),
    );
    const base = `${server.url}/socket.io/?EIO=4&transport=polling`;
    const open = JSON.parse((await httpRequest(`${base}&resume=1`)).body.slice(1)) as { sid: string; resume?: unknown };
    expect(open.resume).toBeDefined();
    const url = (query: string) => `${base}&sid=${open.sid}${query}`;
    const engineSocket = await connection;
    expect((await post(url(""), "6s1\x1e40")).body).toBe("ok");
    expect(splitPayload((await httpRequest(url("&ack=0"))).body)[0]).toMatch(/^40\{"sid"/);
    const detached = once(engineSocket, "detached");
    await abortedPost(url(""));
    await detached;
    expect(await httpRequest(url("&reattach=1")).then((r) => splitPayload(r.body))).toEqual(["6a1"]);
    expect((await post(url(""), '6s2\x1e42["hello","resumed"]')).body).toBe("ok");
    expect(await hello).toBe("resumed");
    expect(events).toEqual([]);
  });
});
