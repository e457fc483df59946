// @vitest-environment node
// (no DOM needed here; jsdom is for the files that use XHR, location or its realm)
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { KeyValueStorage } from "../../src/env.js";
import {
  BareSocket,
  HandshakeError,
  ProtocolError,
  resumption,
  ServerError,
  Socket,
  TransportError,
  UsageError,
} from "../../src/index.js";
import { closed, record, until, settle } from "../support/events.js";
import { type FakeDefinition, fakeDefinition } from "./support/fake-transport.js";
import { fakeWebSocketClass } from "./support/fake-websocket.js";

const url = "http://localhost:3000";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function memoryStorage(): KeyValueStorage & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return { items, getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) };
}

/** A socket on one fake transport that drains only when told. */
function fakeSocket(options: ConstructorParameters<typeof BareSocket>[1] = {}, fake: FakeDefinition = fakeDefinition("fake")) {
  const socket = new BareSocket(url, { transports: [fake.definition], ...options });
  const events = record(socket, ["open", "handshake", "message", "drain", "error", "close"]);
  return { socket, fake, transport: fake.last, events };
}

function openSocket(options: ConstructorParameters<typeof BareSocket>[1] = {}) {
  const setup = fakeSocket(options);
  setup.transport.receiveOpen();
  return setup;
}

const names = (events: unknown[][]) => events.map((event) => event[0]);

describe("construction", () => {
  test("on() returns a function that unsubscribes", () => {
    const { socket, transport } = fakeSocket();
    const listener = vi.fn();
    const off = socket.on("message", listener);
    expect(off).toBeTypeOf("function");
    transport.receiveOpen();
    transport.receive({ type: "message", data: "one" });
    off();
    transport.receive({ type: "message", data: "two" });
    expect(listener).toHaveBeenCalledTimes(1);
    expect(listener).toHaveBeenCalledWith("one");
  });

  test.each(["http://[::1", "ftp://localhost/", "http://exa mple.com"])("bad URL %s throws UsageError", (bad) => {
    const fake = fakeDefinition("fake");
    expect(() => new BareSocket(bad, { transports: [fake.definition] })).toThrow(UsageError);
    expect(fake.instances).toHaveLength(0);
  });

  test.each([
    ["negative connectTimeout", { connectTimeout: -1 }],
    ["NaN probeTimeout", { probeTimeout: Number.NaN }],
    ["string requestTimeout", { requestTimeout: "5" as unknown as number }],
    ["bad binaryType", { binaryType: "text" as unknown as "blob" }],
    ["no transports", { transports: [] }],
  ])("%s throws UsageError", (_, options) => {
    const fake = fakeDefinition("fake");
    expect(() => new BareSocket(url, { transports: [fake.definition], ...options })).toThrow(UsageError);
    expect(fake.instances).toHaveLength(0);
  });

  test("BareSocket: null options throw UsageError", () => {
    expect(() => new BareSocket(url, null as never)).toThrow(UsageError);
  });

  test("Socket: null options throw UsageError, as BareSocket's do", () => {
    expect(() => new Socket(url, null as never)).toThrow(UsageError);
  });

  test("BareSocket has no registry: a transport name throws UsageError", () => {
    expect(() => new BareSocket(url, { transports: ["polling"] })).toThrow(UsageError);
  });

  test("Socket: an unknown transport name throws UsageError", () => {
    // @ts-expect-error the types refuse the name too; plain JavaScript reaches the run-time check
    expect(() => new Socket(url, { transports: ["carrier-pigeon"] })).toThrow(UsageError);
    // @ts-expect-error as above
    expect(() => new Socket(url, { transports: ["polling", "nope"] })).toThrow(/nope/);
  });

  test("Socket resolves transport names", () => {
    const { WebSocket, instances } = fakeWebSocketClass();
    const socket = new Socket(url, { transports: ["websocket"], env: { WebSocket } });
    expect(socket.transport.name).toBe("websocket");
    expect(instances).toHaveLength(1);
    expect(new URL(instances[0]!.url).searchParams.get("transport")).toBe("websocket");
    socket.close();
  });

  test("no supported transport throws UsageError", () => {
    const fake = fakeDefinition("fake", { supported: false });
    expect(() => new BareSocket(url, { transports: [fake.definition] })).toThrow(UsageError);
  });

  test("the first supported transport opens the session", () => {
    const unsupported = fakeDefinition("a", { supported: false });
    const supported = fakeDefinition("b");
    const socket = new BareSocket(url, { transports: [unsupported.definition, supported.definition] });
    expect(socket.transport.name).toBe("b");
    expect(supported.last.openCalls).toBe(1);
    expect(unsupported.instances).toHaveLength(0);
  });

  test("the transport context carries the endpoint, options and session", () => {
    const { socket, transport } = fakeSocket({
      path: "/rt",
      query: { token: "t" },
      withCredentials: true,
      extraHeaders: { "X-A": "1" },
      binaryType: "blob",
    });
    const { context } = transport;
    const before = new URL(context.url("http", "fake"));
    expect(before.pathname).toBe("/rt/");
    // without `resumption`, a stock engine.io client's handshake: no offer
    expect(Object.fromEntries(before.searchParams)).toEqual({ token: "t", EIO: "4", transport: "fake" });
    expect(context.options).toMatchObject({ withCredentials: true, extraHeaders: { "X-A": "1" }, binaryType: "blob" });
    transport.receiveOpen({ sid: "abc", maxPayload: 5000 });
    expect(new URL(context.url("ws", "fake", { j: "1" })).searchParams.get("sid")).toBe("abc");
    expect(context.url("ws", "fake")).toMatch(/^ws:\/\/localhost:3000\/rt\/\?/);
    expect(context.session).toEqual({ sid: "abc", maxPayload: 5000 });
    expect(socket.id).toBe("abc");
  });

  test("with `resumption` the handshake offers resume=1, and not with resume: false; Socket has it by default", () => {
    const query = (socket: BareSocket, fake: FakeDefinition) => {
      const params = Object.fromEntries(new URL(fake.last.context.url("http", "fake")).searchParams);
      socket.close();
      return params;
    };
    const offered = fakeDefinition("fake");
    expect(query(new BareSocket(url, { transports: [offered.definition], resumption }), offered)).toMatchObject({ resume: "1" });
    const off = fakeDefinition("fake");
    expect(query(new BareSocket(url, { transports: [off.definition], resumption, resume: false }), off)).not.toHaveProperty("resume");
    const byDefault = fakeDefinition("fake");
    expect(query(new Socket(url, { transports: [byDefault.definition] }), byDefault)).toMatchObject({ resume: "1" });
    // the bound is checked only where resumption is offered
    expect(() => new Socket(url, { transports: [fakeDefinition("fake").definition], resume: { maxBytes: 0 } })).toThrow(UsageError);
  });
});

