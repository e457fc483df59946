import { afterEach, describe, expect, test, vi } from "vitest";
import { resolveEnvironment } from "../../../src/env.js";
import { ProtocolError, TransportError } from "../../../src/errors.js";
import { resumption } from "../../../src/resume.js";
import { BaseSocket } from "../../../src/socket.js";
import type { TransportOptions } from "../../../src/transport.js";
import { websocket } from "../../../src/transports/websocket.js";
import { makeContext } from "../support/context.js";
import { bytes } from "../../support/binary.js";
import { closed, record, settle } from "../../support/events.js";
import { fakeWebSocketClass } from "../support/fake-websocket.js";

function setup(options: Partial<TransportOptions> = {}, sid?: string) {
  const { WebSocket, instances } = fakeWebSocketClass();
  const env = resolveEnvironment({ WebSocket });
  const context = makeContext(env, options, { sid });
  const transport = websocket.create(context);
  const events = record(transport, ["open", "packet", "drain", "error", "close"]);
  transport.open();
  return { transport, events, ws: instances[0]!, instances, context };
}

const names = (events: unknown[][]) => events.map((event) => event[0]);

describe("websocket transport", () => {
  test("supported() follows env.WebSocket", () => {
    expect(websocket.supported(resolveEnvironment({ WebSocket: undefined }))).toBe(false);
    expect(websocket.supported(resolveEnvironment({ WebSocket: fakeWebSocketClass().WebSocket }))).toBe(true);
  });

  test("connects to the ws:// URL with EIO=4, transport=websocket and the sid, in arraybuffer mode", () => {
    const { ws, transport } = setup({}, "abc");
    const url = new URL(ws.url);
    expect(url.protocol).toBe("ws:");
    expect(url.host).toBe("localhost:3000");
    expect(url.pathname).toBe("/engine.io/");
    expect(url.searchParams.get("EIO")).toBe("4");
    expect(url.searchParams.get("transport")).toBe("websocket");
    expect(url.searchParams.get("sid")).toBe("abc");
    expect(url.searchParams.has("t")).toBe(false);
    expect(ws.binaryType).toBe("arraybuffer");
    expect(ws.options).toBeUndefined();
    expect(transport.state).toBe("opening");
    expect(transport.writable).toBe(false);
  });

  test("extraHeaders go in the third constructor argument (the ws package's)", () => {
    const { ws } = setup({ extraHeaders: { Authorization: "Bearer x" } });
    expect(ws.protocols).toBeUndefined();
    expect(ws.options).toEqual({ headers: { Authorization: "Bearer x" } });
  });

  test("open when the socket opens", () => {
    const { ws, transport, events } = setup();
    ws.serverOpen();
    expect(names(events)).toEqual(["open"]);
    expect(transport.state).toBe("open");
    expect(transport.writable).toBe(true);
  });

  test("packets are encoded one per frame; binary frames stay raw", () => {
    const { ws, transport } = setup();
    ws.serverOpen();
    const binary = new Uint8Array([1, 2, 3]);
    const buffer = new ArrayBuffer(2);
    transport.send([
      { type: "ping", data: "probe" },
      { type: "message", data: "hello" },
      { type: "message", data: binary },
      { type: "message", data: buffer },
      { type: "upgrade" },
      { type: "pong" },
      { type: "close" },
    ]);
    expect(ws.sent).toEqual(["2probe", "4hello", binary, buffer, "5", "3", "1"]);
    expect(ws.sent[2]).toBe(binary);
    expect(ws.sent[3]).toBe(buffer);
  });

  test("drain is asynchronous, and writable is false until then", async () => {
    const { ws, transport, events } = setup();
    ws.serverOpen();
    transport.send([{ type: "message", data: "a" }]);
    expect(transport.writable).toBe(false);
    expect(names(events)).not.toContain("drain");
    await settle();
    expect(names(events)).toEqual(["open", "drain"]);
    expect(transport.writable).toBe(true);
  });

  describe("drain waits until the socket's bufferedAmount is at most 64 KiB", () => {
    /** A websocket transport under fake timers, with the delay of every timer it sets. */
    function buffered() {
      vi.useFakeTimers();
      const { WebSocket, instances } = fakeWebSocketClass();
      const delays: number[] = [];
      const env = resolveEnvironment({
        WebSocket,
        setTimeout: (callback, ms) => (delays.push(ms), setTimeout(callback, ms)),
      });
      const transport = websocket.create(makeContext(env));
      const events = record(transport, ["drain", "close"]);
      transport.open();
      const ws = instances[0]!;
      ws.serverOpen();
      return { transport, events, ws, delays };
    }
    afterEach(() => {
      vi.useRealTimers();
    });

    test("a write leaving up to 64 KiB buffered drains on the next microtask, with no timer", async () => {
      const { transport, events, ws, delays } = buffered();
      transport.send([{ type: "message", data: "a" }]);
      // a browser lowers bufferedAmount only after the sending task: it is still counted here
      ws.bufferedAmount = 65536;
      await settle();
      expect(names(events)).toEqual(["drain"]);
      expect(transport.writable).toBe(true);
      expect(delays).toEqual([]);
      expect(vi.getTimerCount()).toBe(0);
    });

    test("above it, checked on a timer backing off from 4 to 50 ms; writable meanwhile stays false", async () => {
      const { transport, events, ws, delays } = buffered();
      transport.send([{ type: "message", data: "a" }]);
      ws.bufferedAmount = 65537;
      await settle();
      expect(names(events)).toEqual([]);
      expect(vi.getTimerCount()).toBe(1);
      await vi.advanceTimersByTimeAsync(4 + 8 + 16 + 32 + 50 + 50);
      expect(delays).toEqual([4, 8, 16, 32, 50, 50, 50]);
      expect(transport.writable).toBe(false);
      expect(names(events)).toEqual([]);
      ws.bufferedAmount = 65536;
      await vi.advanceTimersByTimeAsync(50);
      expect(names(events)).toEqual(["drain"]);
      expect(transport.writable).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
      // the next write that leaves at once drains on the next microtask, the backoff started over
      ws.bufferedAmount = 0;
      transport.send([{ type: "message", data: "b" }]);
      await settle();
      expect(names(events)).toEqual(["drain", "drain"]);
      ws.bufferedAmount = 100000;
      transport.send([{ type: "message", data: "c" }]);
      await settle();
      expect(delays.slice(7)).toEqual([4]);
    });

    test("closing stops the checks: no timer is left and no drain comes", async () => {
      const { transport, events, ws } = buffered();
      transport.send([{ type: "message", data: "a" }]);
      ws.bufferedAmount = 100000;
      await vi.advanceTimersByTimeAsync(4);
      expect(vi.getTimerCount()).toBe(1);
      transport.close();
      expect(vi.getTimerCount()).toBe(0);
      ws.bufferedAmount = 0;
      await vi.advanceTimersByTimeAsync(1000);
      expect(names(events)).toEqual(["close"]);
    });
  });

  test("a socket flushing from a drain listener does not recurse", async () => {
    const { ws, transport } = setup();
    ws.serverOpen();
    let depth = 0;
    let maxDepth = 0;
    let sends = 0;
    transport.on("drain", () => {
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      if (++sends < 5) transport.send([{ type: "message", data: String(sends) }]);
      depth--;
    });
    transport.send([{ type: "message", data: "0" }]);
    await settle(20);
    expect(ws.sent).toEqual(["40", "41", "42", "43", "44"]);
    expect(maxDepth).toBe(1);
  });

  test("frames become packets", () => {
    const { ws, events } = setup();
    ws.serverOpen();
    ws.serverSend("4hi");
    ws.serverSend("2");
    ws.serverSend("6");
    ws.serverSend(new Uint8Array([1, 2, 3]).buffer);
    const packets = events.filter((event) => event[0] === "packet").map((event) => event[1] as { type: string; data?: unknown });
    expect(packets.slice(0, 3)).toEqual([{ type: "message", data: "hi" }, { type: "ping" }, { type: "noop" }]);
    expect(packets[3]!.type).toBe("message");
    expect(bytes(packets[3]!.data)).toEqual([1, 2, 3]);
  });

  test("binaryType blob delivers binary frames as Blobs", async () => {
    const { ws, events } = setup({ binaryType: "blob" });
    ws.serverOpen();
    ws.serverSend(new Uint8Array([9]).buffer);
    const data = (events.at(-1)![1] as { data: Blob }).data;
    expect(data).toBeInstanceOf(Blob);
    expect(bytes(new Uint8Array(await data.arrayBuffer()))).toEqual([9]);
  });

  test("a malformed frame: ProtocolError, then close, and the socket is closed", () => {
    const { ws, transport, events } = setup();
    ws.serverOpen();
    ws.serverSend("9garbage");
    ws.serverSend("4after");
    expect(names(events)).toEqual(["open", "error", "close"]);
    expect(events[1]![1]).toBeInstanceOf(ProtocolError);
    expect(transport.state).toBe("closed");
    expect(ws.closeCalls).toHaveLength(1);
  });

  test("an empty frame is a ProtocolError", () => {
    const { ws, events } = setup();
    ws.serverOpen();
    ws.serverSend("");
    expect(events[1]![1]).toBeInstanceOf(ProtocolError);
  });

  test("close before open: TransportError, one error then one close", () => {
    const { ws, transport, events } = setup();
    ws.serverClose(1006);
    expect(names(events)).toEqual(["error", "close"]);
    expect(events[0]![1]).toBeInstanceOf(TransportError);
    expect((events[0]![1] as TransportError).transport).toBe("websocket");
    expect((events[0]![1] as TransportError).message).toContain("1006");
    expect(transport.state).toBe("closed");
  });

  test("error then close (as browsers report a refused connection): one error, one close", () => {
    const { ws, events } = setup();
    const cause = new Error("ECONNREFUSED");
    ws.serverError(cause);
    ws.serverClose(1006);
    expect(names(events)).toEqual(["error", "close"]);
    expect((events[0]![1] as TransportError).cause).toBe(cause);
    expect((events[0]![1] as TransportError).message).toMatch(/connection failed/);
  });

  test("a handshake refused with a status (as Node's ws reports it) carries that status; a browser's says none", () => {
    const refused = setup();
    refused.ws.serverError(new Error("Unexpected server response: 400"));
    expect((refused.events[0]![1] as TransportError).status).toBe(400);
    const plain = setup();
    plain.ws.serverError(new Error("ECONNREFUSED"));
    expect((plain.events[0]![1] as TransportError).status).toBeUndefined();
  });

  test("a clean close after open is a close without error", () => {
    const { ws, events } = setup();
    ws.serverOpen();
    ws.serverClose(1000);
    expect(names(events)).toEqual(["open", "close"]);
  });

  test("close() closes the socket, emits close once, and detaches the handlers", async () => {
    const { ws, transport, events } = setup();
    ws.serverOpen();
    transport.send([{ type: "message", data: "x" }]);
    transport.close();
    transport.close();
    expect(ws.closeCalls).toHaveLength(1);
    expect(ws.onmessage).toBeNull();
    expect(ws.onclose).toBeNull();
    expect(ws.onerror).toBeTypeOf("function"); // a no-op, so `ws` never throws on an unhandled error
    expect(() => ws.onerror!({})).not.toThrow();
    await settle();
    expect(names(events)).toEqual(["open", "close"]);
  });

  test("a constructor that throws: TransportError reported asynchronously", async () => {
    const env = resolveEnvironment({
      WebSocket: class {
        constructor() {
          throw new SyntaxError("bad url");
        }
      } as never,
    });
    const transport = websocket.create(makeContext(env));
    const events = record(transport, ["error", "close"]);
    transport.open();
    expect(events).toEqual([]);
    await settle();
    expect(names(events)).toEqual(["error", "close"]);
    expect((events[0]![1] as TransportError).cause).toBeInstanceOf(SyntaxError);
  });

  test("send before open or after close: TransportError", () => {
    const { transport, events } = setup();
    transport.send([{ type: "message", data: "x" }]);
    expect(names(events)).toEqual(["error", "close"]);
    expect(events[0]![1]).toBeInstanceOf(TransportError);
  });

  test("a send that throws: TransportError with the cause", () => {
    const { ws, transport, events } = setup();
    ws.serverOpen();
    ws.failSend = true;
    transport.send([{ type: "message", data: "x" }]);
    expect(names(events)).toEqual(["open", "error", "close"]);
    expect((events[1]![1] as TransportError).cause).toBeInstanceOf(Error);
  });
});

