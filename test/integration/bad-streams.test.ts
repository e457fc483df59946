/**
 * Garbage, truncated and oversized streams on the streaming transports: one typed error, one
 * close, nothing uncaught, no unbounded memory.
 */
import { expect, test } from "vitest";
import { BaseSocket, type SocketOptions, sse, xhrStreaming } from "../../src/index.js";
import type { TransportDefinition } from "../../src/transport.js";
import { closed, record } from "../support/events.js";
import { nodeEnv } from "../support/node-env.js";
import { openPacket, type RawHandler, type RawServer, startRawServer } from "../support/server.js";

let raw: RawServer | undefined;

async function against(transport: TransportDefinition, handler: RawHandler, options: SocketOptions = {}) {
  raw = await startRawServer(handler);
  const socket = new BaseSocket(raw.url, { env: nodeEnv(), transports: [transport], ...options });
  const events = record(socket);
  const { reason, details } = await closed(socket);
  const errors = events.filter(([event]) => event === "error");
  expect(errors).toHaveLength(1);
  return { reason, error: details.error! };
}

const streamOf =
  (contentType: string, ...chunks: string[]): RawHandler =>
  (_request, response) => {
    response.writeHead(200, { "Content-Type": contentType });
    for (const chunk of chunks) response.write(chunk);
    response.end();
  };

test("xhr-streaming: a line that is not JSON", async () => {
  const { reason, error } = await against(xhrStreaming, streamOf("text/plain", " ".repeat(2048) + "\n", "<html>oops\n"));
  expect(reason).toBe("parse error");
  expect(error.name).toBe("ProtocolError");
});

test("xhr-streaming: JSON that is not a packet string", async () => {
  const { error } = await against(xhrStreaming, streamOf("text/plain", '{"a":1}\n'));
  expect(error.name).toBe("ProtocolError");
});

test("xhr-streaming: a valid string that is not an engine.io packet", async () => {
  const { error } = await against(xhrStreaming, streamOf("text/plain", JSON.stringify("9zzz") + "\n"));
  expect(error.name).toBe("ProtocolError");
});

test("xhr-streaming: a stream truncated before the handshake", async () => {
  const { reason, error } = await against(xhrStreaming, streamOf("text/plain", " ".repeat(2048) + "\n", '"0{\\"sid'));
  expect(reason).toBe("transport error");
  expect(error.message).toMatch(/ended before the handshake/);
});

test("xhr-streaming: a frame that never ends is cut off at maxIncomingBytes, not buffered forever", async () => {
  const open = JSON.stringify(openPacket()) + "\n";
  const { reason, error } = await against(
    xhrStreaming,
    (_request, response) => {
      response.writeHead(200, { "Content-Type": "text/plain" });
      response.write(open);
      response.write('"4' + "x".repeat(20_000));
    },
    { maxIncomingBytes: 10_000 },
  );
  expect(reason).toBe("transport error");
  expect(error.name).toBe("IncomingTooLargeError");
});

test("xhr-streaming: HTTP 400 with engine.io's JSON error", async () => {
  const { error } = await against(xhrStreaming, (_request, response) => {
    response.writeHead(400, { "Content-Type": "application/json" });
    response.end(JSON.stringify({ code: 1, message: "Session ID unknown" }));
  });
  expect(error).toMatchObject({ name: "ServerError", code: 1 });
});

test("sse: data that is not JSON", async () => {
  const { reason, error } = await against(sse, streamOf("text/event-stream", "data: not json\n\n"));
  expect(reason).toBe("parse error");
  expect(error.name).toBe("ProtocolError");
});

test("sse: a response that is not an event stream", async () => {
  const { reason, error } = await against(sse, streamOf("text/html", "<p>hello</p>"));
  expect(reason).toBe("transport error");
  expect(error.name).toBe("TransportError");
});

test("sse: a stream that keeps ending empty gives up instead of reconnecting forever", async () => {
  let requests = 0;
  const { error } = await against(sse, (_request, response) => {
    requests++;
    response.writeHead(200, { "Content-Type": "text/event-stream" });
    if (requests === 1) response.write(`data: ${JSON.stringify(openPacket())}\n\n`);
    response.end();
  });
  expect(error.message).toMatch(/ended 3 times without data/);
  expect(requests).toBe(4);
});
