/**
 * Exactly once and in order, both ways, through 20 seconds of random network faults: cuts,
 * resets and black holes (each followed by its restore) every 50 to 500 ms, through the fault
 * proxy, while 5,000 messages flow each way, paced over the run. One resumable session
 * (cometa/server) on each transport Node can force and on the default ladder, the six cases
 * at once, each with its own server and proxy. The faults come from a seeded generator:
 * `CHAOS_SEED=<seed printed by a run> npx vitest run test/network/chaos.test.ts` replays them.
 */
import { createServer, type Server as HttpServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Socket as EngineSocket } from "engine.io";
import { afterAll, describe, expect, test, vi } from "vitest";
import { Socket } from "../../src/index.js";
import type { SocketOptions } from "../../src/socket.js";
import { attach, type Server as CometaServer } from "../../src/server/index.js";
import { deliveryReport, exactly, runSeed, seededRandom } from "../support/delivery.js";
import { nodeEnv } from "../support/node-env.js";
import { failOnClose, within } from "../support/events.js";
import { type Chaos, faultSummary, startChaos } from "./support/chaos.js";
import { startFaultProxy } from "./support/fault-proxy.js";
import { measure, printMeasurements } from "./support/scenario.js";

const seed = runSeed();
afterAll(() => printMeasurements(`chaos (CHAOS_SEED=${seed}):`));

const chaosMs = 20_000;
const count = 5000;
/** A heartbeat that finds a black hole within half a second. */
const heartbeat = { pingInterval: 300, pingTimeout: 200 };
/**
 * Well above the longest fault (400 ms), and longer than the run's faults themselves: faults
 * every 50 to 500 ms also spoil reattach tries (a try that rides a pooled connection a black
 * hole left silent waits out its timeout), so a 10 s window can pass while faults go on
 * (measured: about one case in twelve). The window must outlast them, whatever the policy of tries.
 */
const resumeWindow = 30_000;

/**
 * Mostly short texts, every 97th one of 4 KB, so writes and responses carry batches of mixed
 * size, and every 101st binary (base64 on the text-only transports), with bytes that break
 * naive framing.
 */
const message = (side: "c" | "s", i: number): string | Buffer => {
  if (i % 101 === 50) return Buffer.concat([Buffer.from(`${side} ${i} `), Buffer.from([0, 255, 0x1e, 10, 13, i & 255, i >> 8])]);
  return i % 97 === 0 ? `${side} ${i} ${"x".repeat(4096)}` : `${side} ${i}`;
};
/** A message as compared: text as it is, binary (Buffer on the server, ArrayBuffer on the client) as `bin <hex>`. */
const plain = (data: unknown): string =>
  typeof data === "string" ? data : data instanceof ArrayBuffer || ArrayBuffer.isView(data) ? `bin ${Buffer.from(data as Uint8Array).toString("hex")}` : String(data);
const all = (side: "c" | "s") => Array.from({ length: count }, (_, i) => message(side, i));

/**
 * cometa/server on its own HTTP server, closed by the caller: the six cases run at once, and
 * vitest's onTestFinished (which test/support/server.ts registers with) cannot tell
 * concurrent tests apart.
 */
async function serve(): Promise<{ engine: CometaServer; http: HttpServer; port: number; close(): Promise<void> }> {
  const http = createServer();
  const engine = attach(http, { ...heartbeat, maxHttpBufferSize: 2e6, resume: { window: resumeWindow } });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      engine.close();
      http.closeAllConnections();
      http.close(() => resolve());
    });
  return { engine, http, port: (http.address() as AddressInfo).port, close };
}

/**
 * Calls `send(i)` for i in [0, total), spread evenly over `duration` ms, until `send` returns
 * false (its side is gone) or `stop()`.
 */
function paced(total: number, duration: number, send: (i: number) => boolean): { done: Promise<void>; stop(): void } {
  const startedAt = Date.now();
  let sent = 0;
  let stop = () => {};
  const done = new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.ceil(((Date.now() - startedAt) / duration) * total));
      while (sent < due) if (!send(sent++)) return stop();
      if (sent >= total) stop();
    }, 20);
    stop = () => {
      clearInterval(timer);
      resolve();
    };
  });
  return { done, stop: () => stop() };
}

