// @vitest-environment node
/**
 * Resumable sessions end to end on the client (docs/wire.md, "Resumable sessions"): the socket,
 * its send queue, its counts, the reattach loop and the upgrade, on fake transports and fake
 * timers. The fake "polling" confirms delivery at its drain, as an HTTP upstream does; the fake
 * "websocket" does not.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { KeyValueStorage } from "../../src/env.js";
import {
  BareReconnectingSocket,
  BareSocket,
  HeartbeatError,
  ProtocolError,
  ResumeError,
  resumption,
  ServerError,
  TransportError,
} from "../../src/index.js";
import type { SocketOptions } from "../../src/options.js";
import type { ReconnectingSocketEvents } from "../../src/reconnect.js";
import { record, settle } from "../support/events.js";
import { type FakeDefinition, type FakeTransport, fakeDefinition } from "./support/fake-transport.js";

const url = "http://localhost:3000";
const terms = { window: 5000, maxBytes: 1000 };
const key = "cometa:transport:http://localhost:3000/engine.io/";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function memoryStorage(): KeyValueStorage & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return { items, getItem: (name) => items.get(name) ?? null, setItem: (name, value) => void items.set(name, value) };
}

interface Setup {
  socket: BareSocket;
  polling: FakeDefinition;
  websocket: FakeDefinition;
  events: unknown[][];
}

function setup(options: SocketOptions = {}, first: "polling" | "websocket" = "polling"): Setup {
  const polling = fakeDefinition("polling", { pausable: true, confirmsDelivery: true });
  const websocket = fakeDefinition("websocket");
  const definitions = first === "polling" ? [polling.definition, websocket.definition] : [websocket.definition, polling.definition];
  const socket = new BareSocket(url, { transports: definitions, resumption, ...options });
  const events = record(socket, ["open", "message", "error", "close", "resuming", "resumed", "upgrade", "upgradeError"]);
  return { socket, polling, websocket, events };
}

/** Open on the first transport with the server's terms (or none: a stock server). */
function open(options: SocketOptions = {}, first: "polling" | "websocket" = "polling", upgrades: string[] = [], withTerms = true): Setup {
  const s = setup(options, first);
  const transport = (first === "polling" ? s.polling : s.websocket).last;
  transport.receiveOpen({ upgrades, ...(withTerms ? { resume: terms } : {}) } as never);
  return s;
}

/** The probe dance from polling to websocket; returns the websocket, in use. */
async function upgradeToWebsocket(s: Setup): Promise<FakeTransport> {
  const ws = s.websocket.last;
  ws.accept();
  ws.drain();
  ws.receive({ type: "pong", data: "probe" });
  await settle();
  ws.drain();
  expect(s.socket.transport.name).toBe("websocket");
  return ws;
}

const names = (events: unknown[][]) => events.map((event) => event[0]);
const query = (transport: FakeTransport, receives?: boolean) =>
  Object.fromEntries(new URL(transport.context.url("http", transport.name, {}, receives)).searchParams);

describe("negotiation", () => {
  test("the handshake offers resume=1; terms in the open packet make the session resumable", () => {
    const s = setup();
    expect(query(s.polling.last, true)).toMatchObject({ resume: "1" });
    expect(s.socket.resumable).toBe(false);
    s.polling.last.receiveOpen({ resume: terms } as never);
    expect(s.socket.resumable).toBe(true);
    // once there is a sid the offer is not made again
    expect(query(s.polling.last, true)).not.toHaveProperty("resume");
  });

  test("a stock server (no terms): not resumable, no markers, no ack parameter, a break closes as before", () => {
    const s = open({}, "polling", [], false);
    const polling = s.polling.last;
    expect(s.socket.resumable).toBe(false);
    s.socket.send("a");
    expect(polling.wire).toEqual(["message:a"]);
    polling.receive({ type: "message", data: "x" });
    vi.advanceTimersByTime(1000);
    expect(polling.sent).toHaveLength(1);
    expect(query(polling, true)).not.toHaveProperty("ack");
    // a noop with data is ignored, as today
    polling.receive({ type: "noop", data: "s9" });
    expect(s.socket.state).toBe("open");
    polling.fail(new TransportError("reset", "polling"));
    expect(names(s.events)).toEqual(["open", "message", "error", "close"]);
    expect(s.events.at(-1)!.slice(0, 2)).toEqual(["close", "transport error"]);
    expect(s.polling.instances).toHaveLength(1);
  });

  test("resume: false neither offers nor takes resumption, whatever the server says", () => {
    const s = setup({ resume: false });
    expect(query(s.polling.last, true)).not.toHaveProperty("resume");
    s.polling.last.receiveOpen({ resume: terms } as never);
    expect(s.socket.resumable).toBe(false);
    s.socket.send("a");
    expect(s.polling.last.wire).toEqual(["message:a"]);
  });

  test("resume.maxBytes must be a positive number", () => {
    expect(() => setup({ resume: { maxBytes: 0 } })).toThrow(/resume\.maxBytes/);
    expect(() => setup({ resume: { maxBytes: Number.NaN } })).toThrow(/resume\.maxBytes/);
  });
});

