/** Closing a polling session: the close packet goes up and no poll follows it. */
import type { ServerResponse } from "node:http";
import { expect, test } from "vitest";
import { Socket } from "../../src/index.js";
import { closed, next } from "../support/events.js";
import { nodeEnv } from "../support/node-env.js";
import { openPacket, type RawServer, startRawServer } from "../support/server.js";

let raw: RawServer | undefined;

test("after the close packet, the held poll's answer starts no new poll", async () => {
  let heldPoll: ServerResponse | undefined;
  raw = await startRawServer((request, response, index) => {
    if (index === 0) return response.end(openPacket());
    if (request.method === "GET") {
      heldPoll = response;
      return;
    }
    if (request.body !== "1") return response.end("ok");
    // as engine.io does on a close packet: end the held poll with a noop; the POST's own
    // answer comes later, as it can on a real network, leaving the client time to misbehave
    heldPoll?.end("6");
    setTimeout(() => response.end("ok"), 50);
  });
  const socket = new Socket(raw.url, { env: nodeEnv(), transports: ["polling"] });
  await next(socket, "open");
  while (!heldPoll) await new Promise((resolve) => setImmediate(resolve));
  socket.close();
  await closed(socket);
  // one more turn of the event loop for any request the noop could have started
  await new Promise((resolve) => setImmediate(resolve));
  const after = raw.requests.slice(raw.requests.findIndex((request) => request.body === "1") + 1);
  expect(after.filter((request) => request.method === "GET")).toEqual([]);
});

test("a message in flight when the server's close packet comes counts as sent once its POST lands", async () => {
  let heldPoll: ServerResponse | undefined;
  let heldPost: ServerResponse | undefined;
  raw = await startRawServer((request, response, index) => {
    if (index === 0) return response.end(openPacket());
    if (request.method === "GET") {
      heldPoll = response;
      return;
    }
    // the server got the message, then closes the session before answering the POST
    heldPost = response;
    heldPoll?.end("1");
    setTimeout(() => heldPost!.end("ok"), 20);
  });
  const socket = new Socket(raw.url, { env: nodeEnv(), transports: ["polling"] });
  await next(socket, "open");
  while (!heldPoll) await new Promise((resolve) => setImmediate(resolve));
  let called = false;
  socket.send("arrived", () => (called = true));
  const { reason, details } = await closed(socket);
  expect(reason).toBe("transport close");
  expect(details.unsent).toEqual([]);
  expect(called).toBe(true);
  expect(raw.requests.filter((request) => request.method === "POST").map((request) => request.body)).toEqual(["4arrived"]);
});
