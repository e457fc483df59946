/** Promises over cometa's and Node's events, so tests await events instead of sleeping. */
import type { BaseSocket, SocketEvents } from "../../src/socket.js";

export function next<E extends keyof SocketEvents>(socket: BaseSocket, event: E): Promise<SocketEvents[E]> {
  return new Promise((resolve) => socket.once(event, (...args) => resolve(args)));
}

/** Resolves with the first `count` messages, in arrival order. */
export function messages(socket: BaseSocket, count: number): Promise<SocketEvents["message"][0][]> {
  const received: SocketEvents["message"][0][] = [];
  return new Promise((resolve) => {
    const off = socket.on("message", (data) => {
      received.push(data);
      if (received.length === count) {
        off();
        resolve(received);
      }
    });
  });
}

/** Records every event a socket emits, in order, for assertions on sequences. */
export function record(socket: BaseSocket): unknown[][] {
  const log: unknown[][] = [];
  for (const event of ["open", "upgrading", "upgrade", "upgradeError", "error", "close"] as const) {
    socket.on(event, (...args: unknown[]) => log.push([event, ...args]));
  }
  return log;
}

/** Resolves when the socket has closed, with the reason and details; fails on nothing. */
export function closed(socket: BaseSocket): Promise<SocketEvents["close"]> {
  if (socket.state === "closed") return Promise.reject(new Error("already closed"));
  return next(socket, "close");
}
