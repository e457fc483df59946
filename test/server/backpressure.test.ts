/**
 * What the server holds for a client that reads slowly or not at all: streams stop writing when
 * the response pushes back and keep the rest as packets; a session that holds more than
 * `maxBufferedBytes` (engine.io's buffer + the transport + the response or WebSocket) ends with
 * "transport buffer full", on every transport. Measured in bytes queued, not RSS.
 */
import { type IncomingMessage, type ServerResponse, request } from "node:http";
import type { Socket as EngineSocket } from "engine.io";
import { describe, expect, it, onTestFinished } from "vitest";
import { WebSocket } from "ws";
import { streamOf } from "../../src/server/transports/streaming.js";
import { SseParser, type StreamParser, XhrStreamingParser } from "./support/framing.js";
import { httpRequest, sidOf, splitPayload } from "./support/http-client.js";
import { type TestServer, startServer } from "../support/server.js";
import { once } from "../support/events.js";

const FRAME = 16 * 1024;
/** Enough that the kernel's socket buffers on loopback cannot take it all. */
const PUSHED = 8 * 1024 * 1024;

let server: TestServer | undefined;

/** A distinct message of `FRAME` characters (plain ASCII: its frame is as long as it is). */
function message(i: number): string {
  const head = `m${i}|`;
  return head + "x".repeat(FRAME - head.length);
}

/** Bytes in engine.io's buffer, read directly (engine.io keeps it on the socket). */
function engineBufferBytes(socket: EngineSocket): number {
  const buffer = (socket as unknown as { writeBuffer: { data?: unknown }[] }).writeBuffer;
  return buffer.reduce((sum, packet) => sum + (typeof packet.data === "string" ? packet.data.length : 0), 0);
}

/** Everything the session holds for its client: engine.io's buffer + the stream transport's. */
function queuedBytes(socket: EngineSocket): number {
  return engineBufferBytes(socket) + (streamOf(socket.transport)?.bufferedBytes ?? 0);
}

/** The arguments of the socket's `close` event, filled in when it fires (synchronously, here). */
function closeOf(socket: EngineSocket): [reason?: string, description?: Error] {
  const args: [reason?: string, description?: Error] = [];
  socket.once("close", (reason: string, description?: Error) => args.push(reason, description));
  return args;
}

/** The server side of the next request whose URL contains `needle`. */
function nextResponse(needle: string): Promise<ServerResponse> {
  return new Promise((resolve) => {
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      if (!req.url?.includes(needle)) return;
      server!.http.off("request", onRequest);
      resolve(res);
    };
    server!.http.on("request", onRequest);
  });
}

/** A stream whose reading the test controls: paused from the start. */
function openPausedStream(url: string, parser: StreamParser) {
  const packets: string[] = [];
  let onPacket: () => void = () => {};
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      res.pause();
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        packets.push(...parser.push(chunk));
        onPacket();
      });
      res.on("error", () => {});
      resolve(res);
    });
    req.on("error", reject);
    req.end();
    onTestFinished(() => void req.destroy());
  });
  // A session ended for not reading drops the connection, possibly before its headers were read.
  response.catch(() => {});
  return {
    packets,
    response,
    /** Reads until `count` packets arrived. */
    readUntil: async (count: number): Promise<void> => {
      const res = await response;
      if (packets.length >= count) return;
      await new Promise<void>((resolve) => {
        onPacket = () => {
          if (packets.length < count) return;
          onPacket = () => {};
          resolve();
        };
        res.resume();
      });
    },
  };
}

const STREAMS = [
  { name: "sse", parser: () => new SseParser() },
  { name: "xhr-streaming", parser: () => new XhrStreamingParser() },
] as const;

