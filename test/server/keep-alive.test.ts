/** Keep-alives after idle time (fake timers) and timers cleared on close. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PacketStream, sidOf } from "./support/http-client.js";
import { type TestServer, startServer } from "../support/server.js";
import { once } from "../support/events.js";
import { PAGE_ORIGIN, STREAMING_CASES } from "./support/transports.js";

let server: TestServer | undefined;

beforeEach(() => {
  // Only the timers the transports and engine.io's heartbeat use; I/O stays real.
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
});

afterEach(() => {
  vi.useRealTimers();
});

/** What each transport writes after idle time, as the raw text ends with it. */
const KEEP_ALIVE: Record<string, string> = {
  sse: "data: 4second\n\n:\n\n",
  "xhr-streaming": '4second\n"6"\n',
  iframe: '<script>p("4second")</script>\n<script>p("6")</script>\n',
};

describe.each(STREAMING_CASES)("$name keep-alive", (t) => {
  it("writes one keep-alive after keepAliveInterval of silence, re-armed by every write", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN], pingInterval: 3_600_000 });
    const connection = server.nextConnection();
    const stream = new PacketStream(server.endpoint(`transport=${t.name}${t.getQuery}`), t.parser(), { ...t.headers });
    sidOf(await stream.packet(0));
    const socket = await connection;

    vi.advanceTimersByTime(14_999);
    socket.send("first");
    await stream.packet(1);
    vi.advanceTimersByTime(14_999);
    socket.send("second");
    await stream.packet(2);
    // Nothing was due yet: the stream holds exactly open, first, second.
    vi.advanceTimersByTime(15_000);
    await new Promise<void>((resolve) => {
      const check = (): void => (stream.raw.endsWith(KEEP_ALIVE[t.name]!) ? resolve() : void setImmediate(check));
      check();
    });
    expect(stream.packets.filter((p) => p !== "6")).toHaveLength(3);
  });

  it("clears its timers when the session closes", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN], pingInterval: 3_600_000, keepAliveInterval: 1_000 });
    const connection = server.nextConnection();
    const stream = new PacketStream(server.endpoint(`transport=${t.name}${t.getQuery}`), t.parser(), { ...t.headers });
    await stream.packet(0);
    const socket = await connection;
    // engine.io's heartbeat uses node:timers directly (not faked): this is our keep-alive.
    expect(vi.getTimerCount()).toBe(1);
    const closed = once(socket, "close");
    socket.close();
    await closed;
    await stream.ended;
    expect(vi.getTimerCount()).toBe(0);
  });

  it("keepAliveInterval 0 arms no keep-alive timer", async () => {
    server = await startServer({ allowedOrigins: [PAGE_ORIGIN], pingInterval: 3_600_000, keepAliveInterval: 0 });
    const connection = server.nextConnection();
    const stream = new PacketStream(server.endpoint(`transport=${t.name}${t.getQuery}`), t.parser(), { ...t.headers });
    await stream.packet(0);
    await connection;
    expect(vi.getTimerCount()).toBe(0);
  });
});
