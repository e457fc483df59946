// @vitest-environment node
// (the fakes need no DOM)
import { setImmediate as immediate } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { type Attempt, type Diagnosis, diagnose, formatDiagnosis, withoutCredentials } from "../../src/diagnose.js";
import { TransportError } from "../../src/errors.js";
import type { Packet } from "../../src/protocol.js";
import type { TransportDefinition } from "../../src/transport.js";
import { websocket as websocketTransport } from "../../src/transports/websocket.js";
import { type FakeTransport, fakeDefinition } from "./support/fake-transport.js";

const url = "http://user:secret@localhost:3000/";

// setImmediate stays real: it runs once every pending microtask has, which is when a fake
// server that is not going to answer has had its chance
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: Date.parse("2026-01-02T03:04:05.000Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Runs `promise` to the end, moving the clock to the next timer only when nothing else is left to run. */
async function drive<T>(promise: Promise<T>): Promise<T> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let step = 0; step < 10_000 && !done; step++) {
    await immediate();
    if (!done) vi.advanceTimersToNextTimer();
  }
  return promise;
}

interface Script {
  /** What the server does with a handshake on this transport (`fail-at-once`: the adapter fails inside `open()`). */
  handshake?: "open" | "refuse" | "never" | "fail-at-once";
  /** It sends every message back. */
  echo?: boolean;
  /** What the open packet offers. */
  upgrades?: string[];
  /** As an upgrade candidate: answer the probe, refuse the connection, or accept it and never answer. */
  probe?: "answer" | "refuse" | "silent";
  supported?: boolean;
  pausable?: boolean;
  /** Milliseconds the server takes to answer the handshake. */
  delay?: number;
}

/** A fake transport that plays a server following `script`; `log` receives every open and close. */
function scripted(name: string, script: Script, log: string[] = []) {
  const fake = fakeDefinition(name, { autoDrain: true, pausable: script.pausable, supported: script.supported });
  const definition: TransportDefinition = {
    name,
    supported: fake.definition.supported,
    create(context) {
      const transport = fake.definition.create(context) as FakeTransport;
      const probing = context.session.sid !== undefined;
      const open = transport.open.bind(transport);
      const send = transport.send.bind(transport);
      const close = transport.close.bind(transport);
      transport.open = () => {
        open();
        log.push(`${name} open`);
        if (!probing && script.handshake === "fail-at-once") {
          return transport.fail(new TransportError(`${name}: the URL is not valid here`, name));
        }
        void Promise.resolve().then(() => {
          if (probing) {
            if (script.probe === "refuse") transport.fail(new TransportError(`${name} refused (HTTP 400)`, name, 400));
            else transport.accept();
          } else if (script.handshake === "refuse") {
            transport.fail(new TransportError(`${name} connection refused by the proxy (HTTP 502)`, name, 502));
          } else if (script.handshake !== "never") {
            const answer = () => transport.receiveOpen({ upgrades: script.upgrades || [] });
            if (script.delay) setTimeout(answer, script.delay);
            else answer();
          }
        });
      };
      transport.send = (packets: readonly Packet[]) => {
        send(packets);
        for (const packet of packets) {
          if (packet.type === "ping" && packet.data === "probe" && script.probe === "answer") {
            void Promise.resolve().then(() => transport.receive({ type: "pong", data: "probe" }));
          }
          if (packet.type === "message" && script.echo) {
            void Promise.resolve().then(() => transport.receive({ type: "message", data: packet.data as string }));
          }
          if (packet.type === "close") void Promise.resolve().then(() => transport.end());
        }
      };
      transport.close = () => {
        if (transport.state !== "closed") log.push(`${name} close`);
        close();
      };
      return transport;
    },
  };
  return { definition, instances: fake.instances };
}

const byName = (diagnosis: Diagnosis, name: string): Attempt => diagnosis.attempts.find((attempt) => attempt.name === name)!;

