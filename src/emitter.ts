/** A typed event emitter whose `on` returns the function that removes the listener. */

export type Listener<Args extends unknown[]> = (...args: Args) => void;
export type EventMap = { [event: string]: unknown[] };

export class Emitter<Events extends EventMap> {
  private _listeners: { [E in keyof Events]?: Listener<Events[E]>[] } = {};

  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    (this._listeners[event] || (this._listeners[event] = [])).push(listener);
    let bound = true;
    // idempotent: a second call must not remove another registration of the same function
    return () => {
      if (bound) this.off(event, listener);
      bound = false;
    };
  }

  once<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    const wrapper = ((...args: Events[E]) => {
      off();
      listener(...args);
    }) as Listener<Events[E]> & { listener?: Listener<Events[E]> };
    // so that off(event, listener) finds it, as in Node's and engine.io's emitters
    wrapper.listener = listener;
    const off = this.on(event, wrapper);
    return off;
  }

  /** Removes one listener, every listener of an event, or every listener. */
  off<E extends keyof Events>(event?: E, listener?: Listener<Events[E]>): this {
    if (event === undefined) this._listeners = {};
    else if (!listener) delete this._listeners[event];
    else {
      const list = this._listeners[event];
      const index = list
        ? list.findIndex((entry) => entry === listener || (entry as { listener?: unknown }).listener === listener)
        : -1;
      if (index >= 0) list!.splice(index, 1);
    }
    return this;
  }

  listenerCount<E extends keyof Events>(event: E): number {
    return (this._listeners[event] || []).length;
  }

  emit<E extends keyof Events>(event: E, ...args: Events[E]): void {
    const list = this._listeners[event];
    if (!list) return;
    // one listener, the usual case on the receive path: no copy to make
    if (list.length === 1) return list[0]!(...args);
    // a copy, so listeners that unsubscribe while being called do not skip their neighbours
    for (const listener of list.slice()) listener(...args);
  }
}
