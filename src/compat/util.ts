/** engine.io-client's timer helpers, which socket.io-client's Manager uses for its own timers. */

interface TimerOptions {
  useNativeTimers?: boolean;
}

export interface TimerHost {
  setTimeoutFn?: typeof setTimeout;
  clearTimeoutFn?: typeof clearTimeout;
}

// kept from load time on purpose: `useNativeTimers` asks for the timers that existed before a
// test framework replaced the globals with fake ones
const nativeSetTimeout = globalThis.setTimeout;
const nativeClearTimeout = globalThis.clearTimeout;

/**
 * Gives `host` the `setTimeoutFn`/`clearTimeoutFn` socket.io-client calls: the runtime's own
 * (Node's return timers with `.unref()`, which `autoUnref` uses).
 */
export function installTimerFunctions(host: TimerHost, options: TimerOptions): void {
  const native = options && options.useNativeTimers;
  host.setTimeoutFn = (native ? nativeSetTimeout : globalThis.setTimeout).bind(globalThis) as typeof setTimeout;
  host.clearTimeoutFn = (native ? nativeClearTimeout : globalThis.clearTimeout).bind(globalThis) as typeof clearTimeout;
}

/** Browsers: a microtask (the Node entry exports `process.nextTick` instead). */
export function nextTick(callback: () => void, _setTimeoutFn?: unknown): void {
  Promise.resolve().then(callback);
}
