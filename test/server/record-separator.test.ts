/**
 * U+001E separates packets in engine.io v4 polling and JSONP payloads: cometa/server refuses a
 * string message containing it on every transport (as cometa's client does), so a session
 * behaves the same whichever transport it is on. Stock engine.io still splits it (pinned, as
 * the README says so), and socket.io never sends it raw.
 */
import type { Socket as EngineSocket } from "engine.io";
import { decodePayload } from "engine.io-parser";
import { Encoder, PacketType } from "socket.io-parser";
import { describe, expect, it, onTestFinished } from "vitest";
import { WebSocket } from "ws";
import { SseParser } from "./support/framing.js";
import { PacketStream, httpRequest, sidOf, splitPayload } from "./support/http-client.js";
import { type TestServer, startServer } from "../support/server.js";

const SPLIT = "a\u001eb";

let server: TestServer | undefined;

function expectRefused(socket: EngineSocket): void {
  for (const method of ["send", "write"] as const) {
    expect(() => socket[method](SPLIT)).toThrow(TypeError);
    expect(() => socket[method](`{"text":"${SPLIT}"}`)).toThrow(/U\+001E.*long-polling and JSONP.*JSON\.stringify/s);
  }
  // Binary and escaped text are fine; the session goes on.
  expect(() => socket.send(Buffer.from(SPLIT))).not.toThrow();
  expect(() => socket.send(JSON.stringify(SPLIT))).not.toThrow();
  expect(socket.readyState).toBe("open");
}

describe("cometa/server refuses string messages containing U+001E", () => {
  it("on long-polling", async () => {
    server = await startServer();
    const connection = server.nextConnection();
    const sid = sidOf(splitPayload((await httpRequest(server.endpoint("transport=polling"))).body)[0]!);
    const socket = await connection;
    expectRefused(socket);
    socket.send("after");
    const poll = await httpRequest(server.endpoint(`transport=polling&sid=${sid}`));
    expect(splitPayload(poll.body)).toEqual(["bYR5i", `4${JSON.stringify(SPLIT)}`, "4after"]);
  });

  it("on websocket", async () => {
    server = await startServer({ transports: ["websocket"] });
    const connection = server.nextConnection();
    const ws = new WebSocket(server.endpoint("transport=websocket").replace("http:", "ws:"));
    onTestFinished(() => ws.terminate());
    const frames: string[] = [];
    ws.on("message", (data: Buffer, isBinary: boolean) => frames.push(isBinary ? "binary" : data.toString()));
    const socket = await connection;
    expectRefused(socket);
    socket.send("after");
    await new Promise<void>((resolve) => ws.on("message", () => frames.at(-1) === "4after" && resolve()));
    expect(frames.slice(1)).toEqual(["binary", `4${JSON.stringify(SPLIT)}`, "4after"]);
  });

  it("on sse", async () => {
    server = await startServer();
    const connection = server.nextConnection();
    const stream = new PacketStream(server.endpoint("transport=sse"), new SseParser());
    await stream.packet(0);
    const socket = await connection;
    expectRefused(socket);
    socket.send("after");
    expect(await stream.waitFor(4)).toEqual([stream.packets[0], "bYR5i", `4${JSON.stringify(SPLIT)}`, "4after"]);
  });
});

describe("what the README says about U+001E elsewhere", () => {
  it("stock engine.io sends it as is: its polling payload cuts the message, or fails to parse", async () => {
    const stock = await startServer({ engine: "stock" });
    const url = stock.endpoint("transport=polling");
    const connection = stock.nextConnection();
    const sid = sidOf(splitPayload((await httpRequest(url)).body)[0]!);
    const socket = await connection;
    const poll = async (message: string) => {
      socket.send(message);
      return decodePayload((await httpRequest(`${url}&sid=${sid}`)).body);
    };
    // What follows U+001E is read as a packet of its own: a message...
    expect(await poll("one\u001e4two")).toEqual([
      { type: "message", data: "one" },
      { type: "message", data: "two" },
    ]);
    // ...or a parse error, which ends an engine.io client's session.
    expect(await poll("one\u001etwo")).toEqual([
      { type: "message", data: "one" },
      { type: "error", data: "parser error" },
    ]);
  });

  it("socket.io's encoder escapes it, so socket.io over cometa/server is unaffected", () => {
    const [encoded] = new Encoder().encode({ type: PacketType.EVENT, nsp: "/", data: ["chat", SPLIT] });
    expect(encoded).toBe(`2["chat","a\\u001eb"]`);
  });
});