describe("handshake", () => {
  test("open packet: handshake then open, id and handshake set", () => {
    const { socket, transport, events } = fakeSocket();
    expect(socket.state).toBe("opening");
    transport.receiveOpen({ sid: "s", pingInterval: 10, pingTimeout: 5 });
    expect(socket.state).toBe("open");
    expect(names(events)).toEqual(["handshake", "open"]);
    expect(events[0]![1]).toEqual({ sid: "s", upgrades: [], pingInterval: 10, pingTimeout: 5, maxPayload: 1e6 });
    expect(socket.handshake).toEqual(events[0]![1]);
  });

  test("connectTimeout: HandshakeError, transport error, the transport closed", () => {
    const { socket, transport, events } = fakeSocket({ connectTimeout: 500 });
    vi.advanceTimersByTime(499);
    expect(socket.state).toBe("opening");
    vi.advanceTimersByTime(1);
    expect(names(events)).toEqual(["error", "close"]);
    expect(events[0]![1]).toBeInstanceOf(HandshakeError);
    expect(events[1]![1]).toBe("transport error");
    expect(events[1]![2]).toEqual({ error: events[0]![1], unsent: [] });
    expect(transport.state).toBe("closed");
  });

  test("the connect timer stops once open", () => {
    const { socket } = openSocket({ connectTimeout: 500 });
    vi.advanceTimersByTime(1000);
    expect(socket.state).toBe("open");
  });

  test("a malformed open packet: HandshakeError, parse error", () => {
    const { transport, events } = fakeSocket();
    transport.accept();
    transport.receive({ type: "open", data: '{"sid":"x"}' });
    expect(names(events)).toEqual(["error", "close"]);
    expect(events[0]![1]).toBeInstanceOf(HandshakeError);
    expect(events[1]![1]).toBe("parse error");
  });

  test("a message before the open packet: parse error", () => {
    const { transport, events } = fakeSocket();
    transport.accept();
    transport.receive({ type: "message", data: "too soon" });
    expect(names(events)).toEqual(["error", "close"]);
    expect(events[1]![1]).toBe("parse error");
  });

  test("a second open packet: ProtocolError, parse error", () => {
    const { transport, events } = openSocket();
    transport.receiveOpen();
    expect(names(events)).toEqual(["handshake", "open", "error", "close"]);
    expect(events[2]![1]).toBeInstanceOf(ProtocolError);
    expect(events[3]![1]).toBe("parse error");
  });
});

