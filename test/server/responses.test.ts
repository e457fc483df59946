/**
 * Every response cometa/server writes, or engine.io writes through it, carries nosniff, and an
 * exact Content-Type when it has a body; the bodiless ones (listed in the README) carry none.
 * The exceptions the README names are pinned too.
 */
import { type ClientRequest, type IncomingMessage, request } from "node:http";
import { connect } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { type Response, httpRequest, post, sidOf, splitPayload } from "./support/http-client.js";
import { type TestServer, startServer } from "../support/server.js";

/** A MIME type with at most a charset: what browsers cannot second-guess. */
const EXACT_TYPE = /^[a-z]+\/[a-z0-9.+-]+(; ?charset=utf-8)?$/i;

let server: TestServer | undefined;

function expectExact(response: Response): void {
  expect(response.headers["x-content-type-options"]).toBe("nosniff");
  if (response.body.length > 0) expect(response.headers["content-type"]).toMatch(EXACT_TYPE);
  else expect(response.headers["content-type"]).toBeUndefined();
}

async function handshake(transport: string): Promise<string> {
  return sidOf(splitPayload((await httpRequest(server!.endpoint(`transport=${transport}`))).body)[0]!);
}

/** A POST whose body is not finished: it holds the session's one upload slot. */
function unfinishedPost(url: string): ClientRequest {
  const req = request(url, { method: "POST", agent: false, headers: { "Content-Length": "100", "Content-Type": "text/plain" } });
  req.on("error", () => {});
  req.write("4partial");
  onTestFinished(() => void req.destroy());
  return req;
}

/** Resolves once the server has taken the next POST (engine.io handles it first, synchronously). */
function serverTakesPost(): Promise<void> {
  return new Promise((resolve) => {
    const onRequest = (req: IncomingMessage): void => {
      if (req.method !== "POST") return;
      server!.http.off("request", onRequest);
      resolve();
    };
    server!.http.on("request", onRequest);
  });
}

describe("responses with a body have an exact Content-Type, all have nosniff", () => {
  it("handshake, poll, JSONP, POST ok and engine.io's JSON errors", async () => {
    server = await startServer({ maxHttpBufferSize: 64 });
    const handshakeResponse = await httpRequest(server.endpoint("transport=polling"));
    expectExact(handshakeResponse);
    expect(handshakeResponse.headers["content-type"]).toBe("text/plain; charset=UTF-8");
    const sid = sidOf(splitPayload(handshakeResponse.body)[0]!);
    const ok = await post(server.endpoint(`transport=polling&sid=${sid}`), "4hi");
    expect(ok.body).toBe("ok");
    expectExact(ok);
    const jsonp = await httpRequest(server.endpoint("transport=polling&j=0"));
    expectExact(jsonp);
    expect(jsonp.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    for (const query of ["transport=polling&sid=nope", "transport=nope", "transport=sse&sid=nope"]) {
      const error = await httpRequest(server.endpoint(query));
      expect(error.status).toBe(400);
      expectExact(error);
      expect(error.headers["content-type"]).toBe("application/json");
    }
  });
});

describe("bodiless responses: nosniff, no Content-Type", () => {
  it("stock polling: 400 binary POST, 413 too large, 500 other method, 400 overlapping GET", async () => {
    server = await startServer({ maxHttpBufferSize: 64 });
    let sid = await handshake("polling");
    const url = () => server!.endpoint(`transport=polling&sid=${sid}`);

    const binary = await post(url(), "4x", { "Content-Type": "application/octet-stream" });
    expect(binary.status).toBe(400);
    expectExact(binary);

    sid = await handshake("polling");
    const tooLarge = await post(url(), `4${"x".repeat(100)}`);
    expect(tooLarge.status).toBe(413);
    expectExact(tooLarge);

    sid = await handshake("polling");
    const put = await httpRequest(url(), { method: "PUT", body: "4x" });
    expect(put.status).toBe(500);
    expectExact(put);

    sid = await handshake("polling");
    const held = httpRequest(url());
    const overlapping = await httpRequest(url());
    expect(overlapping.status).toBe(400);
    expectExact(overlapping);
    expectExact(await held);
  });

  it("stock polling: 400 for a second POST while one is in flight", async () => {
    server = await startServer();
    const sid = await handshake("polling");
    const url = server.endpoint(`transport=polling&sid=${sid}`);
    const taken = serverTakesPost();
    unfinishedPost(url);
    await taken;
    const second = await post(url, "4x");
    expect(second.status).toBe(400);
    expectExact(second);
  });

  it("cometa's POSTs (sse here): 400 binary, 413 too large, 400 for a second POST in flight", async () => {
    server = await startServer({ maxHttpBufferSize: 64 });
    const sseSession = async () => {
      const connection = server!.nextConnection();
      const req = request(server!.endpoint("transport=sse"), { agent: false });
      req.on("error", () => {});
      req.end();
      onTestFinished(() => void req.destroy());
      const socket = await connection;
      return server!.endpoint(`transport=sse&sid=${(socket as unknown as { id: string }).id}`);
    };

    const binary = await post(await sseSession(), "4x", { "Content-Type": "application/octet-stream" });
    expect(binary.status).toBe(400);
    expectExact(binary);

    const tooLarge = await post(await sseSession(), `4${"x".repeat(100)}`);
    expect(tooLarge.status).toBe(413);
    expectExact(tooLarge);

    const url = await sseSession();
    const taken = serverTakesPost();
    unfinishedPost(url);
    await taken;
    const second = await post(url, "4x");
    expect(second.status).toBe(400);
    expectExact(second);
  });

  it("a CORS preflight: 204", async () => {
    server = await startServer({ cors: { origin: "https://app.example" } });
    const preflight = await httpRequest(server.endpoint("transport=polling"), {
      method: "OPTIONS",
      headers: { Origin: "https://app.example", "Access-Control-Request-Method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expectExact(preflight);
  });
});

describe("the exceptions the README names", () => {
  /** The raw response to `head` sent on a fresh connection. */
  function raw(head: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(server!.port, "127.0.0.1", () => socket.write(head));
      let text = "";
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => (text += chunk));
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
    });
  }

  it("engine.io's own refusal of a WebSocket upgrade is a raw text/html 400 without nosniff", async () => {
    server = await startServer();
    const response = await raw(
      "GET /engine.io/?EIO=4&transport=websocket&sid=nope HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n" +
        "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    );
    expect(response).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(response).toMatch(/\r\nContent-type: text\/html\r\n/);
    expect(response).not.toMatch(/nosniff/i);
  });

  it("Node's own answer to a malformed request has neither", async () => {
    server = await startServer();
    const response = await raw("NOT HTTP\r\n\r\n");
    expect(response).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(response).not.toMatch(/content-type|nosniff/i);
  });
});
