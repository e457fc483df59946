/**
 * What every adapter shares: its events, its state, and the rule that a failure is reported
 * once, as `error` then `close`, and that nothing is emitted after `close`.
 */
import { Emitter } from "../emitter.js";
import type { CometaError } from "../errors.js";
import type { ReceivedPacket } from "../protocol.js";
import type { Transport, TransportEvents, TransportState } from "../transport.js";

export interface Lifecycle {
  readonly events: Emitter<TransportEvents>;
  state: TransportState;
  readonly closed: boolean;
  opened(): void;
  receive(packet: ReceivedPacket): void;
  drained(): void;
  /** Reports an error and closes; ignored once closed. */
  fail(error: CometaError): void;
  /** Closes without an error; ignored once closed. */
  finish(): void;
}

export function createLifecycle(onClosed: () => void): Lifecycle {
  const events = new Emitter<TransportEvents>();
  const lifecycle: Lifecycle = {
    events,
    state: "opening",
    get closed() {
      return lifecycle.state === "closed";
    },
    opened() {
      if (lifecycle.state !== "opening") return;
      lifecycle.state = "open";
      events.emit("open");
    },
    receive(packet) {
      if (!lifecycle.closed) events.emit("packet", packet);
    },
    drained() {
      if (!lifecycle.closed) events.emit("drain");
    },
    fail(error) {
      if (lifecycle.closed) return;
      // released before listeners run, so a listener that reopens finds nothing held
      lifecycle.state = "closed";
      onClosed();
      events.emit("error", error);
      events.emit("close");
    },
    finish() {
      if (lifecycle.closed) return;
      lifecycle.state = "closed";
      onClosed();
      events.emit("close");
    },
  };
  return lifecycle;
}

/** The event methods of a Transport, bound to a lifecycle's emitter. */
export function eventMethods(lifecycle: Lifecycle): Pick<Transport, "on" | "once" | "off"> {
  const { events } = lifecycle;
  return {
    on: events.on.bind(events),
    once: events.once.bind(events),
    off: events.off.bind(events) as Transport["off"],
  };
}
