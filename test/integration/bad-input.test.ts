/**
 * What the server, the network or the caller can get wrong: each ends in one typed `error`
 * event and one `close`, never an uncaught exception, an unhandled rejection or a hang.
 */
import type { AddressInfo } from "node:net";
import { describe, expect, test } from "vitest";
import { WebSocketServer } from "ws";
import { BaseSocket, polling, Socket, websocket } from "../../src/index.js";
import type { SocketOptions } from "../../src/socket.js";
import { closed, record } from "../support/events.js";
import { nodeEnv } from "../support/node-env.js";
import { openPacket, type RawHandler, type RawServer, startRawServer } from "../support/server.js";

let raw: RawServer | undefined;

/** Runs a polling-only session against a scripted server and returns what it reported. */
async function against(handler: RawHandler, options: SocketOptions = {}) {
  raw = await startRawServer(handler);
  const socket = new Socket(raw.url, { env: nodeEnv(), transports: ["polling"], ...options });
  const events = record(socket);
  const { reason, details } = await closed(socket);
  const errors = events.filter(([event]) => event === "error").map(([, error]) => error as Error);
  expect(errors).toHaveLength(1);
  expect(events.filter(([event]) => event === "close")).toHaveLength(1);
  expect(details.error).toBe(errors[0]);
  return { reason, error: errors[0]! as Error & Record<string, unknown>, events };
}

/** Answers the handshake, then `second` for the next GET; POSTs get `ok`. */
const afterHandshake =
  (second: (response: Parameters<RawHandler>[1]) => void): RawHandler =>
  (request, response, index) => {
    if (request.method === "POST") return response.end("ok");
    if (index === 0) return response.end(openPacket());
    second(response);
  };

describe("from the server", () => {
  test("a malformed payload", async () => {
    const { reason, error } = await against(afterHandshake((response) => response.end("4ok\x1e\x1e")));
    expect(reason).toBe("parse error");
    expect(error.name).toBe("ProtocolError");
    expect(error.message).toMatch(/malformed payload/);
  });

  test("an unknown packet type", async () => {
    const { reason, error } = await against(afterHandshake((response) => response.end("9what")));
    expect(reason).toBe("parse error");
    expect(error.name).toBe("ProtocolError");
  });

  test("an empty body", async () => {
    const { error } = await against(afterHandshake((response) => response.end("")));
    expect(error.name).toBe("ProtocolError");
    expect(error.message).toMatch(/empty payload/);
  });

  test.each([
    ["no sid", openPacket({ sid: undefined })],
    ["no upgrades", openPacket({ upgrades: "websocket" })],
    ["no pingInterval", openPacket({ pingInterval: undefined })],
    ["a negative pingTimeout", openPacket({ pingTimeout: -1 })],
    ["a bad maxPayload", openPacket({ maxPayload: "big" })],
    ["data that is not JSON", "0{sid:"],
    ["no data", "0"],
  ])("an open packet with %s", async (_, body) => {
    const { reason, error } = await against((_request, response) => response.end(body));
    expect(reason).toBe("parse error");
    expect(error.name).toBe("HandshakeError");
  });

  test("a message before the open packet", async () => {
    const { error } = await against((_request, response) => response.end("4hello"));
    expect(error.name).toBe("HandshakeError");
  });

  test('HTTP 400 "Session ID unknown" after the handshake', async () => {
    const { reason, error } = await against(
      afterHandshake((response) => {
        response.writeHead(400, { "Content-Type": "application/json" });
        response.end(JSON.stringify({ code: 1, message: "Session ID unknown" }));
      }),
    );
    expect(reason).toBe("transport error");
    expect(error.name).toBe("ServerError");
    expect(error).toMatchObject({ code: 1, serverMessage: "Session ID unknown", status: 400, transport: "polling" });
  });

  test.each([
    [0, "Transport unknown"],
    [3, "Bad request"],
    [4, "Forbidden"],
    [5, "Unsupported protocol version"],
  ])("engine.io error %i (%s) on the handshake", async (code, message) => {
    const { error } = await against((_request, response) => {
      response.writeHead(code === 4 ? 403 : 400, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ code, message }));
    });
    expect(error).toMatchObject({ name: "ServerError", code, serverMessage: message });
  });

  test("HTTP 503", async () => {
    const { reason, error } = await against(afterHandshake((response) => {
      response.writeHead(503);
      response.end("busy");
    }));
    expect(reason).toBe("transport error");
    expect(error).toMatchObject({ name: "TransportError", status: 503, transport: "polling" });
  });

  test("a POST refused with 500", async () => {
    raw = await startRawServer((request, response, index) => {
      if (request.method === "POST") {
        response.writeHead(500);
        return response.end();
      }
      if (index === 0) return response.end(openPacket());
      // the held poll: never answered until the server closes
    });
    const socket = new Socket(raw.url, { env: nodeEnv(), transports: ["polling"] });
    socket.on("open", () => socket.send("lost?"));
    const { reason, details } = await closed(socket);
    expect(reason).toBe("transport error");
    expect(details.error).toMatchObject({ name: "TransportError", status: 500 });
    // the message never reached the server: it is handed back, not dropped
    expect(details.unsent).toEqual(["lost?"]);
  });

  test("a server that is not engine.io (404 page)", async () => {
    const { error } = await against((_request, response) => {
      response.writeHead(404, { "Content-Type": "text/html" });
      response.end("<h1>Not Found</h1>");
    });
    expect(error).toMatchObject({ name: "TransportError", status: 404 });
  });

  test("a server that is not engine.io (200 HTML)", async () => {
    const { reason, error } = await against((_request, response) => response.end("<!doctype html><p>hi"));
    expect(reason).toBe("parse error");
    expect(error.name).toBe("ProtocolError");
  });

  test("a server that never answers the handshake", async () => {
    const { error } = await against(() => undefined, { connectTimeout: 100 });
    expect(error.name).toBe("HandshakeError");
    expect(error.message).toMatch(/no handshake within 100 ms/);
  });

  test("a connection refused", async () => {
    const probe = await startRawServer(() => undefined);
    const url = probe.url;
    await probe.close();
    const socket = new Socket(url, { env: nodeEnv() });
    const { reason, details } = await closed(socket);
    expect(reason).toBe("transport error");
    expect(details.error).toMatchObject({ name: "TransportError", transport: "polling" });
    expect(details.error!.cause).toBeDefined();
  });

  test("a connection refused on websocket", async () => {
    const probe = await startRawServer(() => undefined);
    const url = probe.url;
    await probe.close();
    const socket = new Socket(url, { env: nodeEnv(), transports: ["websocket"] });
    const { reason, details } = await closed(socket);
    expect(reason).toBe("transport error");
    expect(details.error).toMatchObject({ name: "TransportError", transport: "websocket" });
  });

  test("garbage on a WebSocket", async () => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise<void>((resolve) => wss.once("listening", resolve));
    wss.on("connection", (ws) => {
      ws.send(openPacket());
      ws.send("not a packet");
    });
    const socket = new BaseSocket(`http://127.0.0.1:${(wss.address() as AddressInfo).port}`, {
      env: nodeEnv(),
      transports: [websocket],
    });
    const errors = record(socket);
    const { reason, details } = await closed(socket);
    expect(reason).toBe("parse error");
    expect(details.error?.name).toBe("ProtocolError");
    expect(errors.filter(([event]) => event === "error")).toHaveLength(1);
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
});