describe("send", () => {
  test("messages queued while opening go out after the handshake, in one batch", () => {
    const { socket, transport } = fakeSocket();
    socket.send("a").send(new Uint8Array([1, 2]));
    expect(transport.sent).toEqual([]);
    transport.receiveOpen();
    expect(transport.wire).toEqual(["message:a", "message:<2 bytes>"]);
  });

  test("the callback fires after drain, not before", () => {
    const { socket, transport, events } = openSocket();
    const callback = vi.fn();
    socket.send("a", callback);
    expect(transport.wire).toEqual(["message:a"]);
    expect(callback).not.toHaveBeenCalled();
    transport.drain();
    expect(callback).toHaveBeenCalledTimes(1);
    expect(names(events).at(-1)).toBe("drain");
  });

  test("messages written while a send is in flight go out together on drain", () => {
    const { socket, transport, events } = openSocket();
    socket.send("a");
    socket.send("b");
    socket.send("c");
    expect(transport.sent).toHaveLength(1);
    transport.drain();
    expect(transport.sent.map((batch) => batch.map((packet) => packet.data))).toEqual([["a"], ["b", "c"]]);
    expect(names(events).filter((name) => name === "drain")).toHaveLength(0);
    transport.drain();
    expect(names(events).filter((name) => name === "drain")).toHaveLength(1);
  });

  test("binary is passed through as it is", () => {
    const { socket, transport } = openSocket();
    const data = new Uint8Array([1, 2, 3]);
    socket.send(data);
    expect(transport.sent[0]![0]!.data).toBe(data);
  });

  test("a Blob is read first and keeps its place in the order", async () => {
    vi.useRealTimers(); // Blob reading is real I/O in jsdom
    const { socket, transport } = openSocket();
    socket.send(new Blob([new Uint8Array([7, 8])]));
    socket.send("after the blob");
    expect(transport.sent).toEqual([]);
    await until(() => transport.sent.length > 0);
    expect(transport.sent).toHaveLength(1);
    const [blob, text] = transport.sent[0]!;
    expect(Array.from(new Uint8Array(blob!.data as ArrayBuffer))).toEqual([7, 8]);
    expect(text).toEqual({ type: "message", data: "after the blob" });
  });

  test.each([[42], [null], [{}], [undefined]])("send(%j) throws UsageError", (data) => {
    const { socket } = openSocket();
    expect(() => socket.send(data as never)).toThrow(UsageError);
  });

  test("a string containing U+001E, the payload separator, throws UsageError and sends nothing", () => {
    const { socket, transport } = openSocket();
    expect(() => socket.send("a\x1eb")).toThrow(UsageError);
    expect(transport.sent).toEqual([]);
    socket.send("a\x1fb"); // its neighbours are fine
    expect(transport.wire).toEqual(["message:a\x1fb"]);
  });

  test("a non-function callback throws UsageError", () => {
    const { socket } = openSocket();
    expect(() => socket.send("x", "nope" as never)).toThrow(UsageError);
  });

  test("send after close() throws UsageError, while closing and once closed", () => {
    const { socket, transport } = openSocket();
    socket.close();
    expect(socket.state).toBe("closing");
    expect(() => socket.send("x")).toThrow(UsageError);
    transport.drain();
    expect(socket.state).toBe("closed");
    expect(() => socket.send("x")).toThrow(UsageError);
  });

  test("send after the server closed throws UsageError", () => {
    const { socket, transport } = openSocket();
    transport.receive({ type: "close" });
    expect(() => socket.send("x")).toThrow(UsageError);
  });
});

