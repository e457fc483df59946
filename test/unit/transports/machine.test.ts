// @vitest-environment node
import { describe, expect, test, vi } from "vitest";
import { resolveEnvironment } from "../../../src/env.js";
import { ServerError, TransportError } from "../../../src/errors.js";
import type { Packet } from "../../../src/protocol.js";
import type { Trace } from "../../../src/trace.js";
import { createTransport, type Report } from "../../../src/transports/machine.js";
import { makeContext } from "../support/context.js";
import { record } from "../../support/events.js";

/** A transport over two fake parts whose `busy` the test sets and whose calls it reads. */
function setup({ writable, pausable }: { writable?: boolean; pausable?: boolean } = { writable: true, pausable: true }) {
  const trace = vi.fn<Trace>();
  const context = { ...makeContext(resolveEnvironment()), trace };
  const down = { busy: false, next: vi.fn<(now?: boolean) => void>(), hold: vi.fn(), stop: vi.fn() };
  const up = { busy: false, send: vi.fn<(packets: readonly Packet[]) => void>(), stop: vi.fn() };
  let report!: Report;
  const transport = createTransport("polling", context, (r) => {
    report = r;
    return { down, up, writable, _pausable: pausable };
  });
  const events = record(transport, ["open", "packet", "drain", "error", "close"]);
  const names = () => events.map(([name]) => name);
  return { transport, report, down, up, events, names, trace };
}

