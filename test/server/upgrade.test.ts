/**
 * Upgrades from long-polling to sse, xhr-streaming and iframe, driven by a raw HTTP client
 * following the engine.io v4 upgrade dance, with messages in flight both ways.
 */
import { describe, expect, it, onTestFinished, vi } from "vitest";
import WebSocket from "ws";
import { PacketStream, httpRequest, post, sidOf, splitPayload } from "./support/http-client.js";
import { type TestServer, startServer } from "../support/server.js";
import { messages, once } from "../support/events.js";
import { PAGE_HEADERS, PAGE_ORIGIN, STREAMING_CASES } from "./support/transports.js";

let server: TestServer | undefined;

/** Message payloads of a list of packets (skipping noops). */
const messagesOf = (packets: string[]) => packets.filter((p) => p !== "6").map((p) => {
  if (!p.startsWith("4")) throw new Error(`unexpected packet ${p}`);
  return p.slice(1);
});

describe.each(STREAMING_CASES)("polling → $name", (t) => {
  it("upgrades with messages in flight both ways: each delivered once, in order", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const connection = server.nextConnection();
    const handshake = await httpRequest(server.endpoint("transport=polling"));
    const open = JSON.parse(handshake.body.slice(1)) as { sid: string; upgrades: string[] };
    expect(open.upgrades).toEqual(["websocket", "sse", "xhr-streaming", "iframe"]);
    const sid = open.sid;
    const socket = await connection;
    const polling = (query = "") => server!.endpoint(`transport=polling&sid=${sid}${query}`);
    const candidate = (query = "") => server!.endpoint(`transport=${t.name}&sid=${sid}${query}`);
    const down: string[] = [];
    const up = messages(socket, 5);

    for (let i = 0; i < 5; i++) socket.send(`s${i}`);
    down.push(...messagesOf(splitPayload((await httpRequest(polling())).body)));

    // A held poll, answered by the next send.
    const held = httpRequest(polling());
    const stream = new PacketStream(candidate(t.getQuery), t.parser(), { ...t.headers });
    await stream.opened;
    expect(stream.headers["content-type"]).toBe(t.contentType);
    expect((await post(polling(), "4c0\x1e4c1")).body).toBe("ok");
    socket.send("s5");
    down.push(...messagesOf(splitPayload((await held).body)));

    // Probe while a poll is held: engine.io ends that poll with a noop within 100 ms.
    const heldDuringProbe = httpRequest(polling());
    const upgrading = once(socket, "upgrading");
    expect((await post(candidate(), "2probe", { ...t.headers })).body).toBe("ok");
    expect(await stream.packet(0)).toBe("3probe");
    await upgrading;
    expect((await heldDuringProbe).body).toBe("6");

    // Paused: the client polls no more; both sides keep sending.
    socket.send("s6");
    socket.send("s7");
    expect((await post(polling(), "4c2")).body).toBe("ok");
    const upgraded = once(socket, "upgrade");
    expect((await post(candidate(), "5\x1e4c3\x1e4c4", { ...t.headers })).body).toBe("ok");
    await upgraded;
    expect(socket.transport.name).toBe(t.name);
    socket.send("s8");
    socket.send("s9");

    const rest = await stream.waitFor(5);
    down.push(...messagesOf(rest.slice(1)));
    expect(down).toEqual(["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"]);
    expect(await up).toEqual(["c0", "c1", "c2", "c3", "c4"]);

    // The old transport is gone: polling requests are refused, the session lives on.
    const stale = await httpRequest(polling());
    expect(stale.status).toBe(400);
    expect(socket.readyState).toBe("open");
    expect((await post(candidate(), "4after", { ...t.headers })).body).toBe("ok");
  });

  it("abandons a candidate that never gets `5`: the session stays on polling, no `1` on the candidate", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN], upgradeTimeout: 50 });
    const connection = server.nextConnection();
    const sid = sidOf((await httpRequest(server.endpoint("transport=polling"))).body);
    const socket = await connection;
    const stream = new PacketStream(server.endpoint(`transport=${t.name}&sid=${sid}${t.getQuery}`), t.parser(), { ...t.headers });
    await post(server.endpoint(`transport=${t.name}&sid=${sid}`), "2probe", { ...t.headers });
    expect(await stream.packet(0)).toBe("3probe");
    await stream.ended;
    expect(stream.packets).toEqual(["3probe"]);
    expect(socket.transport.name).toBe("polling");
    socket.send("still polling");
    expect((await httpRequest(server.endpoint(`transport=polling&sid=${sid}`))).body).toBe("4still polling");
    // A later attempt is allowed again.
    const again = new PacketStream(server.endpoint(`transport=${t.name}&sid=${sid}${t.getQuery}`), t.parser(), { ...t.headers });
    await again.opened;
    expect(again.status).toBe(200);
  });
});

