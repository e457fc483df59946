/**
 * What every adapter shares: its events, its state, and the rule that a failure is reported
 * once, as `error` then `close`, and that nothing is emitted after `close`. An adapter is a
 * Lifecycle with its own `name`, `open`, `send` and `close` assigned onto it.
 */
import { Emitter } from "../emitter.js";
import type { CometaError } from "../errors.js";
import type { ReceivedPacket } from "../protocol.js";
import type { TransportEvents, TransportState } from "../transport.js";

export class Lifecycle extends Emitter<TransportEvents> {
  state: TransportState = "opening";
  /** Kept up to date by the adapter: true when `send` may be called. */
  writable = false;

  /** `release` frees what the adapter holds (requests, sockets, timers) when it closes. */
  constructor(private readonly _release: () => void) {
    super();
  }

  get closed(): boolean {
    return this.state === "closed";
  }

  opened(): void {
    if (this.state !== "opening") return;
    this.state = "open";
    this.emit("open");
  }

  receive(packet: ReceivedPacket): void {
    if (!this.closed) this.emit("packet", packet);
  }

  drained(): void {
    if (this.closed) return;
    this.writable = true;
    this.emit("drain");
  }

  /** Reports an error and closes; ignored once closed. */
  fail(error: CometaError): void {
    if (this._end()) {
      this.emit("error", error);
      this.emit("close");
    }
  }

  /** Closes without an error; ignored once closed. */
  finish(): void {
    if (this._end()) this.emit("close");
  }

  private _end(): boolean {
    if (this.closed) return false;
    // released before listeners run, so a listener that reopens finds nothing held
    this.state = "closed";
    this.writable = false;
    this._release();
    return true;
  }
}