describe("writes and acknowledgements", () => {
  test("on WebSocket the first write carrying messages starts with 6s<S>, the next ones count on from it; control packets alone carry none", () => {
    const s = open({}, "websocket");
    const ws = s.websocket.last;
    s.socket.send("a");
    s.socket.send("b");
    ws.drain();
    s.socket.send("c");
    ws.drain();
    ws.receive({ type: "ping" });
    ws.drain();
    expect(ws.sent.map((write) => write.map((packet) => `${packet.type}:${packet.data ?? ""}`))).toEqual([
      ["noop:s1", "message:a"],
      ["message:b"],
      ["message:c"],
      ["pong:"],
    ]);
  });

  test("on websocket the callback runs at the server's 6a<N>, not at the drain; acks trim in order", () => {
    const s = open({}, "websocket");
    const ws = s.websocket.last;
    const calls: string[] = [];
    s.socket.send("a", () => calls.push("a"));
    ws.drain();
    s.socket.send("b", () => calls.push("b"));
    s.socket.send("c", () => calls.push("c"));
    ws.drain();
    expect(calls).toEqual([]);
    ws.receive({ type: "noop", data: "a2" });
    expect(calls).toEqual(["a", "b"]);
    // "c" is still in flight: an ack that comes before its drain applies at the drain
    ws.receive({ type: "noop", data: "a3" });
    expect(calls).toEqual(["a", "b"]);
    ws.drain();
    expect(calls).toEqual(["a", "b", "c"]);
  });

  test("on an HTTP upstream the drain is the acknowledgement: the callback runs then", () => {
    const s = open();
    const polling = s.polling.last;
    const calls: string[] = [];
    s.socket.send("a", () => calls.push("a"));
    expect(polling.wire).toEqual(["noop:s1", "message:a"]);
    polling.drain();
    expect(calls).toEqual(["a"]);
  });

  test("flow control: writing stops at maxBytes unacknowledged and goes on when acks come", () => {
    const s = open({ resume: { maxBytes: 10 } }, "websocket");
    const ws = s.websocket.last;
    s.socket.send("123456");
    ws.drain();
    s.socket.send("abcdef");
    ws.drain();
    s.socket.send("ghijkl");
    expect(ws.sent).toHaveLength(2);
    expect(s.socket.state).toBe("open");
    ws.receive({ type: "noop", data: "a1" });
    expect(ws.sent).toHaveLength(3);
    expect(ws.wire.slice(-2)).toEqual(["message:abcdef", "message:ghijkl"]);
  });

  test("the server's messages: duplicates after 6s<S> are dropped unseen, the count goes on", () => {
    const s = open({}, "websocket");
    const ws = s.websocket.last;
    const packets: unknown[] = [];
    s.socket.on("packet", (packet) => packet.type === "message" && packets.push(packet.data));
    ws.receive({ type: "message", data: "1" });
    ws.receive({ type: "message", data: "2" });
    ws.receive({ type: "noop", data: "s2" });
    ws.receive({ type: "message", data: "2" });
    ws.receive({ type: "message", data: "3" });
    expect(s.events.filter((event) => event[0] === "message").map((event) => event[1])).toEqual(["1", "2", "3"]);
    expect(packets).toEqual(["1", "2", "3"]);
  });

  test("a gap (6s<S> past the count + 1) ends the session as a protocol error, without resuming", () => {
    const s = open({}, "websocket");
    const ws = s.websocket.last;
    ws.receive({ type: "message", data: "1" });
    ws.receive({ type: "noop", data: "s3" });
    const close = s.events.find((event) => event[0] === "close")!;
    expect(close[1]).toBe("parse error");
    expect((close[2] as { error: unknown }).error).toBeInstanceOf(ProtocolError);
    expect(names(s.events)).not.toContain("resuming");
  });

  test("received messages are acknowledged 200 ms later by 6a<N> when no GET carried the count", () => {
    const s = open({}, "websocket");
    const ws = s.websocket.last;
    ws.receive({ type: "message", data: "1" });
    ws.receive({ type: "message", data: "2" });
    vi.advanceTimersByTime(199);
    expect(ws.sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(ws.wire).toEqual(["noop:a2"]);
    ws.drain();
    // a write before it is due does not carry it (a frame of its own on WebSocket); when due,
    // it goes in front of the next write
    ws.receive({ type: "message", data: "3" });
    s.socket.send("m");
    ws.drain();
    expect(ws.wire.slice(1)).toEqual(["noop:s1", "message:m"]);
    ws.receive({ type: "message", data: "4" });
    vi.advanceTimersByTime(200);
    expect(ws.wire.slice(3)).toEqual(["noop:a4"]);
  });

  test("the transport in use says the count on its receiving GETs (ack=N), which stands for 6a<N>", () => {
    const s = open();
    const polling = s.polling.last;
    polling.receive({ type: "message", data: "1" });
    expect(query(polling, false)).not.toHaveProperty("ack");
    expect(query(polling, true)).toMatchObject({ ack: "1", sid: "sid-1" });
    vi.advanceTimersByTime(1000);
    expect(polling.sent).toEqual([]);
  });

  test("an upgrade: the candidate's GETs carry no ack; 5 goes after 6a<N> in the same write", async () => {
    const s = open({}, "polling", ["websocket"]);
    const ws = s.websocket.last;
    s.polling.last.receive({ type: "message", data: "1" });
    expect(query(ws, true)).not.toHaveProperty("ack");
    await upgradeToWebsocket(s);
    expect(ws.sent.at(-1)).toEqual([
      { type: "noop", data: "a1" },
      { type: "upgrade" },
    ]);
    s.socket.send("m");
    expect(ws.wire.slice(-2)).toEqual(["noop:s1", "message:m"]);
  });
});

describe("a break, and the session resumed", () => {
  test("websocket breaks: resuming, reattach on polling with reattach=N, resumed at 6a<M>, what M does not cover sent again in order", async () => {
    const s = open({}, "polling", ["websocket"]);
    const ws = await upgradeToWebsocket(s);
    const calls: string[] = [];
    for (const data of ["a", "b", "c"]) s.socket.send(data, () => calls.push(data));
    ws.drain();
    ws.receive({ type: "message", data: "1" });
    ws.receive({ type: "message", data: "2" });
    ws.receive({ type: "noop", data: "a1" });
    expect(calls).toEqual(["a"]);
    const error = new TransportError("websocket closed abnormally", "websocket");
    ws.fail(error);
    expect(s.socket.state).toBe("resuming");
    expect(s.events.filter((event) => event[0] === "resuming")).toEqual([["resuming", error]]);
    expect(names(s.events)).not.toContain("close");
    expect(names(s.events)).not.toContain("error");
    // written while resuming: queued, after what is not acknowledged
    s.socket.send("d");
    const reattach = s.polling.last;
    expect(s.polling.instances).toHaveLength(2);
    expect(reattach.openCalls).toBe(1);
    expect(query(reattach, true)).toMatchObject({ sid: "sid-1", reattach: "2" });
    expect(query(reattach, true)).not.toHaveProperty("ack");
    reattach.accept();
    // the server delivered "b" before the break, not "c"
    reattach.receive({ type: "noop", data: "a2" });
    expect(s.socket.state).toBe("open");
    expect(s.socket.transport.name).toBe("polling");
    expect(s.events.filter((event) => event[0] === "resumed")).toEqual([["resumed", "polling"]]);
    expect(calls).toEqual(["a", "b"]);
    expect(reattach.wire).toEqual(["noop:s3", "message:c", "message:d"]);
    reattach.drain();
    expect(calls).toEqual(["a", "b", "c"]);
    // the server's messages go on from its count; its GETs say the count again
    reattach.receive({ type: "message", data: "3" });
    expect(query(reattach, true)).toMatchObject({ ack: "3" });
    expect(s.events.filter((event) => event[0] === "message").map((event) => event[1])).toEqual(["1", "2", "3"]);
    expect(names(s.events)).not.toContain("close");
  });

  test("a run of duplicates cut by the break: the new transport's messages count from the count + 1", () => {
    const s = open({}, "websocket");
    const ws = s.websocket.last;
    ws.receive({ type: "message", data: "1" });
    ws.receive({ type: "message", data: "2" });
    ws.receive({ type: "noop", data: "s1" });
    ws.receive({ type: "message", data: "1" });
    ws.end();
    s.polling.last.receive({ type: "noop", data: "a0" });
    s.polling.last.receive({ type: "message", data: "3" });
    expect(s.events.filter((event) => event[0] === "message").map((event) => event[1])).toEqual(["1", "2", "3"]);
  });

  test("a missed heartbeat is a break too; the heartbeat starts again on the resumed transport", () => {
    const s = open({}, "websocket");
    vi.advanceTimersByTime(45000);
    expect(s.socket.state).toBe("resuming");
    expect(s.events.find((event) => event[0] === "resuming")![1]).toBeInstanceOf(HeartbeatError);
    expect(s.websocket.instances[0]!.state).toBe("closed");
    s.polling.last.receive({ type: "noop", data: "a0" });
    expect(s.socket.state).toBe("open");
    vi.advanceTimersByTime(44999);
    expect(s.socket.state).toBe("open");
    vi.advanceTimersByTime(1);
    expect(s.socket.state).toBe("resuming");
  });

  test("the server's close packet, and close(), end the session without resuming", () => {
    const s = open({}, "websocket");
    s.websocket.last.receive({ type: "close" });
    expect(names(s.events)).toEqual(["open", "close"]);
    const t = open({}, "websocket");
    t.socket.close();
    t.websocket.last.drain();
    expect(names(t.events)).toEqual(["open", "close"]);
    expect(t.events.at(-1)![1]).toBe("forced close");
  });

  test("close() while resuming ends at once and hands back every message", () => {
    const s = open({}, "websocket");
    const ws = s.websocket.last;
    s.socket.send("a");
    ws.drain();
    ws.end();
    s.socket.send("b");
    s.socket.close();
    expect(s.socket.state).toBe("closed");
    expect(s.events.at(-1)).toEqual(["close", "forced close", { error: undefined, unsent: ["a", "b"] }]);
    expect(s.polling.last.state).toBe("closed");
    expect(vi.getTimerCount()).toBe(0);
  });

  test("no reattach within the window: one close with the break's reason, a ResumeError and every message not acknowledged, in order", () => {
    const s = open({}, "websocket");
    const ws = s.websocket.last;
    s.socket.send("a");
    ws.drain();
    s.socket.send("b");
    ws.receive({ type: "noop", data: "a1" });
    // "b" in flight when the transport closes
    ws.end();
    s.socket.send("c");
    // every attempt fails: refused at once
    for (let i = 0; i < 20 && s.socket.state === "resuming"; i++) {
      s.polling.last.fail(new TransportError("connection refused", "polling"));
      vi.advanceTimersToNextTimer();
    }
    expect(s.socket.state).toBe("closed");
    const closes = s.events.filter((event) => event[0] === "close");
    expect(closes).toHaveLength(1);
    const [, reason, details] = closes[0] as [string, string, { error: ResumeError; unsent: unknown[] }];
    expect(reason).toBe("transport close");
    expect(details.unsent).toEqual(["b", "c"]);
    expect(details.error).toBeInstanceOf(ResumeError);
    expect(details.error.message).toMatch(/resume window passed after 5000 ms/);
    expect((details.error.cause as TransportError).message).toBe("websocket closed");
    expect(s.events.filter((event) => event[0] === "error")).toEqual([["error", details.error]]);
    // attempts were spaced, and stopped within the window
    expect(s.polling.instances.length).toBeGreaterThan(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  test("a try with no answer is given up after probeTimeout or the heartbeat period, the shorter", () => {
    const s = open({ probeTimeout: 2000 }, "websocket");
    s.websocket.last.end();
    const first = s.polling.last;
    vi.advanceTimersByTime(1999);
    expect(first.state).not.toBe("closed");
    vi.advanceTimersByTime(1);
    expect(first.state).toBe("closed");
    const t = setup({}, "websocket");
    t.websocket.last.receiveOpen({ pingInterval: 300, pingTimeout: 200, resume: terms } as never);
    t.websocket.last.end();
    vi.advanceTimersByTime(499);
    expect(t.polling.last.state).not.toBe("closed");
    vi.advanceTimersByTime(1);
    expect(t.polling.last.state).toBe("closed");
    vi.advanceTimersByTime(100);
    expect(t.polling.instances).toHaveLength(2);
  });

  test("the server does not know the session on reattach (400, code 1): close at once", () => {
    const s = open({}, "websocket");
    const ws = s.websocket.last;
    s.socket.send("a");
    const error = new TransportError("reset", "websocket");
    ws.fail(error);
    s.polling.last.fail(new ServerError(1, "Session ID unknown", 400, "polling"));
    expect(s.socket.state).toBe("closed");
    const [, reason, details] = s.events.at(-1) as [string, string, { error: ResumeError; unsent: unknown[] }];
    expect(reason).toBe("transport error");
    expect(details.error).toBeInstanceOf(ResumeError);
    expect(details.error.message).toMatch(/session unknown to the server/);
    expect(details.error.cause).toBe(error);
    expect(details.unsent).toEqual(["a"]);
    expect(s.polling.instances).toHaveLength(1);
  });

  test("code 1 on the transport in use is not a break: the session closes as before", () => {
    const s = open({}, "websocket");
    s.websocket.last.fail(new ServerError(1, "Session ID unknown", 400, "websocket"));
    expect(names(s.events)).toEqual(["open", "error", "close"]);
    expect(s.polling.instances).toHaveLength(0);
  });

  test("a transport that broke twice is neither reattached to nor probed again", async () => {
    const s = open({}, "polling", ["websocket"]);
    const ws = await upgradeToWebsocket(s);
    ws.end();
    s.polling.last.receive({ type: "noop", data: "a0" });
    // resumed on polling: websocket is probed again, and taken
    expect(s.websocket.instances).toHaveLength(2);
    const ws2 = await upgradeToWebsocket(s);
    ws2.end();
    s.polling.last.receive({ type: "noop", data: "a0" });
    expect(s.socket.state).toBe("open");
    // broke twice: no third probe
    expect(s.websocket.instances).toHaveLength(2);
    // polling breaks twice too: every transport did, so the network is at fault and they are
    // all tried again, long-polling first
    s.polling.last.end();
    s.polling.last.receive({ type: "noop", data: "a0" });
    const reattaches = s.polling.instances.length;
    s.polling.last.end();
    expect(s.socket.state).toBe("resuming");
    expect(s.polling.instances).toHaveLength(reattaches + 1);
    s.polling.last.receive({ type: "noop", data: "a0" });
    expect(s.socket.state).toBe("open");
    expect(s.websocket.instances).toHaveLength(2);
  });

  test("a forced transport that keeps breaking is reattached to every time", () => {
    const only = fakeDefinition("websocket");
    const socket = new BareSocket(url, { transports: [only.definition], resumption });
    only.last.receiveOpen({ resume: terms } as never);
    for (let i = 0; i < 5; i++) {
      socket.send(`m${i}`);
      only.last.end();
      expect(socket.state).toBe("resuming");
      only.last.accept();
      only.last.receive({ type: "noop", data: `a${i}` });
      expect(socket.state).toBe("open");
    }
    expect(only.instances).toHaveLength(6);
    // each message went again on each transport until acknowledged
    expect(only.last.wire).toEqual(["noop:s5", "message:m4"]);
  });

  test("an offered transport the environment lacks is said once per session, not again at each resume", () => {
    const polling = fakeDefinition("polling", { pausable: true, confirmsDelivery: true });
    const websocket = fakeDefinition("websocket", { supported: false });
    const socket = new BareSocket(url, { transports: [polling.definition, websocket.definition], resumption });
    const hints = record(socket, ["upgradeError"]);
    polling.last.receiveOpen({ upgrades: ["websocket"], resume: terms } as never);
    expect(hints).toHaveLength(1);
    polling.last.end();
    polling.last.receive({ type: "noop", data: "a0" });
    expect(socket.state).toBe("open");
    expect(hints).toHaveLength(1);
  });

  test("without polling among the transports, the first that has not broken twice is reattached to", () => {
    const sse = fakeDefinition("sse");
    const websocket = fakeDefinition("websocket");
    const socket = new BareSocket(url, { transports: [websocket.definition, sse.definition], resumption });
    websocket.last.receiveOpen({ resume: terms } as never);
    websocket.last.end();
    expect(websocket.instances).toHaveLength(2);
    expect(query(websocket.last)).toMatchObject({ reattach: "0" });
    websocket.last.receive({ type: "noop", data: "a0" });
    websocket.last.end();
    expect(sse.instances).toHaveLength(1);
    expect(websocket.instances).toHaveLength(2);
    sse.last.receive({ type: "noop", data: "a0" });
    expect(socket.transport.name).toBe("sse");
    expect(socket.state).toBe("open");
  });

  test("rememberUpgrade: a remembered transport that broke twice is forgotten", async () => {
    const storage = memoryStorage();
    const s = open({ rememberUpgrade: true, env: { storage } }, "polling", ["websocket"]);
    await upgradeToWebsocket(s);
    expect(storage.items.get(key)).toBe("websocket");
    s.websocket.last.end();
    s.polling.last.receive({ type: "noop", data: "a0" });
    await upgradeToWebsocket(s);
    s.websocket.last.end();
    expect(storage.getItem(key)).toBeFalsy();
    s.polling.last.receive({ type: "noop", data: "a0" });
    expect(storage.getItem(key)).toBeFalsy();
  });

  test("rememberUpgrade: one break leaves the memory as it is", async () => {
    const storage = memoryStorage();
    const s = open({ rememberUpgrade: true, env: { storage } }, "polling", ["websocket"]);
    await upgradeToWebsocket(s);
    s.websocket.last.end();
    s.polling.last.receive({ type: "noop", data: "a0" });
    expect(storage.items.get(key)).toBe("websocket");
  });
});

describe("a send callback that closes the session", () => {
  test("run by the reattach's 6a<M>: it runs once the session is whole again, and the close is the usual one", () => {
    const polling = fakeDefinition("polling", { pausable: true, confirmsDelivery: true });
    const websocket = fakeDefinition("websocket");
    const socket = new BareSocket(url, { transports: [websocket.definition, polling.definition], resumption });
    const events = record(socket, ["close", "resuming", "resumed"]);
    websocket.last.receiveOpen({ upgrades: [], resume: terms } as never);
    const ws = websocket.last;
    socket.send("a", () => socket.close());
    socket.send("b");
    ws.drain();
    ws.fail(new TransportError("cut", "websocket"));
    const reattach = polling.last;
    reattach.accept();
    reattach.receive({ type: "noop", data: "a1" });
    // resumed first; then the callback's close: what was queued goes out before the close packet
    expect(events.map(([name]) => name)).toEqual(["resuming", "resumed"]);
    expect(socket.state).toBe("closing");
    expect(reattach.wire).toEqual(["noop:s2", "message:b"]);
    reattach.drain();
    expect(reattach.wire).toEqual(["noop:s2", "message:b", "close"]);
    reattach.drain();
    expect(events.map(([name]) => name)).toEqual(["resuming", "resumed", "close"]);
    expect(events.at(-1)!.slice(1)).toEqual(["forced close", { unsent: [] }]);
    expect(socket.state).toBe("closed");
    expect(reattach.state).toBe("closed");
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("upgrades after a resume", () => {
  test("a session opened on WebSocket (offered no upgrade) and resumed on long-polling probes WebSocket again", () => {
    const s = open({}, "websocket");
    s.websocket.last.end();
    const reattach = s.polling.last;
    reattach.accept();
    reattach.receive({ type: "noop", data: "a0" });
    expect(s.socket.transport.name).toBe("polling");
    expect(s.websocket.instances).toHaveLength(2);
    expect(s.websocket.last.state).toBe("opening");
  });
});

describe("close()", () => {
  test("on websocket, the close packet waits for the server's acknowledgement of what was written: unsent is only what it did not get", () => {
    const s = open({}, "websocket");
    const ws = s.websocket.last;
    const calls: string[] = [];
    s.socket.send("a", () => calls.push("a"));
    s.socket.send("b", () => calls.push("b"));
    s.socket.close();
    ws.drain();
    ws.drain();
    expect(ws.wire).not.toContain("close");
    ws.receive({ type: "noop", data: "a2" });
    expect(calls).toEqual(["a", "b"]);
    expect(ws.wire.at(-1)).toBe("close");
    ws.drain();
    expect(s.events.at(-1)!.slice(0, 3)).toEqual(["close", "forced close", { unsent: [] }]);
  });

  test("with no acknowledgement, the close timer ends it and hands back what was not acknowledged", () => {
    const s = open({}, "websocket");
    const ws = s.websocket.last;
    s.socket.send("a");
    s.socket.close();
    ws.drain();
    expect(ws.wire).not.toContain("close");
    vi.advanceTimersByTime(10000);
    expect(s.events.at(-1)!.slice(0, 3)).toEqual(["close", "forced close", { unsent: ["a"] }]);
  });

  test("on an HTTP upstream, the close packet goes with what is queued, as without resumption", () => {
    const s = open();
    const polling = s.polling.last;
    s.socket.send("a");
    s.socket.send("b");
    s.socket.close();
    expect(polling.wire).toEqual(["noop:s1", "message:a"]);
    polling.drain();
    expect(polling.wire).toEqual(["noop:s1", "message:a", "noop:s2", "message:b", "close"]);
  });
});

describe("ReconnectingSocket", () => {
  function reconnecting() {
    const polling = fakeDefinition("polling", { pausable: true, confirmsDelivery: true });
    const websocket = fakeDefinition("websocket");
    const socket = new BareReconnectingSocket(url, { transports: [websocket.definition, polling.definition], resumption });
    const events = record<ReconnectingSocketEvents>(socket, ["open", "message", "error", "disconnect", "resuming", "resumed", "close", "reconnecting"]);
    websocket.last.receiveOpen({ resume: terms } as never);
    return { socket, polling, websocket, events };
  }

  test("forwards resuming and resumed; no disconnect while the session resumes", () => {
    const { socket, polling, websocket, events } = reconnecting();
    const error = new TransportError("reset", "websocket");
    websocket.last.fail(error);
    expect(socket.state).toBe("resuming");
    socket.send("during");
    polling.last.accept();
    polling.last.receive({ type: "noop", data: "a0" });
    expect(socket.state).toBe("open");
    expect(events).toEqual([["open"], ["resuming", error], ["resumed", "polling"]]);
    expect(polling.last.wire).toEqual(["noop:s1", "message:during"]);
  });

  test("a session that cannot resume: one disconnect, and what it did not deliver goes on the next session in order", () => {
    const { socket, polling, websocket, events } = reconnecting();
    const ws = websocket.last;
    socket.send("a");
    ws.drain();
    socket.send("b");
    ws.drain();
    ws.receive({ type: "noop", data: "a1" });
    ws.end();
    socket.send("c");
    polling.last.fail(new ServerError(1, "Session ID unknown", 400, "polling"));
    expect(names(events).filter((name) => name === "disconnect")).toHaveLength(1);
    const disconnect = events.find((event) => event[0] === "disconnect")!;
    expect(disconnect[1]).toBe("transport close");
    expect((disconnect[2] as { unsent: unknown[] }).unsent).toEqual([]);
    expect(names(events)).not.toContain("close");
    vi.advanceTimersToNextTimer();
    const next = websocket.last;
    expect(websocket.instances).toHaveLength(2);
    next.receiveOpen({ sid: "sid-2", resume: terms } as never);
    expect(next.wire).toEqual(["noop:s1", "message:b", "message:c"]);
  });
});
