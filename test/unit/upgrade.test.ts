// @vitest-environment node
// (no DOM needed here; jsdom is for the files that use XHR, location or its realm)
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { resolveEnvironment } from "../../src/env.js";
import { TransportError, UpgradeError } from "../../src/errors.js";
import { BareSocket } from "../../src/socket.js";
import type { Trace } from "../../src/trace.js";
import type { Transport, TransportDefinition } from "../../src/transport.js";
import { startUpgrades, type UpgradeHost } from "../../src/upgrade.js";
import { makeContext } from "./support/context.js";
import { record, settle } from "../support/events.js";
import { type FakeTransport, fakeDefinition } from "./support/fake-transport.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A host that writes what the upgrade manager tells it into the shared journal. */
function setup(candidateNames: string[] = ["websocket"], probeTimeout = 1000, trace?: Trace) {
  const journal: string[] = [];
  const env = resolveEnvironment();
  const context = makeContext(env, {}, { sid: "sid-1" });
  const polling = fakeDefinition("polling", { pausable: true }, journal);
  const current = polling.definition.create(context) as FakeTransport;
  current.accept();
  const candidates = candidateNames.map((name) => fakeDefinition(name, { autoDrain: true }, journal));
  const failures: UpgradeError[] = [];
  const upgraded: { candidate: Transport; early: unknown[] }[] = [];
  const host: UpgradeHost = {
    env,
    probeTimeout,
    trace,
    current: () => current,
    create: (definition: TransportDefinition) => definition.create(context),
    upgrading: (name) => journal.push(`upgrading ${name}`),
    upgraded: (candidate, early) => {
      journal.push(`upgraded ${candidate.name}`);
      upgraded.push({ candidate, early });
    },
    failed: (error) => {
      journal.push(`failed ${error.transport}`);
      failures.push(error);
    },
  };
  const start = () => startUpgrades(host, candidates.map((candidate) => candidate.definition));
  return { journal, current, candidates, failures, upgraded, start };
}

