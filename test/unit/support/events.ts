/** Helpers to observe emitters without sleeping. */
import type { CloseDetails, CloseReason, SocketEvents } from "../../../src/socket.js";
import type { Emitter, EventMap } from "../../../src/emitter.js";

/** Resolves with the arguments of the next `event`. */
export function next<Events extends EventMap, E extends keyof Events>(
  emitter: Pick<Emitter<Events>, "once">,
  event: E,
): Promise<Events[E]> {
  return new Promise((resolve) => emitter.once(event, ((...args: Events[E]) => resolve(args)) as never));
}

export interface Closed {
  reason: CloseReason;
  details: CloseDetails;
}

export function closed(socket: Pick<Emitter<SocketEvents>, "once">): Promise<Closed> {
  return next(socket, "close").then(([reason, details]) => ({ reason, details }));
}

/** Every event of `names`, in order, as [name, ...args]. */
export function record<Events extends EventMap>(
  emitter: Pick<Emitter<Events>, "on">,
  names: readonly (keyof Events & string)[],
): unknown[][] {
  const log: unknown[][] = [];
  for (const name of names) emitter.on(name, ((...args: unknown[]) => log.push([name, ...args])) as never);
  return log;
}

/** Yields to the event loop `turns` times (zero-delay macrotasks, not sleeps). */
export async function turns(count = 3): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}

export function bytes(data: unknown): number[] {
  if (ArrayBuffer.isView(data)) return Array.from(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  // binary decoded by engine.io-parser may come from Node's realm, not jsdom's: check the tag
  if (Object.prototype.toString.call(data) === "[object ArrayBuffer]") return Array.from(new Uint8Array(data as ArrayBuffer));
  throw new Error(`not binary: ${Object.prototype.toString.call(data)}`);
}

/** Yields to the event loop until `check` holds, failing after `maxTurns` turns. */
export async function until(check: () => boolean, maxTurns = 100): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (check()) return;
    await turns(1);
  }
  throw new Error(`condition not met after ${maxTurns} event-loop turns: ${check}`);
}
