import { HttpResponse } from "msw";
import { describe, expect, test } from "vitest";
import { type Environment, resolveEnvironment } from "../../../src/env.js";
import { HandshakeError, ProtocolError, ServerError, TransportError } from "../../../src/errors.js";
import { BaseSocket, type SocketOptions } from "../../../src/socket.js";
import type { Transport } from "../../../src/transport.js";
import { polling } from "../../../src/transports/polling.js";
import { websocket } from "../../../src/transports/websocket.js";
import { makeContext } from "../support/context.js";
import { engineUrl, origin, useFakeEngine } from "../support/fake-engine.js";
import { bytes } from "../../support/binary.js";
import { closed, next, record, turns, until, settle } from "../../support/events.js";
import { fakeWebSocketClass } from "../support/fake-websocket.js";

const harness = useFakeEngine();
const utf8 = (text: string) => new TextEncoder().encode(text).length;
const names = (events: unknown[][]) => events.map((event) => event[0]);

const sessionUnknown = () =>
  HttpResponse.json({ code: 1, message: "Session ID unknown" }, { status: 400 });

/** Closes the socket at the end of the test, while the engine still answers. */
function track(socket: BaseSocket): BaseSocket {
  harness.cleanup(async () => {
    if (socket.state === "closed") return;
    const done = closed(socket);
    socket.close();
    await done;
  });
  return socket;
}

const flavours: [string, () => Partial<Environment>][] = [
  ["XMLHttpRequest (jsdom)", () => ({})],
  ["fetch only", () => ({ XMLHttpRequest: undefined })],
];