const cases: { name: string; options: SocketOptions }[] = [
  { name: "polling", options: { transports: ["polling"] } },
  { name: "websocket", options: { transports: ["websocket"] } },
  { name: "sse", options: { transports: ["sse"] } },
  { name: "xhr-streaming", options: { transports: ["xhr-streaming"] } },
  { name: "short-polling", options: { transports: ["short-polling"], pollInterval: 50 } },
  { name: "the default ladder", options: {} },
];

// all six at once (vitest runs five concurrent tests at a time by default): about 25 s, not 40
vi.setConfig({ maxConcurrency: cases.length });

describe.concurrent("5,000 messages each way through 20 s of cuts, resets and black holes", () => {
  test.each(cases.map((entry, index) => ({ ...entry, index })))(
    "$name: every message arrives exactly once and in order, both ways, and the session never closes",
    { timeout: 75_000 },
    async ({ name, options, index }) => {
      const caseSeed = seed + index;
      const server = await serve();
      const proxy = await startFaultProxy(server.port);
      const sessions: EngineSocket[] = [];
      const upstream: string[] = [];
      const serverEvents: string[] = [];
      const serverCloses: string[] = [];
      const connected = new Promise<EngineSocket>((resolve) =>
        server.engine.on("connection", (session: EngineSocket) => {
          sessions.push(session);
          session.on("message", (data: unknown) => upstream.push(plain(data)));
          session.on("detached", (reason: string) => serverEvents.push(`detached: ${reason}`));
          session.on("reattached", (transport: string) => serverEvents.push(`reattached: ${transport}`));
          session.on("close", (reason: string, description: unknown) =>
            serverCloses.push(`${reason}: ${description instanceof Error ? `${description.name}: ${description.message}` : String(description)}`),
          );
          resolve(session);
        }),
      );
      // a try that rides a pooled connection left silent by a black hole gives up after
      // probeTimeout: well within the window, so one such try cannot use it all up
      // CHAOS_TRACE=1: the client's trace lines, the last of them in a failure's message
      const traced: string[] = [];
      const trace = process.env.CHAOS_TRACE
        ? (topic: string, text: string, data?: unknown) => void traced.push(`${Date.now() % 100_000} ${topic} ${text} ${data ? JSON.stringify(data) : ""}`)
        : undefined;
      const socket = new Socket(proxy.url, { env: nodeEnv(), connectTimeout: 2000, probeTimeout: 2000, trace, ...options });
      const downstream: string[] = [];
      const clientCloses: string[] = [];
      const breaks: string[] = [];
      const resumedOn: string[] = [];
      socket.on("message", (data) => downstream.push(plain(data)));
      socket.on("close", (reason, details) =>
        clientCloses.push(`${reason}: ${details.error ? `${details.error.name}: ${details.error.message}` : "-"} (${details.unsent.length} unsent)`),
      );
      const clientEvents: string[] = [];
      socket.on("resuming", (error) => {
        breaks.push(error.name);
        clientEvents.push(`resuming: ${error.name}: ${error.message}`);
      });
      socket.on("resumed", (transport) => {
        resumedOn.push(transport);
        clientEvents.push(`resumed: ${transport}`);
      });
      socket.on("upgrade", (transport) => clientEvents.push(`upgrade: ${transport}`));
      let chaos: Chaos | undefined;
      const senders: ReturnType<typeof paced>[] = [];
      const closing = failOnClose(socket);
      const status = () =>
        `CHAOS_SEED=${seed}, ${name}: server got ${upstream.length}, client got ${downstream.length}; ` +
        `client ${socket.state} on ${socket.transport.name}, closes ${JSON.stringify(clientCloses)}, last events ${JSON.stringify(clientEvents.slice(-6))}; ` +
        `server closes ${JSON.stringify(serverCloses)}, last events ${JSON.stringify(serverEvents.slice(-6))}; ` +
        `faults ${chaos ? JSON.stringify(chaos.faults.slice(-4)) : "none"}` +
        (trace ? `\ntrace:\n${traced.slice(-80).join("\n")}` : "");
      try {
        await within(new Promise<void>((resolve) => socket.once("open", () => resolve())), 5000, "no open");
        expect(socket.resumable).toBe(true);
        const session = await connected;

        const startedAt = Date.now();
        chaos = startChaos(proxy, seededRandom(caseSeed), { duration: chaosMs });
        const up = all("c");
        const down = all("s");
        // the application writes whenever it likes: during a resume too
        senders.push(
          paced(count, chaosMs - 1000, (i) => socket.state !== "closed" && !!socket.send(up[i]!)),
          paced(count, chaosMs - 1000, (i) => session.readyState === "open" && !!session.send(down[i]!)),
        );
        // a close ends the case at once, with what it said
        await Promise.race([Promise.all([...senders.map((sender) => sender.done), chaos.done]), closing.promise]).catch((error: Error) => {
          throw new Error(`${error.message}, during the faults (${status()})`);
        });
        const quietAt = Date.now();

        // everything arrives once the path is back; then a few heartbeats more, for late copies
        const lastUp = plain(up.at(-1));
        const lastDown = plain(down.at(-1));
        const arrived = () => upstream.includes(lastUp) && downstream.includes(lastDown);
        await within(
          Promise.race([
            new Promise<void>((resolve) => {
              const check = () => {
                if (!arrived()) return;
                clearInterval(timer);
                resolve();
              };
              const timer = setInterval(check, 20);
              check();
            }),
            closing.promise,
          ]),
          30_000,
          "the last messages did not arrive",
        ).catch((error: Error) => {
          throw new Error(`${error.message}, after the faults ended (${status()})`);
        });
        const drainedIn = Date.now() - quietAt;
        // two heartbeats more (the session may still be resuming from the last fault)
        for (let i = 0; i < 2; i++) {
          await within(Promise.race([new Promise<void>((resolve) => socket.once("ping", () => resolve())), closing.promise]), 10_000, "no ping").catch(
            (error: Error) => {
              throw new Error(`${error.message}, after everything arrived (${status()})`);
            },
          );
        }

        const replay = `CHAOS_SEED=${seed}, ${name}`;
        expect(clientCloses, `the client closed (${replay})`).toEqual([]);
        expect(serverCloses, `the server closed the session (${replay})`).toEqual([]);
        expect(sessions, `sessions opened (${replay})`).toHaveLength(1);
        expect(deliveryReport(up.map(plain), upstream), `client to server (${replay})`).toEqual(exactly(count));
        expect(deliveryReport(down.map(plain), downstream), `server to client (${replay})`).toEqual(exactly(count));
        // the run did break the transport and the session came back each time
        expect(resumedOn.length).toBeGreaterThan(0);
        expect(serverEvents.filter((event) => event.startsWith("reattached")).length).toBeGreaterThan(0);

        measure(name, "faults", faultSummary(chaos), "");
        measure(name, "resumes (client resumed / server reattached)", `${resumedOn.length} / ${serverEvents.filter((event) => event.startsWith("reattached")).length}`, "");
        measure(name, "breaks seen by the client", summarize(breaks), "");
        measure(name, "transports resumed on", summarize(resumedOn), "");
        measure(name, "ended on (client / server)", `${socket.transport.name} / ${session.transport.name}`, "");
        measure(name, "all delivered after the faults ended", drainedIn);
        measure(name, "run", Date.now() - startedAt);
      } finally {
        closing.stop();
        for (const sender of senders) sender.stop();
        chaos?.stop();
        if (socket.state !== "closed") socket.close();
        await proxy.close();
        await server.close();
      }
    },
  );
});

/** "3 polling, 1 sse" from a list of names. */
function summarize(names: string[]): string {
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts].map(([name, n]) => `${n} ${name}`).join(", ") || "none";
}