describe("diagnose", () => {
  test("tries each transport alone, then the ladder, one socket at a time, each closed before the next", async () => {
    const log: string[] = [];
    const polling = scripted("polling", { handshake: "open", echo: true, upgrades: ["websocket"], pausable: true }, log);
    const websocket = scripted("websocket", { handshake: "open", echo: true, probe: "answer" }, log);
    const started: string[] = [];
    const ended: string[] = [];
    const diagnosis = await drive(
      diagnose(url, {
        transports: [polling.definition, websocket.definition],
        onStart: (name) => started.push(name),
        onAttempt: (attempt) => ended.push(attempt.name),
        userAgent: "test agent",
      }),
    );
    expect(started).toEqual(["polling", "websocket", "ladder"]);
    expect(ended).toEqual(started);
    // forced alone, polling does not upgrade; the ladder opens on polling and probes websocket,
    // whose probe is the only time two transports are open together
    expect(log).toEqual([
      "polling open",
      "polling close",
      "websocket open",
      "websocket close",
      "polling open",
      "websocket open",
      "polling close",
      "websocket close",
    ]);
    for (const transport of [...polling.instances, ...websocket.instances]) expect(transport.state).toBe("closed");
    expect(diagnosis.attempts.map((attempt) => [attempt.name, attempt.opened, attempt.transport, attempt.echo])).toEqual([
      ["polling", true, "polling", "echoed"],
      ["websocket", true, "websocket", "echoed"],
      ["ladder", true, "websocket", "echoed"],
    ]);
    expect(diagnosis.ladder).toBe("websocket");
    expect(byName(diagnosis, "ladder").openedOn).toBe("polling");
    expect(diagnosis.url).toBe("http://localhost:3000/");
    expect(diagnosis.userAgent).toBe("test agent");
    expect(diagnosis.startedAt).toBe("2026-01-02T03:04:05.000Z");
  });

  test("measures the handshake and the echo on the environment's clock", async () => {
    const slow = scripted("polling", { handshake: "open", echo: true, delay: 250 });
    const diagnosis = await drive(diagnose(url, { transports: [slow.definition] }));
    expect(byName(diagnosis, "polling").handshakeMs).toBe(250);
    expect(byName(diagnosis, "polling").echoMs).toBe(0);
    expect(diagnosis.durationMs).toBe(500);
  });

  test("a refused transport: its typed error and its trace, and the others still tried", async () => {
    const polling = scripted("polling", { handshake: "open", echo: true, upgrades: ["websocket"], pausable: true });
    const websocket = scripted("websocket", { handshake: "refuse", probe: "refuse" });
    const diagnosis = await drive(diagnose(url, { transports: [polling.definition, websocket.definition] }));
    const alone = byName(diagnosis, "websocket");
    expect(alone.opened).toBe(false);
    expect(alone.echo).toBe("not tried");
    expect(alone.error?.name).toBe("TransportError");
    expect(alone.error?.message).toMatch(/^websocket connection refused by the proxy \(HTTP 502\) \(at http:\/\/localhost:3000\/engine\.io\/\)/);
    // the trace's facts are in its details, which each line keeps as text
    expect(alone.trace.map((line) => line.topic)).toEqual(["session", "transport", "session"]);
    expect(alone.trace[0]!.facts).toContain("transport: websocket");
    expect(alone.trace[1]!.facts).toMatch(/transport: websocket.*TransportError: websocket connection refused by the proxy \(HTTP 502\)/);
    // the session's close names its reason; its error is the attempt's, already in the report
    expect(alone.trace[2]!.facts).toBe("reason: transport error, unsent: 0");
    // the ladder stays on polling, and says why
    const ladder = byName(diagnosis, "ladder");
    expect(ladder.transport).toBe("polling");
    expect(ladder.echo).toBe("echoed");
    expect(ladder.upgradeErrors).toEqual([{ name: "UpgradeError", message: expect.stringMatching(/^upgrade to websocket failed: websocket refused \(HTTP 400\)/) }]);
    expect(diagnosis.ladder).toBe("polling");
  });

  test("a server that does not echo: `no echo` after echoTimeout, not a hang, and the socket closed", async () => {
    const polling = scripted("polling", { handshake: "open", echo: false });
    const diagnosis = await drive(diagnose(url, { transports: [polling.definition], echoTimeout: 1500 }));
    const attempt = byName(diagnosis, "polling");
    expect(attempt.opened).toBe(true);
    expect(attempt.echo).toBe("no echo");
    expect(attempt.echoMs).toBeUndefined();
    expect(attempt.error).toBeUndefined();
    expect(diagnosis.durationMs).toBe(3000);
    for (const transport of polling.instances) expect(transport.wire.at(-1)).toBe("close");
  });

  test("a handshake that never comes: a HandshakeError after `timeout`, the transport closed", async () => {
    const sse = scripted("sse", { handshake: "never" });
    const diagnosis = await drive(diagnose(url, { transports: [sse.definition], timeout: 2000 }));
    for (const attempt of diagnosis.attempts) {
      expect(attempt.opened).toBe(false);
      expect(attempt.error?.name).toBe("HandshakeError");
      expect(attempt.error?.message).toMatch(/^no handshake within 2000 ms/);
    }
    expect(diagnosis.ladder).toBeUndefined();
    expect(diagnosis.durationMs).toBe(4000);
    for (const transport of sse.instances) expect(transport.state).toBe("closed");
  });

  test("a transport that fails inside the socket's constructor, before any listener: its error still reported", async () => {
    const websocket = scripted("websocket", { handshake: "fail-at-once" });
    const diagnosis = await drive(diagnose(url, { transports: [websocket.definition] }));
    for (const attempt of diagnosis.attempts) {
      expect(attempt.error).toEqual({ name: "TransportError", message: expect.stringMatching(/^websocket: the URL is not valid here/) });
    }
  });

  test("a WebSocket that cannot be made: the report names its URL without the query's tokens", async () => {
    const attempted: string[] = [];
    class BlockedWebSocket {
      constructor(address: string) {
        attempted.push(address);
        throw new SyntaxError("blocked");
      }
    }
    const diagnosis = await drive(
      diagnose("http://localhost:3000/?token=secret", {
        transports: [websocketTransport],
        socket: { env: { WebSocket: BlockedWebSocket as never } },
      }),
    );
    expect(attempted[0]).toContain("token=secret");
    const alone = byName(diagnosis, "websocket");
    expect(alone.error).toEqual({ name: "TransportError", message: expect.stringMatching(/^websocket could not be created for ws:\/\/localhost:3000\/engine\.io\//) });
    const report = formatDiagnosis(diagnosis);
    expect(report).toMatch(/could not be created/);
    expect(report).not.toContain("secret");
  });

  test("a failure whose message names a URL: its query's values left out of the error and the trace", async () => {
    const polling = scripted("polling", { handshake: "fail-at-once" });
    const fail = polling.definition.create;
    polling.definition.create = (context) => {
      const transport = fail(context) as FakeTransport;
      transport.open = () => transport.fail(new TransportError("polling GET https://localhost:3000/engine.io/?token=secret&EIO=4 failed", "polling"));
      return transport;
    };
    const diagnosis = await drive(diagnose(url, { transports: [polling.definition] }));
    const attempt = byName(diagnosis, "polling");
    expect(attempt.error!.message).toMatch(/^polling GET https:\/\/localhost:3000\/engine\.io\/\?token=…&EIO=… failed/);
    expect(attempt.trace.some((line) => (line.facts || "").includes("token=…"))).toBe(true);
    expect(JSON.stringify(diagnosis)).not.toContain("secret");
    expect(formatDiagnosis(diagnosis)).not.toContain("secret");
  });

  test("a transport this environment cannot run is reported as such and never made", async () => {
    const polling = scripted("polling", { handshake: "open", echo: true });
    const websocket = scripted("websocket", { supported: false });
    const diagnosis = await drive(diagnose(url, { transports: [polling.definition, websocket.definition] }));
    expect(byName(diagnosis, "websocket")).toMatchObject({ supported: false, opened: false, unsupportedReason: "no WebSocket" });
    expect(websocket.instances).toHaveLength(0);
    expect(diagnosis.ladder).toBe("polling");
  });

  test("the ladder waits for every probe to fail (each within `timeout`) before measuring the echo", async () => {
    const polling = scripted("polling", { handshake: "open", echo: true, upgrades: ["websocket", "sse"], pausable: true });
    const websocket = scripted("websocket", { probe: "silent" });
    const sse = scripted("sse", { probe: "refuse" });
    const diagnosis = await drive(diagnose(url, { transports: [polling.definition, websocket.definition, sse.definition], timeout: 2000 }));
    const ladder = byName(diagnosis, "ladder");
    expect(ladder.upgradeErrors.map((error) => error.message)).toEqual([
      "upgrade to websocket failed: no probe answer within 2000 ms (at http://localhost:3000/engine.io/)",
      "upgrade to sse failed: sse refused (HTTP 400) (at http://localhost:3000/engine.io/)",
    ]);
    expect(ladder.transport).toBe("polling");
    expect(ladder.echo).toBe("echoed");
  });
});

describe("formatDiagnosis", () => {
  const attempt = (fields: Partial<Attempt>): Attempt => ({
    name: "polling",
    supported: true,
    opened: true,
    echo: "echoed",
    upgradeErrors: [],
    trace: [],
    ...fields,
  });
  const diagnosis: Diagnosis = {
    url: "https://user:pw@chat.example/",
    userAgent: "Mozilla/5.0 test",
    startedAt: "2026-01-02T03:04:05.000Z",
    durationMs: 4321,
    timeout: 10000,
    echoTimeout: 3000,
    ladder: "polling",
    attempts: [
      attempt({ name: "polling", transport: "polling", handshakeMs: 12.4, echoMs: 3, trace: [{ at: 0, topic: "session", message: "opening on polling" }] }),
      attempt({
        name: "websocket",
        opened: false,
        echo: "not tried",
        error: { name: "TransportError", message: "websocket closed before opening (code 1006)" },
        trace: [
          { at: 0, topic: "session", message: "opening on websocket" },
          { at: 5.2, topic: "transport", message: "failed", facts: "transport: websocket, reason: closed before opening" },
        ],
      }),
      attempt({ name: "short-polling", transport: "short-polling", handshakeMs: 20, echo: "no echo" }),
      attempt({ name: "iframe", supported: false, opened: false, echo: "not tried", unsupportedReason: "no document, or the page has an opaque origin" }),
      attempt({
        name: "ladder",
        openedOn: "polling",
        transport: "polling",
        handshakeMs: 9,
        echoMs: 2,
        upgradeErrors: [{ name: "UpgradeError", message: "upgrade to websocket failed: closed during the probe" }],
        trace: [{ at: 9, topic: "probe", message: "probing websocket" }],
      }),
    ],
  };

  test("a plain-text report: where, who, when, the ladder's end, a line per transport, why each failure", () => {
    expect(formatDiagnosis(diagnosis)).toBe(
      [
        "cometa diagnosis",
        "URL:         https://chat.example/",
        "User agent:  Mozilla/5.0 test",
        "Started:     2026-01-02T03:04:05.000Z (took 4.3 s)",
        "Ladder:      ended on polling",
        "Working:     polling",
        "",
        "polling        opened  handshake 12 ms  echo 3 ms",
        "websocket      FAILED  TransportError: websocket closed before opening (code 1006)",
        "                 +0 ms [session] opening on websocket",
        "                 +5 ms [transport] failed (transport: websocket, reason: closed before opening)",
        "short-polling  opened  handshake 20 ms  no echo within 3000 ms",
        "iframe         not supported here: no document, or the page has an opaque origin",
        "ladder         opened on polling, ended on polling  handshake 9 ms  echo 2 ms",
        "                 UpgradeError: upgrade to websocket failed: closed during the probe",
        "                 +9 ms [probe] probing websocket",
        "",
      ].join("\n"),
    );
  });

  test("a ladder that did not open is said so", () => {
    expect(formatDiagnosis({ ...diagnosis, ladder: undefined, attempts: [] })).toContain("Ladder:      did not open\nWorking:     none\n");
  });
});

describe("withoutCredentials", () => {
  test("drops the user name and password and the query's values, of absolute and relative URLs", () => {
    expect(withoutCredentials("https://ann:pw@chat.example:8443/app/?token=s3cret&room=1#x")).toBe("https://chat.example:8443/app/?token=…&room=…");
    expect(withoutCredentials("wss://ann@chat.example/a@b")).toBe("wss://chat.example/a@b");
    expect(withoutCredentials("//ann:pw@chat.example/x")).toBe("//chat.example/x");
    expect(withoutCredentials("/engine.io/?EIO=4")).toBe("/engine.io/?EIO=…");
    expect(withoutCredentials("http://chat.example/")).toBe("http://chat.example/");
  });
});