describe("receive", () => {
  test("messages, pings (answered with pong) and noops", () => {
    const { socket, transport, events } = openSocket();
    const pings = vi.fn();
    socket.on("ping", pings);
    transport.receive({ type: "message", data: "hi" });
    transport.receive({ type: "message" });
    transport.receive({ type: "noop" });
    transport.receive({ type: "ping" });
    expect(events.filter((event) => event[0] === "message")).toEqual([
      ["message", "hi"],
      ["message", ""],
    ]);
    expect(pings).toHaveBeenCalledTimes(1);
    expect(transport.wire).toEqual(["pong"]);
    expect(socket.state).toBe("open");
  });

  test("every packet is also emitted as packet", () => {
    const { socket, transport } = fakeSocket();
    const packets: unknown[] = [];
    socket.on("packet", (packet) => packets.push(packet.type));
    transport.receiveOpen();
    transport.receive({ type: "noop" });
    expect(packets).toEqual(["open", "noop"]);
  });
});

describe("close", () => {
  test("close() flushes what is queued, then sends the close packet 1, then closes", () => {
    const { socket, transport, events } = openSocket();
    socket.send("a");
    socket.send("b");
    socket.close();
    expect(socket.state).toBe("closing");
    expect(transport.wire).toEqual(["message:a"]);
    transport.drain();
    expect(transport.sent.at(-1)!.map((packet) => packet.type)).toEqual(["message", "close"]);
    expect(transport.wire).toEqual(["message:a", "message:b", "close"]);
    expect(socket.state).toBe("closing");
    transport.drain();
    expect(socket.state).toBe("closed");
    expect(events.at(-1)).toEqual(["close", "forced close", { error: undefined, unsent: [] }]);
    expect(transport.state).toBe("closed");
    expect(names(events)).not.toContain("error");
  });

  test("close() on an idle open socket sends 1 at once", () => {
    const { socket, transport } = openSocket();
    socket.close();
    expect(transport.wire).toEqual(["close"]);
  });

  test("close() while opening: forced close, queued messages unsent, no error", () => {
    const { socket, transport, events } = fakeSocket();
    socket.send("never");
    socket.close();
    expect(names(events)).toEqual(["close"]);
    expect(events[0]).toEqual(["close", "forced close", { error: undefined, unsent: ["never"] }]);
    expect(transport.state).toBe("closed");
    expect(transport.sent).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  test("close() twice emits one close", () => {
    const { socket, transport, events } = openSocket();
    socket.close();
    socket.close();
    transport.drain();
    socket.close();
    expect(names(events).filter((name) => name === "close")).toHaveLength(1);
  });

  test("a close packet that never drains: forced close after the close timeout, in-flight messages unsent", () => {
    const { socket, transport, events } = openSocket();
    socket.send("a");
    socket.close();
    vi.advanceTimersByTime(9_999);
    expect(socket.state).toBe("closing");
    vi.advanceTimersByTime(1);
    expect(events.at(-1)).toEqual(["close", "forced close", { error: undefined, unsent: ["a"] }]);
    expect(transport.state).toBe("closed");
  });

  test("the transport ending while closing is a forced close", () => {
    const { socket, transport, events } = openSocket();
    socket.close();
    transport.end();
    expect(events.at(-1)!.slice(0, 2)).toEqual(["close", "forced close"]);
  });

  test("a close packet from the server: transport close", () => {
    const { transport, events } = openSocket();
    transport.receive({ type: "close" });
    expect(names(events)).toEqual(["handshake", "open", "close"]);
    expect(events.at(-1)).toEqual(["close", "transport close", { error: undefined, unsent: [] }]);
    expect(transport.state).toBe("closed");
  });

  test("a close packet from the server while a write is in flight, which the server then refuses: transport close, no error, the write in unsent", () => {
    const { socket, transport, events } = openSocket();
    socket.send("a");
    transport.receive({ type: "close" });
    expect(names(events)).toEqual(["handshake", "open"]);
    transport.fail(new ServerError(1, "Session ID unknown", 400, "fake"));
    expect(names(events)).toEqual(["handshake", "open", "close"]);
    expect(events.at(-1)).toEqual(["close", "transport close", { error: undefined, unsent: ["a"] }]);
  });

  test("the transport ending: transport close", () => {
    const { transport, events } = openSocket();
    transport.end();
    expect(events.at(-1)!.slice(0, 2)).toEqual(["close", "transport close"]);
  });

  test.each([
    ["TransportError", new TransportError("boom", "fake", 500), "transport error"],
    ["ServerError", new ServerError(1, "Session ID unknown", 400, "fake"), "transport error"],
    ["ProtocolError", new ProtocolError("bad"), "parse error"],
  ])("a transport %s: one error then one close (%s)", (_, error, reason) => {
    const { socket, transport, events } = openSocket();
    socket.send("a");
    socket.send("b");
    transport.fail(error);
    expect(names(events)).toEqual(["handshake", "open", "error", "close"]);
    expect(events[2]![1]).toBe(error);
    expect(events[3]).toEqual(["close", reason, { error, unsent: ["a", "b"] }]);
  });

  test("a packet after close is ignored", () => {
    const { transport, events } = openSocket();
    transport.receive({ type: "close" });
    transport.events.emit("packet", { type: "message", data: "late" });
    expect(names(events)).not.toContain("message");
  });

  test("close() stops every timer", () => {
    const { socket, transport } = openSocket();
    socket.close();
    transport.drain();
    expect(vi.getTimerCount()).toBe(0);
  });

  test("the close promise helper sees the reason", async () => {
    const { socket } = fakeSocket();
    const done = closed(socket);
    socket.close();
    expect((await done).reason).toBe("forced close");
  });
});

describe("rememberUpgrade", () => {
  const key = "cometa:transport:http://localhost:3000/engine.io/";

  function upgradeOnce(storage: KeyValueStorage, rememberUpgrade: boolean) {
    const polling = fakeDefinition("polling", { pausable: true });
    const websocket = fakeDefinition("websocket", { autoDrain: true });
    const socket = new BareSocket(url, {
      transports: [polling.definition, websocket.definition],
      rememberUpgrade,
      env: { storage },
    });
    return { socket, polling, websocket };
  }

  async function upgrade(setup: ReturnType<typeof upgradeOnce>) {
    setup.polling.last.receiveOpen({ upgrades: ["websocket"] });
    setup.websocket.last.accept();
    await settle();
    setup.websocket.last.receive({ type: "pong", data: "probe" });
    await settle();
    expect(setup.socket.transport.name).toBe("websocket");
  }

  test("stores the upgraded transport and starts the next session on it", async () => {
    vi.useRealTimers();
    const storage = memoryStorage();
    await upgrade(upgradeOnce(storage, true));
    expect(storage.items.get(key)).toBe("websocket");
    const second = upgradeOnce(storage, true);
    expect(second.socket.transport.name).toBe("websocket");
    expect(second.polling.instances).toHaveLength(0);
    second.websocket.last.receiveOpen({ upgrades: [] });
    expect(second.socket.state).toBe("open");
  });

  test("without rememberUpgrade nothing is stored or read", async () => {
    vi.useRealTimers();
    const storage = memoryStorage();
    await upgrade(upgradeOnce(storage, false));
    expect(storage.items.size).toBe(0);
    storage.setItem(key, "websocket");
    expect(upgradeOnce(storage, false).socket.transport.name).toBe("polling");
  });

  test("a remembered transport that fails while opening is forgotten, and the first one used", () => {
    const storage = memoryStorage();
    storage.setItem(key, "websocket");
    const setup = upgradeOnce(storage, true);
    const events = record(setup.socket, ["error", "close", "open"]);
    expect(setup.socket.transport.name).toBe("websocket");
    setup.websocket.last.fail(new TransportError("websocket connection failed", "websocket"));
    expect(events).toEqual([]);
    expect(setup.socket.transport.name).toBe("polling");
    expect(setup.polling.last.openCalls).toBe(1);
    expect(storage.getItem(key)).toBeFalsy();
    setup.polling.last.receiveOpen();
    expect(names(events)).toEqual(["open"]);
  });

  test("a remembered name that is not among the transports is ignored", () => {
    const storage = memoryStorage();
    storage.setItem(key, "sse");
    expect(upgradeOnce(storage, true).socket.transport.name).toBe("polling");
  });
});

describe("one face", () => {
  test("state, id, handshake and transport are read-only views; the emitter is not exposed", () => {
    const { socket, transport } = fakeSocket();
    expect(Object.getOwnPropertyNames(BareSocket.prototype)).not.toContain("emit");
    expect("emit" in socket).toBe(false);
    expect(() => {
      (socket as unknown as { state: string }).state = "open";
    }).toThrow(TypeError);
    expect(socket.state).toBe("opening");
    expect(socket.transport).toMatchObject({ name: "fake", state: "opening", writable: true });
    transport.receiveOpen({ sid: "s-1" });
    expect(socket.id).toBe("s-1");
    expect(socket.handshake!.sid).toBe("s-1");
    expect(socket.transport.state).toBe("open");
  });

  test("off removes one listener, an event's, or all; once fires once", () => {
    const { socket, transport } = fakeSocket();
    const seen: string[] = [];
    const first = (data: unknown) => seen.push(`first ${data}`);
    socket.on("message", first);
    socket.once("message", (data) => seen.push(`once ${data}`));
    transport.receiveOpen();
    transport.receive({ type: "message", data: "1" });
    socket.off("message", first);
    transport.receive({ type: "message", data: "2" });
    socket.on("message", first);
    socket.off();
    transport.receive({ type: "message", data: "3" });
    expect(seen).toEqual(["first 1", "once 1"]);
  });
});

describe("trace", () => {
  function traced(options: ConstructorParameters<typeof BareSocket>[1] = {}, fake: FakeDefinition = fakeDefinition("fake")) {
    const lines: [string, string, unknown][] = [];
    const setup = fakeSocket({ trace: (topic, message, detail) => lines.push([topic, message, detail]), ...options }, fake);
    return { ...setup, lines, messages: () => lines.map(([topic, message]) => `${topic}: ${message}`) };
  }

  test("the transports get the hook in their context", () => {
    const trace = () => {};
    const { transport } = fakeSocket({ trace });
    expect(transport.context.trace).toBe(trace);
    expect(fakeSocket().transport.context.trace).toBeUndefined();
  });

  test("opening, the transport's open, the handshake and the close, with their facts", () => {
    const { socket, transport, lines, messages } = traced();
    transport.receiveOpen({ sid: "s-1", upgrades: [] });
    socket.close();
    transport.drain();
    expect(messages()).toEqual([
      "session: opening on fake",
      "transport: open",
      "session: handshake on fake",
      "session: closed: forced close",
    ]);
    expect(lines[1]![2]).toEqual({ transport: "fake" });
    expect(lines[2]![2]).toMatchObject({ sid: "s-1", pingInterval: 25000, pingTimeout: 20000 });
    expect(lines[3]![2]).toEqual({ reason: "forced close", error: undefined, unsent: 0 });
  });

  test("a transport that fails says why", () => {
    const { transport, lines } = traced();
    const error = new TransportError("polling GET failed: network error", "fake");
    transport.fail(error);
    expect(lines.slice(1, 2)).toEqual([["transport", "fake failed: polling GET failed: network error", { transport: "fake", error }]]);
    expect(lines.at(-1)!.slice(0, 2)).toEqual(["session", "closed: transport error"]);
  });

  test("a remembered transport that fails: forgotten, and the session opens the usual way", () => {
    const storage = memoryStorage();
    storage.setItem("cometa:transport:http://localhost:3000/engine.io/", "websocket");
    const polling = fakeDefinition("polling", { pausable: true });
    const websocket = fakeDefinition("websocket");
    const lines: string[] = [];
    new BareSocket(url, {
      transports: [polling.definition, websocket.definition],
      rememberUpgrade: true,
      env: { storage },
      trace: (topic, message) => lines.push(`${topic}: ${message}`),
    });
    websocket.last.fail(new TransportError("websocket connection failed", "websocket"));
    expect(lines).toEqual([
      "session: opening on websocket",
      "transport: websocket failed: websocket connection failed",
      "session: remembered websocket failed: opening on polling",
    ]);
  });

  test("a transport the server ends: traced as closed with its name, then the session's close", () => {
    const { transport, lines } = traced();
    transport.receiveOpen();
    transport.end();
    expect(lines.slice(-2)).toEqual([
      ["transport", "closed", { transport: "fake" }],
      ["session", "closed: transport close", { reason: "transport close", error: undefined, unsent: 0 }],
    ]);
  });

  test("a heartbeat timeout names the period", () => {
    const { transport, lines } = traced();
    transport.receiveOpen({ pingInterval: 100, pingTimeout: 50 });
    vi.advanceTimersByTime(150);
    expect(lines).toContainEqual(["heartbeat", "no ping within 150 ms", { pingInterval: 100, pingTimeout: 50 }]);
  });
});
