/**
 * sse, xhr-streaming and iframe on the wire, spoken by a raw HTTP client: handshake, both
 * directions, binary, big and many messages, heartbeat, close, recycling, keep-alive headers.
 */
import { describe, expect, it } from "vitest";
import { PacketStream, post, sidOf } from "./support/http-client.js";
import { type TestServer, startServer } from "../support/server.js";
import { messages as collectMessages, once } from "../support/events.js";
import { PAGE_ORIGIN, STREAMING_CASES, type StreamingCase } from "./support/transports.js";

let server: TestServer | undefined;

function openStream(t: StreamingCase, query: string): PacketStream {
  const stream = new PacketStream(server!.endpoint(`transport=${t.name}${query}${t.getQuery}`), t.parser(), { ...t.headers });
  return stream;
}

/** Handshake directly on the streaming transport. */
async function handshake(t: StreamingCase) {
  const connection = server!.nextConnection();
  const stream = openStream(t, "");
  const sid = sidOf(await stream.packet(0));
  const socket = await connection;
  const upstream = (body: string) => post(server!.endpoint(`transport=${t.name}&sid=${sid}`), body, { ...t.headers });
  return { stream, sid, socket, upstream };
}

describe.each(STREAMING_CASES)("$name transport", (t) => {
  it("handshakes with an open packet, exact headers and nothing to upgrade to", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN], maxHttpBufferSize: 12345 });
    const { stream, socket } = await handshake(t);
    expect(stream.status).toBe(200);
    expect(stream.headers["content-type"]).toBe(t.contentType);
    expect(stream.headers["x-content-type-options"]).toBe("nosniff");
    const open = JSON.parse(stream.packets[0]!.slice(1)) as Record<string, unknown>;
    expect(open).toMatchObject({ sid: (socket as unknown as { id: string }).id, upgrades: [], maxPayload: 12345 });
    expect(socket.transport.name).toBe(t.name);
  });

  it("carries messages both ways, text and binary", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const { stream, socket, upstream } = await handshake(t);
    socket.send("hello \n\r\u2028 </script><!-- 🎉");
    socket.send(Buffer.from([1, 2, 3]));
    expect(await stream.waitFor(3)).toEqual(["0" + stream.packets[0]!.slice(1), "4hello \n\r\u2028 </script><!-- 🎉", "bAQID"]);

    const received = collectMessages(socket, 2);
    const answer = await upstream("4hi there\x1ebAQID");
    expect(answer).toMatchObject({ status: 200, body: "ok" });
    expect(answer.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(answer.headers["x-content-type-options"]).toBe("nosniff");
    const [text, binary] = await received;
    expect(text).toBe("hi there");
    expect(Buffer.isBuffer(binary) && [...binary]).toEqual([1, 2, 3]);
  });

  it("carries a 1 MB message each way (maxHttpBufferSize raised) and refuses bigger with 413", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN], maxHttpBufferSize: 1_100_000 });
    const { stream, socket, upstream } = await handshake(t);
    const big = "x".repeat(1_000_000);
    socket.send(big);
    expect(await stream.packet(1)).toBe(`4${big}`);

    const received = collectMessages(socket, 1);
    expect((await upstream(`4${big}`)).status).toBe(200);
    expect(await received).toEqual([big]);
    expect((await upstream(`4${big}${big}`)).status).toBe(413);
  });

  it("delivers 1,000 messages each way in order", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const { stream, socket, upstream } = await handshake(t);
    const messages = Array.from({ length: 1000 }, (_, i) => `m${i}`);
    for (const message of messages) socket.send(message);
    expect((await stream.waitFor(1001)).slice(1)).toEqual(messages.map((m) => `4${m}`));

    const received = collectMessages(socket, 1000);
    for (let i = 0; i < 1000; i += 100) {
      await upstream(messages.slice(i, i + 100).map((m) => `4${m}`).join("\x1e"));
    }
    expect(await received).toEqual(messages);
  });

  it("pings down the stream and takes the pong up", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN], pingInterval: 20, pingTimeout: 5_000 });
    const { stream, socket, upstream } = await handshake(t);
    expect(await stream.packet(1)).toBe("2");
    const heartbeat = once(socket, "heartbeat");
    await upstream("3");
    await heartbeat;
    expect(socket.readyState).toBe("open");
  });

  it("closes from the server: `1` on the stream, then the response ends", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const { stream, socket } = await handshake(t);
    const closed = once<[string]>(socket, "close");
    socket.close();
    expect(await stream.packet(1)).toBe("1");
    await stream.ended;
    expect((await closed)[0]).toBe("forced close");
  });

  it("closes from the server between two responses: the reopen GET carries what waited, then `1`", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN], recycleBytes: 3000 });
    const { stream, sid, socket } = await handshake(t);
    socket.send("z".repeat(3000));
    await stream.ended;
    socket.send("last words");
    const closed = once<[string]>(socket, "close");
    socket.close();
    const next = openStream(t, `&sid=${sid}`);
    expect(await next.waitFor(2)).toEqual(["4last words", "1"]);
    await next.ended;
    expect((await closed)[0]).toBe("forced close");
  });

  it("closes from the client: POST `1` ends the session and the stream", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const { stream, sid, socket, upstream } = await handshake(t);
    const closed = once<[string]>(socket, "close");
    await upstream("1");
    expect((await closed)[0]).toBe("transport close");
    await stream.ended;
    const after = await post(server.endpoint(`transport=${t.name}&sid=${sid}`), "4late", { ...t.headers });
    expect(after.status).toBe(400);
    expect(JSON.parse(after.body)).toEqual({ code: 1, message: "Session ID unknown" });
  });

  it("recycles the response after recycleBytes at a frame boundary; the next GETs get what waited, once, in order", async () => {
    const recycleBytes = 4096;
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN], recycleBytes });
    const { stream, sid, socket } = await handshake(t);
    const messages = Array.from({ length: 200 }, (_, i) => `message ${i} ${"-".repeat(50)}`);
    for (const message of messages) socket.send(message);
    await stream.ended;
    const seen = stream.packets.slice(1);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.length).toBeLessThan(messages.length);
    if (t.name === "iframe") expect(stream.raw.endsWith("</body></html>")).toBe(true);

    const responses: string[] = [];
    while (seen.length < messages.length) {
      const next = openStream(t, `&sid=${sid}`);
      // recycled, or still open with the last of them
      await Promise.race([next.ended, next.waitFor(messages.length - seen.length)]);
      expect(next.status).toBe(200);
      seen.push(...next.packets);
      responses.push(next.raw);
      next.destroy();
    }
    // A response ends once it carried recycleBytes: past it by less than one frame (and the
    // padding, the iframe's bootstrap and end), so the 12 KB that waited take several.
    expect(responses.length).toBeGreaterThan(1);
    for (const raw of responses) expect(Buffer.byteLength(raw)).toBeLessThan(recycleBytes + 2048 + 512);
    expect(seen).toEqual(messages.map((m) => `4${m}`));
  });

  it("without recycleBytes, recycles after 4 MiB where the client keeps nothing of what it read, else after 1 MiB", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    // EventSource and a fetch stream (xhr-streaming's rd=1) keep nothing; responseText and an
    // iframe document keep it all
    const readers: [query: string, recycleBytes: number][] =
      t.name === "sse" ? [["", 4_194_304]] : t.name === "iframe" ? [["", 1_048_576]] : [["", 1_048_576], ["&rd=1", 4_194_304]];
    const message = "y".repeat(65_536);
    for (const [query, recycleBytes] of readers) {
      const connection = server.nextConnection();
      const stream = openStream(t, query);
      await stream.packet(0);
      const socket = await connection;
      for (let i = 0; i < recycleBytes / message.length + 3; i++) socket.send(message);
      await stream.ended;
      // ended after the frame during which it reached recycleBytes (a frame: one such message)
      const bytes = Buffer.byteLength(stream.raw);
      expect(bytes).toBeGreaterThanOrEqual(recycleBytes);
      expect(bytes).toBeLessThan(recycleBytes + message.length + 512);
      socket.close();
    }
  });

  it("refuses a second GET while the stream is alive: 400 and the session ends, the second GET gets nothing", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const { stream, sid, socket } = await handshake(t);
    socket.send("before");
    expect(await stream.packet(1)).toBe("4before");
    const closed = once<[string]>(socket, "close");
    const hijack = openStream(t, `&sid=${sid}`);
    await hijack.opened;
    expect(hijack.status).toBe(400);
    await hijack.ended;
    expect(JSON.parse(hijack.raw)).toEqual({ code: 3, message: "Bad request" });
    expect((await closed)[0]).toBe("transport error");
    socket.send("after");
    // the client's own stream hears the end of its session; nobody hears anything else
    await stream.ended;
    expect(stream.packets.slice(1)).toEqual(["4before", "1"]);
    expect(hijack.packets).toEqual([]);
  });

  it("takes a reopen sent right after the client dropped its stream", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const { stream, sid, socket } = await handshake(t);
    stream.destroy();
    const next = openStream(t, `&sid=${sid}`);
    await next.opened;
    expect(next.status).toBe(200);
    socket.send("kept");
    expect(await next.packet(0)).toBe("4kept");
    expect(socket.readyState).toBe("open");
  });

  it("survives the client dropping the stream: packets wait for the reopen", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const { stream, sid, socket } = await handshake(t);
    stream.destroy();
    await stream.ended;
    // The server notices the drop asynchronously; wait until the transport says so.
    while (socket.transport.writable) await new Promise((resolve) => setImmediate(resolve));
    socket.send("kept");
    const next = openStream(t, `&sid=${sid}`);
    expect(await next.packet(0)).toBe("4kept");
  });
});

describe.each(STREAMING_CASES.filter((t) => t.name !== "iframe"))("$name frames", (t) => {
  it("with pf=1 a payload goes as it is, one holding \\n, \\r, NUL or a lone surrogate as a JSON string; without pf=1 every frame is JSON", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN] });
    const messages = ["plain 🎉 \u2028 </script>", "a\nb", "a\rb", "a\0b", "x\ud800y", "\udc00"];
    for (const plain of [true, false]) {
      const connection = server.nextConnection();
      const stream = new PacketStream(server.endpoint(`transport=${t.name}${plain ? "&pf=1" : ""}`), t.parser());
      await stream.packet(0);
      const socket = await connection;
      // one message a frame: each is written in a turn of its own
      for (const [i, message] of messages.entries()) {
        socket.send(message);
        expect(await stream.packet(i + 1)).toBe(`4${message}`);
      }
      expect(stream.parser.frames).toEqual(plain ? { plain: 2, json: 5 } : { plain: 0, json: 7 });
      socket.close();
      await stream.ended;
    }
  });
});
