/**
 * Resumption (docs/wire.md, "Resumable sessions"), the piece a `BareSocket` gets as a value
 * (`resumption` in its options), as it gets transports, so a bundle without it does not carry
 * it: the offer in the handshake, the counts of the server's messages, the acknowledgements
 * and the client's messages written and not yet acknowledged, numbered, and, when the
 * transport of a resumable session breaks, the reattach.
 */
import type { Environment } from "./env.js";
import {
  type CometaError,
  HeartbeatError,
  ProtocolError,
  refusedAsTooLarge,
  ResumeError,
  ServerError,
  TransportError,
  UsageError,
} from "./errors.js";
import type { SessionSettings, SocketOptions } from "./options.js";
import type { OpenData, Packet, ReceivedPacket } from "./protocol.js";
import { type Reattacher, startReattach } from "./reattach.js";
import { type Entry, type SendQueue, size } from "./send-queue.js";
import type { CloseReason } from "./socket.js";
import type { Transport, TransportDefinition } from "./transport.js";
import type { TransportMemory } from "./transport-memory.js";
import {
  ackParam,
  decodeResumeControl,
  encodeAck,
  encodeNext,
  reattachParam,
  readResumeTerms,
  resumeOfferParam,
  type ResumeTerms,
} from "./wire.js";

/** Milliseconds within which a received message is acknowledged when no GET carried the count. */
export const ackDelay = 200;

export interface Counts {
  /** What the server granted in the open packet. */
  readonly terms: ResumeTerms;
  /** The server's messages delivered to the application in this session. */
  readonly received: number;
  /** A message arrived: whether to deliver it (false: a duplicate, dropped unseen). */
  receive(data: ReceivedPacket["data"]): boolean;
  /** The server's `6s<S>`: false when S skips messages, a gap that ends the session. */
  next(seq: number): boolean;
  /** The count, from now on known to the server: it goes in an `ack` or `reattach` parameter. */
  tell(): number;
  /** `6a<N>` with the count, told. */
  ack(): Packet;
  /**
   * The control packets a write starts with: `6a<N>` when an acknowledgement is due, and
   * `6s<first>` when it carries messages, numbered from `first` (0: it carries none).
   */
  prefix(first: number): Packet[];
  /** The session is on a new transport: the server sends again from the message after the count. */
  restart(): void;
  stop(): void;
}

/**
 * `due` asks the session to write: an acknowledgement is due, `ackDelay` after a message came
 * or at once when a quarter of the server's `maxBytes` came unacknowledged (the server holds
 * them until then, and past `maxBytes` it ends the session).
 */
export function createCounts(env: Environment, terms: ResumeTerms, due: () => void): Counts {
  let received = 0;
  let told = 0;
  /** The number of the next message the server sends. */
  let next = 1;
  let bytes = 0;
  let timer: unknown;

  const tell = () => {
    env.clearTimeout(timer);
    timer = undefined;
    bytes = 0;
    return (told = received);
  };
  const ack = (): Packet => ({ type: "noop", data: encodeAck(tell()) });

  return {
    terms,
    get received() {
      return received;
    },
    receive(data) {
      if (next++ <= received) return false;
      received++;
      bytes += data === undefined ? 0 : size(data);
      if (bytes >= terms.maxBytes / 4) due();
      else if (timer === undefined) {
        timer = env.setTimeout(() => {
          timer = undefined;
          due();
        }, ackDelay);
      }
      return true;
    },
    next(seq) {
      next = seq;
      return seq <= received + 1;
    },
    tell,
    ack,
    prefix(first) {
      const packets = received > told ? [ack()] : [];
      if (first) packets.push({ type: "noop", data: encodeNext(first) });
      return packets;
    },
    restart() {
      next = received + 1;
    },
    stop() {
      env.clearTimeout(timer);
    },
  };
}

