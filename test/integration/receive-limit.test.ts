/**
 * What the server sends, bounded and not lost: an endless polling body or stream line is cut
 * at maxIncomingBytes with an IncomingTooLargeError (the bytes the client accepted stay near
 * the limit), a large legitimate message on xhr-streaming arrives whole whatever the server's
 * maxHttpBufferSize, and JSONP carries half an emoji as U+FFFD with the session alive after it.
 */
import type { ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { Socket as EngineSocket } from "engine.io";
import { afterEach, describe, expect, test } from "vitest";
import {
  BaseSocket,
  type CloseDetails,
  type CloseReason,
  jsonp,
  polling,
  type SocketOptions,
  sse,
  xhrStreaming,
} from "../../src/index.js";
import type { TransportDefinition } from "../../src/transport.js";
import { messages, next } from "../support/events.js";
import { echo, startServer, type TestServer, openPacket, type RawHandler, type RawServer, startRawServer } from "../support/server.js";
import { nodeEnv } from "../support/node-env.js";

/** jsdom ships no types; this is the part used here: a page that runs the scripts it loads. */
const { JSDOM } = createRequire(import.meta.url)("jsdom") as {
  JSDOM: new (
    html: string,
    options: { url: string; runScripts: "dangerously"; resources: "usable" },
  ) => { window: Window & { close(): void } };
};

let raw: RawServer | undefined;
let server: TestServer | undefined;
const sockets: BaseSocket[] = [];
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) if (socket.state !== "closed") socket.close();
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** Node's fetch, with a count of the response bytes the client actually read. */
function countingFetch() {
  const counter = { accepted: 0 };
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const response = await globalThis.fetch(input, init);
    if (!response.body) return response;
    const counted = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, stream) {
          counter.accepted += chunk.length;
          stream.enqueue(chunk);
        },
      }),
    );
    return new Response(counted, { status: response.status, headers: response.headers });
  };
  return { fetch, counter };
}

/** Writes `chunk` until the client goes away or `cap` bytes went out, minding backpressure. */
function flood(response: ServerResponse, chunk: string, cap: number) {
  let written = 0;
  let gone = false;
  response.on("close", () => (gone = true));
  const pump = () => {
    while (!gone && written < cap) {
      written += chunk.length;
      if (!response.write(chunk)) return void response.once("drain", pump);
    }
    if (!gone) response.end();
  };
  pump();
}

/** The first of the session's close and a message. */
function closeOrMessage(
  socket: BaseSocket,
): Promise<{ reason: CloseReason | "message"; details?: CloseDetails; data?: unknown }> {
  return new Promise((resolve) => {
    socket.once("close", (reason, details) => resolve({ reason, details }));
    socket.once("message", (data) => resolve({ reason: "message", data }));
  });
}

async function againstRaw(transport: TransportDefinition, handler: RawHandler, options: SocketOptions) {
  raw = await startRawServer(handler);
  const { fetch, counter } = countingFetch();
  const socket = new BaseSocket(raw.url, { env: nodeEnv({ fetch }), transports: [transport], ...options });
  sockets.push(socket);
  return { socket, counter };
}

const limit = 1e6;
const floodCap = 32e6;
const chunk = "x".repeat(64 * 1024);

