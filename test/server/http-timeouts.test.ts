/**
 * The README's deployment notes set Node's `headersTimeout` and `requestTimeout` on the HTTP
 * server: they bound how long a client may take to SEND a request, so slow headers are cut,
 * while a held poll or an open stream (whose request was received long ago) is not.
 */
import { connect } from "node:net";
import { expect, it } from "vitest";
import { SseParser } from "./support/framing.js";
import { PacketStream, httpRequest, sidOf, splitPayload } from "./support/http-client.js";
import { once } from "../support/events.js";
import { startServer } from "../support/server.js";

it("headersTimeout/requestTimeout cut slow headers, not held polls or streams", async () => {
  const limit = 200;
  const server = await startServer({ httpOptions: { headersTimeout: limit, requestTimeout: limit, connectionsCheckingInterval: 25 } });
  const base = server.endpoint("");

  const connection = server.nextConnection();
  const stream = new PacketStream(`${base}transport=sse`, new SseParser());
  await stream.packet(0);
  const streamSocket = await connection;

  const pollConnection = server.nextConnection();
  const sid = sidOf(splitPayload((await httpRequest(`${base}transport=polling`)).body)[0]!);
  const pollSocket = await pollConnection;
  const held = httpRequest(`${base}transport=polling&sid=${sid}`);

  // Started after the stream and the poll: by the time it is cut, they were checked too.
  const slow = connect(server.port, "127.0.0.1");
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