/** What the session lends its resumption: its parts, and the moves of its state it makes itself. */
export interface ResumeHost {
  settings: SessionSettings;
  queue: SendQueue;
  memory: TransportMemory;
  /** The transport in use. */
  transport(): Transport;
  /** A transport of this session (its URLs ask `query` for their parameters). */
  create(definition: TransportDefinition): Transport;
  flush(): void;
  fail(error: CometaError, reason: CloseReason): void;
  /** The transport in use broke: the session leaves it and is resuming. False when a `resuming` listener closed it. */
  detach(cause: CometaError): boolean;
  /** A reattach took: the session goes on over `transport`. */
  attach(transport: Transport): void;
}

/** A resumable session's side of resumption, for the session to call. */
export interface ResumeSession {
  /** Parameters of a URL: `reattach` while reattaching, else `ack` on a receiving GET of the transport in use. */
  query(receiving: boolean): Record<string, string | undefined>;
  /** A message arrived: whether to deliver it (false: a duplicate, dropped unseen). */
  receive(data: ReceivedPacket["data"]): boolean;
  /** A noop's data: acts on the control it may carry. */
  control(data: ReceivedPacket["data"]): void;
  /** The next write, from the queue: within `maxBytes` unacknowledged, after its `6a<N>` and `6s<S>`. */
  take(): Packet[];
  /** What goes before `5` on an upgrade: `6a<N>`. */
  before(): Packet[];
  /** Whether a transport may carry the session: not one that broke twice in it. */
  usable(name: string): boolean;
  /** The transport in use failed: true when the session resumes rather than closes. */
  broke(error: CometaError | undefined, reason: CloseReason): boolean;
  stop(): void;
}

/**
 * What `resumption` is: given the socket's `resume` option (not false), checked (UsageError),
 * what the session offers.
 */
export type Resumption = (option: true | { maxBytes?: number } | undefined) => ResumeOffer;

export interface ResumeOffer {
  /** The handshake's query parameters. */
  readonly query: Record<string, string>;
  /** The open packet arrived: the session's resumption, or undefined when the server granted none. */
  start(host: ResumeHost, open: OpenData): ResumeSession | undefined;
}

/**
 * A failure a resumable session survives by reattaching: the network's (a transport's error or
 * close, a missed heartbeat), not a refusal of the session or of a message, nor bad data.
 */
function survivable(error: CometaError | undefined): boolean {
  return (
    !error ||
    error instanceof HeartbeatError ||
    ((error instanceof TransportError || (error instanceof ServerError && error.code !== 1)) && !refusedAsTooLarge(error))
  );
}

/** Options with `resumption`, unless they name one: what `Socket` and the script-tag builds make. */
export const withResumption = <T extends SocketOptions>(options?: T): T =>
  (options === undefined ? { resumption } : options && typeof options === "object" && !options.resumption ? { ...options, resumption } : options) as T;

export const resumption: Resumption = (option) => {
  const maxBytes = option && typeof option === "object" && option.maxBytes !== undefined ? option.maxBytes : 1e6;
  if (!(maxBytes > 0)) throw new UsageError("resume.maxBytes must be a positive number of bytes");
  return {
    query: { [resumeOfferParam]: "1" },
    start(host, open) {
      const terms = readResumeTerms(open);
      return terms && resume(host, open, terms, maxBytes);
    },
  };
};