describe("a BaseSocket on websocket only", () => {
  test.each([
    ["ws://localhost:3000", "ws:"],
    ["http://localhost:3000", "ws:"],
    ["wss://localhost:3000", "wss:"],
    ["https://localhost:3000", "wss:"],
  ])("%s connects with %s", (uri, scheme) => {
    const { WebSocket, instances } = fakeWebSocketClass();
    const socket = new BaseSocket(uri, { transports: [websocket], env: { WebSocket } });
    expect(new URL(instances[0]!.url).protocol).toBe(scheme);
    socket.close();
  });

  test("handshake, message both ways, server close", async () => {
    const { WebSocket, instances } = fakeWebSocketClass();
    const socket = new BaseSocket("https://localhost:3000/", { transports: [websocket], resumption, env: { WebSocket } });
    const ws = instances[0]!;
    // the handshake offers resumption (docs/wire.md, "Resumable sessions"); this server's open packet declines it
    expect(ws.url).toMatch(/^wss:\/\/localhost:3000\/engine\.io\/\?EIO=4&transport=websocket&resume=1$/);
    const events = record(socket, ["open", "message", "close", "error"]);
    const done = closed(socket);
    ws.serverOpen();
    ws.serverSend('0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}');
    expect(socket.state).toBe("open");
    const callback = vi.fn();
    socket.send("hello", callback);
    socket.send(new Uint8Array([1]));
    expect(ws.sent).toEqual(["4hello"]);
    await settle();
    expect(callback).toHaveBeenCalled();
    expect(ws.sent).toEqual(["4hello", new Uint8Array([1])]);
    ws.serverSend("4hi");
    ws.serverSend("1");
    expect((await done).reason).toBe("transport close");
    expect(events.map((event) => event[0])).toEqual(["open", "message", "close"]);
    expect(events[1]).toEqual(["message", "hi"]);
  });
});

describe("binary frames from another realm", () => {
  test("a frame whose ArrayBuffer comes from Node's realm (the ws package under jsdom) is accepted", () => {
    // under jsdom, globalThis.ArrayBuffer is jsdom's; the `ws` package hands out Node's own
    const { ws, events } = setup();
    ws.serverOpen();
    const nodeBytes = Buffer.from([1, 2, 3]);
    const foreign = nodeBytes.buffer.slice(nodeBytes.byteOffset, nodeBytes.byteOffset + 3);
    expect(Object.prototype.toString.call(foreign)).toBe("[object ArrayBuffer]");
    ws.serverSend(foreign);
    expect(names(events)).toEqual(["open", "packet"]);
    expect(bytes((events[1]![1] as { data: unknown }).data)).toEqual([1, 2, 3]);
  });
});