describe("startUpgrades", () => {
  test("success: probe, upgrading, pause, 5 on the candidate, upgraded", async () => {
    const { journal, current, candidates, upgraded, failures, start } = setup();
    start();
    const ws = candidates[0]!.last;
    expect(ws.openCalls).toBe(1);
    ws.accept();
    expect(ws.wire).toEqual(["ping:probe"]);
    await settle();
    ws.receive({ type: "pong", data: "probe" });
    await settle();
    expect(journal).toEqual([
      "websocket:open()",
      "websocket:send ping:probe",
      "upgrading websocket",
      "polling:pause",
      "websocket:send upgrade",
      "upgraded websocket",
    ]);
    expect(ws.wire).toEqual(["ping:probe", "upgrade"]);
    expect(upgraded).toEqual([{ candidate: ws, early: [] }]);
    expect(failures).toEqual([]);
    expect(ws.closeCalls).toBe(0);
    // nothing is left armed: the probe timer was cleared
    expect(vi.getTimerCount()).toBe(0);
    expect(current.state).toBe("paused");
  });

  test("the swap waits until the current transport finished pausing", async () => {
    const { journal, current, candidates, start } = setup();
    current.holdPause = true; // a GET still in flight
    start();
    const ws = candidates[0]!.last;
    ws.accept();
    await settle();
    ws.receive({ type: "pong", data: "probe" });
    await settle();
    expect(current.state).toBe("pausing");
    expect(journal).not.toContain("websocket:send upgrade");
    current.completePause();
    await settle();
    expect(journal.slice(-2)).toEqual(["websocket:send upgrade", "upgraded websocket"]);
  });

  test("a candidate still sending the probe drains before 5 is sent", async () => {
    const journal: string[] = [];
    const env = resolveEnvironment();
    const context = makeContext(env);
    const current = fakeDefinition("polling", { pausable: true }, journal).definition.create(context) as FakeTransport;
    current.accept();
    const slow = fakeDefinition("xhr-streaming", {}, journal); // drains only when told
    startUpgrades(
      {
        env,
        probeTimeout: 1000,
        current: () => current,
        create: (definition) => definition.create(context),
        upgrading: () => {},
        upgraded: (candidate) => journal.push(`upgraded ${candidate.name}`),
        failed: () => journal.push("failed"),
      },
      [slow.definition],
    );
    slow.last.accept();
    slow.last.receive({ type: "pong", data: "probe" });
    await settle();
    expect(slow.last.wire).toEqual(["ping:probe"]);
    slow.last.drain();
    await settle();
    expect(slow.last.wire).toEqual(["ping:probe", "upgrade"]);
    expect(journal.at(-1)).toBe("upgraded xhr-streaming");
  });

  test("packets other than the probe pong are kept as early packets, in order", async () => {
    const { candidates, upgraded, start, current } = setup();
    current.holdPause = true;
    start();
    const ws = candidates[0]!.last;
    ws.accept();
    ws.receive({ type: "message", data: "before pong" });
    ws.receive({ type: "pong", data: "probe" });
    ws.receive({ type: "message", data: "while pausing" });
    ws.receive({ type: "pong", data: "probe" });
    current.completePause();
    await settle();
    expect(upgraded[0]!.early).toEqual([
      { type: "message", data: "before pong" },
      { type: "message", data: "while pausing" },
      { type: "pong", data: "probe" },
    ]);
  });

  test("a pong that is not the probe's does not start the pause", async () => {
    const { journal, candidates, start } = setup();
    start();
    const ws = candidates[0]!.last;
    ws.accept();
    ws.receive({ type: "pong", data: "other" });
    ws.receive({ type: "pong" });
    await settle();
    expect(journal).not.toContain("polling:pause");
  });

  test("probe timeout: upgradeError, the candidate closed, the next candidate tried", async () => {
    const { journal, candidates, failures, start, current } = setup(["websocket", "sse"], 1000);
    start();
    const ws = candidates[0]!.last;
    ws.accept();
    vi.advanceTimersByTime(999);
    expect(failures).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(UpgradeError);
    expect(failures[0]!.transport).toBe("websocket");
    expect(failures[0]!.message).toMatch(/1000 ms/);
    expect(ws.state).toBe("closed");
    expect(candidates[1]!.instances).toHaveLength(1);
    expect(candidates[1]!.last.openCalls).toBe(1);
    expect(journal).not.toContain("polling:resume"); // never paused
    expect(current.state).toBe("open");
  });

  test("probe timeout during the pause resumes the current transport", async () => {
    const { journal, candidates, failures, start, current, upgraded } = setup(["websocket", "sse"], 1000);
    current.holdPause = true; // the pause cannot complete: a held request
    start();
    const ws = candidates[0]!.last;
    ws.accept();
    ws.receive({ type: "pong", data: "probe" });
    await settle();
    expect(current.state).toBe("pausing");
    vi.advanceTimersByTime(1000);
    expect(failures.map((error) => error.transport)).toEqual(["websocket"]);
    expect(journal).toContain("polling:resume");
    expect(current.state).toBe("open");
    expect(ws.state).toBe("closed");
    // the pause completing late must not swap to the abandoned candidate
    current.completePause();
    await settle();
    expect(upgraded).toEqual([]);
    expect(candidates[1]!.instances).toHaveLength(1);
  });

  test("candidate error: upgradeError with the cause, next candidate", () => {
    const { candidates, failures, start } = setup(["websocket", "sse"]);
    start();
    const cause = new TransportError("websocket connection failed", "websocket");
    candidates[0]!.last.fail(cause);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.cause).toBe(cause);
    expect(failures[0]!.transport).toBe("websocket");
    expect(candidates[1]!.instances).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(1); // only the second probe's timer
  });

  test("candidate closing during the probe: next candidate", () => {
    const { candidates, failures, start } = setup(["websocket", "sse"]);
    start();
    candidates[0]!.last.accept();
    candidates[0]!.last.end();
    expect(failures.map((error) => error.transport)).toEqual(["websocket"]);
    expect(candidates[1]!.instances).toHaveLength(1);
  });

  test("every candidate failing leaves the current transport as it was", () => {
    const { candidates, failures, start, current } = setup(["websocket", "sse"]);
    start();
    candidates[0]!.last.fail(new TransportError("x", "websocket"));
    candidates[1]!.last.fail(new TransportError("y", "sse"));
    expect(failures.map((error) => error.transport)).toEqual(["websocket", "sse"]);
    expect(current.state).toBe("open");
    expect(vi.getTimerCount()).toBe(0);
  });

  test("cancel() closes the candidate, reports nothing, tries nothing else", () => {
    const { candidates, failures, start } = setup(["websocket", "sse"]);
    const upgrader = start();
    const ws = candidates[0]!.last;
    ws.accept();
    upgrader.cancel();
    expect(ws.state).toBe("closed");
    expect(failures).toEqual([]);
    expect(candidates[1]!.instances).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  test("cancel() during the pause resumes the current transport and never swaps", async () => {
    const { journal, candidates, start, current, upgraded } = setup();
    current.holdPause = true;
    const upgrader = start();
    const ws = candidates[0]!.last;
    ws.accept();
    ws.receive({ type: "pong", data: "probe" });
    await settle();
    upgrader.cancel();
    expect(journal).toContain("polling:resume");
    expect(ws.state).toBe("closed");
    current.completePause();
    await settle();
    expect(upgraded).toEqual([]);
  });
});

describe("upgrade through BareSocket", () => {
  function openSocket(options: { upgrade?: boolean } = {}) {
    const journal: string[] = [];
    const polling = fakeDefinition("polling", { pausable: true }, journal);
    const websocket = fakeDefinition("websocket", {}, journal);
    const socket = new BareSocket("http://localhost:3000", {
      transports: [polling.definition, websocket.definition],
      ...options,
    });
    const events = record(socket, ["open", "upgrading", "upgrade", "upgradeError", "message", "drain", "error", "close"]);
    socket.on("upgrading", (name) => journal.push(`socket upgrading ${name}`));
    socket.on("upgrade", (name) => journal.push(`socket upgrade ${name}`));
    polling.last.receiveOpen({ upgrades: ["websocket"] });
    return { socket, journal, polling, websocket, events };
  }

  test("order of events: upgrading, pause, 5 on the candidate, upgrade", async () => {
    const { socket, journal, polling, websocket, events } = openSocket();
    const ws = websocket.last;
    ws.accept();
    ws.drain(); // the probe
    ws.receive({ type: "pong", data: "probe" });
    await settle();
    expect(journal).toEqual([
      "polling:open()",
      "websocket:open()",
      "websocket:send ping:probe",
      "socket upgrading websocket",
      "polling:pause",
      "websocket:send upgrade",
      "polling:close()",
      "socket upgrade websocket",
    ]);
    expect(events.map((event) => event[0])).toEqual(["open", "upgrading", "upgrade"]);
    expect(events.slice(1)).toEqual([
      ["upgrading", "websocket"],
      ["upgrade", "websocket"],
    ]);
    expect(socket.transport).toBe(ws);
    expect(polling.last.state).toBe("closed");
  });

  test("upgrade: false probes nothing", () => {
    const { websocket } = openSocket({ upgrade: false });
    expect(websocket.instances).toHaveLength(0);
  });

  test("packets written during the upgrade go out on the new transport, in order, exactly once", async () => {
    const { socket, polling, websocket } = openSocket();
    const callbacks: string[] = [];
    const send = (text: string) => socket.send(text, () => callbacks.push(text));
    send("a"); // in flight on polling
    const ws = websocket.last;
    ws.accept();
    ws.drain();
    send("b");
    ws.receive({ type: "pong", data: "probe" });
    await settle();
    send("c");
    expect(polling.last.state).toBe("pausing"); // waiting for the POST of "a"
    polling.last.drain();
    await settle();
    send("d");
    expect(ws.wire).toEqual(["ping:probe", "upgrade"]);
    ws.drain(); // the 5
    expect(ws.wire).toEqual(["ping:probe", "upgrade", "message:b", "message:c", "message:d"]);
    ws.drain();
    send("e");
    ws.drain();
    expect(polling.last.wire).toEqual(["message:a"]);
    expect(ws.wire.filter((packet) => packet.startsWith("message"))).toEqual([
      "message:b",
      "message:c",
      "message:d",
      "message:e",
    ]);
    expect(callbacks).toEqual(["a", "b", "c", "d", "e"]);
  });

  test("early packets are replayed after the swap, after the upgrade event", async () => {
    const { polling, websocket, events } = openSocket();
    polling.last.holdPause = true;
    const ws = websocket.last;
    ws.accept();
    ws.drain();
    ws.receive({ type: "message", data: "early 1" });
    ws.receive({ type: "pong", data: "probe" });
    ws.receive({ type: "message", data: "early 2" });
    polling.last.receive({ type: "message", data: "last on polling" });
    await settle();
    expect(events.filter((event) => event[0] === "message")).toEqual([["message", "last on polling"]]);
    polling.last.completePause();
    await settle();
    expect(events.map((event) => event.slice(0, 2))).toEqual([
      ["open"],
      ["upgrading", "websocket"],
      ["message", "last on polling"],
      ["upgrade", "websocket"],
      ["message", "early 1"],
      ["message", "early 2"],
    ]);
  });

  test("an early ping is answered on the new transport", async () => {
    const { websocket } = openSocket();
    const ws = websocket.last;
    ws.accept();
    ws.drain();
    ws.receive({ type: "ping" });
    ws.receive({ type: "pong", data: "probe" });
    await settle();
    ws.drain();
    expect(ws.wire).toEqual(["ping:probe", "upgrade", "pong"]);
  });

  test("a replaced transport cannot deliver into the session", async () => {
    const { polling, websocket, events } = openSocket();
    const ws = websocket.last;
    ws.accept();
    ws.drain();
    ws.receive({ type: "pong", data: "probe" });
    await settle();
    const old = polling.last;
    // straight through its emitter, as a buggy adapter would after close
    old.events.emit("packet", { type: "message", data: "stale" });
    old.events.emit("error", new TransportError("late", "polling"));
    old.events.emit("close");
    expect(events.map((event) => event[0])).toEqual(["open", "upgrading", "upgrade"]);
    ws.receive({ type: "message", data: "fresh" });
    expect(events.at(-1)).toEqual(["message", "fresh"]);
  });

  test("a failed upgrade: upgradeError, the session stays on polling and keeps sending", async () => {
    const { socket, polling, websocket, events } = openSocket();
    websocket.last.fail(new TransportError("websocket connection failed", "websocket"));
    expect(events.map((event) => event[0])).toEqual(["open", "upgradeError"]);
    expect(socket.state).toBe("open");
    expect(socket.transport).toBe(polling.last);
    socket.send("still here");
    expect(polling.last.wire).toEqual(["message:still here"]);
  });

  test("messages written while paused for an upgrade that then times out are sent when polling resumes", async () => {
    const { socket, polling, websocket, events } = openSocket();
    polling.last.holdPause = true; // e.g. the held GET has not returned
    const ws = websocket.last;
    ws.accept();
    ws.drain();
    ws.receive({ type: "pong", data: "probe" });
    await settle();
    socket.send("queued during the pause");
    expect(polling.last.wire).toEqual([]);
    vi.advanceTimersByTime(10_000); // the default probeTimeout
    expect(events.map((event) => event[0])).toEqual(["open", "upgrading", "upgradeError"]);
    expect(polling.last.state).toBe("open");
    await settle();
    // nothing else will trigger a flush until the next send or ping, which may be 25 s away
    expect(polling.last.wire).toEqual(["message:queued during the pause"]);
  });

  test("close() during the upgrade closes the candidate and sends the close packet on polling", async () => {
    const { socket, polling, websocket, events } = openSocket();
    polling.last.holdPause = true;
    const ws = websocket.last;
    ws.accept();
    ws.drain();
    ws.receive({ type: "pong", data: "probe" });
    await settle();
    socket.close();
    expect(ws.state).toBe("closed");
    expect(polling.last.wire).toEqual(["close"]);
    polling.last.drain();
    expect(events.at(-1)).toEqual(["close", "forced close", { error: undefined, unsent: [] }]);
    expect(events.map((event) => event[0])).not.toContain("upgrade");
  });

  test("the socket closing mid-probe cancels the probe", () => {
    const { polling, websocket, events } = openSocket();
    websocket.last.accept();
    polling.last.receive({ type: "close" });
    expect(websocket.last.state).toBe("closed");
    expect(events.map((event) => event[0])).toEqual(["open", "close"]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("trace", () => {
  function traced(candidateNames?: string[], probeTimeout?: number) {
    const lines: unknown[][] = [];
    const setupResult = setup(candidateNames, probeTimeout, (topic, message, detail) => lines.push([topic, message, detail]));
    return { ...setupResult, lines };
  }

  test("a probe that gets no answer: started, then failed with the reason", () => {
    const { candidates, start, lines } = traced(["websocket"], 1000);
    start();
    candidates[0]!.last.accept();
    vi.advanceTimersByTime(1000);
    expect(lines).toEqual([
      ["probe", "probing websocket", { transport: "websocket", from: "polling" }],
      [
        "probe",
        "websocket failed: no probe answer within 1000 ms",
        { transport: "websocket", reason: "no probe answer within 1000 ms", error: undefined },
      ],
    ]);
  });

  test("a probe whose transport fails: the transport's error is the reason, and the next candidate is probed", () => {
    const { candidates, start, lines } = traced(["websocket", "sse"]);
    start();
    const refused = new TransportError("websocket connection failed", "websocket");
    candidates[0]!.last.fail(refused);
    expect(lines).toEqual([
      ["probe", "probing websocket", { transport: "websocket", from: "polling" }],
      ["probe", "websocket failed: websocket connection failed", { transport: "websocket", reason: refused.message, error: refused }],
      ["probe", "probing sse", { transport: "sse", from: "polling" }],
    ]);
  });

  test("a probe that succeeds: answered, upgraded (the pause is the transport's to trace)", async () => {
    const { candidates, start, lines } = traced();
    start();
    const ws = candidates[0]!.last;
    ws.accept();
    await settle();
    ws.receive({ type: "pong", data: "probe" });
    await settle();
    expect(lines).toEqual([
      ["probe", "probing websocket", { transport: "websocket", from: "polling" }],
      ["probe", "answered", { transport: "websocket" }],
      ["upgrade", "upgraded", { transport: "websocket", from: "polling" }],
    ]);
  });
});
