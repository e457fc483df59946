/**
 * Every global cometa touches reaches the code through one `Environment`, read from
 * `globalThis` when a socket is made (never at import time), so tests inject fakes and Node
 * users inject `ws` or an EventSource implementation.
 */

/**
 * An event handler property. Declared through a method so that its parameter is compared
 * bivariantly: the browser's WebSocket (`(ev: Event) => any`), `ws` (`(event: WebSocket.Event)
 * => void`) and the `eventsource` package each declare their own event classes, and all of
 * them must be assignable here as they are, without casts.
 */
export type EventHandler<E> = { handle(event: E): void }["handle"];

export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  readonly bufferedAmount?: number;
  onopen: EventHandler<unknown> | null;
  onclose: EventHandler<{ code?: number; reason?: string; wasClean?: boolean }> | null;
  onerror: EventHandler<unknown> | null;
  onmessage: EventHandler<{ data: unknown }> | null;
  send(data: string | ArrayBuffer | ArrayBufferView | Blob): void;
  close(code?: number, reason?: string): void;
}

export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
  // the `ws` package reads headers from a third argument; browsers ignore it
  options?: { headers?: Record<string, string> },
) => WebSocketLike;

export interface EventSourceLike {
  readonly readyState: number;
  onopen: EventHandler<unknown> | null;
  onerror: EventHandler<unknown> | null;
  onmessage: EventHandler<{ data: string }> | null;
  close(): void;
}

export type EventSourceConstructor = new (
  url: string,
  init?: { withCredentials?: boolean },
) => EventSourceLike;

export interface TimerApi {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface Environment extends TimerApi {
  XMLHttpRequest?: typeof XMLHttpRequest;
  fetch?: typeof fetch;
  WebSocket?: WebSocketConstructor;
  EventSource?: EventSourceConstructor;
  /** The page's document, for the transports that insert `<script>` tags or iframes. */
  document?: Document;
  /** The page's window, for `message`, `online`/`offline` and `load` events. */
  window?: Window;
  /** Where `rememberUpgrade` keeps the transport that worked (sessionStorage in browsers). */
  storage?: KeyValueStorage;
  /** Wall clock in milliseconds; heartbeats are measured on it, not on timer counts. */
  now(): number;
  random(): number;
}

function safeSessionStorage(scope: Record<string, unknown>): KeyValueStorage | undefined {
  try {
    // reading sessionStorage throws in sandboxed iframes and with storage disabled
    return scope.sessionStorage as KeyValueStorage | undefined;
  } catch {
    // the socket then remembers nothing, as if rememberUpgrade were off
  }
}

/** The environment of the running realm, with `overrides` taking precedence. */
export function resolveEnvironment(overrides: Partial<Environment> = {}): Environment {
  const scope = globalThis as unknown as Record<string, unknown>;
  const defaults: Environment = {
    XMLHttpRequest: scope.XMLHttpRequest as typeof XMLHttpRequest | undefined,
    // bound: browsers refuse a fetch called on another object than the window
    fetch: typeof scope.fetch === "function" ? (scope.fetch as typeof fetch).bind(globalThis) : undefined,
    WebSocket: scope.WebSocket as WebSocketConstructor | undefined,
    EventSource: scope.EventSource as EventSourceConstructor | undefined,
    document: scope.document as Document | undefined,
    window: scope.window as Window | undefined,
    storage: safeSessionStorage(scope),
    setTimeout: (callback, ms) => setTimeout(callback, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    now: () => Date.now(),
    random: () => Math.random(),
  };
  // spread copies an explicit `undefined` too: that removes a global, as tests of older browsers do
  return { ...defaults, ...overrides };
}