describe("an endless body or line is cut at maxIncomingBytes", () => {
  test("polling: a poll answered with a body that never ends", async () => {
    const { socket, counter } = await againstRaw(
      polling,
      (request, response, index) => {
        if (request.method === "POST") return void response.end("ok");
        response.writeHead(200, { "Content-Type": "text/plain; charset=UTF-8" });
        if (index === 0) return void response.end(openPacket());
        response.write("4");
        flood(response, chunk, floodCap);
      },
      { maxIncomingBytes: limit },
    );
    const { reason, details } = await closeOrMessage(socket);
    expect(reason).toBe("transport error");
    expect(details!.error).toMatchObject({ name: "IncomingTooLargeError", transport: "polling", limit });
    expect(details!.error!.message).toContain("maxIncomingBytes");
    // what the client read stays within a few network chunks of the limit
    expect(counter.accepted).toBeGreaterThan(limit);
    expect(counter.accepted).toBeLessThan(limit + 512 * 1024);
  });

  test("xhr-streaming: a line that never ends", async () => {
    const { socket, counter } = await againstRaw(
      xhrStreaming,
      (request, response) => {
        if (request.method === "POST") return void response.end("ok");
        response.writeHead(200, { "Content-Type": "text/plain; charset=UTF-8" });
        response.write(JSON.stringify(openPacket()) + "\n" + '"4');
        flood(response, chunk, floodCap);
      },
      { maxIncomingBytes: limit },
    );
    const { reason, details } = await closeOrMessage(socket);
    expect(reason).toBe("transport error");
    expect(details!.error).toMatchObject({ name: "IncomingTooLargeError", transport: "xhr-streaming", limit });
    expect(counter.accepted).toBeLessThan(limit + 512 * 1024);
  });

  test("sse: an event past the limit (EventSource hands events over whole, so it is refused once read)", async () => {
    const { socket } = await againstRaw(
      sse,
      (request, response) => {
        if (request.method === "POST") return void response.end("ok");
        response.writeHead(200, { "Content-Type": "text/event-stream" });
        response.write(`data: ${JSON.stringify(openPacket())}\n\n`);
        response.write(`data: ${JSON.stringify("4" + "x".repeat(limit))}\n\n`);
      },
      { maxIncomingBytes: limit },
    );
    const { reason, details } = await closeOrMessage(socket);
    expect(reason).toBe("transport error");
    expect(details!.error).toMatchObject({ name: "IncomingTooLargeError", transport: "sse", limit });
  });
});

test("xhr-streaming: a 2 MB message arrives whole from a server whose maxHttpBufferSize is 1e5", async () => {
  const big = "4".repeat(2e6);
  server = await startServer({ maxHttpBufferSize: 1e5 }, (session) => session.send(big));
  const socket = new BaseSocket(server.url, { env: nodeEnv(), transports: [xhrStreaming] });
  sockets.push(socket);
  const { reason, data, details } = await closeOrMessage(socket);
  expect(details?.error).toBeUndefined();
  expect(reason).toBe("message");
  expect(data).toBe(big);
  expect(socket.state).toBe("open");
});

describe("jsonp in a page (jsdom loading the server's scripts)", () => {
  test("half an emoji goes up as U+FFFD; later messages and pongs keep flowing", async () => {
    server = await startServer({ engine: "stock", pingInterval: 50, pingTimeout: 1000, transports: ["polling"] }, echo);
    const dom = new JSDOM("<!doctype html><html><head></head><body></body></html>", {
      url: server.url + "/page.html",
      runScripts: "dangerously",
      resources: "usable",
    });
    cleanups.push(() => dom.window.close());
    const page = dom.window;
    const connection = server.nextConnection();
    const socket = new BaseSocket(server.url, {
      transports: [jsonp],
      upgrade: false,
      env: { document: page.document, window: page, fetch: globalThis.fetch, XMLHttpRequest: undefined },
    });
    sockets.push(socket);
    const session: EngineSocket = await connection;
    const received: string[] = [];
    session.on("message", (data: string) => received.push(data));
    let pongs = 0;
    session.on("packet", (packet: { type: string }) => packet.type === "pong" && pongs++);
    await next(socket, "open");

    const echoed = messages(socket, 2);
    socket.send("a\uD83D");
    socket.send("b");
    expect(await echoed).toEqual(["a\uFFFD", "b"]);
    expect(received).toEqual(["a\uFFFD", "b"]);
    // several heartbeats later the session is still alive and answering
    const pongsBefore = pongs;
    await new Promise<void>((resolve) => {
      const check = () => (pongs >= pongsBefore + 3 ? resolve() : session.once("packet", check));
      check();
    });
    socket.send("c\uDE00d");
    expect(await messages(socket, 1)).toEqual(["c\uFFFDd"]);
    expect(socket.state).toBe("open");
  });
});
