/**
 * cometa's `Emitter` (src/emitter.ts) built on socket.io-client's own emitter,
 * @socket.io/component-emitter, so that dist/socket.io.min.js carries one emitter, not two. The
 * script-tag build resolves cometa's emitter imports here; other builds never use this file.
 *
 * Same contract as src/emitter.ts: `on`/`once` return an idempotent unsubscribe, `off` removes
 * one listener (a `once` one by its original function too), every listener of an event, or every
 * listener; `emit` calls a copy of the list, in order.
 */
import { Emitter as Shared } from "@socket.io/component-emitter";
import type { EventMap, Listener } from "../emitter.js";

export type { EventMap, Listener } from "../emitter.js";

/** The members of component-emitter's prototype used here; `emit` is inherited as it is. */
interface SharedEmitter<Events extends EventMap> {
  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): unknown;
  off<E extends keyof Events>(event?: E, listener?: Listener<Events[E]>): unknown;
  emit<E extends keyof Events>(event: E, ...args: Events[E]): void;
  listeners(event: keyof Events): unknown[];
}

const Base = Shared as unknown as new <Events extends EventMap>() => SharedEmitter<Events>;

export class Emitter<Events extends EventMap> extends Base<Events> {
  override on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    super.on(event, listener);
    let bound = true;
    // idempotent: a second call must not remove another registration of the same function
    return () => {
      if (bound) super.off(event, listener);
      bound = false;
    };
  }

  once<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    const wrapper = ((...args: Events[E]) => {
      off();
      listener(...args);
    }) as Listener<Events[E]> & { fn?: Listener<Events[E]> };
    // component-emitter's off(event, listener) finds a wrapper by its `fn`
    wrapper.fn = listener;
    const off = this.on(event, wrapper);
    return off;
  }

  override off<E extends keyof Events>(event?: E, listener?: Listener<Events[E]>): this {
    // component-emitter tells the three forms apart by the number of arguments
    if (event === undefined) super.off();
    else if (!listener) super.off(event);
    else super.off(event, listener);
    return this;
  }

  listenerCount<E extends keyof Events>(event: E): number {
    return this.listeners(event).length;
  }
}