describe("a write refused as Session ID unknown while a poll or stream is open", () => {
  const unknown = () => new ServerError(1, "Session ID unknown", 400, "polling");
  function refusedWrite() {
    const s = setup();
    s.transport.open();
    s.report.opened();
    s.down.busy = true;
    s.transport.send([{ type: "pong" }]);
    s.report.end(unknown());
    return s;
  }

  test("waits for the open response: the server's close packet on it makes a plain close", () => {
    const { transport, report, up, names } = refusedWrite();
    expect(up.stop).toHaveBeenCalled();
    expect(transport.state).toBe("open");
    expect(names()).toEqual(["open"]);
    report.packet({ type: "message", data: "last" });
    report.serverClosed();
    expect(names()).toEqual(["open", "packet", "close"]);
  });

  test("the response ending without a close packet ends with the refusal", () => {
    const { report, down, events, names } = refusedWrite();
    down.busy = false;
    report.idle();
    expect(down.next).toHaveBeenCalledTimes(1);
    expect(names()).toEqual(["open", "error", "close"]);
    expect(events[1]![1]).toBeInstanceOf(ServerError);
  });

  test("a response that stays open is waited for 1 s at most, then the refusal ends it", () => {
    vi.useFakeTimers();
    try {
      const { transport, names } = refusedWrite();
      vi.advanceTimersByTime(999);
      expect(transport.state).toBe("open");
      vi.advanceTimersByTime(1);
      expect(names()).toEqual(["open", "error", "close"]);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  test("a refusal with nothing open downstream (its own poll or stream) ends at once", () => {
    const { transport, report, names } = setup();
    transport.open();
    report.opened();
    report.end(unknown());
    expect(names()).toEqual(["open", "error", "close"]);
  });
});

describe("createTransport: the one owner of state and writable", () => {
  test("open() starts the downstream at once; opened moves opening → open, once", () => {
    const { transport, report, down, names } = setup();
    expect(transport.state).toBe("opening");
    transport.open();
    expect(down.next).toHaveBeenCalledWith(true);
    report.opened();
    report.opened();
    expect(transport.state).toBe("open");
    expect(names()).toEqual(["open"]);
  });

  test("open() on a closed transport starts nothing", () => {
    const { transport, down } = setup();
    transport.close();
    transport.open();
    expect(down.next).not.toHaveBeenCalled();
  });

  test("an HTTP transport is writable before it opens; a WebSocket only once open", () => {
    expect(setup().transport.writable).toBe(true);
    const { transport, report } = setup({});
    expect(transport.writable).toBe(false);
    report.opened();
    expect(transport.writable).toBe(true);
  });

  test("opening while a send is in flight stays unwritable until it is sent", () => {
    const { transport, report, up } = setup({});
    transport.send([{ type: "ping", data: "probe" }]);
    up.busy = true;
    report.opened();
    expect(transport.writable).toBe(false);
    up.busy = false;
    report.sent();
    expect(transport.writable).toBe(true);
  });

  test("a packet before `opened` opens first; packets are emitted in order", () => {
    const { report, events } = setup();
    report.packet({ type: "message", data: "a" });
    report.packet({ type: "message", data: "b" });
    expect(events).toEqual([["open"], ["packet", { type: "message", data: "a" }], ["packet", { type: "message", data: "b" }]]);
  });

  test("send: not writable until the upstream reports sent, then drain", () => {
    const { transport, report, up, names } = setup();
    transport.send([{ type: "message", data: "x" }]);
    expect(up.send).toHaveBeenCalledWith([{ type: "message", data: "x" }]);
    expect(transport.writable).toBe(false);
    report.sent();
    expect(transport.writable).toBe(true);
    expect(names()).toEqual(["drain"]);
  });

  test("end with an error: both parts stopped before listeners run, then error, then close; once; traced with the reason", () => {
    const { transport, report, down, up, events, trace } = setup();
    const error = new TransportError("polling GET failed: network error", "polling");
    transport.on("error", () => {
      expect(down.stop).toHaveBeenCalledTimes(1);
      expect(up.stop).toHaveBeenCalledTimes(1);
      expect(transport.state).toBe("closed");
      expect(transport.writable).toBe(false);
    });
    report.end(error);
    report.end(new TransportError("y", "polling"));
    transport.close();
    expect(events).toEqual([["error", error], ["close"]]);
    expect(down.stop).toHaveBeenCalledTimes(1);
    expect(trace).toHaveBeenCalledWith("transport", "failed", { transport: "polling", reason: error.message });
  });

  test("close(): close without error, once; nothing is emitted after it", () => {
    const { transport, report, names, trace } = setup();
    report.opened();
    transport.close();
    transport.close();
    report.packet({ type: "message", data: "late" });
    report.sent();
    report.end(new TransportError("late", "polling"));
    expect(names()).toEqual(["open", "close"]);
    expect(transport.writable).toBe(false);
    expect(trace).not.toHaveBeenCalled();
  });

  test("idle: the next poll, with the poll delay (or the stream reopened)", () => {
    const { report, down } = setup();
    report.idle();
    expect(down.next).toHaveBeenCalledWith();
  });

  test("a close packet sent: no new poll or reopen; the end once both parts are idle", () => {
    const { transport, report, down, up, names } = setup();
    transport.send([{ type: "close" }]);
    up.busy = true;
    report.idle();
    expect(down.next).not.toHaveBeenCalled();
    expect(names()).toEqual([]);
    up.busy = false;
    report.idle();
    expect(down.next).not.toHaveBeenCalled();
    expect(names()).toEqual(["close"]);
  });

  test("a close packet sent: a poll refused behind it ends nothing early and is no failure", () => {
    // the close packet's POST reached the server before a GET already on its way: the GET gets
    // a 400 for the session the close just ended
    const posting = setup();
    posting.report.opened();
    posting.transport.send([{ type: "close" }]);
    posting.up.busy = true;
    posting.report.end(new TransportError("polling request failed with HTTP 400", "polling", 400));
    expect(posting.down.stop).toHaveBeenCalled();
    expect(posting.up.stop).not.toHaveBeenCalled();
    expect(posting.names()).toEqual(["open"]);
    posting.up.busy = false;
    posting.report.sent();
    expect(posting.names()).toEqual(["open", "drain"]);

    const answered = setup();
    answered.report.opened();
    answered.transport.send([{ type: "close" }]);
    answered.report.end(new TransportError("polling request failed with HTTP 400", "polling", 400));
    expect(answered.names()).toEqual(["open", "close"]);
  });

  test("the server's close packet with nothing in flight: close at once", () => {
    const { report, names } = setup();
    report.packet({ type: "close" });
    report.serverClosed();
    expect(names()).toEqual(["open", "packet", "close"]);
  });

  test("the server's close packet with a POST in flight: close once it is answered, even refused", () => {
    const sent = setup();
    sent.transport.send([{ type: "message", data: "x" }]);
    sent.up.busy = true;
    sent.report.serverClosed();
    expect(sent.names()).toEqual([]);
    sent.up.busy = false;
    sent.report.sent();
    expect(sent.names()).toEqual(["drain", "close"]);

    const refused = setup();
    refused.transport.send([{ type: "message", data: "x" }]);
    refused.up.busy = true;
    refused.report.serverClosed();
    refused.up.busy = false;
    refused.report.end(new TransportError("polling request failed with HTTP 400", "polling", 400));
    expect(refused.names()).toEqual(["close"]);
  });

  test("end without an error: the connection went away after opening, a close without error", () => {
    const { report, names } = setup({});
    report.opened();
    report.end();
    expect(names()).toEqual(["open", "close"]);
  });

  test("pause waits for the GET and the POST in flight, and drops a poll waiting for its timer", async () => {
    const { transport, report, down, up, trace } = setup();
    report.opened();
    down.busy = up.busy = true;
    let paused = false;
    const pausing = transport.pause!().then(() => (paused = true));
    expect(transport.state).toBe("pausing");
    expect(down.hold).toHaveBeenCalledTimes(1);
    expect(trace).toHaveBeenCalledWith("upgrade", "pausing", {
      transport: "polling",
      get: true,
      post: true,
    });
    down.busy = false;
    report.idle();
    expect(down.next).not.toHaveBeenCalled();
    expect(transport.state).toBe("pausing");
    up.busy = false;
    report.sent();
    expect(transport.state).toBe("paused");
    await pausing;
    expect(paused).toBe(true);
    expect(trace).toHaveBeenCalledWith("upgrade", "paused", { transport: "polling" });
  });

  test("resume after a failed upgrade: open again, and a poll at once when none is in flight", async () => {
    const { transport, report, down, trace } = setup();
    report.opened();
    await transport.pause!();
    expect(transport.state).toBe("paused");
    transport.resume!();
    expect(transport.state).toBe("open");
    expect(down.next).toHaveBeenCalledWith(true);
    expect(trace).toHaveBeenCalledWith("upgrade", "resumed", { transport: "polling" });
    transport.resume!();
    expect(down.next).toHaveBeenCalledTimes(1);
  });

  test("pause on a closed transport resolves at once; only pausable transports have pause", async () => {
    const { transport } = setup();
    transport.close();
    await transport.pause!();
    expect(transport.state).toBe("closed");
    const stream = setup({ writable: true });
    expect(stream.transport.pause).toBeUndefined();
    expect(stream.transport.resume).toBeUndefined();
  });
});
