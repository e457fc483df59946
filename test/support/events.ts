/**
 * Awaiting events instead of sleeping, for every project: the next event of a cometa emitter
 * (`next`) or of a Node one (`once`), a bound on any wait (`within`), the close of a socket,
 * messages as they come (`collect`, `messages`), a log of events (`record`), and yielding to
 * the event loop a bounded number of times (`turns`, `until`, `settle`).
 */
import type { Emitter, EventMap, Listener } from "../../src/emitter.js";
import type { CloseDetails, CloseReason, SocketEvents } from "../../src/socket.js";

/** A cometa socket as the helpers see it: typed `on`/`once` over SocketEvents. */
export interface SocketLike {
  on<E extends keyof SocketEvents>(event: E, listener: Listener<SocketEvents[E]>): () => void;
  once<E extends keyof SocketEvents>(event: E, listener: Listener<SocketEvents[E]>): () => void;
}

/** Resolves with the arguments of the next `event` of a cometa socket or emitter. */
export function next<E extends keyof SocketEvents>(socket: Pick<SocketLike, "once">, event: E): Promise<SocketEvents[E]>;
export function next<Events extends EventMap, E extends keyof Events>(emitter: Pick<Emitter<Events>, "once">, event: E): Promise<Events[E]>;
export function next(emitter: { once(event: never, listener: never): unknown }, event: PropertyKey): Promise<unknown[]> {
  const target = emitter as unknown as Pick<Emitter<EventMap>, "once">;
  return new Promise((resolve) => target.once(event as string, (...args) => resolve(args)));
}

/** Resolves with the arguments of the next `event` of a Node emitter (engine.io, http, ws). */
export function once<A extends unknown[] = unknown[]>(
  emitter: { once(event: string, listener: (...args: A) => void): unknown },
  event: string,
): Promise<A> {
  return new Promise((resolve) => emitter.once(event, (...args: A) => resolve(args)));
}

/** Rejects with `message` after `ms`: bounds a wait whose failure would otherwise be a hang. */
export function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (not within ${ms} ms)`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export interface Closed {
  reason: CloseReason;
  details: CloseDetails;
}

/** Resolves when the socket closes, with the reason and details; fails if it already has. */
export function closed(socket: Pick<SocketLike, "once"> & { readonly state?: string }): Promise<Closed> {
  if (socket.state === "closed") return Promise.reject(new Error("already closed"));
  return next(socket, "close").then(([reason, details]) => ({ reason, details }));
}

/** Closes `socket` and resolves once it has closed (at most 2 s later), for cleanups. */
export function closeSocket(socket: { state: string; close(): unknown; once(event: "close", listener: () => void): unknown }): Promise<void> {
  if (socket.state === "closed") return Promise.resolve();
  const done = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.close();
  return within(done, 2000, "the socket did not close").catch(() => {});
}

/**
 * Rejects as soon as `socket` closes, naming the reason and error, so a wait for something a
 * dead session will never deliver fails at once with the cause.
 */
export function failOnClose(socket: Pick<SocketLike, "on">): { promise: Promise<never>; stop(): void } {
  let stop = () => {};
  const promise = new Promise<never>((_, reject) => {
    stop = socket.on("close", (reason, details) =>
      reject(new Error(`the session closed: ${reason}${details.error ? ` (${details.error.name}: ${details.error.message})` : ""}`)),
    );
  });
  promise.catch(() => {});
  return { promise, stop };
}

/** The events of a socket's life, recorded by `record` when no names are given. */
const socketEvents = ["open", "upgrading", "upgrade", "upgradeError", "error", "close"] as const;

/** Every event of `names` (by default a socket's life), in order, as [name, ...args]. */
export function record(socket: Pick<SocketLike, "on">, names?: readonly (keyof SocketEvents)[]): unknown[][];
export function record<Events extends EventMap>(emitter: Pick<Emitter<Events>, "on">, names: readonly (keyof Events & string)[]): unknown[][];
export function record(emitter: { on(event: never, listener: never): unknown }, names: readonly PropertyKey[] = socketEvents): unknown[][] {
  const target = emitter as unknown as Pick<Emitter<EventMap>, "on">;
  const log: unknown[][] = [];
  for (const name of names) target.on(name as string, (...args) => log.push([name, ...args]));
  return log;
}

/** A client socket (whose `on` returns an unsubscribe) or a server session (which has `off`). */
export interface MessageSource<T> {
  on(event: "message", listener: (data: T) => void): unknown;
  off?(event: "message", listener: (data: T) => void): unknown;
}

/** Messages as they arrive; `until(count)` resolves once `count` have arrived in all. */
export function collect<T>(source: MessageSource<T>): { received: T[]; off(): void; until(count: number): Promise<void> } {
  const received: T[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const listener = (data: T) => {
    received.push(data);
    for (const waiter of waiters.filter((entry) => received.length >= entry.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  const unsubscribe = source.on("message", listener);
  return {
    received,
    off: () => (typeof unsubscribe === "function" ? unsubscribe() : source.off?.("message", listener)),
    until: (count) => new Promise<void>((resolve) => (received.length >= count ? resolve() : waiters.push({ count, resolve }))),
  };
}

/** Resolves with the next `count` messages, in arrival order, and stops listening. */
export async function messages<T>(source: MessageSource<T>, count: number): Promise<T[]> {
  const collector = collect(source);
  await collector.until(count);
  collector.off();
  return collector.received.slice(0, count);
}

/** Yields to the event loop `count` times (zero-delay macrotasks, not sleeps). */
export async function turns(count = 3): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

/** Yields to the event loop until `check` holds, failing after `maxTurns` turns. */
export async function until(check: () => boolean, maxTurns = 100): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (check()) return;
    await turns(1);
  }
  throw new Error(`condition not met after ${maxTurns} event-loop turns: ${check}`);
}

/** Resolves after pending promise callbacks (microtasks) have run; works under fake timers. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