/** `maxBytes`: of written messages unacknowledged, past which writing waits for acknowledgements. */
function resume(host: ResumeHost, open: OpenData, terms: ResumeTerms, maxBytes: number): ResumeSession {
  const { settings, queue, memory } = host;
  const { env, definitions, probeTimeout, rememberUpgrade, trace } = settings;
  const counts = createCounts(env, terms, host.flush);
  /** Breaks per transport name in this session: one that broke twice is not used again. */
  const broken: Record<string, number> = {};
  const usable = (name: string) => !(broken[name]! > 1);
  let reattacher: Reattacher | undefined;
  /** Set from the break to the resume: the URLs made meanwhile reattach. */
  let resuming = false;
  /** Messages written and not acknowledged, in order, and their bytes. */
  let unacked: Entry[] = [];
  let bytes = 0;
  /** The number of the last message written, of the last that left `unacked`, and the highest acknowledged. */
  let seq = 0;
  let done = 0;
  let acked = 0;

  /** The server delivered messages 1 to `count`: those written leave, in order, their callbacks run. */
  const ack = (count: number) => {
    if (count > acked) acked = count;
    let leaving = 0;
    while (leaving < unacked.length && done < acked) {
      bytes -= unacked[leaving++]!.bytes;
      done++;
    }
    queue.done(unacked.splice(0, leaving));
  };
  // the messages of a write wait for the server's acknowledgement, unless the transport's drain
  // is it (an HTTP answer); those of a write cut by a break, always
  queue.hold = (entries) => {
    for (const entry of entries) {
      if (entry.data === undefined) continue;
      unacked.push(entry);
      bytes += entry.bytes;
    }
    ack(!resuming && host.transport().confirmsDelivery ? seq : 0);
  };

  return {
    query: (receiving) => ({ [resuming ? reattachParam : ackParam]: resuming || receiving ? String(counts.tell()) : undefined }),
    receive: counts.receive,
    control(data) {
      const control = decodeResumeControl(data);
      if (!control) return;
      if (control.kind === "ack") {
        ack(control.count);
        host.flush();
      } else if (!counts.next(control.seq)) {
        host.fail(new ProtocolError(`the server's message ${control.seq} came after its message ${counts.received}`), "parse error");
      }
    },
    take() {
      const packets = queue.take(maxBytes - bytes);
      const messages = packets.filter((packet) => packet.type === "message").length;
      // a message sent again after a resume has the number it had: `seq` went back with it
      const first = messages && seq + 1;
      seq += messages;
      return counts.prefix(first).concat(packets);
    },
    before: () => [counts.ack()],
    usable,
    broke(error, reason) {
      if (!survivable(error)) return false;
      const name = host.transport().name;
      const cause = error || new TransportError(`${name} closed`, name);
      broken[name] = (broken[name] || 0) + 1;
      // a transport that broke twice is not remembered: the next session starts the usual way
      if (!usable(name) && rememberUpgrade && memory.recall() === name) memory.forget();
      trace && trace("session", "resuming", { transport: name, reason, error: cause, breaks: broken[name] });
      resuming = true;
      // the write in flight is cut: its messages wait with the others
      queue.sent();
      if (!host.detach(cause)) return true;
      reattacher = startReattach({
        env,
        // the server answers a reattach at once: a try that takes a heartbeat period went into a
        // dead path, which the next try may avoid
        timeout: Math.min(probeTimeout, open.pingInterval + open.pingTimeout),
        window: terms.window,
        trace,
        next: () => {
          const supported = definitions.filter((definition) => definition.supported(env));
          // when every transport broke twice the network is at fault, not one transport: try them
          // all again, the window bounds the tries
          const usables = supported.filter((definition) => usable(definition.name));
          const pool = usables.length > 0 ? usables : supported;
          return pool.find((definition) => definition.name === "polling") || pool[0]!;
        },
        create: host.create,
        resumed: (transport, delivered) => {
          resuming = false;
          counts.restart();
          // what the server did not deliver goes again first, with its numbers
          ack(delivered);
          queue.requeue(unacked);
          unacked = [];
          bytes = 0;
          seq = done;
          trace && trace("session", "resumed", { transport: transport.name, acked: delivered });
          host.attach(transport);
        },
        failed: (message) => host.fail(new ResumeError(message, { cause }), reason),
      });
      return true;
    },
    stop() {
      counts.stop();
      if (reattacher) reattacher.cancel();
      queue.hold = undefined;
      // not delivered: the close hands them back, or the next session sends them, first
      queue.requeue(unacked);
    },
  };
}
