/**
 * A controllable Transport: the test decides when it opens, what it receives, when a send
 * drains, when a pause completes and when it fails. Every call is written to `journal`.
 */
import { Emitter } from "../../../src/emitter.js";
import type { CometaError } from "../../../src/errors.js";
import type { OpenData, Packet, ReceivedPacket } from "../../../src/protocol.js";
import type {
  Transport,
  TransportContext,
  TransportDefinition,
  TransportEvents,
  TransportState,
} from "../../../src/transport.js";

export interface FakeTransportOptions {
  /** Has pause()/resume(), like an HTTP transport. */
  pausable?: boolean;
  /** Drain each send on its own in a microtask; otherwise the test calls drain(). */
  autoDrain?: boolean;
  supported?: boolean;
  /** Its drain means the server took the write (an HTTP upstream). */
  confirmsDelivery?: boolean;
}

export const defaultOpenData: OpenData = {
  sid: "sid-1",
  upgrades: [],
  pingInterval: 25000,
  pingTimeout: 20000,
  maxPayload: 1e6,
};

export class FakeTransport implements Transport {
  readonly events = new Emitter<TransportEvents>();
  readonly on = this.events.on.bind(this.events);
  readonly once = this.events.once.bind(this.events);
  readonly off = this.events.off.bind(this.events) as Transport["off"];
  state: TransportState = "opening";
  /** Every `send` call, as given. */
  readonly sent: Packet[][] = [];
  openCalls = 0;
  closeCalls = 0;
  busy = false;
  readonly confirmsDelivery?: boolean;
  pause?: () => Promise<void>;
  resume?: () => void;
  #pauseResolve: (() => void) | undefined;
  /** While true, a pause stays "pausing" until completePause(), as with a held GET. */
  holdPause = false;

  constructor(
    readonly name: string,
    readonly context: TransportContext,
    readonly options: FakeTransportOptions,
    readonly journal: string[],
  ) {
    this.confirmsDelivery = options.confirmsDelivery;
    if (options.pausable) {
      this.pause = () =>
        new Promise<void>((resolve) => {
          this.journal.push(`${this.name}:pause`);
          this.state = "pausing";
          this.#pauseResolve = resolve;
          this.#checkPaused();
        });
      this.resume = () => {
        this.journal.push(`${this.name}:resume`);
        if (this.state === "pausing" || this.state === "paused") this.state = "open";
        this.#pauseResolve = undefined;
      };
    }
  }

  get writable(): boolean {
    return this.state !== "closed" && !this.busy;
  }

  open(): void {
    this.openCalls++;
    this.journal.push(`${this.name}:open()`);
  }

  send(packets: readonly Packet[]): void {
    this.sent.push([...packets]);
    this.journal.push(`${this.name}:send ${packets.map(describe).join(",")}`);
    this.busy = true;
    if (this.options.autoDrain) queueMicrotask(() => this.drain());
  }

  close(): void {
    this.closeCalls++;
    if (this.state === "closed") return;
    this.journal.push(`${this.name}:close()`);
    this.state = "closed";
    this.busy = false;
    this.events.emit("close");
  }

  // ---- test controls ----

  /** The connection is up. */
  accept(): void {
    this.state = "open";
    this.events.emit("open");
  }

  receive(packet: ReceivedPacket): void {
    if (this.state === "closed") return;
    this.events.emit("packet", packet);
  }

  receiveOpen(overrides: Partial<OpenData> = {}): void {
    if (this.state === "opening") this.accept();
    this.receive({ type: "open", data: JSON.stringify({ ...defaultOpenData, ...overrides }) });
  }

  drain(): void {
    if (this.state === "closed" || !this.busy) return;
    this.busy = false;
    this.events.emit("drain");
    this.#checkPaused();
  }

  completePause(): void {
    this.holdPause = false;
    this.#checkPaused();
  }

  fail(error: CometaError): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.events.emit("error", error);
    this.events.emit("close");
  }

  /** The server ended the connection without an error. */
  end(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.events.emit("close");
  }

  /** Flat list of what was sent, one string per packet. */
  get wire(): string[] {
    return this.sent.flat().map(describe);
  }

  #checkPaused() {
    if (this.state === "pausing" && !this.busy && !this.holdPause) {
      this.state = "paused";
      const resolve = this.#pauseResolve;
      this.#pauseResolve = undefined;
      resolve?.();
    }
  }
}

/** A packet as a short string: `message:hi`, `ping:probe`, `upgrade`, `message:<3 bytes>`. */
export function describe(packet: Packet): string {
  const { data } = packet;
  if (data === undefined) return packet.type;
  if (typeof data === "string") return `${packet.type}:${data}`;
  return `${packet.type}:<${data.byteLength} bytes>`;
}

export interface FakeDefinition {
  definition: TransportDefinition;
  instances: FakeTransport[];
  /** The most recently created instance. */
  readonly last: FakeTransport;
}

export function fakeDefinition(
  name: string,
  options: FakeTransportOptions = {},
  journal: string[] = [],
): FakeDefinition {
  const instances: FakeTransport[] = [];
  return {
    instances,
    get last() {
      const last = instances[instances.length - 1];
      if (!last) throw new Error(`no ${name} transport was created`);
      return last;
    },
    definition: {
      name,
      supported: () => options.supported ?? true,
      create(context) {
        const transport = new FakeTransport(name, context, options, journal);
        instances.push(transport);
        return transport;
      },
    },
  };
}