describe.each(flavours)("polling over %s", (_, envOverrides) => {
  const open = async (options: SocketOptions = {}) => {
    const socket = track(new BaseSocket(origin, { transports: [polling], ...options, env: { ...envOverrides(), ...options.env } }));
    const events = record(socket, ["open", "message", "drain", "error", "close", "upgrading"]);
    await next(socket, "open");
    return { socket, events };
  };

  test("handshake GET, then GETs and POSTs with the sid", async () => {
    const { engine } = harness;
    const { socket, events } = await open();
    expect(socket.id).toBe("sid-1");
    expect(names(events)).toEqual(["open"]);

    const handshake = engine.requests[0]!;
    expect(handshake.method).toBe("GET");
    expect(`${handshake.url.origin}${handshake.url.pathname}`).toBe(engineUrl);
    expect(handshake.url.searchParams.get("EIO")).toBe("4");
    expect(handshake.url.searchParams.get("transport")).toBe("polling");
    expect(handshake.url.searchParams.has("sid")).toBe(false);
    expect(handshake.url.searchParams.get("t")).toMatch(/^[0-9a-z]+$/);

    await engine.until(() => engine.heldGets.length === 1);
    const poll = engine.heldGets[0]!.request;
    expect(poll.url.searchParams.get("sid")).toBe("sid-1");
    expect(poll.url.searchParams.get("EIO")).toBe("4");
    expect(poll.url.searchParams.get("transport")).toBe("polling");

    const drained = next(socket, "drain");
    socket.send("hello");
    await drained;
    const post = engine.posts[0]!;
    expect(post.body).toBe("4hello");
    expect(post.headers.get("content-type")).toBe("text/plain;charset=UTF-8");
    expect(post.url.searchParams.get("sid")).toBe("sid-1");
    expect(post.url.searchParams.get("EIO")).toBe("4");
    expect(post.url.searchParams.get("transport")).toBe("polling");
    expect(post.url.searchParams.has("t")).toBe(true);

    const ts = engine.requests.map((request) => request.url.searchParams.get("t"));
    expect(new Set(ts).size).toBe(ts.length);
  });

  test("a message flows both ways through a BaseSocket with [polling] only", async () => {
    const { engine } = harness;
    const { socket, events } = await open();
    const two = new Promise<unknown[]>((resolve) => {
      const got: unknown[] = [];
      socket.on("message", (data) => got.push(data) === 2 && resolve(got));
    });
    engine.push("4hi\x1e4there");
    expect(await two).toEqual(["hi", "there"]);
    // the next poll is already out
    await engine.until(() => engine.heldGets.length === 1);
    const callback = new Promise<void>((resolve) => socket.send("reply", resolve));
    await callback;
    expect(engine.posts.map((post) => post.body)).toEqual(["4reply"]);
    expect(names(events)).toEqual(["open", "message", "message", "drain"]);
  });

  test("ping is answered with a pong POST", async () => {
    const { engine } = harness;
    const { socket } = await open();
    const pinged = next(socket, "ping");
    engine.push("2");
    await pinged;
    await engine.until(() => engine.posts.length === 1);
    expect(engine.posts[0]!.body).toBe("3");
  });

  test("timestampRequests: false sends no t", async () => {
    const { engine } = harness;
    await open({ timestampRequests: false });
    expect(engine.requests[0]!.url.searchParams.has("t")).toBe(false);
  });

  test("query and path options reach every request", async () => {
    const { engine } = harness;
    const socket = track(
      new BaseSocket(`${origin}/?room=1`, { transports: [polling], query: { token: "abc" }, env: envOverrides() }),
    );
    await next(socket, "open");
    expect(engine.requests[0]!.url.searchParams.get("room")).toBe("1");
    expect(engine.requests[0]!.url.searchParams.get("token")).toBe("abc");
  });

  test("extraHeaders go on GETs and POSTs", async () => {
    const { engine } = harness;
    const { socket } = await open({ extraHeaders: { "X-Token": "secret" } });
    await new Promise<void>((resolve) => socket.send("x", resolve));
    await engine.until(() => engine.heldGets.length === 1);
    expect(engine.gets).toHaveLength(2);
    expect(engine.posts).toHaveLength(1);
    for (const request of engine.requests) expect(request.headers.get("x-token")).toBe("secret");
    // GETs carry no Content-Type
    expect(engine.gets[0]!.headers.get("content-type")).toBeNull();
    expect(engine.posts[0]!.headers.get("content-type")).toBe("text/plain;charset=UTF-8");
  });

  test("withCredentials: credentials include on every request", async () => {
    const { engine } = harness;
    const { socket } = await open({ withCredentials: true });
    await new Promise<void>((resolve) => socket.send("x", resolve));
    await engine.until(() => engine.heldGets.length === 1);
    expect(engine.requests.map((request) => [request.method, request.credentials]).sort()).toEqual([
      ["GET", "include"],
      ["GET", "include"],
      ["POST", "include"],
    ]);
  });

  test("without withCredentials: same-origin", async () => {
    const { engine } = harness;
    await open();
    expect(engine.requests[0]!.credentials).toBe("same-origin");
  });

  test("many queued messages are batched into POSTs within maxPayload, one POST at a time", async () => {
    const { engine } = harness;
    engine.openData = { ...engine.openData, maxPayload: 20 };
    engine.holdPosts = true;
    const socket = track(new BaseSocket(origin, { transports: [polling], env: envOverrides() }));
    const sent = Array.from({ length: 10 }, (_, i) => `msg-${i}`);
    const callbacks: string[] = [];
    for (const text of sent) socket.send(text, () => callbacks.push(text)); // queued while opening
    await next(socket, "open");
    const bodies: string[] = [];
    while (bodies.length < 4) {
      await engine.until(() => engine.heldPosts.length === 1);
      await turns();
      expect(engine.heldPosts).toHaveLength(1); // never two POSTs in flight
      bodies.push(engine.heldPosts[0]!.request.body);
      engine.releasePost();
    }
    await until(() => callbacks.length === sent.length);
    // "4msg-0" is 6 bytes: 6+1+6+1+6 = 20
    expect(bodies).toEqual([
      "4msg-0\x1e4msg-1\x1e4msg-2",
      "4msg-3\x1e4msg-4\x1e4msg-5",
      "4msg-6\x1e4msg-7\x1e4msg-8",
      "4msg-9",
    ]);
    for (const body of bodies) expect(utf8(body)).toBeLessThanOrEqual(20);
    expect(callbacks).toEqual(sent);
    expect(engine.posts).toHaveLength(4);
  });

  test("binary goes up as b + base64 and comes down as an ArrayBuffer", async () => {
    const { engine } = harness;
    const { socket } = await open();
    await new Promise<void>((resolve) => socket.send(new Uint8Array([1, 2, 3]), resolve));
    await new Promise<void>((resolve) => socket.send(new Uint8Array([255]).buffer, resolve));
    expect(engine.posts.map((post) => post.body)).toEqual(["bAQID", "b/w=="]);
    const [data] = await (async () => {
      const message = next(socket, "message");
      engine.push("bAQIDBA==");
      return message;
    })();
    expect(bytes(data)).toEqual([1, 2, 3, 4]);
  });

  test("a close packet from the server: transport close, no error", async () => {
    const { engine } = harness;
    const { socket, events } = await open();
    const done = closed(socket);
    engine.push("4last\x1e1");
    const { reason, details } = await done;
    expect(reason).toBe("transport close");
    expect(details.error).toBeUndefined();
    expect(names(events)).toEqual(["open", "message", "close"]);
  });

  test("close() sends what is queued, then 1, then closes", async () => {
    const { engine } = harness;
    const { socket } = await open();
    engine.holdPosts = true;
    socket.send("a");
    socket.send("b");
    socket.send("c");
    const done = closed(socket);
    socket.close();
    await engine.until(() => engine.heldPosts.length === 1);
    engine.holdPosts = false;
    engine.releasePost();
    const { reason, details } = await done;
    expect(reason).toBe("forced close");
    expect(details.unsent).toEqual([]);
    expect(engine.posts.map((post) => post.body)).toEqual(["4a", "4b\x1e4c\x1e1"]);
  });

  describe("failures: exactly one error, then one close", () => {
    const failWith = async (answer: () => Response | string, on: "GET" | "POST" = "GET") => {
      const { engine } = harness;
      const { socket, events } = await open();
      const done = closed(socket);
      if (on === "GET") {
        await engine.until(() => engine.heldGets.length === 1);
        engine.push(answer());
      } else {
        engine.script("POST", answer);
        socket.send("doomed");
      }
      const result = await done;
      await turns(5); // anything late would show up here
      const errors = events.filter((event) => event[0] === "error").map((event) => event[1]);
      expect(names(events).filter((name) => name === "error" || name === "close")).toEqual(["error", "close"]);
      expect(result.details.error).toBe(errors[0]);
      expect(socket.transport.state).toBe("closed");
      return { error: errors[0], ...result };
    };

    test("HTTP 400 Session ID unknown: ServerError code 1, transport error", async () => {
      const { error, reason } = await failWith(sessionUnknown);
      expect(error).toBeInstanceOf(ServerError);
      expect(error).toMatchObject({ code: 1, serverMessage: "Session ID unknown", status: 400, transport: "polling" });
      expect(reason).toBe("transport error");
    });

    test("HTTP 400 on a POST: ServerError, and the message is reported unsent", async () => {
      const { error, reason, details } = await failWith(sessionUnknown, "POST");
      expect(error).toBeInstanceOf(ServerError);
      expect(reason).toBe("transport error");
      expect(details.unsent).toEqual(["doomed"]);
    });

    test("HTTP 500: TransportError with status 500", async () => {
      const { error, reason } = await failWith(() => new HttpResponse("oops", { status: 500 }));
      expect(error).toBeInstanceOf(TransportError);
      expect(error).not.toBeInstanceOf(ServerError);
      expect((error as TransportError).status).toBe(500);
      expect((error as TransportError).transport).toBe("polling");
      expect(reason).toBe("transport error");
    });

    test("HTTP 403 without engine.io's JSON: TransportError with status 403", async () => {
      const { error } = await failWith(() => new HttpResponse("<h1>Forbidden</h1>", { status: 403 }));
      expect(error).toBeInstanceOf(TransportError);
      expect((error as TransportError).status).toBe(403);
    });

    test("a 200 HTML body: ProtocolError, parse error", async () => {
      const { error, reason } = await failWith(
        () => new HttpResponse("<!doctype html><p>captive portal</p>", { headers: { "Content-Type": "text/html" } }),
      );
      expect(error).toBeInstanceOf(ProtocolError);
      expect(reason).toBe("parse error");
    });

    test("an empty 200 body: ProtocolError", async () => {
      const { error } = await failWith(() => new HttpResponse("", { status: 200 }));
      expect(error).toBeInstanceOf(ProtocolError);
    });

    test("a network error: TransportError, transport error", async () => {
      const { error, reason } = await failWith(() => HttpResponse.error());
      expect(error).toBeInstanceOf(TransportError);
      expect((error as TransportError).status).toBeUndefined();
      expect(reason).toBe("transport error");
    });

    test("a network error on a POST: TransportError", async () => {
      const { error } = await failWith(() => HttpResponse.error(), "POST");
      expect(error).toBeInstanceOf(TransportError);
    });
  });

  test("a refused handshake: ServerError while opening", async () => {
    const { engine } = harness;
    engine.script("GET", HttpResponse.json({ code: 5, message: "Unsupported protocol version" }, { status: 400 }));
    const socket = new BaseSocket(origin, { transports: [polling], env: envOverrides() });
    const events = record(socket, ["open", "error", "close"]);
    const { reason, details } = await closed(socket);
    expect(reason).toBe("transport error");
    expect(details.error).toBeInstanceOf(ServerError);
    expect((details.error as ServerError).code).toBe(5);
    expect(names(events)).toEqual(["error", "close"]);
  });

  test("a handshake without a valid open packet: HandshakeError, parse error", async () => {
    const { engine } = harness;
    engine.script("GET", '0{"sid":"x"}');
    const socket = new BaseSocket(origin, { transports: [polling], env: envOverrides() });
    const { reason, details } = await closed(socket);
    expect(reason).toBe("parse error");
    expect(details.error).toBeInstanceOf(HandshakeError);
  });

  describe("the transport on its own", () => {
    /** A polling transport through its handshake, its next GET held by the engine. */
    const start = async () => {
      const { engine } = harness;
      const context = makeContext(resolveEnvironment(envOverrides()));
      const transport = polling.create(context);
      const events = record(transport, ["open", "packet", "drain", "error", "close"]);
      transport.on("packet", (packet) => {
        if (packet.type === "open") context.session.sid = "sid-1";
      });
      expect(transport.state).toBe("opening");
      transport.open();
      await engine.until(() => engine.heldGets.length === 1);
      expect(transport.state).toBe("open");
      return { engine, transport, events, context };
    };

    const track = (transport: Transport) => harness.cleanup(() => transport.close());

    test("pause() resolves only after the in-flight GET and POST finish; no GET while paused", async () => {
      const { engine, transport, events } = await start();
      track(transport);
      engine.holdPosts = true;
      transport.send([{ type: "message", data: "a" }]);
      await engine.until(() => engine.heldPosts.length === 1);
      expect(transport.writable).toBe(false);

      let paused = false;
      const pausing = transport.pause!().then(() => (paused = true));
      expect(transport.state).toBe("pausing");
      await turns();
      expect(paused).toBe(false);

      engine.releasePost();
      await until(() => names(events).includes("drain"));
      await turns();
      expect(paused).toBe(false); // the GET is still out
      expect(transport.state).toBe("pausing");

      engine.push("4while pausing");
      await pausing;
      expect(transport.state).toBe("paused");
      // packets that arrive during the pause are still delivered
      expect(events.filter((event) => event[0] === "packet").map((event) => event[1])).toContainEqual({
        type: "message",
        data: "while pausing",
      });
      const getsWhenPaused = engine.gets.length;
      await turns(5);
      expect(engine.gets).toHaveLength(getsWhenPaused);
      expect(engine.heldGets).toHaveLength(0);

      transport.resume!();
      expect(transport.state).toBe("open");
      await engine.until(() => engine.heldGets.length === 1);
      expect(engine.gets).toHaveLength(getsWhenPaused + 1);
    });

    test("pause() with only a GET out resolves when the GET returns", async () => {
      const { engine, transport } = await start();
      track(transport);
      let paused = false;
      const pausing = transport.pause!().then(() => (paused = true));
      await turns();
      expect(paused).toBe(false);
      engine.push("6");
      await pausing;
      expect(transport.state).toBe("paused");
    });

    test("resume() while still pausing keeps polling without a second GET", async () => {
      const { engine, transport } = await start();
      track(transport);
      void transport.pause!();
      transport.resume!();
      expect(transport.state).toBe("open");
      await turns();
      expect(engine.heldGets).toHaveLength(1);
      engine.push("6");
      await engine.until(() => engine.heldGets.length === 1 && engine.gets.length === 3);
    });

    test("close() aborts what is in flight; nothing is emitted afterwards", async () => {
      const { engine, transport, events } = await start();
      engine.holdPosts = true;
      transport.send([{ type: "message", data: "x" }]);
      await engine.until(() => engine.heldPosts.length === 1);
      transport.close();
      transport.close();
      expect(transport.state).toBe("closed");
      engine.push("4too late");
      engine.releasePost();
      await turns(5);
      expect(names(events)).toEqual(["open", "packet", "close"]);
    });

    test("pause() on a closed transport resolves at once", async () => {
      const { transport } = await start();
      transport.close();
      await transport.pause!();
    });
  });
});

