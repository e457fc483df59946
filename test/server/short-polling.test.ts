/** short-polling on the wire: every GET answered at once. */
import { type IncomingMessage, request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { BareSocket } from "../../src/socket.js";
import { shortPolling } from "../../src/transports/short-polling.js";
import { closed, messages, next, messages as collectMessages, once } from "../support/events.js";
import { nodeEnv } from "../support/node-env.js";
import { PacketStream, type Response, httpRequest, post, sidOf, splitPayload } from "./support/http-client.js";
import { SseParser } from "./support/framing.js";
import { type TestServer, startServer } from "../support/server.js";

let server: TestServer | undefined;
const clients: BareSocket[] = [];

afterEach(() => {
  for (const client of clients.splice(0)) if (client.state !== "closed") client.close();
});

/** A GET whose answer is left unread: the client holds it, so the server cannot finish sending. */
function unreadGet(url: string): Promise<{ response: IncomingMessage; destroy: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (response) => resolve({ response, destroy: () => req.destroy() }));
    req.on("error", reject);
    req.end();
  });
}

const tokenPacket = /^6k([A-Za-z0-9_-]{22})(?:\x1e|$)/;

/** Takes the poll token off the front of an answer: the token, and the answer as it would be without it. */
function untoken(response: Response): { token: string; response: Response } {
  const match = tokenPacket.exec(response.body);
  if (!match) throw new Error(`no poll token: ${response.body.slice(0, 80)}`);
  const rest = response.body.slice(match[0].length);
  return { token: match[1]!, response: { ...response, body: match[0].endsWith("\x1e") ? rest : "6" } };
}

async function handshake() {
  const connection = server!.nextConnection();
  const answer = untoken(await httpRequest(server!.endpoint("transport=short-polling")));
  const { response } = answer;
  let token = answer.token;
  const sid = sidOf(response.body);
  const socket = await connection;
  const tokens = [token];
  /** A poll as the session's client makes it: with the token of the last answer. */
  const poll = async (): Promise<Response> => {
    const reply = await httpRequest(server!.endpoint(`transport=short-polling&sid=${sid}&k=${token}`));
    if (reply.status !== 200) return reply;
    const next = untoken(reply);
    token = next.token;
    tokens.push(token);
    return next.response;
  };
  const upstream = (body: string) => post(server!.endpoint(`transport=short-polling&sid=${sid}`), body);
  return { response, sid, socket, poll, upstream, tokens, token: () => token };
}

