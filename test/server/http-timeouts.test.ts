/**
 * The README's deployment notes set Node's `headersTimeout` and `requestTimeout` on the HTTP
 * server: they bound how long a client may take to SEND a request, so slow headers are cut,
 * while a held poll or an open stream (whose request was received long ago) is not.
 */
import { type Server as HttpServer, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { afterEach, expect, it } from "vitest";
import { attach } from "../../src/server/index.js";
import { SseParser } from "./support/framing.js";
import { PacketStream, httpRequest, sidOf, splitPayload } from "./support/http-client.js";
import { once } from "../support/events.js";

let http: HttpServer | undefined;
const cleanups: (() => void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  http?.closeAllConnections();
  await new Promise((resolve) => (http ? http.close(resolve) : resolve(undefined)));
  http = undefined;
});

it("headersTimeout/requestTimeout cut slow headers, not held polls or streams", async () => {
  const limit = 200;
  http = createServer({ headersTimeout: limit, requestTimeout: limit, connectionsCheckingInterval: 25 });
  const engine = attach(http, { pingInterval: 60_000, pingTimeout: 60_000 });
  cleanups.push(() => engine.close());
  await new Promise<void>((resolve) => http!.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}/engine.io/?EIO=4&`;

  const connection = once<[{ send(data: string): void }]>(engine, "connection");
  const stream = new PacketStream(`${base}transport=sse`, new SseParser());
  cleanups.push(() => stream.destroy());
  await stream.packet(0);
  const [streamSocket] = await connection;

  const pollConnection = once<[{ send(data: string): void }]>(engine, "connection");
  const sid = sidOf(splitPayload((await httpRequest(`${base}transport=polling`)).body)[0]!);
  const [pollSocket] = await pollConnection;
  const held = httpRequest(`${base}transport=polling&sid=${sid}`);

  // Started after the stream and the poll: by the time it is cut, they were checked too.
  const slow = connect((http.address() as AddressInfo).port, "127.0.0.1");
  slow.write("GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n");
  let answer = "";
  slow.setEncoding("utf8");
  slow.on("data", (chunk: string) => (answer += chunk));
  await once(slow, "close");
  expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);

  streamSocket.send("stream still open");
  expect(await stream.packet(1)).toBe("4stream still open");
  pollSocket.send("poll still held");
  expect(splitPayload((await held).body)).toEqual(["4poll still held"]);
});