describe("from the caller", () => {
  const env = nodeEnv();
  test.each([
    ["a string that is not a URL", () => new Socket("http://[bad", { env })],
    ["an unsupported scheme", () => new Socket("ftp://example.test", { env })],
    ["no URL outside a page", () => new Socket(undefined, { env })],
    // @ts-expect-error the name is refused by the types too; this checks the run-time refusal
    ["an unknown transport name", () => new Socket("http://127.0.0.1:9", { env, transports: ["carrier-pigeon"] })],
    ["a name given to BaseSocket", () => new BaseSocket("http://127.0.0.1:9", { env, transports: ["polling"] })],
    ["no transports", () => new BaseSocket("http://127.0.0.1:9", { env })],
    ["no supported transport", () => new BaseSocket("http://127.0.0.1:9", { env: { ...env, WebSocket: undefined }, transports: [websocket] })],
    ["a negative timeout", () => new Socket("http://127.0.0.1:9", { env, connectTimeout: -5 })],
    ["an unknown binaryType", () => new Socket("http://127.0.0.1:9", { env, binaryType: "nodebuffer" as "blob" })],
  ])("%s throws a UsageError", (_, make) => {
    expect(make).toThrow(expect.objectContaining({ name: "UsageError" }));
  });

  test("sending something that is not a message, or after close", () => {
    const socket = new BaseSocket("http://127.0.0.1:9", { env, transports: [polling] });
    expect(() => socket.send({ not: "data" } as unknown as string)).toThrow(/must be a string/);
    expect(() => socket.send("x", "not a function" as unknown as () => void)).toThrow(/callback/);
    socket.close();
    expect(socket.state).toBe("closed");
    expect(() => socket.send("x")).toThrow(expect.objectContaining({ name: "UsageError" }));
  });
});