describe("upgrade refusals", () => {
  it("a second candidate supersedes an abandoned one, and a stream does not upgrade further", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const connection = server.nextConnection();
    const sid = sidOf((await httpRequest(server.endpoint("transport=polling"))).body);
    await connection;
    const sse = new PacketStream(server.endpoint(`transport=sse&sid=${sid}`), STREAMING_CASES[0]!.parser());
    await sse.opened;
    // the client gave sse up (its probe timed out) and probes xhr-streaming: sse is closed
    const xhr = new PacketStream(server.endpoint(`transport=xhr-streaming&sid=${sid}`), STREAMING_CASES[1]!.parser());
    await xhr.opened;
    await sse.ended;
    expect((await post(server.endpoint(`transport=sse&sid=${sid}`), "2probe")).status).toBe(400);
    // A POST for a transport that is neither current nor the candidate.
    expect((await post(server.endpoint(`transport=iframe&sid=${sid}`), "2probe", { ...PAGE_HEADERS })).status).toBe(400);

    await post(server.endpoint(`transport=xhr-streaming&sid=${sid}`), "2probe");
    await post(server.endpoint(`transport=xhr-streaming&sid=${sid}`), "5");
    await xhr.waitFor(1);
    // a stream does not upgrade further, not even to WebSocket.
    expect((await httpRequest(server.endpoint(`transport=polling&sid=${sid}`))).status).toBe(400);
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server!.port}/engine.io/?EIO=4&transport=websocket&sid=${sid}`);
      ws.on("unexpected-response", (_, res) => resolve(res.statusCode ?? 0));
      ws.on("open", () => resolve(101));
      ws.on("error", () => {});
    });
    expect(status).toBe(400);
  });

  it("refuses an upgrade to a streaming transport that is disabled", async () => {
    server = await startServer({ transports: ["polling", "websocket", "sse"] });
    const connection = server.nextConnection();
    const handshake = await httpRequest(server.endpoint("transport=polling"));
    expect((JSON.parse(handshake.body.slice(1)) as { upgrades: string[] }).upgrades).toEqual(["websocket", "sse"]);
    const sid = sidOf(handshake.body);
    await connection;
    const refused = await httpRequest(server.endpoint(`transport=xhr-streaming&sid=${sid}`));
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toEqual({ code: 0, message: "Transport unknown" });
  });
});

describe("a poll held during a probe", () => {
  /**
   * engine.io ends such a poll from a 100 ms interval; cometa/server ends it as the probe is
   * answered. The interval is taken away here, so only the immediate noop can end the poll.
   */
  function withoutEngineUpgradeCheck() {
    const realSetInterval = globalThis.setInterval;
    const spy = vi.spyOn(globalThis, "setInterval").mockImplementation(((fn: () => void, ms?: number) =>
      ms === 100 ? realSetInterval(() => {}, 2 ** 30) : realSetInterval(fn, ms)) as typeof setInterval);
    onTestFinished(() => spy.mockRestore());
  }

  it.each(["websocket", ...STREAMING_CASES.map((t) => t.name)])("is answered with a noop when the %s probe is answered", async (name) => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const connection = server.nextConnection();
    const sid = sidOf((await httpRequest(server.endpoint("transport=polling"))).body);
    const socket = await connection;
    withoutEngineUpgradeCheck();
    const held = httpRequest(server.endpoint(`transport=polling&sid=${sid}`));
    const upgrading = once(socket, "upgrading");
    if (name === "websocket") {
      const ws = new WebSocket(server.endpoint(`transport=websocket&sid=${sid}`).replace(/^http/, "ws"));
      onTestFinished(() => ws.terminate());
      await once(ws, "open");
      const pong = once(ws, "message");
      ws.send("2probe");
      expect(String((await pong)[0])).toBe("3probe");
    } else {
      const t = STREAMING_CASES.find((c) => c.name === name)!;
      const stream = new PacketStream(server.endpoint(`transport=${name}&sid=${sid}${t.getQuery}`), t.parser(), { ...t.headers });
      await post(server.endpoint(`transport=${name}&sid=${sid}`), "2probe", { ...t.headers });
      expect(await stream.packet(0)).toBe("3probe");
    }
    await upgrading;
    expect((await held).body).toBe("6");
  });

  it("a poll that arrives after the probe's answer, before the upgrade completes, is answered with a noop too", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const connection = server.nextConnection();
    const sid = sidOf((await httpRequest(server.endpoint("transport=polling"))).body);
    const socket = await connection;
    withoutEngineUpgradeCheck();
    const upgrading = once(socket, "upgrading");
    const ws = new WebSocket(server.endpoint(`transport=websocket&sid=${sid}`).replace(/^http/, "ws"));
    onTestFinished(() => ws.terminate());
    await once(ws, "open");
    const pong = once(ws, "message");
    ws.send("2probe");
    expect(String((await pong)[0])).toBe("3probe");
    await upgrading;
    // the client re-polled before it read the probe's answer: two such polls, both released
    expect((await httpRequest(server.endpoint(`transport=polling&sid=${sid}`))).body).toBe("6");
    expect((await httpRequest(server.endpoint(`transport=polling&sid=${sid}`))).body).toBe("6");
    const upgraded = once(socket, "upgrade");
    ws.send("5");
    await upgraded;
    expect(socket.transport.name).toBe("websocket");
  });
});
