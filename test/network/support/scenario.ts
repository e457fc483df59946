/**
 * What the network tests share besides the servers and events of test/support: numbered
 * exchanges checked for order, cuts and connections seen by the server, timers counted, and
 * the measurements printed at the end of each file.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket as EngineSocket } from "engine.io";
import { collect } from "../../support/events.js";

/** Messages a server session received, in order. */
export function upstreamOf(session: EngineSocket): string[] {
  return collect<string>(session).received;
}

export const numbered = (prefix: string, from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix} ${from + i}`);

/**
 * Held requests and streams the server saw end before it answered them: a proxy cut them.
 * `next()` resolves on the next one.
 */
export function watchCuts(http: import("node:http").Server) {
  const cuts: { url: string; at: number }[] = [];
  /** For each cut, ms until the next GET arrived (the client re-polling or reopening). */
  const reopened: number[] = [];
  const waiters: (() => void)[] = [];
  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    const last = cuts.at(-1);
    if (request.method === "GET" && last && reopened.length < cuts.length) reopened.push(Date.now() - last.at);
    response.on("close", () => {
      if (response.writableEnded) return;
      cuts.push({ url: request.url ?? "", at: Date.now() });
      waiters.splice(0).forEach((wake) => wake());
    });
  };
  http.on("request", onRequest);
  return {
    cuts,
    reopened,
    next: () => new Promise<void>((resolve) => waiters.push(resolve)),
    stop: () => http.off("request", onRequest),
  };
}

const rows: { scenario: string; what: string; value: string }[] = [];

/** Records a measurement for the summary printed by `printMeasurements`. */
export function measure(scenario: string, what: string, value: number | string, unit = "ms"): void {
  rows.push({ scenario, what, value: typeof value === "number" ? `${Math.round(value)} ${unit}` : value });
}

export function printMeasurements(title: string): void {
  if (rows.length === 0) return;
  const width = Math.max(...rows.map((row) => `${row.scenario}: ${row.what}`.length));
  const lines = rows.map((row) => `  ${`${row.scenario}: ${row.what}`.padEnd(width)}  ${row.value}`);
  console.log(`${title}\n${lines.join("\n")}`);
}

/** The TCP connections a server accepted and still has open; `destroyAll()` crashes them. */
export function trackConnections(http: import("node:http").Server) {
  const open = new Set<import("node:net").Socket>();
  http.on("connection", (socket: import("node:net").Socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
  });
  return {
    get open() {
      return open.size;
    },
    destroyAll: () => open.forEach((socket) => socket.destroy()),
  };
}

/**
 * setTimeout/clearTimeout for an `env`, counting the timers still pending, so a test can say
 * that nothing was left scheduled.
 */
export function countingTimers() {
  const live = new Set<ReturnType<typeof setTimeout>>();
  let created = 0;
  return {
    get live() {
      return live.size;
    },
    get created() {
      return created;
    },
    setTimeout: (callback: () => void, ms: number): unknown => {
      created++;
      const handle = setTimeout(() => {
        live.delete(handle);
        callback();
      }, ms);
      live.add(handle);
      return handle;
    },
    clearTimeout: (handle: unknown): void => {
      live.delete(handle as ReturnType<typeof setTimeout>);
      clearTimeout(handle as ReturnType<typeof setTimeout>);
    },
  };
}
