/** short-polling on the wire: every GET answered at once. */
import { type IncomingMessage, request } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { PacketStream, httpRequest, post, sidOf, splitPayload } from "./support/http-client.js";
import { SseParser } from "./support/framing.js";
import { type TestServer, collectMessages, once, startServer } from "./support/server.js";

let server: TestServer | undefined;
const streams: PacketStream[] = [];

afterEach(async () => {
  for (const stream of streams.splice(0)) stream.destroy();
  await server?.close();
  server = undefined;
});

/** A GET whose answer is left unread: the client holds it, so the server cannot finish sending. */
function unreadGet(url: string): Promise<{ response: IncomingMessage; destroy: () => void }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (response) => resolve({ response, destroy: () => req.destroy() }));
    req.on("error", reject);
    req.end();
  });
}

async function handshake() {
  const connection = server!.nextConnection();
  const response = await httpRequest(server!.url("transport=short-polling"));
  const sid = sidOf(response.body);
  const socket = await connection;
  const poll = () => httpRequest(server!.url(`transport=short-polling&sid=${sid}`));
  const upstream = (body: string) => post(server!.url(`transport=short-polling&sid=${sid}`), body);
  return { response, sid, socket, poll, upstream };
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
    const { sid, socket, poll } = await handshake();
    // several times what the connection's buffers take, so the answer stays on its way while unread
    socket.send("x".repeat(12 * 1024 * 1024));
    const first = await unreadGet(server.url(`transport=short-polling&sid=${sid}`));
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

  it("upgrades to sse with messages in flight", async () => {
    server = await startServer();
    const { sid, socket, poll, upstream } = await handshake();
    const stream = new PacketStream(server.url(`transport=sse&sid=${sid}`), new SseParser());
    streams.push(stream);
    const up = collectMessages(socket, 3);
    await post(server.url(`transport=sse&sid=${sid}`), "2probe");
    expect(await stream.packet(0)).toBe("3probe");
    socket.send("a");
    expect((await poll()).body).toBe("4a");
    await upstream("4x");
    socket.send("b");
    const upgraded = once(socket, "upgrade");
    await post(server.url(`transport=sse&sid=${sid}`), "5\x1e4y");
    await upgraded;
    socket.send("c");
    await post(server.url(`transport=sse&sid=${sid}`), "4z");
    expect((await stream.waitFor(3)).slice(1)).toEqual(["4b", "4c"]);
    expect(await up).toEqual(["x", "y", "z"]);
  });
});
