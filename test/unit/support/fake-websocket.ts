/** A hand-written WebSocket: records what it is given and lets the test play the server. */
import type { WebSocketConstructor, WebSocketLike } from "../../../src/env.js";

export class FakeWebSocket implements WebSocketLike {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;

  binaryType = "blob";
  readyState = FakeWebSocket.CONNECTING;
  bufferedAmount = 0;
  onopen: ((event: unknown) => void) | null = null;
  onclose: ((event: { code?: number; reason?: string; wasClean?: boolean }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  readonly sent: (string | ArrayBuffer | ArrayBufferView | Blob)[] = [];
  readonly closeCalls: { code?: number; reason?: string }[] = [];
  /** Make the next send throw. */
  failSend = false;

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
    readonly options?: { headers?: Record<string, string> },
  ) {}

  send(data: string | ArrayBuffer | ArrayBufferView | Blob): void {
    if (this.readyState !== FakeWebSocket.OPEN) throw new Error("InvalidStateError");
    if (this.failSend) throw new Error("send failed");
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closeCalls.push({ code, reason });
    this.readyState = FakeWebSocket.CLOSED;
  }

  // ---- the server's side ----
  serverOpen(): void {
    this.readyState = FakeWebSocket.OPEN;
    this.onopen?.({ type: "open" });
  }

  serverSend(data: unknown): void {
    this.onmessage?.({ data });
  }

  serverClose(code = 1000): void {
    this.readyState = FakeWebSocket.CLOSED;
    this.onclose?.({ code, reason: "", wasClean: code === 1000 });
  }

  serverError(error: unknown = new Error("ECONNRESET")): void {
    this.onerror?.({ type: "error", error });
  }
}

/** A fresh WebSocket class per test, with the instances it made. */
export function fakeWebSocketClass(): { WebSocket: WebSocketConstructor; instances: FakeWebSocket[] } {
  const instances: FakeWebSocket[] = [];
  class TrackedWebSocket extends FakeWebSocket {
    constructor(url: string, protocols?: string | string[], options?: { headers?: Record<string, string> }) {
      super(url, protocols, options);
      instances.push(this);
    }
  }
  return { WebSocket: TrackedWebSocket, instances };
}