test("XMLHttpRequest: withCredentials is set on the request object", async () => {
  const created: XMLHttpRequest[] = [];
  class SpyXHR extends XMLHttpRequest {
    constructor() {
      super();
      created.push(this);
    }
  }
  const socket = track(
    new BaseSocket(origin, { transports: [polling], withCredentials: true, env: { XMLHttpRequest: SpyXHR } }),
  );
  await next(socket, "open");
  expect(created.length).toBeGreaterThanOrEqual(1);
  expect(created[0]!.withCredentials).toBe(true);
});

test("fetch: credentials include is passed to fetch", async () => {
  const inits: RequestInit[] = [];
  const fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    inits.push(init!);
    return globalThis.fetch(input, init);
  }) as typeof globalThis.fetch;
  const socket = track(
    new BaseSocket(origin, { transports: [polling], withCredentials: true, env: { XMLHttpRequest: undefined, fetch } }),
  );
  await next(socket, "open");
  expect(inits[0]).toMatchObject({ method: "GET", credentials: "include" });
});

describe("upgrade from polling to a (fake) WebSocket", () => {
  const openData = { sid: "sid-1", upgrades: ["websocket"], pingInterval: 25000, pingTimeout: 20000, maxPayload: 1e6 };

  const start = async () => {
    const { engine } = harness;
    engine.openData = openData;
    const { WebSocket, instances } = fakeWebSocketClass();
    const socket = track(new BaseSocket(origin, { transports: [polling, websocket], env: { WebSocket } }));
    const events = record(socket, ["open", "message", "upgrading", "upgrade", "upgradeError", "error", "close"]);
    await next(socket, "open");
    await engine.until(() => engine.heldGets.length === 1);
    const ws = instances[0]!;
    expect(new URL(ws.url).searchParams.get("sid")).toBe("sid-1");
    ws.serverOpen();
    expect(ws.sent).toEqual(["2probe"]);
    await settle();
    return { engine, socket, ws, events };
  };

  test("probe, pause (the held GET ended by the server's noop), 5, then everything on the WebSocket", async () => {
    const { engine, socket, ws, events } = await start();
    const upgraded = next(socket, "upgrade");
    ws.serverSend("3probe");
    await turns();
    expect(ws.sent).toEqual(["2probe"]); // still waiting for the GET
    socket.send("during the pause");
    const getsBefore = engine.gets.length;
    engine.push("6"); // engine.io ends the poll with a noop once the probe succeeded
    await upgraded;
    expect(socket.transport.name).toBe("websocket");
    await settle();
    expect(ws.sent).toEqual(["2probe", "5", "4during the pause"]);
    await turns(5);
    expect(engine.gets).toHaveLength(getsBefore); // polling is done: no GET after the pause
    expect(engine.posts).toHaveLength(0);
    expect(names(events)).toEqual(["open", "upgrading", "upgrade"]);
  });

  test("a probe that fails during the pause: polling resumes and sends what was written meanwhile", async () => {
    const { engine, socket, ws, events } = await start();
    ws.serverSend("3probe");
    await turns();
    socket.send("written during the pause");
    ws.serverError(); // the WebSocket dies before the swap
    expect(names(events)).toEqual(["open", "upgrading", "upgradeError"]);
    expect(socket.transport.name).toBe("polling");
    engine.push("6"); // the held GET ends; polling carries on
    await engine.until(() => engine.heldGets.length === 1);
    await turns(5);
    expect(engine.posts.map((post) => post.body)).toEqual(["4written during the pause"]);
  });
});