describe.each(STREAMS)("$name", (t) => {
  it("stops writing when the response pushes back and keeps the rest as packets until drain", async () => {
    // Recycling off and no bound in the way: this is about the response alone.
    server = await startServer({ recycleBytes: 1 << 30, maxBufferedBytes: Infinity });
    const connection = server.nextConnection();
    const responseOnServer = nextResponse(`transport=${t.name}`);
    const stream = openPausedStream(server.endpoint(`transport=${t.name}`), t.parser());
    const socket = await connection;
    const res = await responseOnServer;

    const count = PUSHED / FRAME;
    for (let i = 0; i < count; i++) socket.send(message(i));
    // What one turn sends is written once that turn's code ran.
    await new Promise((resolve) => setImmediate(resolve));
    // The kernel took what it could; the response pushes back and the rest waits as packets.
    expect(res.writableNeedDrain).toBe(true);
    expect(res.writableLength).toBeLessThanOrEqual(res.writableHighWaterMark + FRAME);
    expect(queuedBytes(socket)).toBeGreaterThan(PUSHED / 2);

    // Each time the response drains, it takes only what fits, however much waited.
    let largest = 0;
    const onDrain = (): void => {
      largest = Math.max(largest, res.writableLength);
      res.once("drain", onDrain);
    };
    res.once("drain", onDrain);
    await stream.readUntil(count + 1);
    res.off("drain", onDrain);
    expect(largest).toBeGreaterThan(0);
    expect(largest).toBeLessThanOrEqual(res.writableHighWaterMark + FRAME);
    expect(stream.packets.slice(1)).toEqual(Array.from({ length: count }, (_, i) => `4${message(i)}`));
    expect(queuedBytes(socket)).toBe(0);
    expect(socket.readyState).toBe("open");
  });

  it("ends a session whose client never reads once it holds more than maxBufferedBytes", async () => {
    const bound = 1024 * 1024;
    server = await startServer({ recycleBytes: 1 << 30, maxBufferedBytes: bound });
    const connection = server.nextConnection();
    const responseOnServer = nextResponse(`transport=${t.name}`);
    openPausedStream(server.endpoint(`transport=${t.name}`), t.parser());
    const socket = await connection;
    const res = await responseOnServer;
    const closed = closeOf(socket);

    let largest = 0;
    let sent = 0;
    for (; sent < PUSHED / FRAME && socket.readyState === "open"; sent++) {
      socket.send(message(sent));
      largest = Math.max(largest, queuedBytes(socket), res.writableLength);
    }
    const [reason, description] = closed;
    expect(reason).toBe("transport buffer full");
    expect(description?.message).toMatch(/maxBufferedBytes \(1048576\)/);
    expect(sent).toBeLessThan(PUSHED / FRAME);
    expect(largest).toBeLessThanOrEqual(bound + FRAME);
    // The unread bytes are dropped with the connection, not kept until the client reads.
    expect(res.destroyed).toBe(true);
  });

  it("delivers everything to a client that reads slowly, with send callbacks pacing the server", async () => {
    const bound = 256 * 1024;
    server = await startServer({ recycleBytes: 1 << 30, maxBufferedBytes: bound });
    const connection = server.nextConnection();
    const stream = openPausedStream(server.endpoint(`transport=${t.name}`), t.parser());
    const socket = await connection;
    const count = (4 * bound) / FRAME;
    let largest = 0;
    // The application sends the next message once the previous one was handed to the response.
    const pushed = new Promise<void>((resolve) => {
      const push = (i: number): void => {
        if (i === count) return resolve();
        socket.send(message(i), {}, () => push(i + 1));
        largest = Math.max(largest, queuedBytes(socket));
      };
      push(0);
    });
    // The client reads a few packets at a time, pausing in between.
    const res = await stream.response;
    res.on("data", () => {
      res.pause();
      setImmediate(() => res.resume());
    });
    await stream.readUntil(count + 1);
    await pushed;
    expect(stream.packets.slice(1)).toEqual(Array.from({ length: count }, (_, i) => `4${message(i)}`));
    // The response's high-water mark, one frame past it, and the stream's opening padding.
    expect(largest).toBeLessThanOrEqual(16 * 1024 + FRAME + 4096);
    expect(socket.readyState).toBe("open");
  });
});

describe("stock transports", () => {
  it("websocket: a client that never reads ends its session past maxBufferedBytes", async () => {
    const bound = 1024 * 1024;
    server = await startServer({ maxBufferedBytes: bound });
    const connection = server.nextConnection();
    const ws = new WebSocket(server.endpoint("transport=websocket").replace("http:", "ws:"));
    onTestFinished(() => ws.terminate());
    await once(ws, "open");
    ws.pause();
    const socket = await connection;
    const held = (socket.transport as unknown as { socket: WebSocket }).socket;
    const closed = closeOf(socket);

    let largest = 0;
    let sent = 0;
    for (; sent < PUSHED / FRAME && socket.readyState === "open"; sent++) {
      socket.send(message(sent));
      largest = Math.max(largest, engineBufferBytes(socket) + held.bufferedAmount);
    }
    expect(closed[0]).toBe("transport buffer full");
    expect(sent).toBeLessThan(PUSHED / FRAME);
    expect(largest).toBeLessThanOrEqual(bound + FRAME);
  });

  it("polling: a client that stops polling ends its session past maxBufferedBytes", async () => {
    const bound = 1024 * 1024;
    server = await startServer({ maxBufferedBytes: bound });
    const connection = server.nextConnection();
    const open = await httpRequest(server.endpoint("transport=polling"));
    sidOf(splitPayload(open.body)[0]!);
    const socket = await connection;
    const closed = closeOf(socket);

    let largest = 0;
    let sent = 0;
    for (; sent < PUSHED / FRAME && socket.readyState === "open"; sent++) {
      socket.send(message(sent));
      largest = Math.max(largest, engineBufferBytes(socket));
    }
    expect(closed[0]).toBe("transport buffer full");
    expect(sent).toBe(bound / FRAME + 1);
    expect(largest).toBeLessThanOrEqual(bound + FRAME);
  });

  it("Infinity disables the bound; other values are validated", async () => {
    const { Server } = await import("../../src/server/index.js");
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      expect(() => new Server({ maxBufferedBytes: bad })).toThrow(/maxBufferedBytes must be an integer >= 1/);
    }
    server = await startServer({ maxBufferedBytes: Infinity });
    const connection = server.nextConnection();
    await httpRequest(server.endpoint("transport=polling"));
    const socket = await connection;
    for (let i = 0; i < 200; i++) socket.send(message(i));
    expect(socket.readyState).toBe("open");
    expect(engineBufferBytes(socket)).toBe(200 * FRAME);
  });
});
