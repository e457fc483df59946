/**
 * In-page helpers for driving `Cometa.Socket` from page.evaluate with plain data: each socket
 * is wrapped in a session that records messages and events, and `until()` awaits a condition
 * with a bounded timeout (no sleeps). Served as `/helpers.js` next to the IIFE:
 *
 *   <script src="/dist/cometa.min.js"></script><script src="/helpers.js"></script>
 *
 * then `page.evaluate(async (url) => { const s = cometaTest.open(url, { transports: ["sse"] });
 * await s.event("open"); ... }, engine.url)`.
 */

/** What a message looks like once made plain (strings stay strings). */
export type PlainData = string | { kind: "ArrayBuffer" | "Blob" | "other"; bytes: number[] };

export interface PlainError {
  /** `error.name` as the error says it. */
  name: string;
  /** The most specific class of the global `Cometa` the error is an instance of (instanceof). */
  kind?: string;
  message: string;
  transport?: string;
  status?: number;
  code?: number;
}

/** One recorded event: its name and its arguments made plain. */
export type PlainEvent = [name: string, ...args: unknown[]];

export interface PageSession {
  readonly socket: {
    send(data: unknown, callback?: () => void): void;
    close(): void;
    state: string;
    id?: string;
    transport: { name: string };
  };
  /** Messages as received (strings, ArrayBuffers or Blobs). */
  readonly messages: unknown[];
  /** Every event but `message`, `packet`, `ping` and `drain`, with plain arguments. */
  readonly events: PlainEvent[];
  /** How many `ping` events arrived (the server's heartbeats). */
  readonly pings: number;
  /** Resolves when `predicate()` is truthy (checked on every event); rejects after `ms`. */
  until<T>(predicate: () => T, what: string, ms?: number): Promise<T>;
  /** The first recorded event called `name` (awaited). */
  event(name: string, ms?: number): Promise<PlainEvent>;
  /** Resolves with the first `count` messages, made plain. */
  messagesPlain(count: number, ms?: number): Promise<PlainData[]>;
}

export interface CometaTestApi {
  /** Opens `new Cometa.Socket(url, options)` and records it. */
  open(url: string, options?: Record<string, unknown>): PageSession;
  sessions: PageSession[];
  plain(data: unknown): Promise<PlainData>;
  plainError(error: unknown): PlainError | undefined;
}

declare global {
  // eslint-disable-next-line no-var
  var cometaTest: CometaTestApi;
}

/** The helpers' source, plain ES2020 for the page. */
export const pageHelpersScript = String.raw`
(function () {
  "use strict";
  function plainError(error) {
    if (!error || typeof error !== "object") return undefined;
    var out = { name: error.name, kind: undefined, message: error.message };
    var classes = ["ServerError", "TransportError", "ProtocolError", "HandshakeError", "HeartbeatError", "UpgradeError", "UsageError", "CometaError"];
    var api = window.Cometa || {};
    out.kind = classes.find(function (name) { return typeof api[name] === "function" && error instanceof api[name]; });
    if (error.transport !== undefined) out.transport = error.transport;
    if (error.status !== undefined) out.status = error.status;
    if (error.code !== undefined) out.code = error.code;
    return out;
  }
  function plain(data) {
    if (typeof data === "string") return Promise.resolve(data);
    if (data instanceof ArrayBuffer) return Promise.resolve({ kind: "ArrayBuffer", bytes: Array.from(new Uint8Array(data)) });
    if (typeof Blob !== "undefined" && data instanceof Blob) {
      return data.arrayBuffer().then(function (buffer) { return { kind: "Blob", bytes: Array.from(new Uint8Array(buffer)) }; });
    }
    return Promise.resolve({ kind: "other", bytes: [] });
  }
  function plainArg(arg) {
    if (arg instanceof Error) return plainError(arg);
    if (arg && typeof arg === "object" && "unsent" in arg) {
      return { error: plainError(arg.error), unsent: arg.unsent.length };
    }
    return arg;
  }
  function Session(url, options) {
    var self = this;
    this.messages = [];
    this.events = [];
    this.waiters = [];
    this.pings = 0;
    this.socket = new Cometa.Socket(url, options);
    this.socket.on("ping", function () { self.pings++; self.check(); });
    this.socket.on("message", function (data) { self.messages.push(data); self.check(); });
    // a condition may turn on a packet that raises no other event (a send callback that runs
    // at the server's acknowledgement): checked once the socket has acted on it
    this.socket.on("packet", function () { Promise.resolve().then(function () { self.check(); }); });
    ["open", "upgrading", "upgrade", "upgradeError", "error", "close", "drain"].forEach(function (name) {
      self.socket.on(name, function () {
        if (name !== "drain") self.events.push([name].concat(Array.prototype.slice.call(arguments).map(plainArg)));
        self.check();
      });
    });
  }
  Session.prototype.check = function () {
    this.waiters = this.waiters.filter(function (waiter) { return !waiter(); });
  };
  Session.prototype.until = function (predicate, what, ms) {
    var self = this;
    return new Promise(function (resolve, reject) {
      var timer;
      var waiter = function () {
        var value;
        try { value = predicate(); } catch (error) { clearTimeout(timer); reject(error); return true; }
        if (!value) return false;
        clearTimeout(timer);
        resolve(value);
        return true;
      };
      if (waiter()) return;
      timer = setTimeout(function () {
        self.waiters = self.waiters.filter(function (w) { return w !== waiter; });
        reject(new Error("timed out waiting for " + what + "; events: " + JSON.stringify(self.events) +
          "; messages: " + self.messages.length + "; state: " + self.socket.state));
      }, ms || 10000);
      self.waiters.push(waiter);
    });
  };
  Session.prototype.event = function (name, ms) {
    var self = this;
    return this.until(function () {
      return self.events.find(function (event) { return event[0] === name; });
    }, "event " + name, ms);
  };
  Session.prototype.messagesPlain = function (count, ms) {
    var self = this;
    return this.until(function () { return self.messages.length >= count; }, count + " messages", ms)
      .then(function () { return Promise.all(self.messages.slice(0, count).map(plain)); });
  };
  window.cometaTest = {
    sessions: [],
    open: function (url, options) {
      var session = new Session(url, options);
      this.sessions.push(session);
      return session;
    },
    plain: plain,
    plainError: plainError,
  };
})();
`;

/** A page that loads a minified IIFE (the full one unless named) with a plain script tag, then the helpers. */
export function helperPage(title = "cometa test", body = "", script = "/dist/cometa.min.js"): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>
<script src="${script}"></script>
<script src="/helpers.js"></script></head><body>${body}</body></html>`;
}
