/**
 * What the network tests share: a server (stock or cometa-extended) behind a proxy, sockets
 * cleaned up after each test, awaited events with bounds, numbered exchanges checked for
 * order, and the measurements printed at the end of each file.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket as EngineSocket } from "engine.io";
import type { BaseSocket } from "../../../src/socket.js";

/** Rejects with `message` after `ms`; for racing an awaited event. */
export function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (not within ${ms} ms)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Closes `socket` and resolves once it has closed (at most 2 s later). */
export function closeSocket(socket: { state: string; close(): unknown; once(event: "close", listener: () => void): unknown }): Promise<void> {
  if (socket.state === "closed") return Promise.resolve();
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.close();
  return within(closed, 2000, "the socket did not close").catch(() => {});
}

/** Resolves when `emitter` emits `event`, with its arguments. */
export function once<A extends unknown[]>(
  emitter: { once(event: string, listener: (...args: A) => void): unknown },
  event: string,
): Promise<A> {
  return new Promise((resolve) => emitter.once(event, (...args: A) => resolve(args)));
}

/**
 * Rejects as soon as `socket` closes, naming the reason and error, so a test that waits for
 * something a dead session will never deliver fails at once with the cause.
 */
export function failOnClose(socket: BaseSocket): { promise: Promise<never>; stop(): void } {
  let stop = () => {};
  const promise = new Promise<never>((_, reject) => {
    stop = socket.on("close", (reason, details) =>
      reject(new Error(`the session closed: ${reason}${details.error ? ` (${details.error.name}: ${details.error.message})` : ""}`)),
    );
  });
  promise.catch(() => {});
  return { promise, stop };
}

/** Resolves when `socket` has received `count` messages in all since `collect` was called. */
export function collect(socket: { on(event: "message", listener: (data: unknown) => void): () => void }) {
  const received: unknown[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const off = socket.on("message", (data) => {
    received.push(data);
    for (const waiter of waiters.filter((entry) => received.length >= entry.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  return {
    received,
    off,
    until: (count: number) =>
      new Promise<void>((resolve) => (received.length >= count ? resolve() : waiters.push({ count, resolve }))),
  };
}

/** Messages a server session received, in order. */
export function upstreamOf(session: EngineSocket): string[] {
  const received: string[] = [];
  session.on("message", (data: string) => received.push(data));
  return received;
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
