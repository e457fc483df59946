/**
 * The streams write what one turn of the event loop sends as one chunk: one `res.write` for a
 * burst, whatever its size up to the response's high-water mark, with every packet in order
 * and every send callback called once it was written. The chunk is one frame (one sse event,
 * one line, one script) whose payload joins the packets with U+001E.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { type TestServer, startServer } from "../support/server.js";
import { PacketStream, sidOf } from "./support/http-client.js";
import { PAGE_ORIGIN, STREAMING_CASES } from "./support/transports.js";

/** Counts the writes of the server's response to the next request whose URL contains `needle`. */
function countWrites(server: TestServer, needle: string): { writes: string[]; highWaterMark: number } {
  const counted = { writes: [] as string[], highWaterMark: 0 };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (!req.url?.includes(needle)) return;
    server.http.off("request", onRequest);
    counted.highWaterMark = res.writableHighWaterMark;
    const write = res.write.bind(res) as (chunk: string) => boolean;
    res.write = ((chunk: string) => {
      counted.writes.push(chunk);
      return write(chunk);
    }) as ServerResponse["write"];
  };
  server.http.on("request", onRequest);
  return counted;
}

/**
 * Where a frame starts in a chunk, by transport (docs/wire.md), and U+001E between two packets
 * of it: sse and xhr-streaming frames go as they are (the GETs say `pf=1`), iframe's in JSON.
 */
const frameStarts: Record<string, RegExp> = { sse: /^data: /gm, "xhr-streaming": /^["0-9b]/gm, iframe: /^<script>p\("/gm };
const separators: Record<string, string> = { sse: "\x1e", "xhr-streaming": "\x1e", iframe: "\\u001e" };

describe.each(STREAMING_CASES)("$name", (t) => {
  it("writes a burst sent in one turn as one chunk, in order, with each send's callback after it", async () => {
    const server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const connection = server.nextConnection();
    const counted = countWrites(server, `transport=${t.name}`);
    const stream = new PacketStream(server.endpoint(`transport=${t.name}${t.getQuery}`), t.parser(), { ...t.headers });
    sidOf(await stream.packet(0));
    const socket = await connection;
    const before = counted.writes.length;

    const messages = Array.from({ length: 100 }, (_, i) => `burst ${i}`);
    const called: number[] = [];
    messages.forEach((message, i) => socket.send(message, {}, () => called.push(i)));
    // nothing is written while the turn that sends runs
    expect(counted.writes.length).toBe(before);
    expect(await stream.waitFor(101)).toEqual([stream.packets[0], ...messages.map((m) => `4${m}`)]);
    expect(counted.writes.length - before).toBe(1);
    expect(counted.writes[before]!.match(frameStarts[t.name]!)).toHaveLength(1);
    expect(counted.writes[before]).toContain(["4burst 0", "4burst 1", ""].join(separators[t.name]));
    expect(called).toEqual(messages.map((_, i) => i));

    // the next turn's sends are the next chunk
    socket.send("later");
    expect(await stream.packet(101)).toBe("4later");
    expect(counted.writes.length - before).toBe(2);
  });
});

describe.each(STREAMING_CASES)("$name, a burst past the high-water mark", (t) => {
  it("is split into frames of about the high-water mark each, every packet once and in order", async () => {
    const server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const connection = server.nextConnection();
    const counted = countWrites(server, `transport=${t.name}`);
    const stream = new PacketStream(server.endpoint(`transport=${t.name}${t.getQuery}`), t.parser(), { ...t.headers });
    sidOf(await stream.packet(0));
    const socket = await connection;
    const before = counted.writes.length;

    const messages = Array.from({ length: 1000 }, (_, i) => `${i} `.padEnd(100, "x"));
    messages.forEach((message) => socket.send(message));
    expect(await stream.waitFor(1001)).toEqual([stream.packets[0], ...messages.map((m) => `4${m}`)]);
    const frames = counted.writes.slice(before).flatMap((chunk) => chunk.match(frameStarts[t.name]!) ?? []);
    // each frame but the last holds the high-water mark's worth of payload and one packet more at most
    const payload = messages.length * 102 - 1;
    expect(frames.length).toBeGreaterThanOrEqual(Math.floor(payload / (counted.highWaterMark + 102)));
    expect(frames.length).toBeLessThanOrEqual(Math.ceil(payload / counted.highWaterMark));
    expect(frames.length).toBeGreaterThan(1);
  });
});