describe("short-polling transport", () => {
  it("handshakes at once and answers an empty poll with a noop, exact headers", async () => {
    server = await startServer();
    const { response, socket, poll } = await handshake();
    expect(response.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(response.headers["x-content-type-options"]).toBe("nosniff");
    expect(JSON.parse(response.body.slice(1))).toMatchObject({ sid: (socket as unknown as { id: string }).id, upgrades: ["websocket", "sse", "xhr-streaming"] });
    const empty = await poll();
    expect(empty.body).toBe("6");
    expect(empty.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(empty.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("carries messages both ways, binary, 1,000 in order", async () => {
    server = await startServer();
    const { socket, poll, upstream } = await handshake();
    const messages = Array.from({ length: 1000 }, (_, i) => `m${i}`);
    for (const message of messages) socket.send(message);
    socket.send(Buffer.from([1, 2, 3]));
    expect(splitPayload((await poll()).body)).toEqual([...messages.map((m) => `4${m}`), "bAQID"]);
    expect((await poll()).body).toBe("6");

    const received = collectMessages(socket, 1001);
    expect((await upstream(`${messages.map((m) => `4${m}`).join("\x1e")}\x1ebAQID`)).body).toBe("ok");
    const all = await received;
    expect(all.slice(0, 1000)).toEqual(messages);
    expect([...(all[1000] as Buffer)]).toEqual([1, 2, 3]);
  });

  it("carries a 1 MB message each way", async () => {
    server = await startServer({ maxHttpBufferSize: 1_100_000 });
    const { socket, poll, upstream } = await handshake();
    const big = "y".repeat(1_000_000);
    socket.send(big);
    expect((await poll()).body).toBe(`4${big}`);
    const received = collectMessages(socket, 1);
    await upstream(`4${big}`);
    expect(await received).toEqual([big]);
  });

  it("heartbeat: the ping waits for the next poll, the pong goes up", async () => {
    server = await startServer({ pingInterval: 20, pingTimeout: 5_000 });
    const { socket, poll, upstream } = await handshake();
    await new Promise<void>((resolve) => socket.on("packetCreate", (p: { type: string }) => p.type === "ping" && resolve()));
    expect((await poll()).body).toBe("2");
    const heartbeat = once(socket, "heartbeat");
    await upstream("3");
    await heartbeat;
  });

  it("closes from the server (`1` on the next poll) and from the client (POST `1`)", async () => {
    server = await startServer();
    const first = await handshake();
    const closed = once<[string]>(first.socket, "close");
    first.socket.close();
    expect((await first.poll()).body).toBe("1");
    expect((await closed)[0]).toBe("forced close");

    const second = await handshake();
    const closedByClient = once<[string]>(second.socket, "close");
    await second.upstream("1");
    expect((await closedByClient)[0]).toBe("transport close");
    expect((await second.poll()).status).toBe(400);
  });

  it("a GET while the last answer is still on its way overlaps: 400 and the session ends, the second asker gets nothing", async () => {
    server = await startServer();
    const { sid, socket, poll, token } = await handshake();
    // several times what the connection's buffers take, so the answer stays on its way while unread
    socket.send("x".repeat(12 * 1024 * 1024));
    const first = await unreadGet(server.endpoint(`transport=short-polling&sid=${sid}&k=${token()}`));
    expect(first.response.statusCode).toBe(200);
    const closed = once<[string]>(socket, "close");
    const second = await poll();
    expect(second.status).toBe(400);
    expect(JSON.parse(second.body)).toEqual({ code: 3, message: "Bad request" });
    expect((await closed)[0]).toBe("transport error");
    socket.send("for the session's client only");
    expect((await poll()).status).toBe(400);
    first.destroy();
  });

  it("starts every answer with a fresh single-use token, which never reaches the session", async () => {
    server = await startServer();
    const { socket, poll, tokens } = await handshake();
    const created: { type: string; data?: unknown }[] = [];
    socket.on("packetCreate", (packet: { type: string; data?: unknown }) => created.push(packet));
    socket.send("a");
    expect((await poll()).body).toBe("4a");
    expect((await poll()).body).toBe("6");
    expect((await poll()).body).toBe("6");
    expect(tokens).toHaveLength(4);
    expect(new Set(tokens).size).toBe(4);
    expect(created).toEqual([{ type: "message", data: "a", options: expect.anything() }]);
  });

  it.each([
    ["no token", () => ""],
    ["a wrong token", () => "&k=AAAAAAAAAAAAAAAAAAAAAA"],
    ["a token already used", (used: string) => `&k=${used}`],
  ])("a GET with the sid and %s is refused (400) and ends the session; the message queued for the client goes to nobody", async (_, query) => {
    server = await startServer();
    const { sid, socket, poll, tokens } = await handshake();
    expect((await poll()).body).toBe("6");
    const closedOnServer = once<[string]>(socket, "close");
    socket.send("for the session's client only");
    const hijack = await httpRequest(server.endpoint(`transport=short-polling&sid=${sid}${query(tokens[0]!)}`));
    expect(hijack.status).toBe(400);
    expect(JSON.parse(hijack.body)).toEqual({ code: 3, message: "Bad request" });
    expect((await closedOnServer)[0]).toBe("transport error");
    // the session's client, with the right token, finds the session gone: nothing was handed out
    const after = await poll();
    expect(after.status).toBe(400);
    expect(after.body).not.toContain("for the session's client only");
  });

  it("cometa's client sends each answer's token back: every message arrives in order over many polls", async () => {
    server = await startServer();
    const connection = server.nextConnection();
    const polls: string[] = [];
    server.http.prependListener("request", (req) => {
      const url = new URL(req.url ?? "", "http://x");
      if (req.method === "GET" && url.searchParams.has("sid")) polls.push(url.searchParams.get("k") ?? "");
    });
    const client = new BareSocket(`http://127.0.0.1:${server.port}`, { env: nodeEnv(), transports: [shortPolling], pollInterval: 5 });
    clients.push(client);
    const packets: unknown[] = [];
    client.on("packet", (packet) => packets.push(packet));
    const socket = await connection;
    const count = 200;
    const received = messages(client, count);
    const sent = Array.from({ length: count }, (_, i) => `m${i}`);
    for (const [i, message] of sent.entries()) {
      socket.send(message);
      // spread over many answers
      if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 15));
    }
    expect(await received).toEqual(sent);
    expect(polls.length).toBeGreaterThan(10);
    expect(new Set(polls).size).toBe(polls.length);
    for (const token of polls) expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    for (const packet of packets) expect(JSON.stringify(packet)).not.toMatch(/"data":"k/);
    expect(client.state).toBe("open");
  });

  it("a GET with the victim's sid between its client's polls ends the session; the client sees close and never the message", async () => {
    server = await startServer();
    const connection = server.nextConnection();
    const client = new BareSocket(`http://127.0.0.1:${server.port}`, { env: nodeEnv(), transports: [shortPolling], pollInterval: 200 });
    clients.push(client);
    const received: unknown[] = [];
    client.on("message", (data) => received.push(data));
    const opened = next(client, "open");
    const socket = await connection;
    await opened;
    const clientClosed = closed(client);
    socket.send("for the session's client only");
    const hijack = await httpRequest(server.endpoint(`transport=short-polling&sid=${client.id}`));
    expect(hijack.status).toBe(400);
    expect(hijack.body).not.toContain("for the session's client only");
    await clientClosed;
    expect(received).toEqual([]);
  });

  it("upgrades to sse with messages in flight", async () => {
    server = await startServer();
    const { sid, socket, poll, upstream } = await handshake();
    const stream = new PacketStream(server.endpoint(`transport=sse&sid=${sid}`), new SseParser());
    const up = collectMessages(socket, 3);
    await post(server.endpoint(`transport=sse&sid=${sid}`), "2probe");
    expect(await stream.packet(0)).toBe("3probe");
    socket.send("a");
    expect((await poll()).body).toBe("4a");
    await upstream("4x");
    socket.send("b");
    const upgraded = once(socket, "upgrade");
    await post(server.endpoint(`transport=sse&sid=${sid}`), "5\x1e4y");
    await upgraded;
    socket.send("c");
    await post(server.endpoint(`transport=sse&sid=${sid}`), "4z");
    expect((await stream.waitFor(3)).slice(1)).toEqual(["4b", "4c"]);
    expect(await up).toEqual(["x", "y", "z"]);
  });
});
